"""Numbers, booleans, nulls, control flow and timestamps: weave/legacy/tests/test_basic_ops.py,
test_arrow_vectorizer.py, test_arrow.py, test_mappability.py, test_number_bin.py,
test_timestamp_bin.py, test_table_ops.py, util/op_specs.py, and weave-js number/boolean/none/
controlFlow tests."""

from __future__ import annotations

from .corpus import WEAVE_JS, WEAVE_PY, Case, ms, ts

CASES: list[Case] = []


def add(id: str, source: str, expr: str, expected: object, **kw: object) -> None:
    CASES.append(Case(id, source, expr, expected, **kw))  # type: ignore[arg-type]


# --- test_basic_ops.py::test_number_ops (const node 9) -------------------------------------
src = WEAVE_PY + "test_basic_ops.py::test_number_ops"
for i, (expr, exp) in enumerate(
    [
        ("9 + 3", 12), ("9 - 3", 6), ("9 * 3", 27), ("9 / 2", 4.5), ("9 % 3", 0), ("9 ** 2", 81),
        ("9 == 8", False), ("9 == 9", True), ("9 != 8", True), ("9 != 9", False),
        ("9 > 8", True), ("9 > 9", False), ("9 < 10", True), ("9 < 9", False),
        ("9 >= 8", True), ("9 >= 9", True), ("9 <= 10", True), ("9 <= 9", True),
        ("-x", -9), ("x.pow(2)", 81), ("x.toString", "9"),
        ("3.14.floor", 3), ("3.14.ceil", 4),
        ("[1, 2, 3].sum", 6), ("[1, 2, 3].avg", 2), ("[1, 2, 3].min", 1), ("[1, 2, 3].max", 3),
    ]
):
    add(f"basic_number_{i:02d}", src, expr, exp, vars={"x": 9})

src = WEAVE_PY + "test_basic_ops.py::test_null_consuming_numbers_ops"
for data, tag, exps in [
    ([1, None, 2], "mixed", {"sum": 3, "avg": 1.5, "min": 1, "max": 2}),
    ([None, None, None], "allnull", {"sum": None, "avg": None, "min": None, "max": None}),
    ([], "empty", {"sum": None, "avg": None, "min": None, "max": None}),
]:
    for op, exp in exps.items():
        add(f"null_consuming_{op}_{tag}", src, f"x.{op}", exp, vars={"x": data})
src = WEAVE_PY + "test_basic_ops.py::test_null_vararg_ops"
add("null_vararg_dict", src, "{index: null, id: null}", {"index": None, "id": None})
add("null_vararg_list", src, "[null, null]", [None, None])

# --- util/op_specs.py ----------------------------------------------------------------------
S = WEAVE_PY + "util/op_specs.py::"
for name, op, cases in [
    ("number_add", "+", [(1, 2, 3), (-1, 2, 1)]),
    ("number_mul", "*", [(1, 2, 2), (-1, 2, -2)]),
    ("number_sub", "-", [(1, 2, -1), (2, 1, 1), (-1, 2, -3), (2, -1, 3)]),
]:
    for i, (a, b, exp) in enumerate(cases):
        add(f"opspec_{name}_{i}", S + name, f"a {op} b", exp, vars={"a": a, "b": b})
for name, op, cases in [
    ("numbers_max", "max", [([-10, -99, -100], -10), ([0, 1, 3], 3)]),
    ("numbers_min", "min", [([-10, -99, -100], -100), ([0, 1, 3], 0)]),
    ("numbers_avg", "avg", [([-10, -100], -55.0), ([1, 3], 2.0)]),
    ("numbers_sum", "sum", [([-10, -99, -100], -209), ([0, 1, 3], 4)]),
]:
    for i, (data, exp) in enumerate(cases):
        add(f"opspec_{name}_{i}", S + name, f"x.{op}", exp, vars={"x": data})
for name, cases in [
    ("number_equal", [(1, 1, True), (1, 2, False), (1, None, False), (None, None, True), (None, 1, False)]),
    (
        "boolean_equal",
        [(True, True, True), (True, False, False), (True, None, False), (None, None, True), (None, True, False)],
    ),
]:
    for i, (a, b, exp) in enumerate(cases):
        add(f"opspec_{name}_{i}", S + name, "a == b", exp, vars={"a": a, "b": b})
for i, (v, exp) in enumerate(
    [
        (1677098489000, ms(1677098489000)),
        (0, ms(0)),
        (-1677098489000, ms(-1677098489000)),
        (1000, ms(1000)),
        (1677098489215.025, ms(1677098489215)),  # fractional milliseconds dropped
    ]
):
    add(f"opspec_number_to_timestamp_{i}", S + "number_to_timestamp", "x.toTimestamp", exp, vars={"x": v})

# --- test_arrow_vectorizer.py: vectorized number ops ----------------------------------------
T = {"t": [{"x": 1.0}, {"x": 2.0}, {"x": 3.0}]}
TN = {"t": [{"x": 1.0}, {"x": None}, {"x": 3.0}]}
for name, body, exp, exp_null in [
    ("add", 'row["x"] + 2', [3.0, 4.0, 5.0], [3.0, None, 5.0]),
    ("add-vec", 'row["x"] + row["x"]', [2.0, 4.0, 6.0], [2.0, None, 6.0]),
    ("subtract", 'row["x"] - 1', [0.0, 1.0, 2.0], [0.0, None, 2.0]),
    ("multiply", 'row["x"] * 2', [2.0, 4.0, 6.0], [2.0, None, 6.0]),
    ("divide", 'row["x"] / 2', [0.5, 1.0, 1.5], [0.5, None, 1.5]),
    ("pow", 'row["x"] ** 2', [1.0, 4.0, 9.0], [1.0, None, 9.0]),
    ("ne", 'row["x"] != 2', [True, False, True], [True, True, True]),
    ("eq", 'row["x"] == 2', [False, True, False], [False, False, False]),
    ("gt", 'row["x"] > 2', [False, False, True], [False, None, True]),
    ("lt", 'row["x"] < 2', [True, False, False], [True, None, False]),
    ("ge", 'row["x"] >= 2', [False, True, True], [False, None, True]),
    ("le", 'row["x"] <= 2', [True, True, False], [True, None, False]),
    ("neg", '-row["x"]', [-1.0, -2.0, -3.0], [-1.0, None, -3.0]),
    ("toString", 'row["x"].toString', ["1", "2", "3"], ["1", None, "3"]),
]:
    add(
        f"vec_number_{name}",
        WEAVE_PY + f"test_arrow_vectorizer.py::test_arrow_vectorizer_number_ops[{name}]",
        f'table("t").rows.map(row => {body})',
        exp,
        tables=T,
    )
    add(
        f"vec_number_nullable_{name}",
        WEAVE_PY + f"test_arrow_vectorizer.py::test_arrow_vectorizer_nullable_number_ops[{name}]",
        f'table("t").rows.map(row => {body})',
        exp_null,
        tables=TN,
    )
for name, body, exp in [("floor", 'row["x"].floor', [1.0, 2.0, 3.0]), ("ceil", 'row["x"].ceil', [2.0, 3.0, 4.0])]:
    add(
        f"vec_number_{name}",
        WEAVE_PY + f"test_arrow_vectorizer.py::test_arrow_floor_ceil_vectorized[{name}]",
        f'table("t").rows.map(row => {body})',
        exp,
        tables={"t": [{"x": 1.1}, {"x": 2.5}, {"x": 3.9}]},
    )
TB = {"t": [{"x": False}, {"x": None}, {"x": True}]}
for name, body, exp in [
    ("bool-and-scalar", 'row["x"] && true', [False, None, True]),
    ("bool-or-scalar", 'row["x"] || true', [True, None, True]),
    ("bool-not", '!row["x"]', [True, None, False]),
]:
    add(
        f"vec_{name}",
        WEAVE_PY + f"test_arrow_vectorizer.py::test_vectorized_bool_ops[{name}]",
        f'table("t").rows.map(row => {body})',
        exp,
        tables=TB,
    )
T5 = {"t": [{"x": i} for i in [1, 2, 3, 4, 5]]}
add(
    "vec_right_equals",
    WEAVE_PY + "test_arrow_vectorizer.py::test_right_equals_not_equals_elements_tagged[eq]",
    'table("t").rows.map(row => 5 == row["x"])',
    [False, False, False, False, True],
    tables=T5,
)
add(
    "vec_right_not_equals",
    WEAVE_PY + "test_arrow_vectorizer.py::test_right_equals_not_equals_elements_tagged[ne]",
    'table("t").rows.map(row => 5 != row["x"])',
    [True, True, True, True, False],
    tables=T5,
)
src = WEAVE_PY + "test_arrow_vectorizer.py::test_boxed_null_in_array_equal"
TBN = {"t": [{"x": 1}, {"x": None}, {"x": 3}]}
add("vec_equal_boxed_null", src, 'table("t").rows.map(row => row["x"] == null)', [False, True, False], tables=TBN)
add("vec_not_equal_boxed_null", src, 'table("t").rows.map(row => row["x"] != null)', [True, False, True], tables=TBN)
add(
    "vec_isnone_mixed",
    WEAVE_PY + "test_arrow_vectorizer.py::test_isnone",
    "x.map(v => v.isNone)",
    [False, True, False, False, False, False],
    vars={"x": [1, None, False, 0, "", "a"]},
)
add(
    "vec_date_add_one_day",
    WEAVE_PY + "test_arrow_vectorizer.py::test_date_add (datetime_add(row, timedelta(days=1)); fixed instant)",
    'table("t").rows.map(row => row["t"] + 86400000)',
    [ts(2024, 5, 2, 12, 0, 0), ts(2024, 5, 3, 12, 0, 0)],
    tables={"t": [{"t": ts(2024, 5, 1, 12, 0, 0)}, {"t": ts(2024, 5, 2, 12, 0, 0)}]},
)
add(
    "vec_date_sub",
    WEAVE_PY + "test_arrow_vectorizer.py::test_date_sub (datetime_sub(row, dt); fixed instant)",
    'table("t").rows.map(row => row["t"] - Date("2024-05-01T12:00:00Z"))',
    [__import__("datetime").timedelta(0), __import__("datetime").timedelta(days=1)],
    tables={"t": [{"t": ts(2024, 5, 1, 12, 0, 0)}, {"t": ts(2024, 5, 2, 12, 0, 0)}]},
)

# --- test_arrow.py numeric reducers ---------------------------------------------------------
A = WEAVE_PY + "test_arrow.py::"
add("arrow_abs", A + "test_abs", 'table("t").rows["x"].abs', [10, 2.2, 5, None, 3.3],
    tables={"t": [{"x": v} for v in [-10, -2.2, 5, None, 3.3]]})
DATA = [10, 20, None, 30, 40, None, 30, 20, None, 10]
add("arrow_argmax", A + "test_argmax", 'table("t").rows["x"].argmax', 4, tables={"t": [{"x": v} for v in DATA]})
DATA2 = [10, 20, None, 30, 40, None, 0, 20, None, 10]
add("arrow_argmin", A + "test_argmin", 'table("t").rows["x"].argmin', 6, tables={"t": [{"x": v} for v in DATA2]})
add("arrow_stddev", A + "test_stddev (round(..., 3))", 'table("t").rows["x"].stddev', 12.454,
    tables={"t": [{"x": v} for v in DATA2]}, tol=5e-4)

# --- test_mappability.py --------------------------------------------------------------------
M = WEAVE_PY + "test_mappability.py::"
add("map_basic_add", M + "test_basic_mapping", "[1, 2, 3] + 1", [2, 3, 4])
add("map_basic_sub", M + "test_basic_mapping", "[1, 2, 3] - 1", [0, 1, 2])
add("map_basic_string_add", M + "test_basic_mapping", '["1", "2", "3"] + "1"', ["11", "21", "31"])
add("map_basic_upper", M + "test_basic_mapping", '["a", "b", "c"].upper', ["A", "B", "C"])
add("map_nullable_add_one", M + "test_mapped_nullable_use", "[1, null, 3] + 1", [2, None, 4])
add("map_empty", M + "test_mapped_empty_use", "x + 1", [], vars={"x": []})
add("map_maybe_list", M + "test_mapped_maybe_list", "[3, null, 4, null, 5] + 1", [4, None, 5, None, 6])
add("map_index_pick", M + "test_pick_index_challenge", '[{a: 1}][0]["a"]', 1)
add("map_pick_index", M + "test_pick_index_challenge", '[{a: 1}]["a"][0]', 1)
add("map_maybe_pick", M + "test_mapped_maybe_pick", 'x["a"]', [3, None, 4, None, 5],
    vars={"x": [{"a": 3}, None, {"a": 4}, None, {"a": 5}]})

# --- bins ------------------------------------------------------------------------------------
add(
    "number_bin_vector",
    WEAVE_PY + "test_number_bin.py::test_number_bin_vector",
    'table("t").rows.map(row => row["x"].bin(binsfixed(2)))',
    [{"start": 0.0, "stop": 2.0}, {"start": 2.0, "stop": 4.0}, {"start": 2.0, "stop": 4.0},
     {"start": 4.0, "stop": 6.0}, {"start": 4.0, "stop": 6.0}],
    tables={"t": [{"x": v} for v in [1, 2, 3, 4, 5]]},
)
TB_SRC = WEAVE_PY + "test_timestamp_bin.py::"
add(
    "timestamp_bins_fixed",
    TB_SRC + "test_timestamp_bins_fixed (timestamp_bins_fixed(60 s) as binsfixed(60000 ms))",
    'Date("2020-01-01T08:30:01Z").bin(binsfixed(60000))',
    {"start": ts(2020, 1, 1, 8, 30, 0), "stop": ts(2020, 1, 1, 8, 31, 0)},
)
NICE = 'timestampBinsNice([Date("2020-01-01T08:30:01Z"), Date("2020-01-01T12:30:00Z")], 100)'
add(
    "timestamp_bins_nice_scalar",
    TB_SRC + "test_timestamp_bin",
    f'Date("2020-01-01T08:45:13Z").bin({NICE})',
    {"start": ts(2020, 1, 1, 8, 45, 0), "stop": ts(2020, 1, 1, 8, 46, 0)},
)
TTS = {"t": [{"t": ts(2020, 1, 1, 8, 45, 13)}, {"t": ts(2020, 1, 1, 8, 46, 43)}]}
BINS2 = [
    {"start": ts(2020, 1, 1, 8, 45, 0), "stop": ts(2020, 1, 1, 8, 46, 0)},
    {"start": ts(2020, 1, 1, 8, 46, 0), "stop": ts(2020, 1, 1, 8, 47, 0)},
]
add("timestamp_bin_vector", TB_SRC + "test_timestamp_bin_vector", f'table("t").rows["t"].bin({NICE})', BINS2, tables=TTS)
add("timestamp_bin_vector_mapped", TB_SRC + "test_timestamp_bin_vector (map)",
    f'table("t").rows.map(row => row["t"].bin({NICE}))', BINS2, tables=TTS)

# --- timestamps in test_arrow.py / test_table_ops.py ----------------------------------------
MSV = [1577934246000.0, 1577934245000.0]
add("arrow_timestamp_conversion", A + "test_arrow_timestamp_conversion[ArrowNode]",
    'table("t").rows["x"].toTimestamp', [ms(v) for v in MSV], tables={"t": [{"x": v} for v in MSV]})
add("arrow_optional_toTimestamp", A + "test_arrow_op_decorator_handles_optional_tagged_type",
    'table("t").rows["x"].toTimestamp', [None, ms(1), ms(2), None],
    tables={"t": [{"x": v} for v in [None, 1, 2, None]]})
T0 = 1700000000000
SORTTS = {"t": [{"x": T0 + i} for i in range(10)]}
add("sort_timestamp_asc", WEAVE_PY + "test_table_ops.py::test_sort_timestamp (fixed start time)",
    'table("t").rows["x"].toTimestamp.sort(ts => [ts], ["asc"])[0]', ms(T0), tables=SORTTS)
add("sort_timestamp_desc", WEAVE_PY + "test_table_ops.py::test_sort_timestamp (fixed start time)",
    'table("t").rows["x"].toTimestamp.sort(ts => [ts], ["asc"]).sort(ts => [ts], ["desc"])[0]',
    ms(T0 + 9), tables=SORTTS)

# --- weave-js number / boolean / none / controlFlow -----------------------------------------
J = WEAVE_JS
add("js_floor_single", J + "number.test.ts::floor handles single number", "3.14.floor", 3)
add("js_floor_null", J + "number.test.ts::floor handles null", "x.floor", None, vars={"x": None})
add("js_floor_list", J + "number.test.ts::floor handles list of numbers", "[2.72, 3.14].floor", [2, 3])
add("js_floor_list_null", J + "number.test.ts::floor handles list of numbers containing null",
    "[2.72, null, 3.14].floor", [2, None, 3])
add("js_not_true", J + "boolean.test.ts::test opNot - simple", "!true", False)
add("js_not_false", J + "boolean.test.ts::test opNot - simple", "!false", True)
add("js_not_null", J + "boolean.test.ts::test opNot - simple", "!null", None)
add("js_if_true", J + "boolean.test.ts::test if true", "true ? 1 : 2", 1)
add("js_if_false", J + "boolean.test.ts::test if false", "false ? 1 : 2", 2)
add("js_if_union", J + "boolean.test.ts::test if union output type", 'false ? "a" : 2', 2)
add("js_opIf_true", J + "controlFlow.test.ts::test opIf - simple true", 'true ? 1 : "2"', 1)
add("js_opIf_false", J + "controlFlow.test.ts::test opIf - simple false", 'false ? 1 : "2"', "2")
add("js_opIf_null", J + "controlFlow.test.ts::test opIf - null", 'null ? 1 : "2"', "2")
for i, (expr, exp) in enumerate(
    [("null.isNone", True), ("1.isNone", False), ("0.isNone", False), ('"".isNone', False), ("false.isNone", False)]
):
    add(f"js_isNone_{i}", J + "none.test.ts::opIsNone", expr, exp)
