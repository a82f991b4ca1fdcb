"""Golden tests of the physical plan: which nodes run morsel by morsel, and how they merge."""

from __future__ import annotations

import pyarrow as pa
import pytest

from weave_lite import compile

TABLES = {"t": pa.table({"lat": [1.0, 2.0, None], "m": ["a", "b", "a"], "n": [1, 2, 3]})}
ROWS = 'table("t").rows'


def morsel_lines(expr: str) -> list[str]:
    plan = compile(expr).explain(tables=TABLES)
    return [line.strip() for line in plan.splitlines() if "runs morsel by morsel" in line]


@pytest.mark.parametrize(
    "expr, expected",
    [
        (f'{ROWS}.filter(r => r["lat"] > 1).count', "aggregate, 1 partial(s): count:fold"),
        (f'{ROWS}["lat"].sum', "aggregate, 1 partial(s): sum:fold"),
        (f'{ROWS}["lat"].avg', "aggregate, 1 partial(s): avg:moments"),
        (f'{ROWS}["lat"].quantile(0.5)', "aggregate, 1 partial(s): quantile:values"),
        (f'{ROWS}["m"].countDistinct', "aggregate, 1 partial(s): countDistinct:distinct"),
        (f'{ROWS}.filter(r => r["lat"] > 1)', "concat"),
        (f'{ROWS}.map(r => r["lat"] * 2)', "concat"),
        (f'{ROWS}.sort(r => [r["lat"]], ["desc"]).limit(2)', "topk"),
        (f'{ROWS}.map(r => r["n"]).limit(2)', "limit"),
        (
            f'{ROWS}.groupby(r => r["m"]).map(g => {{m: g.groupkey, n: g.count, a: g["lat"].avg, x: g["lat"].max, '
            'p: g["lat"].quantile(0.9), d: g["n"].countDistinct})',
            "aggregate, 5 partial(s): count:fold, avg:moments, max:fold, quantile:values, countDistinct:distinct",
        ),
    ],
)
def test_morsel_nodes(expr, expected):
    assert morsel_lines(expr) == [f"~ runs morsel by morsel on all threads: {expected}"]


def test_grouped_aggregates_compose_arithmetic_and_keys():
    expr = f'{ROWS}.groupby(r => r["m"]).map(g => {{m: g.groupkey, rate: g.filter(r => r["lat"] > 1).count / g.count}})'
    assert morsel_lines(expr) == ["~ runs morsel by morsel on all threads: aggregate, 2 partial(s): count:fold, count:fold"]


@pytest.mark.parametrize(
    "expr, expected",
    [
        # A group used as a whole list cannot merge from partials: the chain below runs per
        # morsel, the groupby on the concatenated rows.
        (f'{ROWS}.filter(r => r["n"] > 1).groupby(r => r["m"]).map(g => g)', ["concat"]),
        # An aggregate that depends on the whole group inside a lambda over the group.
        (f'{ROWS}.filter(r => r["n"] > 1).groupby(r => r["m"]).map(g => g.filter(r => r["n"] > g.count).count)', ["concat"]),
        # Positions inside a list depend on where a morsel starts: not split.
        (f'{ROWS}.filter((r, i) => i < 2).count', []),
        # Reading the table alone does no work worth splitting.
        (f"{ROWS}", []),
        (f'{ROWS}["lat"]', []),
        # Lambda bodies run per element (their frames are not the table's rows).
        ('[1, 2].map(x => table("t").rows.count)', []),
    ],
)
def test_what_is_not_split(expr, expected):
    assert [line.rsplit(": ", 1)[1] for line in morsel_lines(expr)] == expected


def test_two_aggregates_of_one_table_each_split():
    expr = f'{{n: {ROWS}.count, a: {ROWS}["lat"].avg}}'
    assert len(morsel_lines(expr)) == 2
