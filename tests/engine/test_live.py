"""Live queries: after appends, ``poll()`` equals a cold run, and row-wise queries and
mergeable reducers are updated from the new segments only."""

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


@pytest.mark.parametrize(
    "expr,incremental",
    [
        (f'{T}.filter(r => r["lat"] > 10)', True),
        (f'{T}.map(r => {{i: r["i"], double: r["lat"] * 2}})', True),
        (f'{T}["lat"]', True),
        (f'{T}.filter(r => r["m"] == "m1").count', True),
        (f'{T}.count', True),
        (f'{T}["i"].sum', True),
        (f'{T}["lat"].max', True),
        (f'{T}["i"].min', True),
        (f'{T}["lat"].sum', False),  # float sums are re-run, never re-associated
        (f'{T}.groupby(r => r["m"]).map(g => {{m: g.groupkey, n: g.count}})', False),
        (f'{T}.sort(r => [r["lat"]], ["desc"]).limit(5)', False),
        (f'{T}.filter(r => r["lat"] > {T}["lat"].avg).count', False),  # reads the whole table
    ],
)
def test_live_result_equals_cold_run(root, table, expr, incremental):
    live = compile(expr).watch()
    assert to_python(live.result) == to_python(evaluate(expr))
    assert live.poll() is None  # nothing committed
    for batch in range(3):
        table.log([{"i": 1000 + batch * 10 + k, "lat": float(k), "m": "m1"} for k in range(10)])
        table.flush()
        assert to_python(live.poll()) == to_python(evaluate(expr))
    assert live.incremental_runs == (3 if incremental else 0)
    assert live.full_runs == (1 if incremental else 4)


def test_schema_change_falls_back_to_a_full_run(root, table):
    live = compile(f"{T}.count").watch()
    table.log({"i": 1, "new_column": "x"})
    table.flush()
    assert live.poll() == 201
    assert live.full_runs == 2
