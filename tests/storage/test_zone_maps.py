"""Zone maps: statistics per 65,536 rows inside a segment, so a filter reads only the zones
that may hold a matching row (a 1% time range of a large segment reads about 1% of it)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weave_lite import StreamTable, evaluate
from weave_lite.storage import open_table
from weave_lite.storage.segments import ZONE_ROWS, SegmentInfo
from weave_lite.storage.table import Snapshot

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
ROWS = 5 * ZONE_ROWS + 1234  # six zones, the last one short


def _log(root, name: str, table: pa.Table) -> None:
    st_ = StreamTable(name, root=root)
    st_.log(table)
    st_.finish()


def _table(n: int, lat: np.ndarray | None = None, lat_mask: np.ndarray | None = None) -> pa.Table:
    ts = pa.array(np.arange(n, dtype=np.int64) * 1_000_000 + int(T0.timestamp() * 1e6)).cast(
        pa.timestamp("us", tz="UTC")
    )
    lat = np.arange(n, dtype=np.float64) if lat is None else lat
    return pa.table({"timestamp": ts, "lat": pa.array(lat, mask=lat_mask)})


def _iso(seconds: int) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_large_segment_records_one_zone_per_65536_rows(tmp_path):
    _log(tmp_path, "e/p/z", _table(ROWS))
    (segment,) = open_table("e/p/z", tmp_path).snapshot().segments
    assert segment.zone_rows == ZONE_ROWS
    assert len(segment.zone_stats) == 6
    assert segment.zone_stats[1]["lat"].min == ZONE_ROWS and segment.zone_stats[1]["lat"].max == 2 * ZONE_ROWS - 1
    assert segment.zone_stats[5]["lat"].max == ROWS - 1
    # the zones survive the commit record (a fresh open reads them back from JSON)
    again = SegmentInfo.from_json(segment.to_json(), segment.version)
    assert again.zone_stats == segment.zone_stats and again.zone_rows == ZONE_ROWS


def test_a_time_range_reads_only_the_zones_it_may_match(tmp_path):
    _log(tmp_path, "e/p/z", _table(ROWS))
    snap = open_table("e/p/z", tmp_path).snapshot()
    ts = lambda s: T0 + dt.timedelta(seconds=s)  # noqa: E731
    # 1,000 rows inside zone 2
    predicates = (("timestamp", "ge", ts(2 * ZONE_ROWS + 10)), ("timestamp", "lt", ts(2 * ZONE_ROWS + 1010)))
    read = snap.prune(predicates).to_arrow(predicates=predicates)
    assert read.num_rows == ZONE_ROWS
    assert read["lat"][0].as_py() == 2 * ZONE_ROWS
    # a range over a zone boundary reads the two zones as one slice
    across = (("timestamp", "ge", ts(3 * ZONE_ROWS - 5)), ("timestamp", "lt", ts(3 * ZONE_ROWS + 5)))
    assert snap.to_arrow(predicates=across).num_rows == 2 * ZONE_ROWS
    # and through the engine the answer is exact
    expr = f'stream_table("e/p/z").rows.filter(row => row["timestamp"] >= Date("{_iso(2 * ZONE_ROWS + 10)}") && row["timestamp"] < Date("{_iso(2 * ZONE_ROWS + 1010)}")).count'
    assert evaluate(expr, root=tmp_path) == 1000


def test_the_engine_loads_only_the_matching_zones(tmp_path, monkeypatch):
    _log(tmp_path, "e/p/z", _table(ROWS))
    loaded: list[int] = []
    original = Snapshot.to_arrow

    def spy(self, columns=None, predicates=()):
        out = original(self, columns, predicates)
        loaded.append(out.num_rows)
        return out

    monkeypatch.setattr(Snapshot, "to_arrow", spy)
    expr = f'stream_table("e/p/z").rows.filter(row => row["lat"] >= {4 * ZONE_ROWS + 7} && row["lat"] < {4 * ZONE_ROWS + 9}).count'
    assert evaluate(expr, root=tmp_path) == 2
    assert loaded == [ZONE_ROWS]


def test_null_zones_are_skipped_and_zones_with_some_nulls_kept(tmp_path):
    mask = np.zeros(ROWS, dtype=bool)
    mask[:ZONE_ROWS] = True  # zone 0: all null
    mask[ZONE_ROWS : ZONE_ROWS + 100] = True  # zone 1: some nulls
    _log(tmp_path, "e/p/n", _table(ROWS, lat_mask=mask))
    snap = open_table("e/p/n", tmp_path).snapshot()
    predicates = (("lat", "lt", float(ZONE_ROWS + 200)),)
    read = snap.to_arrow(predicates=predicates)
    assert read.num_rows == ZONE_ROWS  # zone 1 only
    expr = f'stream_table("e/p/n").rows.filter(row => row["lat"] < {ZONE_ROWS + 200}).count'
    assert evaluate(expr, root=tmp_path) == 100


def test_records_without_zones_or_with_malformed_ones_read_whole(tmp_path):
    _log(tmp_path, "e/p/z", _table(ROWS))
    (segment,) = open_table("e/p/z", tmp_path).snapshot().segments
    record = segment.to_json()
    for zones in (None, {"rows": ZONE_ROWS, "stats": []}, {"rows": "x", "stats": []}, [1, 2]):
        if zones is None:
            record.pop("zones", None)
        else:
            record["zones"] = zones
        info = SegmentInfo.from_json(record, segment.version)
        assert info.zone_stats is None and info.matching_ranges((("lat", "lt", 1.0),)) is None


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lo=st.integers(-10, ROWS + 10),
    width=st.integers(0, 3 * ZONE_ROWS),
    null_zone=st.integers(-1, 5),
    shuffle_zone=st.integers(-1, 5),
    op=st.sampled_from([">=", ">", "<", "<=", "=="]),
)
def test_zone_pruning_never_drops_a_matching_row(tmp_path_factory, lo, width, null_zone, shuffle_zone, op):
    """Against pyarrow on the same rows: with nulls and unsorted zones, every count is exact."""
    lat = np.arange(ROWS, dtype=np.float64)
    mask = np.zeros(ROWS, dtype=bool)
    if null_zone >= 0:
        mask[null_zone * ZONE_ROWS : (null_zone + 1) * ZONE_ROWS : 3] = True
    if shuffle_zone >= 0:
        part = lat[shuffle_zone * ZONE_ROWS : (shuffle_zone + 1) * ZONE_ROWS]
        np.random.default_rng(lo + 10).shuffle(part)  # lo >= -10: a valid seed
    root = tmp_path_factory.mktemp("zones")
    table = _table(ROWS, lat=lat, lat_mask=mask)
    _log(root, "e/p/h", table)
    pc_ops = {">=": pc.greater_equal, ">": pc.greater, "<": pc.less, "<=": pc.less_equal, "==": pc.equal}
    hi = lo + width
    want = pc.sum(pc.and_(pc_ops[op](table["lat"], float(lo)), pc.less(table["lat"], float(hi)))).as_py() or 0
    expr = f'stream_table("e/p/h").rows.filter(row => row["lat"] {op} {lo} && row["lat"] < {hi}).count'
    assert evaluate(expr, root=root) == want


@pytest.mark.parametrize("rows", [ZONE_ROWS, 1000])
def test_small_segments_have_no_zones(tmp_path, rows):
    _log(tmp_path, "e/p/s", _table(rows))
    (segment,) = open_table("e/p/s", tmp_path).snapshot().segments
    assert segment.zone_stats is None and "zones" not in segment.to_json()
