"""A live ``rows.filter(p).count`` whose ``p`` is a conjunction of ``row["c"] OP literal``
(Q1's and Q8's shapes): each new segment is counted from its statistics when they decide it,
else by the fused scan kernel or Arrow's comparisons over its columns, never by the executor; every poll equals a cold
run (floats with NaN and nulls, strings, booleans, time zone-aware timestamps, a column the new
rows lack), and a comparison Arrow cannot do as the engine does takes the general path."""

from __future__ import annotations

import datetime as dt
import math
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weave_lite import StreamTable, compile, evaluate, to_python
from weave_lite.live import _Aggregate

T = 'stream_table("e/r/t").rows'
QUERIES = [
    f'{T}.filter(r => r["lat"] > 5).count',
    f'{T}.filter(r => r["lat"] <= 2.5 && r["n"] >= 1).count',
    f'{T}.filter(r => r["model"] == "b").count',
    f'{T}.filter(r => r["ok"] == true && r["lat"] < 0).count',
    f'{T}.filter(r => r["ts"] >= Date("2024-01-01T05:00:00Z") && r["ts"] < Date("2024-01-01T09:00:00Z")).count',
]
DAY = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
rows = st.fixed_dictionaries(
    {
        "lat": st.one_of(st.none(), st.floats(-9, 9, allow_nan=False), st.just(math.nan)),
        "n": st.one_of(st.none(), st.integers(-3, 3)),
        "model": st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
        "ok": st.one_of(st.none(), st.booleans()),
        "ts": st.one_of(st.none(), st.integers(0, 12).map(lambda h: DAY + dt.timedelta(hours=h))),
    }
)
# Rows that every query's range holds at the start (a table whose rows are all pruned at the
# start takes the general path once, by design).
START = [
    {"lat": 6.0, "n": 0, "model": "a", "ok": True, "ts": DAY + dt.timedelta(hours=6)},
    {"lat": -1.0, "n": 1, "model": "b", "ok": True, "ts": DAY},
]
polls = st.lists(st.lists(st.lists(rows, min_size=1, max_size=8), min_size=1, max_size=3), min_size=1, max_size=4)


@pytest.fixture
def no_general_path(monkeypatch):
    """Fails the test if a poll reaches the executor (the keeper's general update)."""

    def refuse(self, top, runtime):
        raise AssertionError("the general path ran")

    monkeypatch.setattr(_Aggregate, "update", refuse)


@settings(max_examples=25, deadline=None)
@given(polls=polls)
def test_every_poll_equals_a_cold_run_without_the_executor(polls):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WEAVE_LITE_KERNELS", "numba")  # the fused count's kernel, ready at any size
        patch.setattr(_Aggregate, "update", lambda *a: (_ for _ in ()).throw(AssertionError("general path")))
        with tempfile.TemporaryDirectory() as root:
            table = StreamTable("e/r/t", root=root)
            table.log(START)
            table.flush()
            lives = [compile(q).watch(root=root) for q in QUERIES]
            for segments in polls:
                for batch in segments:
                    table.log(batch)
                    table.flush()
                for query, live in zip(QUERIES, lives):
                    assert to_python(live.poll()) == to_python(evaluate(query, root=root)), query
                    assert live.last_update.path == "incremental"
            table.finish()


def test_rows_without_the_filtered_column_count_as_not_matching(no_general_path, monkeypatch):
    monkeypatch.setenv("WEAVE_LITE_KERNELS", "numba")
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("e/r/t", root=root)
        table.log([{"lat": 7.0, "n": 1}])
        table.flush()
        live = compile(QUERIES[0]).watch(root=root)  # (a fused count: the scan kernel's path)
        table.log([{"n": 2}, {"n": 3}])  # no "lat": nulls, which no comparison matches
        table.flush()
        assert live.poll() == 1 == evaluate(QUERIES[0], root=root)
        table.log([{"lat": 6.0, "n": 2}, {"lat": math.nan, "n": 3}, {"lat": None, "n": 4}])
        table.flush()
        assert live.poll() == 2 == evaluate(QUERIES[0], root=root)
        assert live.last_update.rows_read == 3  # the new segment, read by Arrow
        table.finish()


def test_a_comparison_arrow_cannot_do_exactly_takes_the_general_path():
    """A string column compared with a number: not a comparison Arrow does as the engine; the
    general path answers (here: the engine's own result for it, whatever it is)."""
    query = f'{T}.filter(r => r["model"] > 3).count'
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("e/r/t", root=root)
        table.log([{"model": "a", "lat": 1.0}])
        table.flush()
        try:
            expected = to_python(evaluate(query, root=root))
        except Exception as error:  # the engine rejects it: so must the live query
            with pytest.raises(type(error)):
                compile(query).watch(root=root)
            return
        live = compile(query).watch(root=root)
        calls = []
        real = _Aggregate.update
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_Aggregate, "update", lambda self, *a: (calls.append(1), real(self, *a))[1])
            table.log([{"model": "b", "lat": 2.0}])
            table.flush()
            assert to_python(live.poll()) == to_python(evaluate(query, root=root)) == expected
        assert calls  # the general path ran
        table.finish()
