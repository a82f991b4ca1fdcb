"""The printer: exact output for chosen nodes, and parse(render(n)) == n for random trees."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weave_lite.errors import ParseError, ResourceLimitError
from weave_lite.graph.nodes import BINARY_OPERATORS, Call, Const, Lambda, Node, Var
from weave_lite.graph.printer import render, to_source
from weave_lite.lang import parse

RESERVED = {"true", "false", "null", "Date"}


def op(name: str, *args: Node) -> Call:
    return Call(name, tuple(args))


# ------------------------------------------------------------ exact output


@pytest.mark.parametrize(
    "text",
    [
        "a + b * c",
        "(a + b) * c",
        "a - (b - c)",
        "a - b - c",
        "-2 ** 2",
        "(-2) ** 2",
        "2 ** 3 ** 2",
        "(2 ** 3) ** 2",
        "2 ** -1",
        "!(a && b) || c",
        "a ?? b ?? c",
        "a ?? (b ?? c)",
        "(c ? a : b) ?? d",
        "c ? a : b ?? d",
        "a ? b : c ? d : e",
        "(a ? b : c) ? d : e",
        "c ? x => a ? b : d : e",
        "(a, b) => a + 1",
        "() => now()",
        "x => y => x + y",
        "f(x => x, 1)",
        'stream_table("e/p/t").rows.filter(row => row["x"] > 5).count',
        'rows.groupby(row => row["model"]).map(g => {model: g.groupkey, n: g.count, "p 95": g["lat"].quantile(0.95)})',
        '{true: 1, "a.b": [], c: {}}',
        "x.true",
        "abs(1)",
        "floor(1.5)",
        "f(1, 2)",
        '"s".lower',
        "[1, 2].count",
        "{a: 1}.keys",
        "(-1).abs",
        "(a + b).abs",
        "(a + b)[0]",
        "-x.abs",
        "1e999",
        "0.1 + 1e-05 + 1e+16",
        'Date("2024-05-01T12:00:00Z")',
        'Date("2024-05-01T12:00:00.123456Z") < now()',
        "add(a)",
        "neg(a, b)",
        "getitem(x)",
        "dict(1, 2)",
        'dict("a", 1, "a", 2)',
        "cond(a, b)",
        "and + or",
    ],
)
def test_canonical_text_prints_as_itself(text):
    node = parse(text)
    assert render(node) == text
    assert parse(render(node)) == node


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("(a)", "a"),
        ("((a + b)) * (c)", "(a + b) * c"),
        ("a and b or not_", "a && b || not_"),
        ("a === b !== c", "a == b != c"),
        ("f(1, 2,)", "f(1, 2)"),
        ("[1, 2,]", "[1, 2]"),
        ("(row) => row", "row => row"),
        ("rows.count()", "rows.count"),
        ("(x => x).foo", "foo(x => x)"),
        ("count(rows)", "rows.count"),
        ("1.abs", "abs(1)"),
        ("true.f(1)", "f(true, 1)"),
        ("lower('s')", '"s".lower'),
        ("limit(rows, 5)", "rows.limit(5)"),
        ('"e/p/t".stream_table', 'stream_table("e/p/t")'),
        ("x.and(y)", "x && y"),
        (".5", "0.5"),
        ("1E3", "1000.0"),
        ("'abc'", '"abc"'),
        ("'say \"hi\"'", "'say \"hi\"'"),
        (r'"it\'s \"x\""', '"it\'s \\"x\\""'),
        (r"'\u00e9\n\t\\\x00\u200b'", '"é\\n\\t\\\\\\0\\u200b"'),
        (r'"\uD83D\uDE00"', '"\U0001F600"'),
        ('Date("2024-05-01T14:00:00+02:00")', 'Date("2024-05-01T12:00:00Z")'),
        ("{'k': 1}", "{k: 1}"),
        ("{'a b': 1}", '{"a b": 1}'),
    ],
)
def test_printing_normalises_spelling(text, printed):
    assert render(parse(text)) == printed


def test_constants_the_parser_cannot_produce():
    assert render(Const(-1)) == "-1"
    assert render(op("pow", Const(-2), Const(2))) == "(-2) ** 2"
    assert render(op("abs", Const(-1.5))) == "abs(-1.5)"
    assert render(op("abs", op("neg", Const(1.5)))) == "(-1.5).abs"
    assert render(Const(-math.inf)) == "-1e999"
    assert render(Const(math.nan)) == "(1e999 - 1e999)"
    assert render(Const(date(2024, 5, 1))) == 'Date("2024-05-01")'
    assert render(Const(datetime(2024, 5, 1, 12))) == 'Date("2024-05-01T12:00:00Z")'  # naive = UTC
    assert render(Const(b"\x01\xff")) == 'Bytes("01ff")'
    assert render(op("limit", Var("rows"), Const(-1))) == "rows.limit(-1)"
    # They still mean the same when parsed back.
    assert parse(render(Const(-1))) == op("neg", Const(1))


def test_names_that_cannot_be_written_raise():
    for node in (Var("true"), Var("a b"), Call("a-b", (Var("x"),)), Call("true", ()), Lambda(("null",), Var("x"))):
        with pytest.raises(ValueError):
            render(node)
    with pytest.raises(TypeError):
        render(Const(object()))
    with pytest.raises(TypeError):
        render("a + b")  # type: ignore[arg-type]


def test_reserved_op_names_print_as_methods():
    node = Call("Date", (Const("x"),))
    assert render(node) == '"x".Date'
    assert parse(render(node)) == node


def test_to_source_uses_the_printer():
    assert to_source(parse("a+b*c")) == "a + b * c"


def test_render_does_not_recurse():
    # A tree far deeper than the parser allows (the node builder can make one).
    node: Node = Var("x")
    for _ in range(5000):
        node = Call("neg", (node,))
    assert render(node) == "-" * 5000 + "x"
    node = Var("x")
    for _ in range(3000):
        node = Call("add", (node, Const(1)))
    assert render(node) == "x" + " + 1" * 3000


def test_shared_subtrees_render_each_time():
    shared = op("add", Var("a"), Var("b"))
    node = op("mul", shared, op("f", shared, shared))
    assert render(node) == "(a + b) * (a + b).f(a + b)"
    x = Var("x")
    assert render(op("add", op("f", x), x)) == "x.f + x"
    assert render(op("add", x, op("f", x))) == "x + x.f"


# ---------------------------------------------------- round-trip property

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
VAR_NAMES = NAMES.filter(lambda n: n not in RESERVED)
OP_NAMES = st.one_of(
    NAMES,
    st.sampled_from(sorted(set(BINARY_OPERATORS.values()) | {"neg", "not", "cond", "getitem", "list", "dict"})),
    st.sampled_from(["count", "filter", "map", "stream_table", "table", "now", "rows", "true", "Date", "and", "or"]),
)

CONSTS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=0, max_value=2**63),
    st.floats(min_value=0.0, allow_nan=False, allow_infinity=True),
    st.text(max_size=12),
    # (No lone surrogates: they are not text, and the parser refuses them; see test_fuzz.py.)
    st.text(alphabet=st.sampled_from("\"'\\\n\t\r\0\x7f\u2028 ab\U0001F600"), max_size=8),
    st.datetimes(timezones=st.just(UTC)),
).map(Const)

LEAVES = st.one_of(CONSTS, VAR_NAMES.map(Var))


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    binary = st.tuples(st.sampled_from(sorted(set(BINARY_OPERATORS.values()))), children, children).map(
        lambda t: Call(t[0], (t[1], t[2]))
    )
    unary = st.tuples(st.sampled_from(["neg", "not"]), children).map(lambda t: Call(t[0], (t[1],)))
    cond = st.tuples(children, children, children).map(lambda t: Call("cond", t))
    getitem = st.tuples(children, children).map(lambda t: Call("getitem", t))
    lst = st.lists(children, max_size=3).map(lambda xs: Call("list", tuple(xs)))
    dct = st.lists(st.tuples(st.one_of(NAMES, st.text(max_size=5)), children), max_size=3, unique_by=lambda kv: kv[0]).map(
        lambda kvs: Call("dict", tuple(x for k, v in kvs for x in (Const(k), v)))
    )
    calls = st.tuples(OP_NAMES, st.lists(children, max_size=3)).filter(
        lambda t: t[1] or t[0] not in RESERVED
    ).map(lambda t: Call(t[0], tuple(t[1])))
    lambdas = st.tuples(st.lists(VAR_NAMES, max_size=3, unique=True), children).map(
        lambda t: Lambda(tuple(t[0]), t[1])
    )
    return st.one_of(binary, unary, cond, getitem, lst, dct, calls, lambdas)


NODES = st.recursive(LEAVES, _extend, max_leaves=25)


@given(NODES)
def test_parse_of_render_is_identity(node):
    text = render(node)
    assert parse(text) == node, text
    assert render(parse(text)) == text


FRAGMENTS = [*"ab1.5 \"'()[]{},:?!=<>+-*/%&|\\\n@#", "and", "or", "=>", "Date", "true", "null", "**", "??", "==", "x.y"]


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join))
def test_parser_only_ever_raises_parse_errors(text):
    try:
        node = parse(text)
    except (ParseError, ResourceLimitError) as exc:
        assert str(exc)  # renders
        assert exc.span is None or 0 <= exc.span.start <= len(text)
    else:
        assert parse(render(node)) == node
