"""The engine's join, joinToStr and rolling kernels against the reference interpreter."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reference.interpreter import evaluate_reference, to_plain, values_equal
from weave_lite import api
from weave_lite.errors import ExpressionError, WeaveError
from weave_lite.lang.parser import parse

NAN = math.nan
INF = math.inf
UTC = dt.UTC


# Column types for tables that may be empty (or all-null in a column).
SCHEMA = {
    "k": pa.int64(),
    "x": pa.int64(),
    "f": pa.float64(),
    "s": pa.string(),
    "g": pa.string(),
}


def _arrow(rows: list[dict]) -> pa.Table:
    if rows and not all(k in SCHEMA for k in rows[0]):
        return pa.Table.from_pylist(rows)
    names = list(rows[0]) if rows else list(SCHEMA)
    schema = pa.schema([(name, SCHEMA[name]) for name in names])
    return pa.Table.from_pylist(rows, schema=schema)


def engine(text: str, tables: dict[str, list[dict]], vars: dict | None = None):
    arrow = {name: _arrow(rows) for name, rows in tables.items()}
    return api.to_python(api.evaluate(text, tables=arrow, vars=vars))


def reference(text: str, tables: dict[str, list[dict]], vars: dict | None = None):
    return to_plain(evaluate_reference(parse(text), tables, vars))


def check(text: str, tables: dict[str, list[dict]], vars: dict | None = None):
    got = engine(text, tables, vars)
    want = reference(text, tables, vars)
    assert values_equal(got, want), f"{text}\n engine:    {got!r}\n reference: {want!r}"
    return got


T = [
    {"k": 1, "k2": "x", "f": 1.5, "v": "a", "g": "p"},
    {"k": 2, "k2": "y", "f": NAN, "v": "b", "g": "q"},
    {"k": None, "k2": "x", "f": None, "v": "c", "g": "p"},
    {"k": 2, "k2": "x", "f": 2.5, "v": "d", "g": "p"},
    {"k": 5, "k2": None, "f": NAN, "v": "e", "g": "q"},
    {"k": 2, "k2": "y", "f": -0.0, "v": "f", "g": "q"},
]
U = [
    {"k": 2, "k2": "x", "f": 0.0, "w": 10, "g": "p"},
    {"k": 1, "k2": "x", "f": NAN, "w": 20, "g": "p"},
    {"k": None, "k2": "y", "f": 2.5, "w": 30, "g": "q"},
    {"k": 3, "k2": "x", "f": None, "w": 40, "g": "q"},
    {"k": 2, "k2": "y", "f": 1.5, "w": 50, "g": "q"},
    {"k": 2, "k2": None, "f": NAN, "w": 60, "g": "p"},
]
TABLES = {"t": T, "u": U}

JOIN = 'table("t").rows.join(table("u").rows, a => a["{lk}"], b => b["{rk}"]{extra})'
FLAGS = {
    "inner": "",
    "left": ', "a", "b", true, false',
    "right": ', "a", "b", false, true',
    "full": ', "l", "r", true, true',
}


# -- join ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(FLAGS))
@pytest.mark.parametrize("key", ["k", "k2", "f", "g"])
def test_join_kinds_and_keys(kind, key):
    """Inner/left/right/full joins on int keys with nulls and duplicates (many-to-many),
    string keys, float keys with NaN (NaN matches NaN, -0.0 matches 0.0)."""
    check(JOIN.format(lk=key, rk=key, extra=FLAGS[kind]), TABLES)


def test_join_order_and_shape():
    got = check(JOIN.format(lk="k", rk="k", extra=FLAGS["full"]), TABLES)
    # Every left row in order with its matches in right order, then unmatched right rows.
    pairs = [(r["l"] and r["l"]["v"], r["r"] and r["r"]["w"]) for r in got]
    assert pairs == [
        ("a", 20),
        ("b", 10), ("b", 50), ("b", 60),
        ("c", None),
        ("d", 10), ("d", 50), ("d", 60),
        ("e", None),
        ("f", 10), ("f", 50), ("f", 60),
        (None, 30), (None, 40),
    ]


def test_null_keys_never_match():
    got = check('table("t").rows.join(table("u").rows, a => a["k"], b => b["k"])', TABLES)
    assert all(r["a"]["k"] is not None for r in got)
    rows = [{"k": None}, {"k": None}]
    assert check('table("t").rows.join(table("t").rows, a => a["k"], b => b["k"])', {"t": rows}) == []


def test_nan_keys_match():
    got = check('table("t").rows.join(table("u").rows, a => a["f"], b => b["f"])', TABLES)
    assert sum(1 for r in got if r["a"]["f"] != r["a"]["f"]) == 4  # 2 NaN rows x 2 NaN rows


@pytest.mark.parametrize("kind", list(FLAGS))
def test_multi_key_dict(kind):
    text = (
        'table("t").rows.join(table("u").rows, a => {k: a["k"], k2: a["k2"]}, '
        'b => {k: b["k"], k2: b["k2"]}' + FLAGS[kind] + ")"
    )
    check(text, TABLES)


def test_dict_keys_with_different_fields_do_not_match():
    check('table("t").rows.join(table("u").rows, a => {k: a["k"]}, b => {k: b["k"], w: 1})', TABLES)


def test_self_join():
    check('table("t").rows.join(table("t").rows, a => a["g"], b => b["g"])', TABLES)
    check('table("t").rows.join(table("t").rows, a => a["k"], b => b["k"], "x", "y", true, true)', TABLES)


def test_join_same_alias():
    check('table("t").rows.join(table("u").rows, a => a["k"], b => b["k"], "x", "x")', TABLES)


def test_join_computed_keys():
    check('table("t").rows.join(table("u").rows, a => a["k"] * 10, b => b["w"], "a", "b", true, true)', TABLES)


def test_join_int_with_float_keys():
    check('table("t").rows.join(table("u").rows, a => a["k"], b => b["f"], "a", "b", true, true)', TABLES)


def test_join_keys_of_different_kinds():
    """An int never equals a string, a bool or a dict (and the union column mixes kinds)."""
    check('table("t").rows.join(table("u").rows, a => a["k"], b => b["k2"], "a", "b", true, true)', TABLES)
    check('table("t").rows.join(table("u").rows, a => a["k"], b => {k: b["k"]}, "a", "b", true, true)', TABLES)
    from weave_lite.storage.values import column_to_array

    mixed = [1, "1", 2.0, None, True, 2, "x"]
    t = pa.table({"m": column_to_array(mixed)})
    u = pa.table({"k": [1, 2, 3], "s": ["x", "1", None]})
    rows_u = u.to_pylist()
    for text in [
        'table("t").rows.join(table("u").rows, a => a["m"], b => b["k"], "a", "b", true, true)',
        'table("t").rows.join(table("u").rows, a => a["m"], b => b["s"])',
        'table("t").rows.join(table("t").rows, a => a["m"], b => b["m"])',
    ]:
        got = api.to_python(api.evaluate(text, tables={"t": t, "u": u}))
        want = reference(text, {"t": [{"m": m} for m in mixed], "u": rows_u})
        assert values_equal(got, want), (text, got, want)


def test_join_list_keys():
    check('table("t").rows.join(table("u").rows, a => [a["k2"], a["g"]], b => [b["k2"], b["g"]])', TABLES)
    check('table("t").rows.join(table("u").rows, a => [a["k"], 1], b => [b["k"], 1], "a", "b", true, true)', TABLES)


def test_join_scalar_lists():
    check('[1, 2, 2, null, 3].join([2, 3, 3, 4], a => a, b => b, "a", "b", true, true)', {})


@pytest.mark.parametrize("kind", list(FLAGS))
def test_join_inside_map_over_groups(kind):
    """Per-frame lists: every group joined with the other table in one kernel call."""
    text = (
        'table("t").rows.groupby(r => r["g"]).map(g => g.join(table("u").rows, '
        'a => a["k"], b => b["k"]' + FLAGS[kind] + "))"
    )
    check(text, TABLES)
    text = (
        'table("t").rows.groupby(r => r["g"]).map(g => g.join(table("u").rows.filter(b => b["g"] == g.groupkey), '
        'a => a["k"], b => b["k"]' + FLAGS[kind] + ").count)"
    )
    check(text, TABLES)


def test_join_empty_sides():
    check('table("t").rows.filter(r => false).join(table("u").rows, a => a["k"], b => b["k"], "a", "b", true, true)', TABLES)
    check('table("t").rows.join(table("u").rows.filter(r => false), a => a["k"], b => b["k"], "a", "b", true, true)', TABLES)


def test_join_then_pick():
    check('table("t").rows.join(table("u").rows, a => a["k"], b => b["k"]).map(r => r["a"]["k"] + r["b"]["w"])', TABLES)


# -- joinToStr -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'table("t").rows["k"].joinToStr(", ")',
        'table("t").rows["f"].joinToStr("|")',
        'table("t").rows["v"].joinToStr("")',
        'table("t").rows["k2"].joinToStr("-")',
        'table("t").rows.groupby(r => r["g"]).map(g => g["v"].joinToStr(","))',
        'table("t").rows.groupby(r => r["g"]).map(g => g["k"].joinToStr(g.groupkey))',
        '[1.5, 2.0, null, 1e20, 1e-7, 0.000001, 123456789.0, -0.0, 0.1, 1e16].joinToStr(",")',
        "[true, false, null].joinToStr(\" \")",
        "[].joinToStr(\",\")",
        "[null, null].joinToStr(\",\")",
    ],
)
def test_join_to_str(text):
    check(text, TABLES)


def test_join_to_str_floats_exact():
    assert engine('[1.5, 2.0, null, 1e20, 1e-7, -0.0, 0.1].joinToStr(",")', {}) == "1.5,2,,1e+20,1e-7,-0,0.1"


def test_join_to_str_timestamps():
    rows = [{"t": dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)}, {"t": None}, {"t": dt.datetime(2024, 5, 1, 12, 0, 0, 5, tzinfo=UTC)}]
    got = check('table("t").rows["t"].joinToStr(";")', {"t": rows})
    assert got == "2024-05-01T12:00:00.000000Z;;2024-05-01T12:00:00.000005Z"  # null as "" (Weave)


# -- rolling -------------------------------------------------------------------------------------

R = [
    {"x": 1, "f": 1.5, "s": "b", "g": "p"},
    {"x": None, "f": NAN, "s": "a", "g": "q"},
    {"x": 3, "f": None, "s": None, "g": "p"},
    {"x": -2, "f": 2.5, "s": "c", "g": "p"},
    {"x": 7, "f": INF, "s": "a", "g": "q"},
    {"x": None, "f": -1.0, "s": "z", "g": "q"},
    {"x": 4, "f": -INF, "s": "m", "g": "p"},
    {"x": 4, "f": 0.25, "s": "m", "g": "q"},
]


@pytest.mark.parametrize("fn", ["avg", "sum", "min", "max"])
@pytest.mark.parametrize("col", ["x", "f"])
@pytest.mark.parametrize("n", [1, 2, 3, 100])
def test_rolling(fn, col, n):
    check(f'table("t").rows["{col}"].rolling(w => w.{fn}, {n})', {"t": R})


@pytest.mark.parametrize("fn", ["min", "max"])
def test_rolling_strings(fn):
    check(f'table("t").rows["s"].rolling(w => w.{fn}, 3)', {"t": R})


@pytest.mark.parametrize("fn", ["avg", "sum", "min", "max"])
def test_rolling_per_group(fn):
    check(f'table("t").rows.groupby(r => r["g"]).map(g => g["x"].rolling(w => w.{fn}, 2))', {"t": R})
    check(f'table("t").rows.groupby(r => r["g"]).map(g => g["f"].rolling(w => w.{fn}, 3))', {"t": R})
    # The window size may differ per list.
    check(f'table("t").rows.groupby(r => r["g"]).map(g => g["x"].rolling(w => w.{fn}, g.count - 2))', {"t": R})


@pytest.mark.parametrize(
    "text",
    [
        "[null, null, 1].rolling(w => w.avg, 2)",
        "[null, null, 1].rolling(w => w.sum, 2)",
        "[null, null, 1].rolling(w => w.min, 2)",
        "[1.0, null, null, null].rolling(w => w.max, 2)",
        "[].rolling(w => w.sum, 2)",
        "[5, 1, 4, 1, 5, 9, 2, 6].rolling(w => w.max, 3)",
        "[5, 1, 4, 1, 5, 9, 2, 6].rolling(w => w.min, 3)",
        "[0.0, -0.0, 1.0].rolling(w => w.min, 2)",
        "[1e20, 1.0, -1e20, 3.0, 4.0].rolling(w => w.sum, 2)",
        "[1e20, 1.0, -1e20, 3.0, 4.0].rolling(w => w.avg, 2)",
    ],
)
def test_rolling_edges(text):
    check(text, {})


def test_rolling_nan_rules():
    vars = {"nan": NAN}
    check("[nan, 1.0, nan, 2.0].rolling(w => w.min, 2)", {}, vars)
    check("[nan, nan, 1.0].rolling(w => w.max, 2)", {}, vars)
    check("[nan, 1.0, 2.0, 3.0].rolling(w => w.sum, 2)", {}, vars)
    check("[nan, 1.0, 2.0, 3.0].rolling(w => w.avg, 2)", {}, vars)


def test_rolling_rejects_other_functions():
    with pytest.raises(ExpressionError, match="rolling"):
        engine('table("t").rows["x"].rolling(w => w.count, 2)', {"t": R})
    with pytest.raises(WeaveError):
        engine('table("t").rows["x"].rolling(w => w.avg, 0)', {"t": R})


def test_rolling_long_windows_stay_accurate():
    """The sliding sum is rebuilt every n steps: long runs keep reference accuracy."""
    rng = np.random.default_rng(7)
    values = (rng.standard_normal(2000) * 10.0 ** rng.integers(-3, 8, 2000)).tolist()
    values = [v if i % 17 else None for i, v in enumerate(values)]
    rows = [{"f": v} for v in values]
    for n in (1, 5, 64, 700):
        check(f'table("t").rows["f"].rolling(w => w.sum, {n})', {"t": rows})
        check(f'table("t").rows["f"].rolling(w => w.max, {n})', {"t": rows})
        got = engine(f'table("t").rows["f"].rolling(w => w.avg, {n})', {"t": rows})
        for i, mean in enumerate(got):
            window = [v for v in values[max(0, i - n + 1) : i + 1] if v is not None]
            want = math.fsum(window) / len(window) if window else None
            assert values_equal(mean, want), (n, i, mean, want)


# -- properties ----------------------------------------------------------------------------------

small_ints = st.one_of(st.none(), st.integers(-3, 3))
small_floats = st.one_of(st.none(), st.just(NAN), st.sampled_from([0.0, -0.0, 1.0, 2.5, -1.0]))
labels = st.one_of(st.none(), st.sampled_from(["a", "b"]))


def _rows(n_min=0):
    return st.lists(
        st.fixed_dictionaries({"k": small_ints, "f": small_floats, "s": labels}),
        min_size=n_min,
        max_size=7,
    )


@settings(max_examples=60, deadline=None)
@given(
    left=_rows(),
    right=_rows(),
    flags=st.sampled_from(list(FLAGS.values())),
    key=st.sampled_from(["k", "f", "s", "dict"]),
)
def test_property_join(left, right, flags, key):
    if key == "dict":
        lk, rk = '{k: a["k"], s: a["s"]}', '{k: b["k"], s: b["s"]}'
    else:
        lk, rk = f'a["{key}"]', f'b["{key}"]'
    tables = {"t": left, "u": right}
    check(f'table("t").rows.join(table("u").rows, a => {lk}, b => {rk}{flags})', tables)
    check(
        f'table("t").rows.groupby(r => r["s"]).map(g => g.join(table("u").rows, a => {lk}, b => {rk}{flags}))',
        tables,
    )


finite = st.one_of(
    st.none(),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([NAN, INF, -INF, 0.0, -0.0]),
)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries({"x": small_ints, "f": finite, "g": st.sampled_from(["a", "b", "c"])}),
        max_size=12,
    ),
    fn=st.sampled_from(["avg", "sum", "min", "max"]),
    col=st.sampled_from(["x", "f"]),
    n=st.integers(1, 6),
)
def test_property_rolling(rows, fn, col, n):
    tables = {"t": rows}
    check(f'table("t").rows["{col}"].rolling(w => w.{fn}, {n})', tables)
    check(f'table("t").rows.groupby(r => r["g"]).map(g => g["{col}"].rolling(w => w.{fn}, {n}))', tables)
