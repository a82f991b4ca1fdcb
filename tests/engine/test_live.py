"""Live queries: after appends, ``poll()`` equals a cold run; queries of an incremental shape
read only the appended rows (the test checks what the update read, so a silent full re-run
fails it), the others fall back to a full re-run and say so."""

from __future__ import annotations

import pytest

from weave_lite import StreamTable, compile, evaluate, to_python

T = 'stream_table("e/p/t").rows'


@pytest.fixture
def table(root):
    st = StreamTable("e/p/t")
    st.log([{"i": i, "lat": float(i % 17), "m": f"m{i % 3}"} for i in range(200)])
    st.flush()
    yield st
    st.finish()


def close(a, b) -> bool:
    """Equal, floats to 1e-9 relative (live sums add the same numbers in another order)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-300)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return a == b


INCREMENTAL = [
    f'{T}.filter(r => r["lat"] > 10)',
    f'{T}.map(r => {{i: r["i"], double: r["lat"] * 2}})',
    f'{T}["lat"]',
    T,
    f'{T}.filter(r => r["m"] == "m1").count',
    f"{T}.count",
    f'{T}["i"].sum',
    f'{T}["lat"].max',
    f'{T}["i"].min',
    f'{T}["lat"].sum',
    f'{T}["lat"].stddev',
    f'{T}["lat"].quantile(0.9)',
    f'{T}["m"].countDistinct',
    f'{T}.groupby(r => r["m"]).map(g => {{m: g.groupkey, n: g.count, a: g["lat"].avg, p: g["lat"].median}})',
    f'{T}["lat"].map(x => x * 2 + 1)',
    f'{T}.sort(r => [r["lat"]], ["desc"]).limit(5)',
    f"{T}.limit(3)",
    f'{T}.groupby(r => r["m"]).map(g => {{m: g.groupkey, n: g.count}}).sort(r => [r["n"]], ["desc"]).limit(2)',
]
FULL = [
    f'{T}.filter((r, i) => i < 3)',  # positions: the new rows alone would restart at 0
    f'{T}.filter(r => r["lat"] > {T}["lat"].avg).count',  # a lambda reads the whole table
]


@pytest.mark.parametrize("expr", INCREMENTAL + FULL)
def test_live_result_equals_cold_run(root, table, expr):
    # Morsels of 50 rows: the first 200 rows make 4 morsels, the appended rows a fifth.
    live = compile(expr).watch(morsel_rows=50)
    assert to_python(live.result) == to_python(evaluate(expr, morsel_rows=50))
    assert live.poll() is None  # nothing committed
    incremental = expr in INCREMENTAL
    assert live.path == ("incremental" if incremental else "full"), live.explain()
    for batch in range(3):
        table.log([{"i": 1000 + batch * 10 + k, "lat": float(k), "m": "m1"} for k in range(10)])
        table.flush()
        assert close(to_python(live.poll()), to_python(evaluate(expr, morsel_rows=50)))
        stats = live.last_update
        if incremental:  # read the 10 new rows of the one new segment, nothing else
            assert (stats.path, stats.segments_read) == ("incremental", 1)
            assert stats.rows_read in (0, 10)  # 0: a limit already full
        else:
            assert (stats.path, stats.rows_read) == ("full", 200 + 10 * (batch + 1))
    assert live.incremental_runs == (3 if incremental else 0)
    assert live.full_runs == (1 if incremental else 4)


def test_explain_says_which_path(root, table):
    grouped = compile(f'{T}.groupby(r => r["m"]).map(g => {{m: g.groupkey, p: g["lat"].quantile(0.95)}})').watch()
    assert "live: incremental" in grouped.explain() and "quantile:values" in grouped.explain()
    sorted_groups = compile(f'{T}.groupby(r => r["m"]).map(g => {{m: g.groupkey, n: g.count}}).sort(r => [r["n"]], ["desc"])')
    assert "sort re-run over the kept results" in sorted_groups.watch().explain()
    positional = compile(f"{T}.filter((r, i) => i < 3)").watch()
    assert positional.explain().startswith("live: full")
    assert "live: incremental" in compile(f"{T}.count").explain()


def test_limit_reads_nothing_once_full(root, table):
    live = compile(f"{T}.limit(3)").watch()
    table.log({"i": 1, "lat": 1.0, "m": "x"})
    table.flush()
    assert len(live.poll()) == 3
    assert live.last_update.rows_read == 0


def test_schema_change_falls_back_to_a_full_run(root, table):
    live = compile(f"{T}.count").watch()
    table.log({"i": 1, "new_column": "x"})
    table.flush()
    assert live.poll() == 201
    assert live.full_runs == 2
    table.log({"i": 2, "new_column": "y"})
    table.flush()
    assert live.poll() == 202
    assert live.last_update.path == "incremental"


def test_empty_table_then_rows(root):
    st = StreamTable("e/p/empty")
    st.log({"i": 1, "m": "a"})
    st.flush()
    expr = 'stream_table("e/p/empty").rows.filter(r => r["i"] > 5).groupby(r => r["m"]).map(g => {k: g.groupkey, n: g.count})'
    live = compile(expr).watch()
    assert to_python(live.result) == []
    st.log([{"i": 9, "m": "b"}, {"i": 10, "m": "a"}, {"i": 11, "m": "b"}])
    st.flush()
    assert to_python(live.poll()) == to_python(evaluate(expr)) == [{"k": "b", "n": 2}, {"k": "a", "n": 1}]
    st.finish()
