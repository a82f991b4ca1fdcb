"""Live exact quantiles: each group's values kept sorted (QuantileState) give, after
every poll, what a cold run gives on the same snapshot: random appends with nulls, NaN-free
ties, infinities, new groups, one group, many groups, many polls."""

from __future__ import annotations

import random
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.live_compare import same_result
from weave_lite import StreamTable, compile, evaluate, to_python
from weave_lite.execute.sorted_values import QuantileState

T = 'stream_table("e/q/t").rows'
QUERIES = [
    f'{T}.groupby(r => r["g"]).map(g => {{g: g.groupkey, n: g.count, p: g["x"].quantile(0.95)}})',
    f'{T}.groupby(r => r["g"]).map(g => {{g: g.groupkey, lo: g["x"].quantile(0), hi: g["x"].quantile(1), m: g["x"].median}})',
    f'{T}.groupby(r => r["g"]).map(g => {{g: g.groupkey, p: g["i"].quantile(0.3), q: g.filter(r => r["i"] > 0)["x"].quantile(0.5)}})',
    f'{T}["x"].quantile(0.9)',
    f'{T}.filter(r => r["i"] != 2)["i"].median',
]


def _check(batches, morsel_rows=None, queries=QUERIES):
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("e/q/t", root=root)
        table.log([{"g": "a", "x": 1.5, "i": 1}, *batches[0]])
        table.flush()
        lives = [compile(q).watch(root=root, morsel_rows=morsel_rows) for q in queries]
        for live in lives:
            assert live.path == "incremental", live.explain()
        for batch in batches[1:]:
            table.log(batch)
            table.flush()
            for query, live in zip(queries, lives):
                updated = to_python(live.poll())
                expected = to_python(evaluate(query, root=root, morsel_rows=morsel_rows))
                assert same_result(updated, expected), (query, updated, expected)
                assert live.last_update.path == "incremental"
        table.finish()


values = st.one_of(
    st.none(), st.sampled_from([0.0, -0.0, 1.0, 2.5, float("inf"), -float("inf")]), st.integers(-5, 5).map(float)
)
rows = st.fixed_dictionaries(
    {
        "g": st.one_of(st.none(), st.sampled_from(["a", "b", "c", "new-1", "new-2"])),
        "x": values,
        "i": st.one_of(st.none(), st.integers(-3, 3)),
    }
)


@settings(max_examples=30, deadline=None)
@given(
    batches=st.lists(st.lists(rows, min_size=1, max_size=15), min_size=2, max_size=6),
    morsel_rows=st.sampled_from([None, 4]),
)
def test_every_poll_equals_a_cold_run(batches, morsel_rows):
    _check(batches, morsel_rows)


def test_many_polls_ties_and_new_groups():
    rng = random.Random(5)
    batches = []
    for b in range(40):
        groups = [f"g{j}" for j in range(3 + b)]  # new groups keep arriving
        batches.append(
            [
                {
                    "g": rng.choice(groups),
                    "x": None if rng.random() < 0.1 else float(rng.randint(0, 6)),
                    "i": rng.randint(-3, 3),
                }
                for _ in range(rng.randint(1, 60))
            ]
        )
    _check(batches, queries=QUERIES[:2])


def test_many_groups_in_one_morsel():
    rng = random.Random(7)
    batches = [
        [
            {"g": f"g{rng.randint(0, 30)}", "x": rng.choice([None, rng.random(), 1.0, float("inf")]), "i": 1}
            for _ in range(80)
        ]
        for _ in range(8)
    ]
    _check(batches, queries=QUERIES[:2])


def test_the_live_state_is_sorted_values():
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("e/q/t", root=root)
        table.log([{"g": "a", "x": 3.0, "i": 1}, {"g": "a", "x": 1.0, "i": 1}, {"g": "b", "x": None, "i": 1}])
        table.flush()
        live = compile(QUERIES[0]).watch(root=root)
        (state,) = live._keepers[0].state.leaves[1:]
        assert isinstance(state, QuantileState)
        table.log([{"g": "a", "x": 2.0, "i": 1}])
        table.flush()
        live.poll()
        assert state.values(0).tolist() == [1.0, 2.0, 3.0] and len(state.values(1)) == 0
        assert to_python(live.result)[1] == {"g": "b", "n": 1, "p": None}
        table.finish()


def test_large_groups_keep_a_second_small_run(monkeypatch):
    """A group takes new values into a small sorted run, merged into its large one once
    it holds 1/share of it; the ranks read across both runs."""
    monkeypatch.setattr(QuantileState, "share", 1)
    rng = random.Random(11)
    batches = [
        [
            {
                "g": rng.choice("ab"),
                "x": None if rng.random() < 0.1 else float(rng.randint(-4, 4)),
                "i": rng.randint(-3, 3),
            }
            for _ in range(rng.randint(1, 9))
        ]
        for _ in range(40)
    ]
    _check(batches, queries=[QUERIES[0], QUERIES[1], QUERIES[3]])
