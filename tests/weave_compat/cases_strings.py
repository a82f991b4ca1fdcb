"""String ops: weave/legacy/tests/test_basic_ops.py, test_arrow_vectorizer.py, test_levenshtein.py
(weave/tests/legacy/), op_specs.py, and weave-js/src/core/ops/primitives/string.test.ts."""

from __future__ import annotations

import json

from .corpus import WEAVE_JS, WEAVE_PY, Case

CASES: list[Case] = []


def _lit(v: object) -> str:
    return "null" if v is None else json.dumps(v, ensure_ascii=False)


def add(id: str, source: str, expr: str, expected: object, **kw: object) -> None:
    CASES.append(Case(id, source, expr, expected, **kw))  # type: ignore[arg-type]


# --- test_basic_ops.py::test_string_ops (const node "Foo") -------------------------------
src = WEAVE_PY + "test_basic_ops.py::test_string_ops"
for i, (expr, exp) in enumerate(
    [
        ('"Foo" == "Foo"', True),
        ('"Foo" == "Baz"', False),
        ('"Foo" != "Baz"', True),
        ('"Foo" != "Foo"', False),
        ('"Foo" + "Bar"', "FooBar"),
        ('"Foo".len', 3),
        ('"Foo".append("Bar")', "FooBar"),
        ('"Foo".prepend("Bar")', "BarFoo"),
        ('"Foo".lower', "foo"),
        ('"Foo".upper', "FOO"),
        ('"Foo".slice(0, 2)', "Fo"),
        ('"Foo".slice(1, 3)', "oo"),
        ('"Foo".replace("oo", "xx")', "Fxx"),
        ('"Foo bar baz".split(" ")', ["Foo", "bar", "baz"]),
        ('"Foo bar baz".partition("bar")', ["Foo ", "bar", " baz"]),
        ('"Foo bar baz".startsWith("Foo")', True),
        ('"Foo bar baz".startsWith("bar")', False),
        ('"Foo bar baz".endsWith("baz")', True),
        ('"Foo bar baz".endsWith("bar")', False),
        ('"123".isAlpha', False),
        ('"123".isNumeric', True),
        ('"123".isAlnum', True),
        ('"ABC".isAlpha', True),
        ('"ABC".isNumeric', False),
        ('"ABC".isAlnum', True),
        ('"  Foo  ".strip', "Foo"),
        ('"  Foo  ".lStrip', "Foo  "),
        ('"  Foo  ".rStrip', "  Foo"),
        ('"123".toNumber', 123),
        ('"ABC".toNumber', None),
    ]
):
    add(f"basic_string_{i:02d}", src, expr, exp)

# --- op_specs.py: string_add, string_equal ------------------------------------------------
src = WEAVE_PY + "util/op_specs.py::string_add"
for i, (a, b, exp) in enumerate([("a", "b", "ab"), ("b", "a", "ba"), ("", "b", "b"), ("b", "", "b")]):
    add(f"opspec_string_add_{i}", src, f"{_lit(a)} + {_lit(b)}", exp)
src = WEAVE_PY + "util/op_specs.py::string_equal"
for i, (a, b, exp) in enumerate(
    [("a", "a", True), ("a", "b", False), ("a", None, False), (None, None, True), (None, "a", False)]
):
    add(f"opspec_string_equal_{i}", src, "x == y", exp, vars={"x": a, "y": b})

# --- test_arrow_vectorizer.py: vectorized string ops over an Arrow column ----------------
T3 = {"t": [{"x": "bc"}, {"x": "cd"}, {"x": "df"}]}
T3N = {"t": [{"x": "bc"}, {"x": None}, {"x": "df"}]}
string_ops = [
    ("eq-scalar", 'row["x"] == "bc"', [True, False, False], [True, False, False]),
    ("ne-scalar", 'row["x"] != "bc"', [False, True, True], [False, True, True]),
    ("contains-scalar", 'row["x"].contains("b")', [True, False, False], [True, None, False]),
    ("in-scalar", 'row["x"].in("bcd")', [True, True, False], [True, None, False]),
    ("len-scalar", 'row["x"].len', [2, 2, 2], [2, None, 2]),
    ("add-scalar", 'row["x"] + "q"', ["bcq", "cdq", "dfq"], ["bcq", None, "dfq"]),
    ("append-scalar", 'row["x"].append("qq")', ["bcqq", "cdqq", "dfqq"], ["bcqq", None, "dfqq"]),
    ("prepend-scalar", 'row["x"].prepend("qq")', ["qqbc", "qqcd", "qqdf"], ["qqbc", None, "qqdf"]),
    ("split-scalar", 'row["x"].split("c")', [["b", ""], ["", "d"], ["df"]], [["b", ""], None, ["df"]]),
    (
        "partition-scalar",
        'row["x"].partition("c")',
        [["b", "c", ""], ["", "c", "d"], ["df", "", ""]],
        [["b", "c", ""], None, ["df", "", ""]],
    ),
    ("startswith-scalar", 'row["x"].startsWith("b")', [True, False, False], [True, None, False]),
    ("endswith-scalar", 'row["x"].endsWith("f")', [False, False, True], [False, None, True]),
    ("replace-scalar", 'row["x"].replace("c", "q")', ["bq", "qd", "df"], ["bq", None, "df"]),
    ("nest-list", '[row["x"]]', [["bc"], ["cd"], ["df"]], [["bc"], [None], ["df"]]),
    (
        "nest-dict",
        '{a: row["x"]}',
        [{"a": "bc"}, {"a": "cd"}, {"a": "df"}],
        [{"a": "bc"}, {"a": None}, {"a": "df"}],
    ),
]
for name, body, exp, exp_null in string_ops:
    add(
        f"vec_string_{name}",
        WEAVE_PY + f"test_arrow_vectorizer.py::test_arrow_vectorizer_string_scalar[{name}]",
        f'table("t").rows.map(row => {body})',
        exp,
        tables=T3,
    )
    add(
        f"vec_string_nullable_{name}",
        WEAVE_PY
        + f"test_arrow_vectorizer.py::test_arrow_vectorizer_string_nullable_scalar_ops_tagged[{name}]",
        f'table("t").rows.map(row => {body})',
        exp_null,
        tables=T3N,
    )
add(
    "vec_string_pick",
    WEAVE_PY + "test_arrow_vectorizer.py::test_arrow_vectorizer_string_scalar[pick]",
    'table("t").rows.map(row => {bc: 1, cd: 2, df: 3}[row["x"]])',
    [1, 2, 3],
    tables=T3,
)

TA = {"t": [{"x": s} for s in ["B22?c", "cd", "DF2", "212", "", "?>!@#"]]}
for name, body, exp in [
    ("isAlpha-scalar", 'row["x"].isAlpha', [False, True, False, False, False, False]),
    ("isNumeric-scalar", 'row["x"].isNumeric', [False, False, False, True, False, False]),
    ("isAlnum-scalar", 'row["x"].isAlnum', [False, True, True, True, False, False]),
    ("lower-scalar", 'row["x"].lower', ["b22?c", "cd", "df2", "212", "", "?>!@#"]),
    ("upper-scalar", 'row["x"].upper', ["B22?C", "CD", "DF2", "212", "", "?>!@#"]),
    ("slice-scalar", 'row["x"].slice(1, 2)', ["2", "d", "F", "1", "", ">"]),
]:
    add(
        f"vec_string_{name}",
        WEAVE_PY + f"test_arrow_vectorizer.py::test_arrow_vectorizer_string_alnum[{name}]",
        f'table("t").rows.map(row => {body})',
        exp,
        tables=TA,
    )

TS = {"t": [{"x": s} for s in ["  c ", "cd", " DF2", "212 ", ""]]}
for name, body, exp in [
    ("strip-scalar", 'row["x"].strip', ["c", "cd", "DF2", "212", ""]),
    ("lstrip-scalar", 'row["x"].lStrip', ["c ", "cd", "DF2", "212 ", ""]),
    ("rstrip-scalar", 'row["x"].rStrip', ["  c", "cd", " DF2", "212", ""]),
]:
    add(
        f"vec_string_{name}",
        WEAVE_PY + f"test_arrow_vectorizer.py::test_arrow_vectorizer_string_strip[{name}]",
        f'table("t").rows.map(row => {body})',
        exp,
        tables=TS,
    )

TV = {"t": [{"x": a, "y": b} for a, b in [("bc", "cbc"), ("cd", "aef"), ("df", "df")]]}
for name, body, exp in [
    ("eq-vector", 'row["x"] == row["y"]', [False, False, True]),
    ("ne-vector", 'row["x"] != row["y"]', [True, True, False]),
    ("contains-vector", 'row["x"].contains(row["y"])', [False, False, True]),
    ("in-vector", 'row["x"].in(row["y"])', [True, False, True]),
    ("add-vector", 'row["x"] + row["y"]', ["bccbc", "cdaef", "dfdf"]),
    ("append-vector", 'row["x"].append(row["y"])', ["bccbc", "cdaef", "dfdf"]),
    ("prepend-vector", 'row["x"].prepend(row["y"])', ["cbcbc", "aefcd", "dfdf"]),
    ("split-vector", 'row["y"].split(row["x"])', [["c", ""], ["aef"], ["", ""]]),
    ("partition-vector", 'row["y"].partition(row["x"])', [["c", "bc", ""], ["aef", "", ""], ["", "df", ""]]),
    ("startswith-vector", 'row["y"].startsWith(row["x"])', [False, False, True]),
    ("endswith-vector", 'row["y"].endsWith(row["x"])', [True, False, True]),
]:
    add(
        f"vec_string_{name}",
        WEAVE_PY + f"test_arrow_vectorizer.py::test_arrow_vectorizer_string_vector[{name}]",
        f'table("t").rows.map(row => {body})',
        exp,
        tables=TV,
    )
add(
    "vec_string_toNumber",
    WEAVE_PY + "test_arrow_vectorizer.py::test_arrow_vectorizer_string_to_int",
    'table("t").rows.map(row => row["x"].toNumber)',
    [123, 234, 456, None],
    tables={"t": [{"x": s} for s in ["123", "234", "456", "a"]]},
)
add(
    "vec_string_const_first_arg",
    WEAVE_PY + "test_arrow_vectorizer.py::test_vectorize_function_with_const_first_arg",
    'table("t").rows.map(row => "hello" == row["x"])',
    [True, False, True, False, True, False],
    tables={"t": [{"x": s} for s in ["hello", "world"] * 3]},
)

# --- test_levenshtein.py (method form) ----------------------------------------------------
src = "weave/tests/legacy/test_levenshtein.py::test_levenshtein"
for i, (a, b, exp) in enumerate(
    [
        ("", "", 0), ("a", "a", 0), ("", "a", 1), ("a", "b", 1), ("a", "ab", 1), ("ab", "ac", 1),
        ("ab", "ba", 2), ("", "ab", 2), ("ab", "cd", 2), ("abc", "cab", 2), ("", "abc", 3),
        ("abc", "def", 3),
    ]
):
    add(f"levenshtein_{i:02d}", src, f"{_lit(a)}.levenshtein({_lit(b)})", exp)

# --- weave-js string.test.ts ---------------------------------------------------------------
J = WEAVE_JS + "string.test.ts::"
js = [
    ("opStringEqual", '"" == ""', True),
    ("opStringEqual", '"foobar" == "foobar"', True),
    ("opStringEqual", '"foo" == "bar"', False),
    ("opStringEqual", '"" == "bar"', False),
    ("opStringEqual", '"foo" == ""', False),
    ("opStringNotEqual", '"" != ""', False),
    ("opStringNotEqual", '"foobar" != "foobar"', False),
    ("opStringNotEqual", '"foo" != "bar"', True),
    ("opStringNotEqual", '"" != "bar"', True),
    ("opStringNotEqual", '"foo" != ""', True),
    ("opStringIn", '"bar".in("foobarbaz")', True),
    ("opStringIn", '"bar".in(["foo", "bar", "baz"])', True),
    ("opStringLen", '"".len', 0),
    ("opStringLen", '"foobar".len', 6),
    ("opStringLen", '"W&B is 🚀🦄🔥".len', 10),
    ("opStringAdd", '"" + ""', ""),
    ("opStringAdd", '"foo" + "bar"', "foobar"),
    ("opStringAdd", '"foo" + null', "foo"),
    ("opStringAdd", 'null + "bar"', None),
    ("opStringAppend", '"".append("")', ""),
    ("opStringAppend", '"foo".append("bar")', "foobar"),
    ("opStringPrepend", '"".prepend("")', ""),
    ("opStringPrepend", '"foo".prepend("bar")', "barfoo"),
    ("opStringSplit", '"foo bar baz".split(" ")', ["foo", "bar", "baz"]),
    ("opStringPartition", '"foobarbazbar".partition("bar")', ["foo", "bar", "bazbar"]),
    ("opStringStartsWith", '"".startsWith(null)', True),
    ("opStringStartsWith", '"foobarbaz".startsWith(null)', True),
    ("opStringStartsWith", '"foobarbaz".startsWith("foo")', True),
    ("opStringStartsWith", '"🤡barbaz".startsWith("🤡")', True),
    ("opStringStartsWith", '"foobarbaz".startsWith("bar")', False),
    ("opStringStartsWith", '"foo🤡baz".startsWith("🤡")', False),
    ("opStringEndsWith", '"".endsWith(null)', True),
    ("opStringEndsWith", '"foobarbaz".endsWith(null)', True),
    ("opStringEndsWith", '"barbaz".endsWith("baz")', True),
    ("opStringEndsWith", '"barbaz🤡".endsWith("🤡")', True),
    ("opStringEndsWith", '"foobarbaz".endsWith("bar")', False),
    ("opStringEndsWith", '"foo🤡baz".endsWith("🤡")', False),
    ("opStringIsAlpha", '"abcABCxyzXYZ".isAlpha', True),
    ("opStringIsAlpha", '"".isAlpha', False),
    ("opStringIsAlpha", '"hunter42".isAlpha', False),
    ("opStringIsAlpha", '"a b c".isAlpha', False),
    ("opStringIsNumeric", '"42".isNumeric', True),
    ("opStringIsNumeric", '"-3.14".isNumeric', True),
    ("opStringIsNumeric", '"".isNumeric', False),
    ("opStringIsNumeric", '"42e10".isNumeric', False),
    ("opStringIsNumeric", '"one hundred".isNumeric', False),
    ("opStringIsNumeric", '"1 1 2 3 5 8".isNumeric', False),
    ("opStringIsAlnum", '"hunter42".isAlnum', True),
    ("opStringIsAlnum", '"42hunter".isAlnum', True),
    ("opStringIsAlnum", '"".isAlnum', False),
    ("opStringIsAlnum", '"hunter-42".isAlnum', False),
    ("opStringIsAlnum", '"hunter 42".isAlnum', False),
    ("opStringIsAlnum", '"a b c 1 1 2 3 5 8".isAlnum', False),
    ("opStringLower", '"Weights & Biases 🚀".lower', "weights & biases 🚀"),
    ("opStringUpper", '"Weights & Biases 🚀".upper', "WEIGHTS & BIASES 🚀"),
    ("opStringSlice", '"weights and biases".slice(0)', "weights and biases"),
    ("opStringSlice", '"weights and biases".slice(0, 0)', ""),
    ("opStringSlice", '"weights and biases".slice(4)', "hts and biases"),
    ("opStringSlice", '"weights and biases".slice(4, 7)', "hts"),
    ("opStringSlice", '"weights and biases".slice(4, -3)', "hts and bia"),
    ("opStringSlice", '"weights and biases".slice(4, 1000)', "hts and biases"),
    ("opStringReplace", '"weights and biases".replace("and", "or")', "weights or biases"),
    ("opStringReplace", '"wandb wandb wandb".replace("wandb", "W&B")', "W&B W&B W&B"),
    ("opStringFindAll", '"Weights & Biases".findAll("Bias")', ["Bias"]),
    ("opStringFindAll", '"weights and/or biases".findAll("(or|and)")', ["and", "or"]),
    ("opStringContains", '"Weights & Biases".contains("&")', True),
    ("opStringContains", '"Weights 🚀 Biases".contains("🚀")', True),
    ("opStringContains", '"Weights & Biases".contains("or")', False),
    ("opStringContains", '"Weights 🚀 Biases".contains("🔥")', False),
    ("opStringStrip", '"  \\t\\r\\nWeights & Biases\\r\\n\\t  ".strip', "Weights & Biases"),
    ("opStringLeftStrip", '"  \\t\\r\\nWeights & Biases\\r\\n\\t  ".lStrip', "Weights & Biases\r\n\t  "),
    ("opStringRightStrip", '"  \\t\\r\\nWeights & Biases\\r\\n\\t  ".rStrip', "  \t\r\nWeights & Biases"),
]
counts: dict[str, int] = {}
for name, expr, exp in js:
    k = counts[name] = counts.get(name, 0) + 1
    add(f"js_{name}_{k}", J + name, expr, exp)

WORDS = ["smitten", "mitten", "kitty", "fitting", "written"]
DIST = [[0, 1, 4, 4, 2], [1, 0, 3, 3, 2], [4, 3, 0, 4, 4], [4, 3, 4, 0, 4], [2, 2, 4, 4, 0]]
for i, a in enumerate(WORDS):
    for j, b in enumerate(WORDS):
        # levenshtein has renderInfo {type: "function"}: Weave prints it as a root call.
        add(f"js_levenshtein_{a}_{b}", J + "opStringLevenshtein", f'levenshtein("{a}", "{b}")', DIST[i][j])
