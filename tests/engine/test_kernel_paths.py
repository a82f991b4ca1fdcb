"""Kernels whose fast path a plan rewrite picks (``rolling:avg``..., ``sort:keys``) give the same
results on their generic path (``optimize=False``), and the one key coder of groupby and join."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from tests.reference.interpreter import evaluate_reference, to_plain, values_equal
from weave_lite import api
from weave_lite.lang.parser import parse

NAN = math.nan
ROWS = [
    {"x": 1, "f": 1.5, "s": "b", "g": "p", "big": 2**62 + 1},
    {"x": None, "f": NAN, "s": "a", "g": "q", "big": 2**62},
    {"x": 3, "f": None, "s": None, "g": "p", "big": 2**62 + 1},
    {"x": -2, "f": 2.5, "s": "c", "g": "p", "big": -5},
    {"x": 7, "f": -0.0, "s": "a", "g": "q", "big": None},
    {"x": None, "f": 0.0, "s": "z", "g": "q", "big": 2**62},
    {"x": 4, "f": 1.5, "s": "m", "g": "p", "big": 7},
    {"x": 4, "f": 0.25, "s": "m", "g": "q", "big": 7},
]
SCHEMA = pa.schema([("x", pa.int64()), ("f", pa.float64()), ("s", pa.string()), ("g", pa.string()), ("big", pa.int64())])
TABLE = pa.Table.from_pylist(ROWS, schema=SCHEMA)


def both_ways(text: str):
    """The result with and without rewrites (they must agree) checked against the reference."""
    got = [api.to_python(api.evaluate(text, tables={"t": TABLE}, optimize=o)) for o in (True, False)]
    want = to_plain(evaluate_reference(parse(text), {"t": ROWS}))
    for g in got:
        assert values_equal(g, want), f"{text}\n engine:    {g!r}\n reference: {want!r}"
    assert values_equal(got[0], got[1])  # -0.0 and 0.0 may differ between the two
    return got[0]


@pytest.mark.parametrize("fn", ["avg", "sum", "min", "max"])
@pytest.mark.parametrize("col", ["x", "f", "s"])
def test_rolling_generic_path_equals_the_fast_one(fn, col):
    if col == "s" and fn in ("avg", "sum"):
        pytest.skip("numbers only")
    both_ways(f'table("t").rows["{col}"].rolling(w => w.{fn}, 3)')
    both_ways(f'table("t").rows.groupby(r => r["g"]).map(g => g["{col}"].rolling(w => w.{fn}, 2))')


def test_rolling_rewrite_names_the_function():
    plan = api.compile('table("t").rows["x"].rolling(w => w.avg, 2)').explain(tables={"t": TABLE})
    assert "kernel=rolling:avg" in plan
    plan = api.compile('table("t").rows.sort(r => [r["s"], r["x"]])').explain(tables={"t": TABLE})
    assert "kernel=sort:keys" in plan


@pytest.mark.parametrize(
    "keys, dirs",
    [
        ('[r["s"], r["x"]]', '["asc", "desc"]'),
        ('[r["g"], r["f"], r["x"]]', '["desc"]'),
        ('[r["f"]]', '["desc"]'),
        ('[r["x"], r["s"]]', "[]"),
        ('[1, r["s"]]', '["asc", "desc"]'),
        ('[r["big"], r["s"]]', '["desc"]'),
    ],
)
def test_sort_keys_generic_path_equals_the_fast_one(keys, dirs):
    both_ways(f'table("t").rows.sort(r => {keys}, {dirs})')
    both_ways(f'table("t").rows.sort(r => {keys}, {dirs}).limit(3)')
    both_ways(f'table("t").rows.groupby(r => r["g"]).map(g => g.sort(r => {keys}, {dirs})["s"])')


def test_sort_by_a_list_valued_key_function():
    both_ways('table("t").rows.map(r => [r["g"], r["s"]]).sort(k => k, ["desc", "asc"])')


def test_groupby_list_keys_like_join():
    """One key coder: list keys group (null lists apart from empty ones, nulls inside equal)."""
    both_ways('table("t").rows.groupby(r => [r["g"], r["x"]]).map(g => {k: g.groupkey, n: g.count})')
    both_ways('table("t").rows.groupby(r => [r["f"]]).map(g => g.count)')
    both_ways('[[1, 2], [], null, [1, 2], [null], [null], [2, 1]].groupby(k => k).map(g => g.count)')
    both_ways('[[1, 2], [], null, [1, 2], [null], [2, 1]].unique')
    both_ways('table("t").rows.join(table("t").rows, a => [a["g"], a["x"]], b => [b["g"], b["x"]]).count')


def test_negative_zero_and_nan_keys_meet():
    both_ways('table("t").rows.groupby(r => r["f"]).map(g => g.count)')
    both_ways('table("t").rows["f"].countDistinct')
    both_ways('table("t").rows.join(table("t").rows, a => a["f"], b => b["f"]).count')
