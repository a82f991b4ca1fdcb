"""Tests of the reference interpreter against hand-computed values, op by op.

The oracle is only useful if it is right: every op of SPEC section 3 has at
least one test here, with the null / NaN / empty edge cases of
docs/semantics.md.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import HealthCheck, given, settings

from weave_lite.errors import (
    TableNotFoundError,
    UnboundVariableError,
    UnknownColumnError,
    UnknownOpError,
    WeaveError,
    WeaveTypeError,
)
from weave_lite.graph.nodes import Const, Node, Var

from .interpreter import OPS, ROOT_OPS, Group, evaluate_reference, to_plain, values_equal
from .strategies import (
    ROWS,
    call,
    col,
    dct,
    getitem,
    lam,
    lst,
    render,
    tables,
    tables_and_expressions,
    to_arrow,
)

UTC = dt.UTC
NAN = math.nan
INF = math.inf


def ts(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


T = [
    {"id": 1, "x": 3, "f": 1.5, "s": "Apple", "b": True, "t": ts(2024, 5, 1, 12, 0, 0), "k": "a", "d": {"p": 1, "q": "u"}},
    {"id": 2, "x": None, "f": NAN, "s": "banana", "b": False, "t": ts(2024, 5, 1, 12, 7, 30), "k": "b", "d": None},
    {"id": 3, "x": -2, "f": None, "s": None, "b": None, "t": None, "k": None, "d": {"p": None, "q": "v"}},
    {"id": 4, "x": 7, "f": -0.5, "s": "cherry pie", "b": True, "t": ts(2024, 5, 2, 0, 0, 0, 500), "k": "a", "d": {"p": 3, "q": "u"}},
]
TABLES = {"t": T, "other": [{"k": "a", "v": 10}, {"k": "c", "v": 30}, {"k": "a", "v": 11}, {"k": None, "v": 40}]}


def val(x) -> Node:
    """A Python value as a literal node (lists and dicts via the list/dict ops)."""
    if isinstance(x, Node):
        return x
    if isinstance(x, list):
        return lst(*[val(e) for e in x])
    if isinstance(x, dict):
        return dct(*[(k, val(v)) for k, v in x.items()])
    return Const(x)


def ev(node: Node, vars=None):
    return evaluate_reference(node, TABLES, vars)


def run(op: str, *args):
    """Evaluate ``op`` applied to literal arguments."""
    return ev(call(op, *[val(a) for a in args]))


def same(a, b) -> bool:
    """Equal, with NaN == NaN and floats and ints told apart."""
    if isinstance(a, float) and isinstance(b, float):
        return (a != a and b != b) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def ids(rows) -> list:
    return [None if r is None else r["id"] for r in rows]


# ---------------------------------------------------------------------------
# Catalog
# ---------------------------------------------------------------------------

# Every op of SPEC section 3's catalog table (profile excepted), plus the canonical operator names.
CATALOG = [
    # roots
    "stream_table", "table", "rows",
    # lists
    "count", "filter", "map", "sort", "groupby", "groupkey", "limit", "offset", "getitem", "first", "last",
    "concat", "flatten", "dropna", "unique", "contains", "join", "joinToStr",
    # reducers
    "sum", "avg", "min", "max", "argmax", "argmin", "stddev", "variance", "median", "quantile",
    "countDistinct", "mode",
    # numbers
    "add", "sub", "mul", "div", "mod", "pow", "eq", "ne", "lt", "le", "gt", "ge", "neg", "abs", "floor",
    "ceil", "round", "sqrt", "log", "exp", "toString", "toTimestamp", "bin", "binsfixed", "binsequal",
    # strings
    "len", "lower", "upper", "startsWith", "endsWith", "slice", "replace", "split", "strip",
    "isNumeric", "toNumber", "findAll", "append", "prepend", "partition", "in", "isAlpha", "isAlnum",
    "lStrip", "rStrip", "levenshtein",
    # booleans / null
    "and", "or", "not", "isNone", "coalesce", "cond",
    # timestamps
    "timestampBinsNice", "now",
    # dicts
    "dict", "merge", "keys", "values",
    # literals and windows
    "list", "rolling",
]


def test_every_catalog_op_is_implemented():
    implemented = set(OPS) | set(ROOT_OPS)
    missing = [name for name in CATALOG if name not in implemented]
    assert missing == []


def test_unknown_op_suggests_close_names():
    with pytest.raises(UnknownOpError) as info:
        ev(call("cout", ROWS))
    assert "count" in info.value.suggestions


# ---------------------------------------------------------------------------
# Roots and variables
# ---------------------------------------------------------------------------


def test_table_and_rows():
    assert ev(ROWS) == T
    assert ev(call("rows", call("table", "other"))) == TABLES["other"]


def test_stream_table_reads_tables_by_name():
    assert ev(call("rows", call("stream_table", "t"))) == T


def test_missing_table():
    with pytest.raises(TableNotFoundError):
        ev(call("rows", call("table", "nope")))


def test_vars_and_unbound_variables():
    assert ev(call("add", Var("n"), 1), vars={"n": 41}) == 42
    with pytest.raises(UnboundVariableError):
        ev(call("add", Var("n"), 1))


def test_wrong_arity_is_a_type_error():
    with pytest.raises(WeaveTypeError):
        run("abs", 1, 2)


# ---------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------


def test_count():
    assert ev(call("count", ROWS)) == 4
    assert run("count", []) == 0
    assert run("count", [None, 1, None]) == 3  # nulls included
    assert ev(call("count", call("dropna", getitem(ROWS, "x")))) == 3


def test_filter_null_is_false():
    node = call("filter", ROWS, lam("row", call("gt", col("x"), 0)))
    assert ids(ev(node)) == [1, 4]


def test_filter_with_index():
    node = call("filter", ROWS, lam(("row", "i"), call("eq", call("mod", Var("i"), 2), 1)))
    assert ids(ev(node)) == [2, 4]


def test_filter_rejects_non_booleans():
    with pytest.raises(WeaveTypeError):
        ev(call("filter", ROWS, lam("row", col("x"))))


def test_map_to_dicts_with_index():
    node = call("map", ROWS, lam(("row", "i"), dct(("id", col("id")), ("i", Var("i")), ("y", call("mul", col("x"), 2)))))
    assert ev(node) == [
        {"id": 1, "i": 0, "y": 6},
        {"id": 2, "i": 1, "y": None},
        {"id": 3, "i": 2, "y": -4},
        {"id": 4, "i": 3, "y": 14},
    ]


def test_sort_nulls_last_both_directions():
    asc = call("sort", ROWS, lam("row", lst(col("x"))), lst("asc"))
    desc = call("sort", ROWS, lam("row", lst(col("x"))), lst("desc"))
    assert ids(ev(asc)) == [3, 1, 4, 2]
    assert ids(ev(desc)) == [4, 1, 3, 2]


def test_sort_nan_just_before_nulls():
    xs = [3.0, NAN, None, 1.0, NAN, -INF]
    asc = run("sort", xs, lam("v", lst(Var("v"))), ["asc"])
    desc = run("sort", xs, lam("v", lst(Var("v"))), ["desc"])
    assert same(asc, [-INF, 1.0, 3.0, NAN, NAN, None])
    assert same(desc, [3.0, 1.0, -INF, NAN, NAN, None])


def test_sort_several_keys_missing_directions_are_asc_and_stable():
    rows = [{"a": 1, "b": "x", "n": 0}, {"a": 2, "b": "y", "n": 1}, {"a": 1, "b": "y", "n": 2}, {"a": 1, "b": "y", "n": 3}]
    node = call("sort", val(rows), lam("row", lst(col("b"), col("a"))), lst("desc"))
    assert [r["n"] for r in ev(node)] == [2, 3, 1, 0]
    node = call("sort", val(rows), lam("row", col("a")))  # a scalar key, no directions
    assert [r["n"] for r in ev(node)] == [0, 2, 3, 1]


def test_sort_strings_by_code_point_and_timestamps():
    assert run("sort", ["b", "B", "é", "a", ""], lam("v", lst(Var("v")))) == ["", "B", "a", "b", "é"]
    node = call("sort", ROWS, lam("row", lst(col("t"))), lst("desc"))
    assert ids(ev(node)) == [4, 2, 1, 3]


def test_groupby_first_appearance_order_null_key_and_groupkey():
    groups = ev(call("groupby", ROWS, lam("row", col("k"))))
    assert [g.groupkey for g in groups] == ["a", "b", None]
    assert [ids(g) for g in groups] == [[1, 4], [2], [3]]
    assert all(isinstance(g, Group) for g in groups)
    assert to_plain(groups)[1] == {"groupkey": "b", "rows": [T[1]]}


def test_groupby_map_of_reducers():
    node = call(
        "map",
        call("groupby", ROWS, lam("row", col("k"))),
        lam("g", dct(
            ("k", call("groupkey", Var("g"))),
            ("n", call("count", Var("g"))),
            ("sx", call("sum", getitem(Var("g"), "x"))),
            ("ax", call("avg", getitem(Var("g"), "x"))),
            ("first", getitem(call("first", Var("g")), "id")),
        )),
    )
    assert ev(node) == [
        {"k": "a", "n": 2, "sx": 10, "ax": 5.0, "first": 1},
        {"k": "b", "n": 1, "sx": 0, "ax": None, "first": 2},
        {"k": None, "n": 1, "sx": -2, "ax": -2.0, "first": 3},
    ]


def test_groupby_several_keys_and_nan_and_negative_zero():
    node = call("groupby", ROWS, lam("row", dct(("k", col("k")), ("b", col("b")))))
    assert [g.groupkey for g in ev(node)] == [{"k": "a", "b": True}, {"k": "b", "b": False}, {"k": None, "b": None}]
    groups = run("groupby", [NAN, 0.0, NAN, -0.0, 1, 1.0], lam("v", Var("v")))
    assert [len(g) for g in groups] == [2, 2, 2]
    assert math.isnan(groups[0].groupkey) and groups[1].groupkey == 0.0


def test_groupkey_of_a_list_of_groups():
    node = call("groupkey", call("groupby", ROWS, lam("row", col("b"))))
    assert ev(node) == [True, False, None]


def test_group_behaves_as_a_list_for_list_ops():
    g = Var("g")
    node = call("map", call("groupby", ROWS, lam("row", col("k"))), lam("g", dct(
        ("ids", getitem(g, "id")),
        ("filtered", call("count", call("filter", g, lam("row", call("gt", col("x"), 5))))),
        ("last", getitem(call("last", g), "id")),
        ("i0", getitem(getitem(g, 0), "id")),
    )))
    assert ev(node) == [
        {"ids": [1, 4], "filtered": 1, "last": 4, "i0": 1},
        {"ids": [2], "filtered": 0, "last": 2, "i0": 2},
        {"ids": [3], "filtered": 0, "last": 3, "i0": 3},
    ]


def test_getitem_on_list_of_groups_and_reducer_over_list_of_lists():
    groups = call("groupby", ROWS, lam("row", col("k")))
    assert ev(getitem(groups, "x")) == [[3, 7], [None], [-2]]
    assert ev(call("sum", getitem(groups, "x"))) == [10, 0, -2]


def test_limit_offset():
    assert run("limit", [1, 2, 3], 2) == [1, 2]
    assert run("limit", [1, 2, 3], 10) == [1, 2, 3]
    assert run("limit", [1, 2, 3], 0) == []
    assert run("offset", [1, 2, 3], 1) == [2, 3]
    assert run("offset", [1, 2, 3], 5) == []
    assert run("limit", [1, 2, 3], -1) == []
    assert run("offset", [1, 2, 3], -1) == [1, 2, 3]


def test_getitem_index_column_and_out_of_range():
    assert run("getitem", [10, 20, 30], 1) == 20
    assert run("getitem", [10, 20, 30], 3) is None
    assert run("getitem", [10, 20, 30], -1) == 30  # SPEC 3 (issue 16): negative counts from the end
    assert run("getitem", [10, 20, 30], -4) is None
    assert run("getitem", None, 0) is None
    assert ev(getitem(ROWS, "x")) == [3, None, -2, 7]
    assert ev(getitem(getitem(ROWS, 0), "s")) == "Apple"


def test_getitem_dotted_paths():
    assert ev(getitem(ROWS, "d.p")) == [1, None, None, 3]  # d is null in row 2
    assert ev(getitem(getitem(ROWS, "d"), "q")) == ["u", None, "v", "u"]
    assert run("getitem", {"a.b": 1, "a": {"b": 2}}, "a.b") == 1  # a literal key wins
    assert run("getitem", {"a": {"b": {"c": 5}}}, "a.b.c") == 5


def test_getitem_missing_key_names_close_keys():
    with pytest.raises(UnknownColumnError) as info:
        ev(getitem(getitem(ROWS, 0), "idd"))
    assert "id" in info.value.suggestions


def test_first_last():
    assert run("first", [4, 5]) == 4
    assert run("last", [4, 5]) == 5
    assert run("first", []) is None
    assert run("last", []) is None
    assert ev(getitem(call("last", ROWS), "id")) == 4


def test_concat():
    assert run("concat", [[1], [2, 3]]) == [1, 2, 3]
    assert run("concat", [[1], [], [[2]]]) == [1, [2]]  # one level only
    assert run("concat", [1, 2], [3]) == [1, 2, 3]
    assert run("concat", [[1], None, [2]]) == [1, 2]


def test_flatten():
    assert run("flatten", [[1, [2, [3]]], [], [4], 5]) == [1, 2, 3, 4, 5]
    groups = call("groupby", ROWS, lam("row", col("k")))
    assert ids(ev(call("flatten", groups))) == [1, 4, 2, 3]


def test_dropna_keeps_nan():
    assert same(run("dropna", [1.0, None, NAN, None]), [1.0, NAN])


def test_unique_keeps_null_and_nan_once():
    assert same(run("unique", [1, None, 1, NAN, NAN, None, 2, -0.0, 0.0]), [1, None, NAN, 2, -0.0])
    assert run("unique", ["b", "a", "b"]) == ["b", "a"]


def test_contains_on_lists_and_strings():
    assert run("contains", [1, 2], 2) is True
    assert run("contains", [1, 2], 2.0) is True
    assert run("contains", [1, 2], 3) is False
    assert run("contains", [1, None], None) is True
    assert run("contains", [1], None) is False
    assert run("contains", [NAN], NAN) is False  # ==
    assert run("contains", [1], True) is False  # booleans are not numbers
    assert run("contains", "banana", "nan") is True
    assert run("contains", "banana", "") is True
    assert run("contains", None, "a") is None


def _join(**kw):
    args = [ROWS, call("rows", call("table", "other")), lam("r", getitem(Var("r"), "k")), lam("r", getitem(Var("r"), "k"))]
    if kw:
        args += [kw.get("a1", "a"), kw.get("a2", "b"), kw.get("lo", False), kw.get("ro", False)]
    return ev(call("join", *args))


def test_join_inner_never_matches_null():
    out = _join()
    assert [(r["a"]["id"], r["b"]["v"]) for r in out] == [(1, 10), (1, 11), (4, 10), (4, 11)]


def test_join_outer_and_aliases():
    out = _join(a1="l", a2="r", lo=True, ro=True)
    pairs = [(None if r["l"] is None else r["l"]["id"], None if r["r"] is None else r["r"]["v"]) for r in out]
    assert pairs == [(1, 10), (1, 11), (2, None), (3, None), (4, 10), (4, 11), (None, 30), (None, 40)]
    out = _join(lo=False, ro=True)
    assert [(r["a"] and r["a"]["id"], r["b"]["v"]) for r in out] == [(1, 10), (1, 11), (4, 10), (4, 11), (None, 30), (None, 40)]


def test_join_dotted_access_on_result():
    node = call("map", call("join", ROWS, call("rows", call("table", "other")), lam("r", getitem(Var("r"), "k")),
                            lam("r", getitem(Var("r"), "k")), "a", "b", True, False),
                lam("r", dct(("id", getitem(Var("r"), "a.id")), ("v", getitem(Var("r"), "b.v")))))
    assert ev(node) == [{"id": 1, "v": 10}, {"id": 1, "v": 11}, {"id": 2, "v": None}, {"id": 3, "v": None},
                        {"id": 4, "v": 10}, {"id": 4, "v": 11}]


def test_join_to_str():
    assert run("joinToStr", [1, None, 2.0, "a", True, 0.5], "-") == "1--2-a-true-0.5"  # null as "" (Weave)
    assert run("joinToStr", [], ",") == ""
    assert run("joinToStr", [["a", None], None, []], ",") == ["a,", None, ""]  # maps over lists


# ---------------------------------------------------------------------------
# Reducers
# ---------------------------------------------------------------------------


def test_sum():
    assert run("sum", [1, 2, None]) == 3
    assert type(run("sum", [1, 2])) is int
    assert run("sum", []) == 0
    assert run("sum", [None]) == 0
    assert run("sum", [1, 0.5]) == 1.5
    assert math.isnan(run("sum", [1.5, NAN]))
    assert math.isnan(run("sum", [INF, -INF]))
    assert run("sum", [0.1] * 10) == 1.0  # exactly rounded
    assert run("sum", [1e300, 1.0, -1e300]) == 1.0


def test_avg():
    assert run("avg", [1, 2, None]) == 1.5
    assert run("avg", []) is None
    assert run("avg", [None, None]) is None
    assert math.isnan(run("avg", [1.0, NAN]))
    assert run("avg", [INF, 1.0]) == INF


def test_min_max():
    assert run("min", [3, None, 1, 2]) == 1
    assert run("max", [3, None, 1, 2]) == 3
    assert run("min", [NAN, 2.0, 1.0]) == 1.0  # NaN ignored
    assert math.isnan(run("max", [NAN, None, NAN]))  # unless every non-null value is NaN
    assert run("min", []) is None
    assert run("max", [None]) is None
    assert run("max", ["apple", "Banana"]) == "apple"
    assert ev(call("min", getitem(ROWS, "t"))) == ts(2024, 5, 1, 12)


def test_argmax_argmin_first_index():
    assert run("argmax", [1, 5, None, 5]) == 1
    assert run("argmin", [None, 2, 0, 0]) == 2
    assert run("argmax", [NAN, 1.0]) == 1
    assert run("argmin", [None, NAN, NAN]) == 1
    assert run("argmax", []) is None
    assert run("argmin", [None]) is None


def test_stddev_variance_population():
    xs = [2, 4, 4, 4, 5, 5, 7, 9, None]
    assert run("variance", xs) == 4.0
    assert run("stddev", xs) == 2.0
    assert run("variance", [5]) == 0.0
    assert run("variance", []) is None
    assert run("stddev", [None]) is None
    assert math.isnan(run("stddev", [1.0, NAN]))
    assert math.isnan(run("variance", [1.0, INF]))
    assert run("variance", [0.1, 0.1, 0.1]) == 0.0


def test_median_quantile_linear_interpolation():
    assert run("median", [3, 1, 2, None]) == 2.0
    assert run("median", [1, 2, 3, 4]) == 2.5
    assert run("quantile", [1, 2, 3, 4], 0.3) == pytest.approx(1.9)
    assert run("quantile", [10, 20], 0.0) == 10.0
    assert run("quantile", [10, 20], 1.0) == 20.0
    assert run("quantile", [10, 20, 30, 40, 50], 0.95) == pytest.approx(48.0)
    assert run("median", [NAN, 1.0, 3.0]) == 2.0  # NaN ignored
    assert run("median", []) is None
    assert run("quantile", [None, NAN], 0.5) is None
    assert run("median", [INF, INF]) == INF


def test_count_distinct():
    assert run("countDistinct", [1, 1, None, NAN, NAN, 2, 2.0]) == 3
    assert run("countDistinct", []) == 0
    assert run("countDistinct", [None]) == 0
    assert run("countDistinct", ["a", "A", "a"]) == 2


def test_mode():
    assert run("mode", [1, 2, 2, 3, 3, None, None, None]) == 2  # tie: smallest
    assert run("mode", ["b", "a", "b", "a"]) == "a"
    assert run("mode", []) is None
    assert run("mode", [None]) is None
    assert math.isnan(run("mode", [NAN, NAN, 1.0]))
    assert run("mode", [NAN, 1.0]) == 1.0  # in a tie NaN is the largest


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------


def test_add_sub_mul():
    assert run("add", 1, 2) == 3
    assert same(run("add", 1, 2.0), 3.0)
    assert run("add", None, 1) is None
    assert run("sub", 1, None) is None
    assert run("mul", 3, -4) == -12
    assert run("add", 2**63 - 1, 1) == -(2**63)  # 64-bit
    assert run("add", "ab", "cd") == "abcd"
    with pytest.raises(WeaveTypeError):
        run("add", "a", 1)
    with pytest.raises(WeaveTypeError):
        run("add", True, 1)


def test_auto_mapping():
    assert ev(call("add", getitem(ROWS, "x"), 1)) == [4, None, -1, 8]
    assert ev(call("sub", 10, getitem(ROWS, "x"))) == [7, None, 12, 3]
    assert ev(call("mul", getitem(ROWS, "x"), getitem(ROWS, "id"))) == [3, None, -6, 28]
    assert ev(call("lower", getitem(ROWS, "s"))) == ["apple", "banana", None, "cherry pie"]
    assert run("add", [[1, 2], [3]], 1) == [[2, 3], [4]]  # recursively
    with pytest.raises(WeaveTypeError):
        run("add", [1, 2], [1, 2, 3])


def test_div():
    assert run("div", 7, 2) == 3.5
    assert same(run("div", 6, 3), 2.0)
    assert run("div", 1, 0) is None
    assert run("div", 1.0, 0.0) is None
    assert run("div", -1, -0.0) is None
    assert run("div", 0, 0) is None
    assert run("div", None, 2) is None
    assert math.isnan(run("div", INF, INF))


def test_mod_sign_of_divisor():
    assert run("mod", 7, 3) == 1
    assert run("mod", -7, 3) == 2
    assert run("mod", 7, -3) == -2
    assert run("mod", 5.5, 2) == 1.5
    assert run("mod", -5.5, 2) == 0.5
    assert run("mod", 5, 0) is None
    assert run("mod", 5.0, 0.0) is None


def test_pow_always_float():
    assert same(run("pow", 2, 3), 8.0)
    assert run("pow", 2, -1) == 0.5
    assert run("pow", 4, 0.5) == 2.0
    assert math.isnan(run("pow", -8, 1 / 3))
    assert run("pow", 0, -1) == INF
    assert run("pow", 10, 400) == INF
    assert run("pow", -10.0, 401) == -INF
    assert run("pow", NAN, 0) == 1.0
    assert run("pow", None, 2) is None


def test_neg():
    assert run("neg", 3) == -3
    assert run("neg", -2.5) == 2.5
    assert run("neg", None) is None
    assert ev(call("neg", getitem(ROWS, "x"))) == [-3, None, 2, -7]


def test_comparisons_and_nulls():
    assert run("lt", 1, 2) is True
    assert run("le", 2, 2.0) is True
    assert run("gt", "b", "a") is True
    assert run("ge", ts(2024, 1, 1), ts(2024, 1, 2)) is False
    assert run("eq", 1, 1.0) is True
    assert run("eq", "a", "a") is True
    assert run("eq", 1, "1") is False  # different kinds are not equal
    assert run("eq", 1, True) is False
    assert run("ne", 1, "1") is True
    assert run("eq", None, None) is True  # null-safe == (SPEC section 3)
    assert run("eq", None, 1) is False
    assert run("ne", None, 1) is True
    assert run("ne", None, None) is False
    assert run("lt", None, 1) is None
    with pytest.raises(WeaveTypeError):
        run("lt", 1, "a")


def test_nan_comparisons():
    assert run("eq", NAN, NAN) is False
    assert run("ne", NAN, NAN) is True
    assert run("lt", NAN, 1) is False
    assert run("ge", NAN, 1) is False
    assert run("gt", 1, NAN) is False


def test_abs_floor_ceil():
    assert run("abs", -3) == 3
    assert run("abs", -0.5) == 0.5
    assert same(run("floor", 7), 7)
    assert same(run("floor", -1.5), -2.0)
    assert same(run("ceil", -1.5), -1.0)
    assert same(run("ceil", 1.2), 2.0)
    assert run("floor", INF) == INF
    assert math.isnan(run("ceil", NAN))
    assert run("floor", None) is None


def test_round_half_away_from_zero():
    assert same(run("round", 2.5), 3.0)
    assert same(run("round", -2.5), -3.0)
    assert same(run("round", 0.5), 1.0)
    assert same(run("round", 1.4999), 1.0)
    assert same(run("round", 2.675, 2), 2.68)  # Arrow's algorithm: 2.675 * 100 is 267.5 in doubles
    assert same(run("round", 1.005, 2), 1.0)  # 1.005 * 100 is 100.49999999999999
    assert same(run("round", 1250.0, -2), 1300.0)
    assert same(run("round", 7), 7)
    assert same(run("round", 1250, -2), 1300)
    assert same(run("round", -1250, -2), -1300)
    assert same(run("round", 1249, -2), 1200)
    assert same(run("round", 7, 2), 7)
    assert math.isnan(run("round", NAN))
    assert run("round", None) is None


def test_sqrt_log_exp():
    assert run("sqrt", 4) == 2.0
    assert math.isnan(run("sqrt", -1))
    assert run("log", 0) == -INF
    assert math.isnan(run("log", -1))
    assert run("log", math.e) == 1.0
    assert run("exp", 0) == 1.0
    assert run("exp", 1000) == INF
    assert run("exp", -INF) == 0.0
    assert run("sqrt", None) is None


def test_to_string():
    assert run("toString", 123) == "123"
    assert run("toString", -7) == "-7"
    assert run("toString", 2.0) == "2"
    assert run("toString", 0.1) == "0.1"
    assert run("toString", -1.5) == "-1.5"
    assert run("toString", 1e9) == "1000000000"
    assert run("toString", 1e16) == "1e+16"
    assert run("toString", 1e21) == "1e+21"
    assert run("toString", 1e-6) == "0.000001"
    assert run("toString", 1.5e-7) == "1.5e-7"
    assert run("toString", 0.30000000000000004) == "0.30000000000000004"
    assert run("toString", NAN) == "nan"
    assert run("toString", -INF) == "-inf"
    assert run("toString", -0.0) == "-0"
    assert run("toString", True) == "true"
    assert run("toString", "é") == "é"
    assert run("toString", ts(2024, 5, 1, 12)) == "2024-05-01T12:00:00.000000Z"
    assert run("toString", ts(1969, 12, 31, 23, 59, 59, 5)) == "1969-12-31T23:59:59.000005Z"
    assert run("toString", None) is None


def test_to_timestamp():
    assert run("toTimestamp", 0) == ts(1970, 1, 1)
    assert run("toTimestamp", 1714564800000) == ts(2024, 5, 1, 12)
    assert run("toTimestamp", 1.5) == ts(1970, 1, 1, 0, 0, 0, 1000)  # fractional ms dropped (floored), as Weave
    assert run("toTimestamp", -0.5) == ts(1969, 12, 31, 23, 59, 59, 999000)
    assert run("toTimestamp", -1) == ts(1969, 12, 31, 23, 59, 59, 999000)
    assert run("toTimestamp", None) is None
    assert run("toTimestamp", NAN) is None


def test_bin_binsfixed():
    assert run("bin", 7, call("binsfixed", 5)) == {"start": 5.0, "stop": 10.0}
    assert run("bin", -1, call("binsfixed", 5)) == {"start": -5.0, "stop": 0.0}
    assert run("bin", [0.25, None], call("binsfixed", 0.5)) == [{"start": 0.0, "stop": 0.5}, None]


def test_bin_binsequal():
    out = run("bin", [0, 10, 5, None, 2.5, NAN], call("binsequal", 4))
    assert out == [
        {"start": 0.0, "stop": 2.5},
        {"start": 7.5, "stop": 10.0},  # the maximum falls in the last bin
        {"start": 5.0, "stop": 7.5},
        None,
        {"start": 2.5, "stop": 5.0},
        None,
    ]
    assert run("bin", [3, 3], call("binsequal", 2)) == [{"start": 3.0, "stop": 3.0}] * 2
    assert run("bin", [], call("binsequal", 2)) == []


# ---------------------------------------------------------------------------
# Strings
# ---------------------------------------------------------------------------


def test_len_counts_code_points():
    assert run("len", "héllo😀") == 6
    assert run("len", "") == 0
    assert run("len", None) is None


def test_lower_upper():
    assert run("lower", "ÉcolE Ж") == "école ж"
    assert run("upper", "straxñ😀") == "STRAXÑ😀"
    assert run("upper", None) is None


def test_starts_ends_with():
    assert run("startsWith", "banana", "ban") is True
    assert run("startsWith", "banana", "") is True
    assert run("endsWith", "banana", "nan") is False
    assert run("endsWith", "banana", "ana") is True
    assert run("endsWith", None, "a") is None


def test_slice_like_python():
    assert run("slice", "hello", 1, 3) == "el"
    assert run("slice", "hello", -3) == "llo"
    assert run("slice", "hello", -3, -1) == "ll"
    assert run("slice", "hello", 3, 1) == ""
    assert run("slice", "h😀llo", 1, 2) == "😀"


def test_replace_every_literal_occurrence():
    assert run("replace", "a.b.c", ".", "-") == "a-b-c"
    assert run("replace", "aaa", "aa", "b") == "ba"
    assert run("replace", "x+y", "+", "") == "xy"


def test_split():
    assert run("split", "a,b,,c", ",") == ["a", "b", "", "c"]
    assert run("split", "", ",") == [""]
    assert run("split", "ab😀", "") == ["a", "b", "😀"]
    assert ev(call("split", getitem(ROWS, "s"), " ")) == [["Apple"], ["banana"], None, ["cherry", "pie"]]


def test_weave_string_ops():
    assert run("startsWith", "abc", None) is True and run("endsWith", "", None) is True
    assert run("startsWith", None, "a") is None
    assert run("append", "a", None) == "a" and run("prepend", "a", "b") == "ba" and run("append", None, "x") is None
    assert run("partition", "a-b-c", "-") == ["a", "-", "b-c"]
    assert run("partition", "abc", None) == ["abc", "", ""] == run("partition", "abc", "")
    assert run("in", "b", "abc") is True and run("in", "", None) is True and run("in", None, "a") is None
    assert run("in", "b", ["a", "b"]) is True and run("in", "c", ["a", None]) is False
    assert run("isAlpha", "é") is True and run("isAlpha", "") is False and run("isAlnum", "a1") is True
    assert run("lStrip", " a ") == "a " and run("rStrip", " a ") == " a"
    assert run("levenshtein", "kitten", "sitting") == 3 and run("levenshtein", None, "ab") == 2
    assert run("levenshtein", "straße", "strasse") == 2


def test_strip():
    assert run("strip", "  a b \t\n") == "a b"
    assert run("strip", "\u00a0x\u3000") == "x"
    assert run("strip", "") == ""


def test_is_numeric():
    # Weave's rule: an optional "-", then digits with at most one "." (no exponent, no spaces).
    for text in ["1", "-2", "3.5", ".5", "5.", "-.5", "007"]:
        assert run("isNumeric", text) is True, text
    for text in ["", " ", "-", ".", "abc", "12a", "1e3", "42e10", " 2 ", "+7", "nan", "inf", "0x10",
                 "1_000", "1,5", "--1", "1.2.3", "١٢"]:
        assert run("isNumeric", text) is False, text
    assert run("isNumeric", None) is None


def test_to_number():
    assert same(run("toNumber", "42"), 42.0)  # always a float (docs/semantics.md)
    assert same(run("toNumber", "-7"), -7.0)
    assert run("toNumber", " -7 ") is None
    assert same(run("toNumber", "3.5"), 3.5)
    assert run("toNumber", "1e3") is None
    assert same(run("toNumber", "99999999999999999999"), 1e20)
    assert run("toNumber", "inf") is None
    assert run("toNumber", "abc") is None
    assert run("toNumber", "") is None
    assert run("toNumber", None) is None
    assert same(run("toNumber", ts(1970, 1, 1, 0, 0, 1, 500)), 1000.5)


def test_find_all():
    assert run("findAll", "a1b22c333", "[0-9]+") == ["1", "22", "333"]
    assert run("findAll", "ab-cd", "([a-z])([a-z])") == ["ab", "cd"]  # whole matches, not groups
    assert run("findAll", "xyz", "[0-9]+") == []
    assert run("findAll", None, "a") is None
    with pytest.raises(WeaveTypeError):
        run("findAll", "a", "(")


# ---------------------------------------------------------------------------
# Booleans and null
# ---------------------------------------------------------------------------

KLEENE_AND = {
    (True, True): True, (True, False): False, (True, None): None,
    (False, True): False, (False, False): False, (False, None): False,
    (None, True): None, (None, False): False, (None, None): None,
}


@pytest.mark.parametrize(("a", "b"), list(KLEENE_AND))
def test_kleene_and_or(a, b):
    assert run("and", a, b) is KLEENE_AND[(a, b)]
    expected_or = True if (a is True or b is True) else (None if (a is None or b is None) else False)
    assert run("or", a, b) is expected_or


def test_not():
    assert run("not", True) is False
    assert run("not", None) is None
    assert run("not", [True, None, False]) == [False, None, True]
    with pytest.raises(WeaveTypeError):
        run("not", 1)


def test_is_none():
    assert run("isNone", None) is True
    assert run("isNone", 0) is False
    assert run("isNone", NAN) is False
    assert ev(call("isNone", getitem(ROWS, "x"))) == [False, True, False, False]


def test_coalesce():
    assert run("coalesce", None, 5) == 5
    assert run("coalesce", 0, 5) == 0
    assert run("coalesce", None, None) is None
    assert ev(call("coalesce", getitem(ROWS, "x"), 0)) == [3, 0, -2, 7]


def test_cond():
    assert run("cond", True, "a", "b") == "a"
    assert run("cond", False, "a", "b") == "b"
    assert run("cond", None, "a", "b") == "b"  # null is falsy
    node = call("cond", call("gt", getitem(ROWS, "x"), 0), "pos", getitem(ROWS, "s"))
    assert ev(node) == ["pos", "banana", None, "pos"]


# ---------------------------------------------------------------------------
# Timestamps
# ---------------------------------------------------------------------------


def test_timestamp_difference_in_milliseconds():
    assert same(run("sub", ts(2024, 5, 1, 12, 7, 30), ts(2024, 5, 1, 12)), 450000.0)
    assert same(run("sub", ts(2024, 5, 1, 0, 0, 0, 1500), ts(2024, 5, 1)), 1.5)
    assert run("sub", ts(2024, 5, 1), None) is None


def test_timestamp_floor_ceil_units():
    t = ts(2024, 5, 1, 12, 7, 30, 250)
    assert run("floor", t, "s") == ts(2024, 5, 1, 12, 7, 30)
    assert run("floor", t, "m") == ts(2024, 5, 1, 12, 7)
    assert run("floor", t, "5m") == ts(2024, 5, 1, 12, 5)
    assert run("floor", t, "h") == ts(2024, 5, 1, 12)
    assert run("floor", t, "d") == ts(2024, 5, 1)
    assert run("floor", t, "24h") == ts(2024, 5, 1)
    assert run("floor", t, "7d") == ts(2024, 4, 25)  # aligned to the epoch (a Thursday)
    assert run("ceil", t, "m") == ts(2024, 5, 1, 12, 8)
    assert run("ceil", ts(2024, 5, 1, 12, 5), "5m") == ts(2024, 5, 1, 12, 5)
    assert run("floor", ts(1969, 12, 31, 23, 59, 59, 1), "m") == ts(1969, 12, 31, 23, 59)
    assert run("ceil", ts(1969, 12, 31, 23, 59, 59, 1), "m") == ts(1970, 1, 1)
    assert run("floor", None, "h") is None
    with pytest.raises(WeaveTypeError):
        run("floor", t, "w")


def test_timestamp_to_number():
    assert same(run("toNumber", ts(1970, 1, 1, 0, 0, 1)), 1000.0)
    assert same(run("toNumber", ts(1969, 12, 31, 23, 59, 59)), -1000.0)


def test_timestamp_bins_nice():
    xs = [ts(2024, 5, 1, 12, 0, 10), ts(2024, 5, 1, 12, 4, 50), None]
    out = run("bin", xs, call("timestampBinsNice", 5))
    # range 12:00:10..12:04:50: 1 min bins touch 5 bins
    assert out == [
        {"start": ts(2024, 5, 1, 12, 0), "stop": ts(2024, 5, 1, 12, 1)},
        {"start": ts(2024, 5, 1, 12, 4), "stop": ts(2024, 5, 1, 12, 5)},
        None,
    ]
    out = run("bin", xs, call("timestampBinsNice", 2))  # 2 min: 3 bins; 5 min: 1 bin
    assert out[0] == {"start": ts(2024, 5, 1, 12, 0), "stop": ts(2024, 5, 1, 12, 5)}
    assert run("bin", [ts(2024, 5, 1)], call("timestampBinsNice", 10)) == [
        {"start": ts(2024, 5, 1), "stop": ts(2024, 5, 1, 0, 0, 1)}
    ]


def test_now():
    fixed = ts(2024, 5, 1, 12)
    assert ev(call("now"), vars={"now": fixed}) == fixed
    before = dt.datetime.now(UTC)
    got = ev(call("now"))
    assert before <= got <= dt.datetime.now(UTC)
    assert got.tzinfo is not None


# ---------------------------------------------------------------------------
# Dicts
# ---------------------------------------------------------------------------


def test_dict_construction_and_pick():
    assert ev(dct(("a", 1), ("b c", call("add", 1, 1)))) == {"a": 1, "b c": 2}
    assert ev(getitem(dct(("a", 1)), "a")) == 1


def test_merge_right_wins():
    assert run("merge", {"a": 1, "b": 2}, {"b": 3, "c": 4}) == {"a": 1, "b": 3, "c": 4}
    assert run("merge", None, {"a": 1}) is None


def test_keys_values_in_insertion_order():
    assert run("keys", {"b": 1, "a": 2}) == ["b", "a"]
    assert run("values", {"b": 1, "a": 2}) == [1, 2]
    assert ev(call("keys", getitem(ROWS, "d"))) == [["p", "q"], None, ["p", "q"], ["p", "q"]]


# ---------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------


def test_rolling():
    xs = [1, 2, 3, 4, 5]
    w = Var("w")
    assert run("rolling", xs, lam("w", call("avg", w)), 3) == [1.0, 1.5, 2.0, 3.0, 4.0]
    assert run("rolling", xs, lam("w", call("sum", w)), 2) == [1, 3, 5, 7, 9]
    assert run("rolling", [3, None, 1, 2], lam("w", call("min", w)), 2) == [3, 3, 1, 1]
    assert run("rolling", [3, None, None, 2], lam("w", call("max", w)), 2) == [3, 3, None, 2]
    assert run("rolling", [], lam("w", call("sum", w)), 2) == []
    node = call("rolling", getitem(call("sort", ROWS, lam("row", lst(col("id")))), "x"), lam("w", call("sum", w)), 2)
    assert ev(node) == [3, 3, -2, 5]


# ---------------------------------------------------------------------------
# Comparing helpers
# ---------------------------------------------------------------------------


def test_to_plain_groups():
    g = Group("a", [{"x": 1}])
    assert to_plain([g, [Group(None, [])]]) == [{"groupkey": "a", "rows": [{"x": 1}]}, [{"groupkey": None, "rows": []}]]


def test_values_equal():
    assert values_equal(1, 1.0)
    assert values_equal(NAN, NAN)
    assert values_equal(1.0, 1.0 + 1e-12)
    assert not values_equal(1.0, 1.0 + 1e-6)
    assert values_equal(0.0, 1e-13)
    assert values_equal(0.0, -0.0)
    assert not values_equal(True, 1)
    assert not values_equal(None, 0)
    assert values_equal(INF, INF) and not values_equal(INF, -INF)
    assert values_equal({"a": [1, {"b": 2.0}]}, {"a": (1, {"b": 2})})
    assert not values_equal({"a": 1}, {"a": 1, "b": None})
    assert values_equal(ts(2024, 1, 1), dt.datetime(2024, 1, 1))  # naive read as UTC
    assert values_equal(ts(2024, 1, 1), dt.datetime(2024, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    assert not values_equal(ts(2024, 1, 1), ts(2024, 1, 1, 0, 0, 0, 1))
    assert values_equal(Group("k", [1]), {"groupkey": "k", "rows": [1]})
    assert not values_equal("1", 1)


# ---------------------------------------------------------------------------
# The generators
# ---------------------------------------------------------------------------


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tables())
def test_tables_are_well_formed(table):
    schema, rows = table
    assert len(rows) <= 40
    for row in rows:
        assert list(row) == list(schema)
        for name, spec in schema.items():
            if row[name] is None:
                assert spec.nullable, name
            elif spec.kind == "int":
                assert type(row[name]) is int and abs(row[name]) < 2**31
            elif spec.kind == "timestamp":
                assert row[name].tzinfo is not None
    # the Arrow table holds the same values
    assert values_equal(to_arrow(schema, rows).to_pylist(), rows)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tables_and_expressions())
def test_interpreter_never_fails_on_generated_expressions(case):
    _schema, rows, expr = case
    try:
        result = evaluate_reference(expr, {"t": rows})
    except WeaveError as exc:  # the generator makes well-typed expressions only
        pytest.fail(f"{type(exc).__name__}: {exc}\n  {render(expr)}")
    to_plain(result)
    assert values_equal(to_plain(result), to_plain(result))
