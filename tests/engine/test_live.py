"""Live queries: after appends, ``poll()`` equals a cold run; row-wise queries are extended
from the new segments only, and aggregates recompute only the morsels holding new rows."""

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
    "expr,mode",
    [
        (f'{T}.filter(r => r["lat"] > 10)', "append"),
        (f'{T}.map(r => {{i: r["i"], double: r["lat"] * 2}})', "append"),
        (f'{T}["lat"]', "append"),
        (f'{T}.filter(r => r["m"] == "m1").count', "partials"),
        (f'{T}.count', "partials"),
        (f'{T}["i"].sum', "partials"),
        (f'{T}["lat"].max', "partials"),
        (f'{T}["i"].min', "partials"),
        (f'{T}["lat"].sum', "partials"),
        (f'{T}["lat"].stddev', "partials"),
        (f'{T}["lat"].quantile(0.9)', "partials"),
        (f'{T}["m"].countDistinct', "partials"),
        (f'{T}.groupby(r => r["m"]).map(g => {{m: g.groupkey, n: g.count, a: g["lat"].avg, p: g["lat"].median}})', "partials"),
        (f'{T}["lat"].map(x => x * 2 + 1)', "append"),
        (f'{T}.sort(r => [r["lat"]], ["desc"]).limit(5)', "full"),
        (f'{T}.filter((r, i) => i < 3)', "full"),  # positions: the new rows alone would restart at 0
        (f'{T}.filter(r => r["lat"] > {T}["lat"].avg).count', "full"),  # reads the whole table
    ],
)
def test_live_result_equals_cold_run(root, table, expr, mode):
    # Morsels of 50 rows: the first 200 rows make 4 morsels, the appended rows a fifth.
    live = compile(expr).watch(morsel_rows=50)
    assert to_python(live.result) == to_python(evaluate(expr, morsel_rows=50))
    assert live.poll() is None  # nothing committed
    for batch in range(3):
        table.log([{"i": 1000 + batch * 10 + k, "lat": float(k), "m": "m1"} for k in range(10)])
        table.flush()
        assert to_python(live.poll()) == to_python(evaluate(expr, morsel_rows=50))
        if mode == "partials":  # the old morsels' partials are reused, the new one computed
            assert (live.partials.reused, live.partials.computed) == (4, 1)
    assert live.incremental_runs == (3 if mode == "append" else 0)
    assert live.full_runs == (1 if mode == "append" else 4)


def test_schema_change_falls_back_to_a_full_run(root, table):
    live = compile(f"{T}.count").watch()
    table.log({"i": 1, "new_column": "x"})
    table.flush()
    assert live.poll() == 201
    assert live.full_runs == 2
