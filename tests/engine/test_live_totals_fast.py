"""The live totals fast path (weave_lite.live_totals.LiveTotal) is the path polls take, and its
answers equal a cold run: many appends with nulls, floats and ints, commits that append no rows
(compaction, empty flushes), undecided range counts, a schema change, an int64 sum that
overflows (a full re-run), and a poll handed to the general path in between."""

from __future__ import annotations

import datetime as dt
import math
import tempfile

import pyarrow as pa
import pytest

from weave_lite import StreamTable, compile, evaluate, live_totals, to_python
from weave_lite.errors import ExecutionError
from weave_lite.storage import open_table
from weave_lite.storage.compaction import compact

T = 'stream_table("f/a/t").rows'
TOTALS = [
    f'{T}.filter(r => r["lat"] > 5).count',
    f'{T}.map(r => r["lat"] * 2 + r["k"] / 10).sum',
    f'{T}.filter(r => r["k"] != 0).map(r => r["lat"]).sum',
    f'{T}.map(r => r["k"]).sum',
]
DAY = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
# A time range is counted from segment statistics (else Arrow); integer ranges fuse into the
# scan kernel.
RANGES = [
    f'{T}.filter(r => r["ts"] >= Date("2024-01-02T00:00:00Z") && r["ts"] < Date("2024-01-03T00:00:00Z")).count',
    f'{T}.filter(r => r["k"] > -2 && r["k"] <= 2).count',
    f'{T}.filter(r => r["k"] == 1).count',
]


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return type(a) is type(b) and a == b


@pytest.fixture
def runs(monkeypatch):
    """The fast path's counters, fresh (Numba forced: the kernel runs at any size)."""
    monkeypatch.setenv("WEAVE_LITE_KERNELS", "numba")
    counters = dict.fromkeys(live_totals.TOTALS_RUNS, 0)
    monkeypatch.setattr(live_totals, "TOTALS_RUNS", counters)
    return counters


def _row(i: int) -> dict:
    """Row ``i``: nulls, NaN-free floats of both signs, ints, times around the day of RANGES."""
    lat = None if i % 7 == 3 else (i * 37 % 23) - 8.5
    k = None if i % 5 == 4 else (i * 13 % 9) - 4
    ts = None if i % 11 == 6 else DAY + dt.timedelta(hours=(i * 5 % 60) - 12)
    return {"lat": lat, "k": k, "ts": ts}


def _check(lives: dict, root: str) -> None:
    for query, live in lives.items():
        assert _same(to_python(live.result), to_python(evaluate(query, root=root))), query


def test_many_appends_and_empty_commits_take_the_fast_path_and_equal_a_cold_run(runs):
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("f/a/t", root=root)
        table.log([_row(i) for i in range(40)])
        table.flush()
        lives = {q: compile(q).watch(root=root) for q in TOTALS + RANGES}
        assert all(live._total is not None for live in lives.values())  # every one has the fast path
        i = 40
        for step in range(24):
            if step % 6 == 5:
                compact(open_table("f/a/t", root), retention_seconds=3600)  # a commit of no new rows
            else:
                for _ in range(1 + step % 3):  # one to three segments a poll, 1..9 rows each
                    n = 1 + (step * 7) % 9
                    table.log([_row(j) for j in range(i, i + n)])
                    table.flush()
                    i += n
            table.flush()  # nothing pending: no commit
            for query, live in lives.items():
                live.poll()
                assert live.last_update.path == "incremental", query
                assert live.poll() is None
            _check(lives, root)
        # Every poll of every query was answered by the fast path, none by the executor.
        assert runs["general"] == 0 and runs["overflow"] == 0
        appended_polls = sum(1 for step in range(24) if step % 6 != 5)
        assert runs["kernel"] == appended_polls * (len(TOTALS) + 2)
        assert runs["stats"] + runs["arrow"] == appended_polls
        assert runs["arrow"] > 0  # segments across the range's ends were counted by Arrow
        assert all(live.full_runs == 1 for live in lives.values())
        table.finish()


def _outcome(fn):
    """``fn()``'s value, or the type of the error it raised."""
    try:
        return fn()
    except ExecutionError as exc:
        return type(exc)


def test_an_int64_overflowing_sum_re_runs_the_query(runs):
    """Once the kept integer sum would leave int64 the poll re-runs the query: its answer (a
    wrapped sum, or an error) is the cold run's, whichever the engine gives."""
    query = f'{T}.map(r => r["k"]).sum'
    big = 1 << 61
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("f/a/t", root=root)
        table.log(pa.table({"k": pa.array([big, big], pa.int64())}))
        table.flush()
        live = compile(query).watch(root=root)
        table.log(pa.table({"k": pa.array([big], pa.int64())}))  # 3 * 2**61: still int64
        table.flush()
        assert live.poll() == 3 * big == evaluate(query, root=root)
        assert (live.last_update.path, runs["kernel"], runs["overflow"]) == ("incremental", 1, 0)
        table.log(pa.table({"k": pa.array([big], pa.int64())}))  # 4 * 2**61 = 2**63: out of int64
        table.flush()
        expected = _outcome(lambda: evaluate(query, root=root))
        assert _outcome(live.poll) == expected
        assert runs["overflow"] == 1
        for _ in range(3):  # back into range
            table.log(pa.table({"k": pa.array([-big], pa.int64())}))
            table.flush()
            assert _outcome(live.poll) == _outcome(lambda: evaluate(query, root=root))
        assert live.result == big == evaluate(query, root=root)
        table.finish()


def test_a_schema_change_re_runs_then_the_fast_path_resumes(runs):
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("f/a/t", root=root)
        table.log([_row(i) for i in range(10)])
        table.flush()
        lives = {q: compile(q).watch(root=root) for q in TOTALS}
        table.log([{**_row(10), "extra": "x"}])  # a new column: a new schema version
        table.flush()
        for live in lives.values():
            live.poll()
            assert (live.last_update.path, live.full_runs) == ("full", 2)
        _check(lives, root)
        kernel = runs["kernel"]
        table.log([_row(i) for i in range(11, 20)])
        table.flush()
        for live in lives.values():
            live.poll()
            assert live.last_update.path == "incremental"
        _check(lives, root)
        assert runs["kernel"] == kernel + len(TOTALS)
        table.finish()


def test_a_poll_on_the_general_path_keeps_the_fast_total(runs, monkeypatch):
    """A poll the kernel cannot answer runs the executor over the kept state (the fast path's
    number put back into it first); later polls are fast again, and every result is exact."""
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("f/a/t", root=root)
        table.log([_row(i) for i in range(12)])
        table.flush()
        lives = {q: compile(q).watch(root=root) for q in TOTALS}
        for lo, general in ((12, False), (20, False), (28, True), (36, False), (44, True), (52, False)):
            ready = not general
            monkeypatch.setattr(live_totals, "scan_kernel_ready", lambda program, size, ready=ready: ready)
            for live in lives.values():
                live._total._ready = False  # (re-asked each poll here)
            table.log([_row(i) for i in range(lo, lo + 8)])
            table.flush()
            for live in lives.values():
                live.poll()
                assert live.last_update.path == "incremental"
            _check(lives, root)
        assert runs["general"] == 2 * len(TOTALS)
        assert runs["kernel"] == 4 * len(TOTALS)
        table.finish()


def test_range_counts_of_undecided_segments_read_only_those(runs):
    query = RANGES[0]
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("f/a/t", root=root)
        table.log([{"ts": DAY - dt.timedelta(hours=1), "k": 0}, {"ts": DAY, "k": 0}])
        table.flush()
        live = compile(query).watch(root=root)
        for rows in (
            [{"ts": DAY + dt.timedelta(days=3), "k": 1}],  # after the range: decided by its statistics
            [{"ts": DAY + dt.timedelta(hours=h), "k": 1} for h in (3, 30, 5)],  # across the end
            [{"ts": None, "k": 1}, {"ts": DAY + dt.timedelta(hours=2), "k": 1}],  # a null
        ):
            table.log(rows)
            table.flush()
        assert live.poll() == 4 == evaluate(query, root=root)
        assert (live.last_update.rows_read, live.last_update.segments_read) == (5, 3)
        assert (runs["arrow"], runs["general"]) == (1, 0)
        table.finish()


def test_an_empty_table_at_the_start_gets_the_fast_path_after_its_first_rows(runs):
    query = TOTALS[0]
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("f/a/t", root=root)
        table.log([{"lat": 1.0, "k": 0}])  # pruned by `lat > 5`: no kept number at the start
        table.flush()
        live = compile(query).watch(root=root)
        assert live._total is None
        for lat in (6.0, 7.5, None, 9.0):
            table.log([{"lat": lat, "k": 1}])
            table.flush()
            assert live.poll() == evaluate(query, root=root)
        assert live._total is not None and runs["kernel"] == 3
        table.finish()
