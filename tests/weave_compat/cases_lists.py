"""Lists, dicts, groupby, concat, joins, sampling: weave/legacy/tests/test_list_arrow_compat.py,
test_arrow.py, test_arrow_vectorizer.py, test_list_indexing.py, test_nullability.py,
test_table_ops.py, test_arrow_concat.py, util/op_specs.py, weave-js list/typedDict tests, and
the pick-path rules of weave/legacy/weave/ops_primitives/_dict_utils.py."""

from __future__ import annotations

from .corpus import WEAVE_JS, WEAVE_PY, Case

CASES: list[Case] = []


def add(id: str, source: str, expr: str, expected: object, **kw: object) -> None:
    CASES.append(Case(id, source, expr, expected, **kw))  # type: ignore[arg-type]


L = WEAVE_PY + "test_list_arrow_compat.py::"
# test_list_arrow_compatibility: each case runs on a plain list and on an Arrow list.
compat = [
    ("map_add", [1, 2, 3, 4], "map(row => row + 1)", [2, 3, 4, 5]),
    ("map_list", [1, 2, 3, 4], "map(row => [row + 1, row * -1])", [[2, -1], [3, -2], [4, -3], [5, -4]]),
    ("map_dict", [1, 2, 3, 4], "map(row => {a: row + 1, b: row * -1})",
     [{"a": 2, "b": -1}, {"a": 3, "b": -2}, {"a": 4, "b": -3}, {"a": 5, "b": -4}]),
    ("filter_lt3", [1, 2, 3, 4], "filter(row => row < 3)", [1, 2]),
    ("filter_lt3_nulls", [1, None, 2, None, 3, None, 4], "filter(row => row < 3)", [1, 2]),
    ("filter_none", [1, 2, 3, 4], "filter(row => row < -3)", []),
    ("sort_neg_asc", [1, 2, 3, 4], 'sort(row => [row * -1], ["asc"])', [4, 3, 2, 1]),
    ("sort_neg_desc", [1, 2, 3, 4], 'sort(row => [row * -1], ["desc"])', [1, 2, 3, 4]),
    ("sort_two_asc_asc", [1, 2, 3, 4], 'sort(row => [row * 0, row * -2], ["asc", "asc"])', [4, 3, 2, 1]),
    ("sort_two_asc_desc", [1, 2, 3, 4], 'sort(row => [row * 0, row * -2], ["asc", "desc"])', [1, 2, 3, 4]),
    ("sort_null_asc_desc", [1, 2, 3, 4, None],
     'sort(row => [row != null ? row * 0 : null, row != null ? row * -2 : null], ["asc", "desc"])',
     [None, 1, 2, 3, 4]),
    ("sort_null_asc_asc", [1, 2, 3, 4, None],
     'sort(row => [row != null ? row * 0 : null, row != null ? row * -2 : null], ["asc", "asc"])',
     [None, 4, 3, 2, 1]),
    ("sort_null_desc_asc", [1, 2, 3, 4, None],
     'sort(row => [row != null ? row * 0 : null, row != null ? row * -2 : null], ["desc", "asc"])',
     [4, 3, 2, 1, None]),
    ("sort_const_then_row", [1, 2, 3, 4, None], 'sort(row => ["a", row], ["asc", "asc"])', [None, 1, 2, 3, 4]),
    ("sort_pairs_with_null", [[None, 1], [None, 2], [None, 3]], 'sort(row => [row[0], row[1]], ["asc", "asc"])',
     [[None, 1], [None, 2], [None, 3]]),
    ("sort_dict_key_desc", [{"a": 1}, {"a": 2}, {"a": 3}, {"a": None}], 'sort(row => [row["a"]], ["desc"])',
     [{"a": 3}, {"a": 2}, {"a": 1}, {"a": None}]),
]
for name, data, call, exp in compat:
    add(f"compat_{name}_list", L + f"test_list_arrow_compatibility[{name}] (list)", f"x.{call}", exp, vars={"x": data})
    add(f"compat_{name}_arrow", L + f"test_list_arrow_compatibility[{name}] (arrow)",
        f'table("t").rows["x"].{call}', exp, tables={"t": [{"x": v} for v in data]})
add("compat_sort_mixed_types", L + "test_list_arrow_compatibility[sort mixed]",
    'x.sort(row => [row], ["asc"])', [None, 1, 2.0, "a", {"a": 1}], vars={"x": [1, "a", None, 2.0, {"a": 1}]})
add("compat_sort_by_dict_arrow", L + "test_list_arrow_fn_results_maybe_incompatible (arrow_res)",
    'x.sort(row => [row], ["asc"])', [{"a": None}, {"a": 1}, {"a": 2}, {"a": 3}],
    vars={"x": [{"a": 1}, {"a": 2}, {"a": 3}, {"a": None}]})

J1 = [{"id": "1.0"}, {"id": "1.a", "val": 1}, {"id": "1.b", "val": 1}, {"id": "1.c", "val": 2},
      {"id": "1.d", "val": 2}, {"id": "1.e", "val": 3}]
J2 = [{"id": "2.0"}, {"id": "2.f", "val": 1}, {"id": "2.g", "val": 1}, {"id": "2.h", "val": 3},
      {"id": "2.i", "val": 3}, {"id": "2.j", "val": 5}]
J1F = [dict({"val": None}, **r) for r in J1]
J2F = [dict({"val": None}, **r) for r in J2]
JT = {"a": J1F, "b": J2F}
inner = [("1.a", "2.f"), ("1.a", "2.g"), ("1.b", "2.f"), ("1.b", "2.g"), ("1.e", "2.i"), ("1.e", "2.h")]
add("join_all_inner", L + "test_join_all[ArrowNode] (inner)",
    '[table("a").rows, null, table("b").rows].joinAll(row => row["val"], false)',
    [{"val": [(int(a[-1] in "ab") and 1) or 3] * 2, "id": [a, b]} for a, b in inner], tables=JT, check="unordered")
add("join_all_outer", L + "test_join_all[ArrowNode] (outer)",
    '[table("a").rows, null, table("b").rows].joinAll(row => row["val"], true)',
    [{"val": [1, 1], "id": [a, b]} for a, b in inner[:4]]
    + [{"val": [2, None], "id": ["1.c", None]}, {"val": [2, None], "id": ["1.d", None]},
       {"val": [3, 3], "id": ["1.e", "2.h"]}, {"val": [3, 3], "id": ["1.e", "2.i"]},
       {"val": [None, 5], "id": [None, "2.j"]}],
    tables=JT, check="unordered")


def _r(i: str, v: int) -> dict:
    return {"id": i, "val": v}


pairs_inner = [({"id": a, "val": 1 if a[-1] in "ab" else 3}, {"id": b, "val": 1 if b[-1] in "fg" else 3})
               for a, b in inner]
inner_rows = [{"a0": a, "a1": b} for a, b in pairs_inner]
left_extra = [{"a0": _r("1.c", 2), "a1": None}, {"a0": _r("1.d", 2), "a1": None}]
right_extra = [{"a0": None, "a1": _r("2.j", 5)}]
for name, lo, ro, exp in [
    ("inner", "false", "false", inner_rows),
    ("left_outer", "true", "false", inner_rows + left_extra),
    ("right_outer", "false", "true", inner_rows + right_extra),
    ("full_outer", "true", "true", inner_rows + left_extra + right_extra),
]:
    add(f"join2_{name}", L + f"test_join_2[ArrowNode] ({name})",
        f'table("a").rows.join(table("b").rows, row => row["val"], row => row["val"], "a0", "a1", {lo}, {ro})',
        exp, tables=JT, check="unordered")
add("join_to_str_list", L + "test_join_to_str (list)", '["1", null, "2", null, "3"].joinToStr(",")', "1,,2,,3")
add("join_to_str_arrow", L + "test_join_to_str (arrow, mapped)", 'x.joinToStr(",")', ["1,,2,,3", "1,,2,,3"],
    vars={"x": [["1", None, "2", None, "3"]] * 2})
TEN = list(range(1, 11))
for kind, head, kw in [("list", "x", {"vars": {"x": TEN}}),
                       ("arrow", 'table("t").rows["x"]', {"tables": {"t": [{"x": v} for v in TEN]}})]:
    add(f"sample_5_{kind}", L + f"test_sample[{kind}]", f"{head}.randomlyDownsample(5)",
        {"n": 5, "population": TEN}, check="sample", **kw)
    add(f"sample_10_{kind}", L + f"test_sample_10[{kind}]", f"{head}.randomlyDownsample(10)", TEN, **kw)
    add(f"sample_bad_{kind}", L + f"test_sample_bad[{kind}]", f"{head}.randomlyDownsample(-1)",
        "ValueError: n must be non-negative", check="raises", **kw)
add("sample_zero_empty", L + "test_sample_length_zero_list", "x.randomlyDownsample(0)", [], vars={"x": []})

LS = WEAVE_JS + "list.test.ts::"
add("js_sample_5", LS + "sample op returns n distinct sorted elements", "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].randomlyDownsample(5)",
    {"n": 5, "population": TEN}, check="sample")
add("js_sample_all", LS + "sample op returns the original array if n >= array.length",
    "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].randomlyDownsample(10)", TEN)
add("js_sample_negative", LS + "sample op throws an error for invalid input",
    "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].randomlyDownsample(-1)", "Invalid input: n must be a non-negative integer.",
    check="raises")
add("js_sample_zero", LS + "sample op handles 0 sample size", "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].randomlyDownsample(0)", [])
add("js_sample_empty", LS + "sample op handles length 0 list", "x.randomlyDownsample(5)", [], vars={"x": []})
add("js_join_all_simple", LS + "test opJoinAll - simple",
    '[[{col_a: 0, col_b: "hello_0"}, {col_a: 1, col_b: "world_0"}], [{col_a: 0, col_b: "hello_1"}, {col_a: 2, col_b: "world_1"}]]'
    '.joinAll(row => row["col_a"], false)',
    [{"col_a": [0, 0], "col_b": ["hello_0", "hello_1"]}])
add("js_join_all_complex", LS + "test opJoinAll - complex",
    '[[{col_a: 0, col_b: {col_c: "hello_0"}}, {col_a: 1, col_b: null}], [{col_a: 0, col_b: null}, {col_a: 2, col_b: null}]]'
    '.joinAll(row => row["col_a"], false)',
    [{"col_a": [0, 0], "col_b": [{"col_c": "hello_0"}, None]}])

S = WEAVE_PY + "util/op_specs.py::"
for i, (data, idx, exp) in enumerate([([1, 2, 3], 0, 1), ([1, 2, 3], 2, 3), ([-5, -6], 2, None), ([], 0, None)]):
    add(f"opspec_index_{i}", S + "index", f"x[{idx}]", exp, vars={"x": data})
add("opspec_join_all_0", S + "join_all", "x.joinAll(row => row[\"a\"], false)",
    [{"a": [5, 5], "b": [6, 8]}], vars={"x": [[{"a": 5, "b": 6}, {"a": 7, "b": 9}], [{"a": 5, "b": 8}]]})
add("opspec_join_all_1", S + "join_all (union of int and dict)", "x.joinAll(row => row[\"a\"], false)",
    [{"a": [5, 5], "b": [6, {"j": 12, "k": 13}]}],
    vars={"x": [[{"a": 5, "b": 6}, {"a": 7, "b": 9}], [{"a": 5, "b": {"j": 12, "k": 13}}]]})
for i, (data, exp) in enumerate([([1, 2, 3], [1, 2, 3]), ([1, None, 3], [1, 3]), ([None, None, None], [])]):
    add(f"opspec_dropna_{i}", S + "dropna", "x.dropna", exp, vars={"x": data})

IDX = WEAVE_PY + "test_list_indexing.py::"
ABC = {"t": [{"x": v} for v in "abc"]}
add("index_simple_list", IDX + "test_index_simple[list]", '["a", "b", "c"][0]', "a")
add("index_simple_arrow", IDX + "test_index_simple[arrow]", 'table("t").rows["x"][0]', "a", tables=ABC)
add("index_negative_list", IDX + "test_index_negative[list]", '["a", "b", "c"][-1]', "c")
add("index_negative_arrow", IDX + "test_index_negative[arrow]", 'table("t").rows["x"][-1]', "c", tables=ABC)
add("index_list_list", IDX + "test_index_list[list]", '["a", "b", "c"][[0, 2]]', ["a", "c"])
add("index_list_arrow", IDX + "test_index_arrowlist[arrow]", 'table("t").rows["x"][[0, 2]]', ["a", "c"], tables=ABC)
add("index_listawl_oob", IDX + "test_index_listawl_oob", "[[0, 1], [2, 3]][2]", None)

N = WEAVE_PY + "test_nullability.py::test_nullability_in_execution"
add("nullability_base", N + "[base]", 'x["a"]', 42, vars={"x": {"a": 42}})
add("nullability_maybe", N + "[maybe]", 'x[0]["a"]', 42, vars={"x": [{"a": 42}, None]})
add("nullability_list_of_maybe", N + "[list of maybe]", 'x["a"]', [42, None], vars={"x": [{"a": 42}, None]})
add("nullability_maybe_list_of_maybe", N + "[maybe list of maybe]", 'x[0]["a"]', [42, None],
    vars={"x": [[{"a": 42}, None], None]})

V = WEAVE_PY + "test_arrow_vectorizer.py::"
MERGE_L = [{"b": "c"}, None, {"b": "q"}]
for name, right, exp in [
    ("merge", [{"c": 4}, {"c": 5}, {"c": 6}], [{"b": "c", "c": 4}, None, {"b": "q", "c": 6}]),
    ("merge-overwrite", [{"b": "g"}, {"b": "q"}, {"b": "a"}], [{"b": "g"}, None, {"b": "a"}]),
    ("merge-dicts", [{"c": {"a": 2}}, {"c": {"a": 3}}, {"c": {"a": 4}}],
     [{"b": "c", "c": {"a": 2}}, None, {"b": "q", "c": {"a": 4}}]),
]:
    add(f"vec_nullable_{name}", V + f"test_arrow_typeddict_nullable_merge[{name}]",
        'table("t").rows.map(row => row["x"].merge(row["y"]))', exp,
        tables={"t": [{"x": a, "y": b} for a, b in zip(MERGE_L, right)]})
MERGE_L2 = [{"b": "c"}, {"b": "G"}, {"b": "q"}]
for name, right, exp in [
    ("merge", [{"c": 4}, {"c": 5}, {"c": 6}], [{"b": "c", "c": 4}, {"b": "G", "c": 5}, {"b": "q", "c": 6}]),
    ("merge-overwrite", [{"b": "g"}, {"b": "q"}, {"b": "a"}], [{"b": "g"}, {"b": "q"}, {"b": "a"}]),
    ("merge-dicts", [{"c": {"a": 2}}, {"c": {"a": 3}}, {"c": {"a": 4}}],
     [{"b": "c", "c": {"a": 2}}, {"b": "G", "c": {"a": 3}}, {"b": "q", "c": {"a": 4}}]),
]:
    add(f"vec_{name}", V + f"test_arrow_typeddict_merge[{name}]",
        'table("t").rows.map(row => row["x"].merge(row["y"]))', exp,
        tables={"t": [{"x": a, "y": b} for a, b in zip(MERGE_L2, right)]})
add("vec_nested_merge_is_shallow", V + "test_arrow_typeddict_nested_merge_tagged",
    'table("t").rows.map(row => row["x"].merge(row["y"]))', [{"a": {"b": 2}}, {"a": {"b": 4}}, {"a": {"b": 6}}],
    tables={"t": [{"x": {"a": {"c": i}}, "y": {"a": {"b": 2 * i}}} for i in (1, 2, 3)]})
add("vec_merge_scalar_vec", V + "test_arrow_typeddict_nullable_scalar_vector_merge[merge-scalar-vec]",
    'table("t").rows.map(row => {c: 4}.merge(row["x"]))', [{"b": "c", "c": 4}, {"b": "q", "c": 4}],
    tables={"t": [{"x": {"b": "c"}}, {"x": {"b": "q"}}]})
add("vec_merge_vec_scalar", V + "test_arrow_typeddict_nullable_scalar_vector_merge[merge-vec-scalar]",
    'table("t").rows.map(row => row["x"].merge({c: 4}))', [{"b": "c", "c": 4}, None, {"b": "q", "c": 4}],
    tables={"t": [{"x": {"b": "c"}}, {"x": None}, {"x": {"b": "q"}}]})
for name, data, body, exp in [
    ("pick", [{"a": 1.0, "b": "c"}, {"a": 2.0, "b": "G"}, {"a": 3.0, "b": "q"}], 'row["a"]', [1.0, 2.0, 3.0]),
    ("pick-nested", [{"a": {"b": 1.0}, "c": "d"}, {"a": {"b": 2.0}, "c": "G"}, {"a": {"b": 3.0}, "c": "q"}],
     'row["a"]["b"]', [1.0, 2.0, 3.0]),
    ("pick-nullable", [None, {"a": 2.0, "b": "G"}, {"a": 3.0, "b": "q"}], 'row["a"]', [None, 2.0, 3.0]),
    ("pick-nested-nullable", [{"a": None, "c": "d"}, {"a": {"b": 2.0}, "c": "G"}, {"a": {"b": 3.0}, "c": "q"}],
     'row["a"]["b"]', [None, 2.0, 3.0]),
]:
    add(f"vec_{name}", V + f"test_arrow_typeddict_pick[{name}]", f"x.map(row => {body})", exp, vars={"x": data})
add("vec_dict", V + "test_arrow_dict", 'table("t").rows.map(row => {a: row["a"], b: row["b"]})',
    [{"a": 1, "b": "a"}, {"a": 2, "b": "b"}, {"a": 3, "b": "c"}],
    tables={"t": [{"a": 1, "b": "a"}, {"a": 2, "b": "b"}, {"a": 3, "b": "c"}]})
add("vec_inner_lambdas", V + "test_vectorize_inner_lambdas", 'table("t").rows.map(row => row["x"].map(v => v + 1))',
    [[2, 3, 4], [5, 6, 7], [8, 9, 10]], tables={"t": [{"x": [1, 2, 3]}, {"x": [4, 5, 6]}, {"x": [7, 8, 9]}]})
add("vec_index_simple", V + "test_vectorize_index_simple", 'table("t").rows.map(row => row["x"][0])', [1, 4, 7],
    tables={"t": [{"x": [1, 2, 3]}, {"x": [4, 5, 6]}, {"x": [7, 8, 9]}]})
add("vec_index_oob", V + "test_vectorize_index_out_of_bounds", 'table("t").rows.map(row => row["x"][2])',
    [3, None, 6, None, 9], tables={"t": [{"x": v} for v in [[1, 2, 3], [1, 2], [4, 5, 6], [], [7, 8, 9]]]})
add("vec_index_nested", V + "test_vectorize_index_nested", 'table("t").rows.map(row => row["x"][0][0])', [1, 4, 7],
    tables={"t": [{"x": [[1, 2, 3]]}, {"x": [[4, 5, 6]]}, {"x": [[7, 8, 9]]}]})
add("vec_index_dependent", V + "test_vectorize_index_dependent", 'table("t").rows.map(row => row["x"][row["x"][0]])',
    [1, 5, 9], tables={"t": [{"x": [1, 1, 2, 3]}, {"x": [2, 4, 5, 6]}, {"x": [3, 7, 8, 9]}]})
add("vec_special_pick", V + "test_vectorize_special_pick",
    'table("t").rows.map(row => {a: 1, b: 2, c: 3, d: 4}[row["x"]])', [1, None, 2, None, 3],
    tables={"t": [{"x": v} for v in ["a", None, "b", None, "c"]]})
add("vec_list_max_inner", V + "test_listnumbersmax_with_tagged_inner_elements",
    'x.map(row => row["TMax"].max)', [3, 4, 6],
    vars={"x": [[{"TMax": e} for e in r] for r in [[1, None, 3], [4, -1, 3], [4, 5, 6]]]})
LA = {1: [[1, 2, 3], [4, 5, 6], [7, 8, 9]], 2: [[1, 2, 3], [4, 5, 6], [7, 8, 9]], 3: [[1, 2], [4, 5, 6], [7, 8, 9]],
      4: [[1, 2, 3], None, [7, 8, 9]], 5: [[1, 2], None, [7, 8, 9]], 6: [[1, 2, 3], [None, 5, 6], [7, 8, 9]],
      7: [[1, 2], [None, 5, 6], [7, 8, 9]]}
for a, b, exp in [(1, 2, [True, True, True]), (1, 3, [False, True, True]), (4, 2, [True, False, True]),
                  (4, 5, [False, True, True]), (6, 2, [True, False, True]), (6, 7, [False, True, True])]:
    add(f"vec_list_equal_l{a}_l{b}", V + "test_list_numbers_equal_notequal",
        'table("t").rows.map(row => row["a"] == row["b"])', exp,
        tables={"t": [{"a": x, "b": y} for x, y in zip(LA[a], LA[b])]})

A = WEAVE_PY + "test_arrow.py::"
add("arrow_group_key", A + "test_group_key", "[1, 2, 3].groupby(row => row + 1)[0].groupkey", 2)
add("arrow_map_array", A + "test_map_array", "[1, 2, 3].map(i => i + 1)", [2, 3, 4])
add("arrow_map_typeddict", A + "test_map_typeddict", 'table("t").rows.map(row => row["a"])', [1, 3],
    tables={"t": [{"a": 1, "b": 2}, {"a": 3, "b": 5}]})
add("arrow_index_var", A + "test_arrow_index_var", "[1, 2, 3].map((row, index) => row + index)", [1, 3, 5])
add("arrow_filter_nulls", A + "test_arrow_filter_nulls", 'table("t").rows["x"].filter(row => row < 1)', [-1, 0],
    tables={"t": [{"x": v} for v in [-1, 0, 1, None]]})
add("arrow_unnest", A + "test_arrow_unnest", 'table("t").rows.unnest',
    [{"a": a, "b": b} for a, b in [(1, "c"), (2, "c"), (3, "c"), (4, "d"), (5, "d"), (6, "d")]],
    tables={"t": [{"a": [1, 2, 3], "b": "c"}, {"a": [4, 5, 6], "b": "d"}]})
add("arrow_unnest_two_list_cols", A + "test_arrow_unnest_two_list_cols", 'table("t").rows.unnest',
    [{"a": 1, "b": "c", "c": "a"}, {"a": 2, "b": "c", "c": "b"}, {"a": 3, "b": "c", "c": "c"},
     {"a": 4, "b": "d", "c": "d"}, {"a": 5, "b": "d", "c": "e"}, {"a": 6, "b": "d", "c": "f"}],
    tables={"t": [{"a": [1, 2, 3], "b": "c", "c": ["a", "b", "c"]}, {"a": [4, 5, 6], "b": "d", "c": ["d", "e", "f"]}]})
add("arrow_nullable_concat", A + "test_arrow_nullable_concat", "[a, b, null].concat", [1, 2, 3, 4, 2, 3, 4, 5],
    vars={"a": [1, 2, 3, 4], "b": [2, 3, 4, 5]})
add("arrow_groupby_struct_key", A + "test_arrow_weave_list_groupby_struct_type_table",
    'table("t").rows.groupby(row => {d: row["d"]})[0]', [{"d": {"a": 1, "b": 2}, "c": 1}],
    tables={"t": [{"d": {"a": 1, "b": 2}, "c": 1}, {"d": {"a": 3, "b": 4}, "c": 2}]})
add("arrow_concat_multiple_table_types", A + "test_concat_multiple_table_types", '[table("l").rows, table("r").rows].concat',
    [{"prompt": "a", "generation_prompt": None}, {"prompt": None, "generation_prompt": None},
     {"prompt": "b", "generation_prompt": None}, {"prompt": None, "generation_prompt": "a"},
     {"prompt": "d", "generation_prompt": None}, {"prompt": "e", "generation_prompt": "f"}],
    tables={"l": [{"prompt": "a"}, {"prompt": None}, {"prompt": "b"}],
            "r": [{"prompt": None, "generation_prompt": "a"}, {"prompt": "d", "generation_prompt": None},
                  {"prompt": "e", "generation_prompt": "f"}]})
add("arrow_union_int_string", A + "test_arrow_union_int_string", "x", [1, "a", 2], vars={"x": [1, "a", 2]})
add("arrow_union_two_struct_types", A + "test_arrow_union_two_struct_types_as_single_struct_type", "x",
    [{"a": 1, "b": None}, {"b": 2, "a": 1}, {"b": 3, "a": None}], vars={"x": [{"a": 1}, {"b": 2, "a": 1}, {"b": 3}]})
add("arrow_concat_nested_union", A + "test_arrow_concat_nested_union", "[l, r].concat", [{"b": 1}, {"b": "c"}],
    vars={"l": [{"b": 1}], "r": [{"b": "c"}]})
add("arrow_concat_nested_union_optional", A + "test_arrow_concat_nested_union_with_optional_type", "[l, r].concat",
    [{"b": 1, "c": None}, {"b": "c", "c": 3.3}], vars={"l": [{"b": 1}], "r": [{"b": "c", "c": 3.3}]})
for i, (lists, exp) in enumerate([
    ([[]], []),
    ([[{"a": 1, "b": 2}, {"a": 2, "b": 3}], [{"a": 4, "b": 5}, {"a": 6, "b": 7}]],
     [{"a": 1, "b": 2}, {"a": 2, "b": 3}, {"a": 4, "b": 5}, {"a": 6, "b": 7}]),
    ([[{"a": {"c": 1, "d": 2}, "b": {"d": 3, "c": 4}}], [{"b": {"d": 5, "c": 6}, "a": {"c": 7, "d": 8}}]],
     [{"a": {"c": 1, "d": 2}, "b": {"d": 3, "c": 4}}, {"a": {"c": 7, "d": 8}, "b": {"c": 6, "d": 5}}]),
    ([[{"a": [1]}], [{"a": []}], [{"a": None}]], [{"a": [1]}, {"a": []}, {"a": None}]),
    ([[{"a": [{"c": 1, "d": 2}, {"d": 3, "c": 4}]}], [{"a": [{"d": 5, "c": 6}, {"c": 7, "d": 8}]}]],
     [{"a": [{"c": 1, "d": 2}, {"d": 3, "c": 4}]}, {"a": [{"d": 5, "c": 6}, {"c": 7, "d": 8}]}]),
    ([[{"a": 1, "b": 2, "c": 4}, {"a": "a", "b": 3, "c": 5}], [{"a": 4, "b": 5, "c": "c"}, {"a": 6, "b": 7}]],
     [{"a": 1, "b": 2, "c": 4}, {"a": "a", "b": 3, "c": 5}, {"a": 4, "b": 5, "c": "c"}, {"a": 6, "b": 7, "c": None}]),
    ([[{"a": 1}], [{"a": [1]}], [{"a": "a"}], [{"a": ["a"]}], [{"a": {"b": 1}}], [{"a": [{"b": 1}]}]],
     [{"a": 1}, {"a": [1]}, {"a": "a"}, {"a": ["a"]}, {"a": {"b": 1}}, {"a": [{"b": 1}]}]),
]):
    names = [f"l{j}" for j in range(len(lists))]
    add(f"arrow_concat_mixed_{i}", A + f"test_arrow_concat_mixed[{i}]", f"[{', '.join(names)}].concat", exp,
        vars=dict(zip(names, lists)))
add("arrow_complex_concat_union", A + "test_complex_concat_union",
    '[[a0, a1, a2].concat["a"], [b0, b1, b2].concat["a"]].concat', [[1], [], None, [], [], None],
    vars={"a0": [{"a": [1]}], "a1": [{"a": []}], "a2": [{"a": None}],
          "b0": [{"a": []}], "b1": [{"a": []}], "b2": [{"a": None}]})
add("arrow_join_all_struct_val", A + "test_join_all_struct_val", 'x.joinAll(row => row["a"], true)',
    [{"a": [5, 5], "b": [{"c": 6}, {"c": 11}]}, {"a": [None, 9], "b": [None, {"c": 10}]}],
    vars={"x": [[{"a": 5, "b": {"c": 6}}], [{"a": 9, "b": {"c": 10}}, {"a": 5, "b": {"c": 11}}]]}, check="unordered")
add("arrow_join_all_on_list", A + "test_join_all_on_list", 'x.joinAll(row => row["a"], true)',
    [{"a": [[5], [5]], "b": [{"c": 6}, {"c": 11}]}, {"a": [None, [9]], "b": [None, {"c": 10}]}],
    vars={"x": [[{"a": [5], "b": {"c": 6}}], [{"a": [9], "b": {"c": 10}}, {"a": [5], "b": {"c": 11}}]]}, check="unordered")
for i, (left, right, exp) in enumerate([([], [], []), ([], [{"a": 5}], [{"a": 5}]), ([{"a": 5}], [], [{"a": 5}]),
                                 ([{"a": 5}], [{"a": 5}], [{"a": 5}, {"a": 5}])]):
    add(f"arrow_concat_empty_{i}", A + "test_concat_empty_arrays", "[l, r].concat", exp, vars={"l": left, "r": right})
add("arrow_concat_nulls", A + "test_concat_nulls", "[l, r].concat",
    [{"prompt": None}] * 3 + [{"prompt": ["a"]}, {"prompt": ["d"]}, {"prompt": ["e"]}],
    vars={"l": [{"prompt": None}] * 3, "r": [{"prompt": ["a"]}, {"prompt": ["d"]}, {"prompt": ["e"]}]})
add("arrow_boxed_nones", A + "test_serialization_of_boxed_nones", 'table("t").rows',
    [{"a": 1, "b": None}, {"a": 2, "b": None}], vars=None, tables={"t": [{"a": 1, "b": None}, {"a": 2, "b": None}]})
EMPTY = [{"a": 5, "b": {}}, {"a": 6, "b": {}}, {"a": 7, "b": None}]
add("arrow_empty_structs_b", A + "test_arrow_handling_of_empty_structs", 'x.map(v => v["b"])', [{}, {}, None], vars={"x": EMPTY})
add("arrow_empty_structs_a", A + "test_arrow_handling_of_empty_structs", 'x.map(v => v["a"])', [5, 6, 7], vars={"x": EMPTY})
TEN_T = {"t": [{"x": v} for v in TEN]}
add("arrow_count_on_group", A + "test_count_on_group", 'table("t").rows["x"].groupby(x => x % 2).map(x => x.count)',
    [5, 5], tables=TEN_T)
add("arrow_limit_on_group", A + "test_limit_on_group", 'table("t").rows["x"].groupby(x => x % 2).map(x => x.limit(3))',
    [[1, 3, 5], [2, 4, 6]], tables=TEN_T)
add("arrow_offset_on_group", A + "test_offset_on_group", 'table("t").rows["x"].groupby(x => x % 2).map(x => x.offset(2))',
    [[5, 7, 9], [6, 8, 10]], tables=TEN_T)
GD = [{"time": 1, "model_type": "a"}, {"time": 2, "model_type": "b"}]
CASES.append(Case("arrow_groupby_concat_groupkey", A + "test_groupby_concat",
                  '[table("t").rows, table("t").rows, table("t").rows, table("t").rows].concat'
                  '.groupby(x => {time: x["time"]}).dropna.concat'
                  '.map(row => {time: row.groupkey["time"], model_type: row["model_type"]})',
                  [GD[0]] * 4 + [GD[1]] * 4, tables={"t": GD}))
KEYS = [{"a": 1}, {"a": 1, "b": 2, "c": 2}, {"c": 3}]
add("arrow_keys", A + "test_keys_ops", "x.keys", [["a", "b", "c"]] * 3, vars={"x": KEYS})
add("arrow_keys_flatten_unique", A + "test_keys_ops", "x.keys.flatten.unique", ["a", "b", "c"], vars={"x": KEYS})
add("arrow_to_arrow_union_list", A + "test_to_arrow_union_list", "x", [{"a": 5.0}, {"a": [1.0]}],
    vars={"x": [{"a": 5.0}, {"a": [1.0]}]})
for i, data in enumerate([
    [1, 2], [[1], [2]], [{"outer_a": 1}, {"outer_a": 2}], [{"outer_a": [1]}, {"outer_a": [2]}],
    [{"outer_a": {"inner_a": 1}}, {"outer_a": {"inner_a": 2}}], [[{"outer_a": 1}], [{"outer_a": 1}]],
    [{"outer_a": [[1]]}, {"outer_a": [[2]]}], [{"outer_a": [{"inner_a": 1}]}, {"outer_a": [{"inner_a": 2}]}],
    [{"outer_a": {"inner_a": [1]}}, {"outer_a": {"inner_a": [2]}}],
    [{"outer_a": {"inner_a": {"inner_inner_a": 1}}}, {"outer_a": {"inner_a": {"inner_inner_a": 2}}}],
    [[[[1]]], [[[2]]]], [[[{"outer_a": 1}]], [[{"outer_a": 2}]]], [[{"outer_a": [1]}], [{"outer_a": [2]}]],
    [[{"outer_a": {"inner_a": 1}}], [{"outer_a": {"inner_a": 2}}]],
]):
    add(f"arrow_nested_identity_{i:02d}", A + f"test_arrow_nested_identity[{i}]", "x[0]", data[0], vars={"x": data})

C = WEAVE_PY + "test_arrow_concat.py::"
for i, (l1, l2, exp) in enumerate([
    ([1, 2, 3], [4, 5, 6], [1, 2, 3, 4, 5, 6]),
    ([1, 2, 3], ["a", "b", "c"], [1, 2, 3, "a", "b", "c"]),
    ([1, 2, 3], ["a", "b", "c", False], [1, 2, 3, "a", "b", "c", False]),
    ([None, 1], ["a", None], [None, 1, "a", None]),
    ([{"a": {}}], [{"a": {}}], [{"a": {}}, {"a": {}}]),
    ([1, 2, 3], [{"a": 5}], [1, 2, 3, {"a": 5}]),
    ([{"a": 5}], [{"a": 9, "b": 6}], [{"a": 5, "b": None}, {"a": 9, "b": 6}]),
    ([1, 2, 3], [[4, 5], [6, 7, 8]], [1, 2, 3, [4, 5], [6, 7, 8]]),
    ([[1, 2, 3]], [[4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5], [6, 7, 8]]),
    ([["a", "b"], ["c"]], [[4, 5], [6, 7, 8]], [["a", "b"], ["c"], [4, 5], [6, 7, 8]]),
    ([1, 2, 3], [4.5, 5.5, 6.5], [1, 2, 3, 4.5, 5.5, 6.5]),
]):
    add(f"concat_extend_{i:02d}", C + f"test_extend[{i}]", "[l, r].concat", exp, vars={"l": l1, "r": l2})
for i, (value, exp) in enumerate([([{}, {"a": 5}], [{"a": None}, {"a": 5}]),
                              ([{}, {"a": 5}, 92], [{"a": None}, {"a": 5}, 92])]):
    add(f"concat_convert_{i}", C + f"test_convert[{i}]", "x", exp, vars={"x": value})

TO = WEAVE_PY + "test_table_ops.py::"
add("table_groupby_pick_sum", TO + "test_groupby_pick", 'x.groupby(row => row["a"])[0]["b"].sum', 14,
    vars={"x": [{"a": 5, "b": 6}, {"a": 5, "b": 8}]})
add("table_list_map", TO + "test_list_map", 'x.map(row => row["a"])', [0, 1], vars={"x": [{"a": 0, "b": "0"}, {"a": 1, "b": "1"}]})

TD = WEAVE_JS + "typedDict.test.ts::"
add("js_pick_simple", TD + "opPick - simple", '{a: 42}["a"]', 42)
add("js_pick_mixed", TD + "opPick - mixed", '[{a: 42}, {a: "hello", b: false}]["a"]', [42, "hello"])
add("js_pick_mixed_nonconst_key", TD + "opPick - mixed with non-constant key",
    '[{a: 42}, {a: "hello", b: false}]["abc".slice(0, 1)]', [42, "hello"])

# '*' in pick paths: rules of _any_val_for_path / _dict_val_for_path (weave/legacy/weave/ops_primitives/_dict_utils.py)
DU = "weave/legacy/weave/ops_primitives/_dict_utils.py::_any_val_for_path"
add("pick_star_dict", DU + " ('*' over dict keys)", 'x["*.a"]', {"p": 1, "q": 2},
    vars={"x": {"p": {"a": 1}, "q": {"a": 2}}})
add("pick_star_list", DU + " ('*' over list elements)", 'x["arr.*.b"]', [1, 2],
    vars={"x": {"arr": [{"b": 1}, {"b": 2}]}})
add("pick_star_nested", DU + " (arr.*.inner.*.b)", 'x["arr.*.inner.*.b"]', [[1, 2], [3]],
    vars={"x": {"arr": [{"inner": [{"b": 1}, {"b": 2}]}, {"inner": [{"b": 3}]}]}})
add("pick_escaped_dot", "weave/legacy/weave/ops_primitives/_dict_utils.py::split_escaped_string", 'x["a\\\\.b"]', 5,
    vars={"x": {"a.b": 5}})
