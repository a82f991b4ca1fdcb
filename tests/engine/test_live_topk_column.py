"""Live top-k over a plain key column: a poll decides from the new segments' statistics, or by
one comparison over their key column (weave_lite.live_topk, execute.top_k.rows_at_least),
without the row chain or the key function; its result is a cold run's on the same snapshot.
Strings (string and large_string), nulls and NaN (sorted last), ties (the kept rows first),
both directions, k beyond the rows and a filter before the sort; the path taken is checked so
a regression to the general path fails."""

from __future__ import annotations

import datetime as dt
import math
import tempfile

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.live_compare import same_result
from weave_lite import StreamTable, compile, evaluate, live_topk, to_python
from weave_lite.execute.top_k import rows_at_least
from weave_lite.live_topk import ALL, COLUMN, ROWS, STATISTICS
from weave_lite.storage.table import TableLog

T = 'stream_table("e/k/c").rows'
COLUMN_QUERIES = [
    f'{T}.sort(r => [r["x"]], ["desc"]).limit(3)',
    f'{T}.sort(r => [r["x"]], ["asc"]).limit(4)',
    f'{T}.sort(r => [r["i"]], ["desc"]).limit(2)',
    f'{T}.sort(r => [r["s"]], ["asc"]).limit(3)',
    f'{T}.sort(r => [r["s"]], ["desc"]).limit(2)',
    f'{T}.filter(r => r["i"] > -1).sort(r => [r["x"]], ["desc"]).limit(2)',
    f'{T}.filter(r => r["s"] != "b").sort(r => [r["i"]], ["asc"]).limit(3)',
    f'{T}.sort(r => [r["i"], r["x"]], ["desc", "asc"]).limit(3)',  # ties on i: the second key decides
    f'{T}.sort(r => [r["ts"]], ["desc"]).limit(3)',
    f'{T}.sort(r => [r["x"]], ["desc"]).limit(40)',  # often more than the rows
]
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


rows = st.fixed_dictionaries(
    {
        "x": st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.0, 2.0, 3.0, -1.5, float("nan"), float("inf")])),
        "i": st.one_of(st.none(), st.integers(-3, 3)),
        "s": st.one_of(st.none(), st.sampled_from(["a", "b", "m", "z", "", "é", "ab"])),
        "ts": st.one_of(st.none(), st.integers(0, 5).map(lambda h: START + dt.timedelta(hours=h))),
    }
)


@settings(max_examples=40, deadline=None)
@given(
    batches=st.lists(st.lists(rows, min_size=1, max_size=10), min_size=2, max_size=7),
    morsel_rows=st.sampled_from([None, 3]),
)
def test_every_poll_equals_a_cold_run_and_takes_the_column_path(batches, morsel_rows):
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("e/k/c", root=root)
        n = 0

        def numbered(batch):
            nonlocal n
            out = []
            for row in batch:
                out.append({**row, "n": n})  # tells tied rows apart in the results
                n += 1
            return out

        table.log(numbered([{"x": 1.0, "i": 0, "s": "m", "ts": START}, *batches[0]]))
        table.flush()
        lives = [compile(q).watch(root=root, morsel_rows=morsel_rows) for q in COLUMN_QUERIES]
        for batch in batches[1:]:
            table.log(numbered(batch))
            table.flush()
            for query, live in zip(COLUMN_QUERIES, lives):
                keeper = live._keepers[0]
                had_bound = keeper._bound is not None
                updated = to_python(live.poll())
                expected = to_python(evaluate(query, root=root, morsel_rows=morsel_rows))
                assert same_result(updated, expected), (query, updated, expected)
                # A plain key column never takes the general path (the key function per row).
                allowed = (STATISTICS, COLUMN) if had_bound else (ALL,)
                assert keeper.last_path in allowed, (query, keeper.last_path)
        table.finish()


def _table(root, values, n0=0, **extra):
    table = StreamTable("e/k/c", root=root)
    table.log([{"x": v, "n": n0 + j, **extra} for j, v in enumerate(values)])
    table.flush()
    return table


def _no_general_path(monkeypatch):
    """The general path (the row chain and the key function over every new row) fails the test."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the general path ran")

    monkeypatch.setattr(live_topk.TopKKeeper, "_beating_rows", refuse)


def test_statistics_decide_a_poll_that_cannot_place(monkeypatch):
    with tempfile.TemporaryDirectory() as root:
        table = _table(root, [float(v) for v in range(100)])
        live = compile(f'{T}.sort(r => [r["x"]], ["desc"]).limit(3)').watch(root=root)
        keeper = live._keepers[0]
        assert keeper._bound is not None and keeper._bound[1].as_py() == 97.0 and keeper._strict
        _no_general_path(monkeypatch)
        reads = []
        real = keeper._table
        monkeypatch.setattr(keeper, "_table", lambda runtime: reads.append(1) or real(runtime))
        result = live.result
        table.log([{"x": v, "n": 100 + j} for j, v in enumerate([5.0, None, float("nan"), 97.0])])
        table.flush()
        assert live.poll() is result  # a tie with the k-th comes after it: nothing to do
        assert keeper.last_path == STATISTICS and keeper.changed is False and reads == []
        assert live.last_update is not None and live.last_update.rows_read == 0
        table.log([{"x": 96.0, "n": 104}, {"x": 98.5, "n": 105}])
        table.flush()
        assert [r["n"] for r in to_python(live.poll())] == [99, 105, 98]
        assert keeper.last_path == COLUMN and reads == [1] and keeper._bound[1].as_py() == 98.0
        table.finish()


def test_the_column_compares_when_statistics_cannot_decide(monkeypatch):
    with tempfile.TemporaryDirectory() as root:
        table = _table(root, [float(v) for v in range(10)])
        query = f'{T}.sort(r => [r["x"]], ["asc"]).limit(2)'
        live = compile(query).watch(root=root)
        keeper = live._keepers[0]
        _no_general_path(monkeypatch)
        # min below the bound only through a NaN-free value: the segment is read, one row places.
        table.log([{"x": v, "n": 10 + j} for j, v in enumerate([float("nan"), 50.0, None, 0.5, 1.0])])
        table.flush()
        assert [r["n"] for r in to_python(live.poll())] == [0, 13]
        assert keeper.last_path == COLUMN
        assert to_python(live.result) == to_python(evaluate(query, root=root))
        table.finish()


def test_a_filter_before_the_sort_still_applies_to_the_passing_rows(monkeypatch):
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("e/k/c", root=root)
        table.log([{"x": float(v), "i": v % 3, "n": v} for v in range(30)])
        table.flush()
        query = f'{T}.filter(r => r["i"] == 1).sort(r => [r["x"]], ["desc"]).limit(2)'
        live = compile(query).watch(root=root)
        keeper = live._keepers[0]
        assert keeper._column == "x"
        _no_general_path(monkeypatch)
        table.log([{"x": 100.0, "i": 0, "n": 30}, {"x": 99.0, "i": 1, "n": 31}, {"x": 1.0, "i": 1, "n": 32}])
        table.flush()
        assert [r["n"] for r in to_python(live.poll())] == [31, 28]
        assert keeper.last_path == COLUMN
        table.log([{"x": 200.0, "i": 2, "n": 33}])  # beats the bound, filtered out: unchanged
        table.flush()
        before = live.result
        assert live.poll() is before and keeper.changed is False
        table.finish()


def test_more_k_than_rows_and_a_null_bound_take_the_new_rows_top_k():
    with tempfile.TemporaryDirectory() as root:
        table = _table(root, [1.0, 2.0])
        query = f'{T}.sort(r => [r["x"]], ["desc"]).limit(4)'
        live = compile(query).watch(root=root)
        keeper = live._keepers[0]
        assert keeper._bound is None
        table.log([{"x": None, "n": 2}, {"x": float("nan"), "n": 3}, {"x": 1.5, "n": 4}])
        table.flush()
        updated = to_python(live.poll())
        assert [r["n"] for r in updated[:3]] == [1, 4, 0] and same_result(
            updated, to_python(evaluate(query, root=root))
        )
        assert keeper.last_path == ALL and keeper._bound is None  # the 4th key is NaN or null
        table.log([{"x": 0.5, "n": 5}])
        table.flush()
        assert same_result(to_python(live.poll()), to_python(evaluate(query, root=root)))
        table.finish()


@pytest.mark.parametrize("arrow_type", [pa.string(), pa.large_string()])
def test_string_keys_written_as_string_or_large_string(arrow_type, monkeypatch):
    with tempfile.TemporaryDirectory() as root:
        log = TableLog("e/k/c", root)
        log.create()
        log.append(pa.table({"s": pa.array(["b", "a", "c", None, "é"], arrow_type), "n": [0, 1, 2, 3, 4]}))
        queries = [f'{T}.sort(r => [r["s"]], ["desc"]).limit(2)', f'{T}.sort(r => [r["s"]], ["asc"]).limit(2)']
        lives = [compile(q).watch(root=root) for q in queries]
        _no_general_path(monkeypatch)
        n = 5
        for batch in (["a", "aa"], [None, "z"], ["", "é"], ["ab", "a"]):
            log.append(pa.table({"s": pa.array(batch, arrow_type), "n": list(range(n, n + len(batch)))}))
            n += len(batch)
            for query, live in zip(queries, lives):
                assert to_python(live.poll()) == to_python(evaluate(query, root=root)), query
                assert live._keepers[0].last_path in (STATISTICS, COLUMN)


def test_rows_at_least_numbers_with_nulls_nan_and_slices():
    values = pa.array([3.0, None, float("nan"), 5.0, -0.0, 0.0, 5.0, None, 7.5])
    assert rows_at_least(values, pa.scalar(5.0), True).tolist() == [3, 6, 8]
    assert rows_at_least(values, pa.scalar(5.0), True, strict=True).tolist() == [8]
    assert rows_at_least(values, pa.scalar(0.0), False).tolist() == [4, 5]
    assert rows_at_least(values, pa.scalar(0.0), False, strict=True).tolist() == []
    sliced = values.slice(3)  # an offset into the buffers
    assert rows_at_least(sliced, pa.scalar(5.0), True).tolist() == [0, 3, 5]
    chunked = pa.chunked_array([values.slice(0, 4), values.slice(4)])
    assert rows_at_least(chunked, pa.scalar(3.0), True).tolist() == [0, 3, 6, 8]
    ints = pa.array([1, None, 4, 2, 4], pa.int32())
    assert rows_at_least(ints, pa.scalar(4, pa.int64()), True).tolist() == [2, 4]  # an exact cast
    assert rows_at_least(ints, pa.scalar(2.5), True) is None  # not exactly of the column's type
    assert rows_at_least(ints, pa.scalar(2**40), True) is None  # out of int32
    stamps = pa.array([10**18 + 1, 10**18 + 2, None], pa.timestamp("ns"))
    assert rows_at_least(stamps, pa.scalar(10**18 + 2, pa.timestamp("ns")), True).tolist() == [1]
    assert rows_at_least(pa.array([True, False]), pa.scalar(True), True) is None  # no comparison here


@pytest.mark.parametrize("arrow_type", [pa.string(), pa.large_string()])
def test_rows_at_least_strings(arrow_type):
    values = pa.array(["b", None, "é", "a", "", "ba"], arrow_type)
    assert rows_at_least(values, pa.scalar("b"), True).tolist() == [0, 2, 5]
    assert rows_at_least(values, pa.scalar("b", pa.large_string()), True, strict=True).tolist() == [2, 5]
    assert rows_at_least(values, pa.scalar("a"), False).tolist() == [3, 4]
    assert rows_at_least(pa.chunked_array([values.slice(0, 2), values.slice(2)]), pa.scalar("b"), True).tolist() == [
        0,
        2,
        5,
    ]
    assert rows_at_least(values, pa.scalar(1), True) is None


def test_rows_at_least_agrees_with_a_sort_on_random_values():
    rng = np.random.default_rng(7)
    for _ in range(20):
        data = rng.integers(-5, 5, 50).astype(float)
        data[rng.random(50) < 0.1] = np.nan
        mask = rng.random(50) < 0.1
        column = pa.array(data, mask=mask)
        bound = float(rng.integers(-5, 5))
        for descending in (True, False):
            for strict in (True, False):
                found = rows_at_least(column, pa.scalar(bound), descending, strict=strict)
                expected = [
                    j
                    for j, (v, null) in enumerate(zip(data, mask))
                    if not null
                    and not math.isnan(v)
                    and (
                        (v > bound or (not strict and v == bound))
                        if descending
                        else (v < bound or (not strict and v == bound))
                    )
                ]
                assert found.tolist() == expected


def test_a_computed_key_takes_the_general_path():
    with tempfile.TemporaryDirectory() as root:
        table = _table(root, [float(v) for v in range(10)])
        query = f'{T}.sort(r => [r["x"] * 2], ["desc"]).limit(2)'
        live = compile(query).watch(root=root)
        keeper = live._keepers[0]
        assert keeper._column is None
        table.log([{"x": 20.0, "n": 10}])
        table.flush()
        assert to_python(live.poll()) == to_python(evaluate(query, root=root))
        assert keeper.last_path == ROWS
        table.finish()
