"""Segment statistics taken from the zones in one pass (and a writer's known ``_client_id``)
must equal the statistics computed column by column: scans prune on them, so a wrong min or
max would drop rows from query results."""

from __future__ import annotations

import math

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weave_lite import StreamTable
from weave_lite.storage import open_table
from weave_lite.storage.segments import compute_segment_stats, compute_stats, compute_zone_stats

_floats = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))
_strs = st.one_of(st.none(), st.text(max_size=3), st.text(min_size=257, max_size=260))
_ints = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))


def _same(a: dict, b: dict) -> bool:
    def norm(s):
        return (s.null_count, s.min, s.max)

    return a.keys() == b.keys() and all(norm(a[k]) == norm(b[k]) for k in a)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(_floats, _strs, _ints, st.one_of(st.none(), st.booleans())), min_size=0, max_size=40),
    st.integers(1, 9),
)
def test_one_pass_statistics_equal_the_column_by_column_ones(rows, zone_rows):
    batch = pa.RecordBatch.from_pylist(
        [{"f": f, "s": s, "i": i, "b": b} for f, s, i, b in rows],
        schema=pa.schema([("f", pa.float64()), ("s", pa.string()), ("i", pa.int64()), ("b", pa.bool_())]),
    )
    stats, zones = compute_segment_stats(batch, zone_rows)
    assert _same(stats, compute_stats(batch))
    expected = compute_zone_stats(batch, zone_rows)
    assert (zones is None) == (expected is None)
    if zones is not None:
        assert len(zones) == len(expected)
        assert all(_same(z, e) for z, e in zip(zones, expected))


def test_nan_only_zones_and_long_strings_are_left_out_of_the_segment_minmax():
    f = [math.nan, math.nan, 2.0, -1.0, None, None]
    s = ["x" * 300, "b", "a", "c", None, None]
    batch = pa.RecordBatch.from_pydict({"f": f, "s": s})
    stats, zones = compute_segment_stats(batch, 2)
    assert (stats["f"].min, stats["f"].max, stats["f"].null_count) == (-1.0, 2.0, 2)
    assert stats["s"].min is None and stats["s"].max is None  # the max is over 256 chars
    assert _same(stats, compute_stats(batch))
    assert zones[0]["f"].min is None and zones[2]["f"].null_count == 2


def _committed_stats_match_the_rows(st_table) -> None:
    snap = open_table(str(st_table.name), root=st_table.root).snapshot()
    for segment in snap.segments:
        table = snap.read(segment)
        assert _same(segment.stats, compute_stats(table))
        if segment.zone_stats is not None:
            assert all(_same(z, e) for z, e in zip(segment.zone_stats, compute_zone_stats(table)))


def test_commits_record_the_client_id_statistics_of_the_rows(tmp_path):
    """The writer's ``_client_id`` statistics are taken as known: they must be what the rows
    hold, on the bulk path (a table bringing its own ``_client_id``), lists and single rows."""
    st1 = StreamTable("e/p/t", root=tmp_path)
    n = 70_000  # two zones
    st1.log(pa.table({"x": list(range(n)), "_client_id": ["someone-else"] * n}))
    st1.log([{"x": 1}, {"x": 2}])
    st1.log({"x": 3})
    st1.finish()
    _committed_stats_match_the_rows(st1)
    st2 = StreamTable("e/p/t", root=tmp_path)
    st2.log(pa.table({"x": [5, 6]}))
    st2.finish()
    _committed_stats_match_the_rows(st2)
    ids = open_table("e/p/t", root=tmp_path).snapshot().to_arrow()["_client_id"].to_pylist()
    assert ids == [st1.client_id] * (n + 3) + [st2.client_id] * 2  # per row, in order
    # a filter on the client id finds each writer's rows (pruned on the statistics)
    snap = open_table("e/p/t", root=tmp_path).snapshot()
    kept = snap.prune((("_client_id", "eq", st2.client_id),))
    assert sum(s.rows for s in kept.segments) == 2
