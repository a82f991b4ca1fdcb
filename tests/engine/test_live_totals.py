"""The fast path of a live whole-table fused count or sum (Q1/Q4's shapes): each poll adds the
new segments' totals by the scan kernel alone, and equals a cold run on the same snapshot
(random appends with nulls, several segments per poll, compaction between polls, an append
that adds a column)."""

from __future__ import annotations

import math
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weave_lite import StreamTable, compile, evaluate, live_totals, to_python
from weave_lite.storage import open_table
from weave_lite.storage.compaction import compact

T = 'stream_table("e/r/t").rows'
QUERIES = [
    f'{T}.filter(r => r["lat"] > 5).count',
    f'{T}.filter(r => r["lat"] > 5 && r["k"] <= 1).count',
    f'{T}.map(r => r["lat"] * 2 + r["k"] / 10).sum',
    f'{T}.filter(r => r["k"] != 0).map(r => r["lat"]).sum',
    f'{T}.map(r => r["k"]).sum',
]

rows = st.fixed_dictionaries(
    {
        "lat": st.one_of(st.none(), st.floats(-20, 20, allow_nan=False), st.just(float("nan"))),
        "k": st.one_of(st.none(), st.integers(-3, 3)),
    }
)
# Per poll: one or more appends (segments), each of one or more rows.
polls = st.lists(st.lists(st.lists(rows, min_size=1, max_size=9), min_size=1, max_size=3), min_size=1, max_size=4)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return a == b


@pytest.fixture
def counted(monkeypatch):
    """How many polls the kernel-only path answered (forced onto Numba: no size threshold)."""
    monkeypatch.setenv("WEAVE_LITE_KERNELS", "numba")
    runs = dict.fromkeys(live_totals.TOTALS_RUNS, 0)
    monkeypatch.setattr(live_totals, "TOTALS_RUNS", runs)
    return runs


@settings(max_examples=20, deadline=None)
@given(polls=polls, compact_every=st.sampled_from([0, 2]))
def test_every_poll_equals_a_cold_run(polls, compact_every):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WEAVE_LITE_KERNELS", "numba")  # the kernel-only path at any size
        _run(polls, compact_every)


def _run(polls, compact_every):
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("e/r/t", root=root)
        table.log([{"lat": 1.0, "k": 0}])
        table.flush()
        lives = [compile(q).watch(root=root) for q in QUERIES]
        for i, segments in enumerate(polls):
            for batch in segments:
                table.log(batch)
                table.flush()
            if compact_every and i % compact_every == 1:
                compact(open_table("e/r/t", root), retention_seconds=3600)
            for query, live in zip(QUERIES, lives):
                updated = to_python(live.poll())
                assert _same(updated, to_python(evaluate(query, root=root))), query
                assert live.last_update.path == "incremental"
                assert live.poll() is None
        table.finish()


def test_the_kernel_alone_answers_the_polls(counted):
    """With Numba ready the polls never reach the executor, and still equal a cold run."""
    _run([[[{"lat": 7.0, "k": 1}, {"lat": None, "k": None}]], [[{"lat": 9.5, "k": -2}], [{"lat": 2.0, "k": 3}]]], 0)
    # The two `lat > 5` queries start with their only segment pruned (no kept number yet): their
    # first poll takes the general path, every later one the kernel.
    assert counted["kernel"] == 2 * len(QUERIES) - 2
    assert counted["general"] == 0


def test_an_append_that_adds_a_column_or_changes_a_type_takes_the_general_path(counted):
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("e/r/t", root=root)
        table.log([{"lat": 6.0, "k": 1}])
        table.flush()
        lives = [compile(q).watch(root=root) for q in QUERIES]
        for batch in ([{"lat": 8.0, "k": 2, "extra": "x"}], [{"lat": 9.0, "k": 2}], [{"lat": 9, "k": 2}]):
            table.log(batch)
            table.flush()
            for query, live in zip(QUERIES, lives):
                assert _same(to_python(live.poll()), to_python(evaluate(query, root=root))), query
        table.finish()


def test_an_empty_table_then_rows(counted):
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("e/r/t", root=root)
        table.log([{"lat": None, "k": None}])
        table.flush()
        lives = [compile(q).watch(root=root) for q in QUERIES]
        table.log([{"lat": 6.5, "k": 1}])
        table.flush()
        for query, live in zip(QUERIES, lives):
            assert _same(to_python(live.poll()), to_python(evaluate(query, root=root))), query
        table.finish()


RANGE_QUERIES = [
    f'{T}.filter(r => r["ts"] >= Date("2024-01-02T00:00:00Z") && r["ts"] < Date("2024-01-03T00:00:00Z")).count',
    f'{T}.filter(r => r["n"] > 2 && r["n"] <= 7).count',
    f'{T}.filter(r => r["n"] == 4).count',
]
range_rows = st.fixed_dictionaries(
    {
        "ts": st.one_of(st.none(), st.integers(0, 96)),  # hours from 2024-01-01
        "n": st.one_of(st.none(), st.integers(0, 9)),
    }
)


@settings(max_examples=30, deadline=None)
@given(
    polls=st.lists(
        st.lists(st.lists(range_rows, min_size=1, max_size=6), min_size=1, max_size=3), min_size=1, max_size=4
    )
)
def test_range_counts_equal_a_cold_run(polls):
    """Q8's shape: segments the statistics decide (all rows in the range, or none) are counted
    without being read; the others take the general path; every poll equals a cold run."""
    import datetime as dt

    day = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

    def row(r):
        ts = None if r["ts"] is None else day + dt.timedelta(hours=r["ts"])
        return {"ts": ts, "n": r["n"]}

    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("e/r/t", root=root)
        table.log([{"ts": day, "n": 0}])
        table.flush()
        lives = [compile(q).watch(root=root) for q in RANGE_QUERIES]
        for segments in polls:
            for batch in segments:
                table.log([row(r) for r in batch])
                table.flush()
            for query, live in zip(RANGE_QUERIES, lives):
                assert to_python(live.poll()) == to_python(evaluate(query, root=root)), query
                assert live.last_update.path == "incremental"
        table.finish()


def test_a_range_count_of_rows_inside_the_range_reads_nothing():
    import datetime as dt

    day = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("e/r/t", root=root)
        table.log([{"ts": day - dt.timedelta(hours=1), "n": 0}, {"ts": day, "n": 0}])
        table.flush()
        live = compile(RANGE_QUERIES[0]).watch(root=root)
        table.log([{"ts": day + dt.timedelta(hours=h), "n": h} for h in range(5)])  # all inside
        table.flush()
        assert live.poll() == 6 == evaluate(RANGE_QUERIES[0], root=root)
        assert (live.last_update.rows_read, live.last_update.segments_read) == (0, 1)
        table.log([{"ts": day + dt.timedelta(hours=h), "n": h} for h in (3, 30)])  # across the end
        table.flush()
        assert live.poll() == 7 == evaluate(RANGE_QUERIES[0], root=root)
        assert live.last_update.rows_read == 2  # the general path read them
        table.finish()
