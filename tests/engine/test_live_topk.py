"""Live top-k with a bound: a poll sorts only the new rows at least as good as the k-th kept
row (on the first sort key) with the kept k, and its result is what a cold run gives on the
same snapshot: ties (kept rows first: row order), nulls and NaN (sorted last), several keys,
ascending and descending, strings, ints and timestamps, a filter in the chain, k beyond the
table, many polls."""

from __future__ import annotations

import datetime as dt
import random
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.live_compare import same_result
from weave_lite import StreamTable, compile, evaluate, to_python

T = 'stream_table("e/k/t").rows'
QUERIES = [
    f'{T}.sort(r => [r["x"]], ["desc"]).limit(3)',
    f'{T}.sort(r => [r["x"]], ["asc"]).limit(4)',
    f'{T}.sort(r => [r["i"], r["x"]], ["desc", "asc"]).limit(5)',
    f'{T}.sort(r => [r["s"]], ["asc"]).limit(3)',
    f'{T}.filter(r => r["i"] > -2).sort(r => [r["x"]], ["desc"]).limit(2)',
    f'{T}.sort(r => [1, r["i"]], ["asc", "desc"]).limit(3)',
    f'{T}.sort(r => [r["ts"]], ["desc"]).limit(3)',
    f'{T}.sort(r => [r["x"]], ["desc"]).limit(50)',
    f'{T}.sort(r => [r["x"] * 2], ["desc"]).limit(3)["n"]',
]
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _check(batches, morsel_rows=None, queries=QUERIES):
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("e/k/t", root=root)
        n = 0

        def numbered(batch):
            nonlocal n
            out = []
            for row in batch:
                out.append({**row, "n": n})  # tells tied rows apart in the results
                n += 1
            return out

        first = {"x": 1.0, "i": 0, "s": "m", "ts": START}
        table.log(numbered([first, *batches[0]]))
        table.flush()
        lives = [compile(q).watch(root=root, morsel_rows=morsel_rows) for q in queries]
        for live in lives:
            assert live.path == "incremental", live.explain()
        for batch in batches[1:]:
            table.log(numbered(batch))
            table.flush()
            for query, live in zip(queries, lives):
                updated = to_python(live.poll())
                expected = to_python(evaluate(query, root=root, morsel_rows=morsel_rows))
                assert same_result(updated, expected), (query, updated, expected)
        table.finish()


rows = st.fixed_dictionaries(
    {
        "x": st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.0, 2.0, 3.0, float("nan"), float("inf")])),
        "i": st.one_of(st.none(), st.integers(-3, 3)),
        "s": st.one_of(st.none(), st.sampled_from(["a", "b", "m", "z", ""])),
        "ts": st.one_of(st.none(), st.integers(0, 5).map(lambda h: START + dt.timedelta(hours=h))),
    }
)


@settings(max_examples=30, deadline=None)
@given(
    batches=st.lists(st.lists(rows, min_size=1, max_size=12), min_size=2, max_size=6),
    morsel_rows=st.sampled_from([None, 4]),
)
def test_every_poll_equals_a_cold_run(batches, morsel_rows):
    _check(batches, morsel_rows)


def test_many_polls_with_ties_at_the_bound():
    rng = random.Random(3)
    batches = [
        [
            {"x": float(rng.randint(0, 5)), "i": rng.randint(-3, 3), "s": rng.choice("abcz"), "ts": START}
            for _ in range(rng.randint(1, 30))
        ]
        for _ in range(40)
    ]
    _check(batches, queries=QUERIES[:5])


def test_the_bound_reads_no_row_that_cannot_place():
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("e/k/t", root=root)
        table.log([{"x": float(v), "n": v} for v in range(100)])
        table.flush()
        live = compile(QUERIES[0]).watch(root=root)
        keeper = live._keepers[0]
        assert keeper._bound is not None and keeper._bound[1].as_py() == 97.0
        result = live.result
        table.log([{"x": 5.0, "n": 100}, {"x": None, "n": 101}, {"x": float("nan"), "n": 102}])
        table.flush()
        assert live.poll() is result  # nothing beat the k-th: the same result, no re-run
        assert keeper.changed is False
        table.log([{"x": 97.0, "n": 103}, {"x": 98.5, "n": 104}])  # a tie with the kept 97 (after it) and a better one
        table.flush()
        assert [r["n"] for r in to_python(live.poll())] == [99, 104, 98]
        table.finish()
