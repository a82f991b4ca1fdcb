"""Differential property test of live queries: after any sequence of appends (nulls, new
groups, empty commits, compaction), every watched shape's ``poll()`` equals a cold
``evaluate`` on the same snapshot, and its update read only the appended rows."""

from __future__ import annotations

import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from weave_lite import StreamTable, compile, evaluate, to_python
from weave_lite.storage import compact, open_table

from .test_live import close

T = 'stream_table("p/live/t").rows'
SHAPES = {
    "count": f"{T}.count",
    "filter count": f'{T}.filter(r => r["lat"] > 0.5).count',
    "sum": f'{T}["i"].sum',
    "distinct": f'{T}["m"].countDistinct',
    "groupby aggs": f'{T}.groupby(r => r["m"]).map(g => {{m: g.groupkey, n: g.count, s: g["i"].sum, '
    f'a: g["lat"].avg, lo: g["lat"].min, hi: g["lat"].max, sd: g["lat"].stddev, d: g["i"].countDistinct}})',
    "quantiles per group": f'{T}.groupby(r => r["m"]).map(g => {{m: g.groupkey, p: g["lat"].quantile(0.95), '
    f'med: g["lat"].median, p10: g["i"].quantile(0.1)}})',
    "filtered groups": f'{T}.filter(r => r["i"] % 3 != 0).groupby(r => r["i"] % 4).map(g => {{k: g.groupkey, n: g.count}})',
    "top k": f'{T}.sort(r => [r["lat"], r["i"]], ["desc", "asc"]).limit(4)',
    "top k ties": f'{T}.sort(r => [r["m"]], ["asc"]).limit(3)',
    "top groups": f'{T}.groupby(r => r["m"]).map(g => {{m: g.groupkey, n: g.count}}).sort(r => [r["n"]], ["desc"]).limit(2)',
    "limit": f"{T}.limit(5)",
    "rows": f'{T}.filter(r => r["lat"] != null).map(r => {{i: r["i"], m: r["m"]}})',
}

rows = st.fixed_dictionaries(
    {
        "i": st.integers(-50, 50),
        "lat": st.none() | st.floats(-1e3, 1e3, allow_nan=False) | st.sampled_from([0.5, 1.0]),
        "m": st.none() | st.sampled_from(["a", "b", "c", "d", "e", "f", "g"]),
    }
)
first = st.lists(rows, min_size=1, max_size=20).map(lambda rs: [{"i": 0, "lat": 1.0, "m": "a"}, *rs])
# Each step: the commits it makes (an empty list: a flush of nothing), then whether to compact.
steps = st.lists(st.tuples(st.lists(st.lists(rows, max_size=12), min_size=1, max_size=3), st.booleans()), max_size=5)


@settings(max_examples=25)
@given(first=first, steps=steps, morsel_rows=st.integers(2, 40))
def test_poll_equals_a_cold_run(first, steps, morsel_rows):
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("p/live/t", root=root)
        table.log(first)
        table.flush()
        watched = {name: compile(expr).watch(root=root, morsel_rows=morsel_rows) for name, expr in SHAPES.items()}
        for name, live in watched.items():
            assert live.path == "incremental", (name, live.explain())
        for commits, compacting in steps:
            appended = 0
            for batch in commits:
                if batch:
                    table.log(batch)
                table.flush()
                appended += len(batch)
            if compacting:
                compact(open_table("p/live/t", root))
            for name, live in watched.items():
                updated = live.poll()
                expected = to_python(evaluate(SHAPES[name], root=root, morsel_rows=morsel_rows))
                current = to_python(live.result)
                assert close(current, expected), (name, current, expected)
                if updated is not None:
                    stats = live.last_update
                    assert stats.path == "incremental", name
                    assert stats.rows_read <= appended, (name, stats)
                    if name == "count":
                        assert stats.rows_read == appended
        table.finish()
