"""Parsing every construct of SPEC section 3 to the exact graph nodes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from weave_lite.errors import ParseError
from weave_lite.graph.nodes import Call, Const, Lambda, Node, Var
from weave_lite.lang import parse


def C(value) -> Const:
    return Const(value)


def V(name: str) -> Var:
    return Var(name)


def op(name: str, *args: Node) -> Call:
    return Call(name, tuple(args))


def L(params, body: Node) -> Lambda:
    return Lambda(tuple(params), body)


def sexpr(node: Node) -> str:
    """A fully parenthesised form that shows the tree's shape."""
    if isinstance(node, Call):
        return "(" + " ".join([node.op, *(sexpr(a) for a in node.args)]) + ")"
    if isinstance(node, Lambda):
        return "(fn [" + " ".join(node.params) + "] " + sexpr(node.body) + ")"
    if isinstance(node, Var):
        return node.name
    return repr(node.value)


# ----------------------------------------------------------------- literals


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("007", 7),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", 2**63),  # so that -9223372036854775808 can be written
        ("1.5", 1.5),
        ("0.25", 0.25),
        (".5", 0.5),
        ("1e-3", 1e-3),
        ("1E3", 1000.0),
        ("2.5e+10", 2.5e10),
        ("1e999", math.inf),
        ("true", True),
        ("false", False),
        ("null", None),
        ('"hello"', "hello"),
        ("'hello'", "hello"),
        ('""', ""),
        ("''", ""),
        ('"it\'s"', "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        (r'"a\nb\tc\\d"', "a\nb\tc\\d"),
        (r"'\'\"'", "'\""),
        (r'"\r\b\f\v\0\/"', "\r\b\f\v\0/"),
        (r'"\u00e9\u00E9"', "éé"),
        (r'"\x41"', "A"),
        (r'"\u{1F600}"', "\U0001F600"),
        (r'"\uD83D\uDE00"', "\U0001F600"),  # a surrogate pair is one code point
        ('"日本語 ✓"', "日本語 ✓"),
        ('"( [ { not brackets"', "( [ { not brackets"),
    ],
)
def test_scalar_literals(text, value):
    node = parse(text)
    assert node == Const(value)
    assert type(node.value) is type(value)


def test_int_and_float_literals_keep_their_python_types():
    assert type(parse("1").value) is int
    assert type(parse("1.0").value) is float
    assert parse("1") != parse("1.0")  # Const keeps literal kinds apart
    assert parse("1") != parse("true")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Date("2024-05-01T12:00:00Z")', datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ('Date("2024-05-01T12:00:00.123456Z")', datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        ('Date("2024-05-01T14:00:00+02:00")', datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ('Date("2024-05-01")', datetime(2024, 5, 1, tzinfo=UTC)),
        ("Date('2024-05-01 12:30')", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
    ],
)
def test_date_literals_are_utc_datetime_consts(text, expected):
    node = parse(text)
    assert node == Const(expected)
    assert node.value.utcoffset() == timedelta(0)
    assert node.value.tzinfo is UTC


def test_negative_numbers_are_neg_calls():
    assert parse("-1") == op("neg", C(1))
    assert parse("-1.5") == op("neg", C(1.5))
    assert parse("- 1") == op("neg", C(1))


def test_lists():
    assert parse("[]") == op("list")
    assert parse("[1]") == op("list", C(1))
    assert parse("[1, 2]") == op("list", C(1), C(2))
    assert parse("[1, 2,]") == op("list", C(1), C(2))
    assert parse('[1, "a", null, [true]]') == op("list", C(1), C("a"), C(None), op("list", C(True)))
    assert parse("[a + 1, f(x)]") == op("list", op("add", V("a"), C(1)), op("f", V("x")))


def test_dicts():
    assert parse("{}") == op("dict")
    assert parse('{a: 1, "b c": 2}') == op("dict", C("a"), C(1), C("b c"), C(2))
    assert parse("{a: 1,}") == op("dict", C("a"), C(1))
    assert parse("{'k': x}") == op("dict", C("k"), V("x"))
    # Words that are literals elsewhere are plain keys here.
    assert parse("{true: 1, null: 2, Date: 3, and: 4}") == op(
        "dict", C("true"), C(1), C("null"), C(2), C("Date"), C(3), C("and"), C(4)
    )
    assert parse("{a: {b: [1]}}") == op("dict", C("a"), op("dict", C("b"), op("list", C(1))))


# -------------------------------------------------------------- variables


def test_bare_identifiers_are_vars():
    assert parse("x") == V("x")
    assert parse("_row2") == V("_row2")
    assert parse("trueish") == V("trueish")
    assert parse("nullable") == V("nullable")
    assert parse("Dates") == V("Dates")
    assert parse("android") == V("android")
    assert parse("order") == V("order")


def test_and_or_are_names_where_no_operator_can_stand():
    assert parse("and") == V("and")
    assert parse("or(1)") == op("or", C(1))
    assert parse("x.and") == op("and", V("x"))


# ------------------------------------------------------------ member access


def test_member_access_and_calls():
    rows = V("rows")
    assert parse("rows.count") == op("count", rows)
    assert parse("rows.count()") == op("count", rows)
    assert parse("rows.limit(5)") == op("limit", rows, C(5))
    assert parse("rows.join(b, f, g, 'l', 'r', true, false)") == op(
        "join", rows, V("b"), V("f"), V("g"), C("l"), C("r"), C(True), C(False)
    )
    assert parse("f(1, 2,)") == op("f", C(1), C(2))
    assert parse("now()") == op("now")
    assert parse('stream_table("e/p/t")') == op("stream_table", C("e/p/t"))
    assert parse('stream_table("e/p/t").rows') == op("rows", op("stream_table", C("e/p/t")))
    assert parse('stream_table("e/p/t").rows()') == op("rows", op("stream_table", C("e/p/t")))
    assert parse("x.true") == op("true", V("x"))
    assert parse("1.abs") == op("abs", C(1))
    assert parse("1.5.floor") == op("floor", C(1.5))
    assert parse('"s".lower') == op("lower", C("s"))
    assert parse("[1].count") == op("count", op("list", C(1)))


def test_getitem():
    row = V("row")
    assert parse('row["x"]') == op("getitem", row, C("x"))
    assert parse("row['x']") == op("getitem", row, C("x"))
    assert parse("xs[3]") == op("getitem", V("xs"), C(3))
    assert parse("xs[i + 1]") == op("getitem", V("xs"), op("add", V("i"), C(1)))
    assert parse('row["a"]["b"]') == op("getitem", op("getitem", row, C("a")), C("b"))
    assert parse('row["x"].avg') == op("avg", op("getitem", row, C("x")))
    assert parse('rows["lat"].quantile(0.95)') == op("quantile", op("getitem", V("rows"), C("lat")), C(0.95))


def test_spec_idiom():
    text = (
        'rows.groupby(row => row["model"])'
        '.map(g => {model: g.groupkey, n: g.count, p95: g["lat"].quantile(0.95)})'
    )
    g = V("g")
    assert parse(text) == op(
        "map",
        op("groupby", V("rows"), L(["row"], op("getitem", V("row"), C("model")))),
        L(
            ["g"],
            op(
                "dict",
                C("model"), op("groupkey", g),
                C("n"), op("count", g),
                C("p95"), op("quantile", op("getitem", g, C("lat")), C(0.95)),
            ),
        ),
    )


def test_python_builder_example_from_spec():
    assert parse('stream_table("e/p/t").rows().filter(row => row["x"] > 5).count') == op(
        "count",
        op(
            "filter",
            op("rows", op("stream_table", C("e/p/t"))),
            L(["row"], op("gt", op("getitem", V("row"), C("x")), C(5))),
        ),
    )


# ----------------------------------------------------------------- lambdas


def test_lambdas():
    body = op("getitem", V("row"), C("x"))
    assert parse('row => row["x"]') == L(["row"], body)
    assert parse('(row) => row["x"]') == L(["row"], body)
    assert parse('( row ) => row["x"]') == L(["row"], body)
    assert parse("(row, index) => index") == L(["row", "index"], V("index"))
    assert parse("(a,b,c)=>a") == L(["a", "b", "c"], V("a"))
    assert parse("() => 1") == L([], C(1))
    assert parse("(\n  row,\n  index\n) =>\n  row") == L(["row", "index"], V("row"))


def test_lambda_body_extends_as_far_as_possible():
    assert parse("x => x + 1") == L(["x"], op("add", V("x"), C(1)))
    assert parse("x => y => x + y") == L(["x"], L(["y"], op("add", V("x"), V("y"))))
    assert parse("x => c ? a : b") == L(["x"], op("cond", V("c"), V("a"), V("b")))
    assert parse("f(x => x, 2)") == op("f", L(["x"], V("x")), C(2))
    assert parse("c ? x => 1 : y => 2") == op("cond", V("c"), L(["x"], C(1)), L(["y"], C(2)))


def test_parenthesised_expression_is_not_a_lambda():
    assert parse("(a)") == V("a")
    assert parse("(a) + 1") == op("add", V("a"), C(1))
    assert parse("((a))") == V("a")


def test_lambda_inside_parentheses():
    assert parse("(x => x)") == L(["x"], V("x"))
    assert parse("((a, b) => a)") == L(["a", "b"], V("a"))


# --------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("a + b", "add"), ("a - b", "sub"), ("a * b", "mul"), ("a / b", "div"), ("a % b", "mod"),
        ("a ** b", "pow"), ("a == b", "eq"), ("a === b", "eq"), ("a != b", "ne"), ("a !== b", "ne"),
        ("a < b", "lt"), ("a <= b", "le"), ("a > b", "gt"), ("a >= b", "ge"),
        ("a && b", "and"), ("a and b", "and"), ("a || b", "or"), ("a or b", "or"), ("a ?? b", "coalesce"),
    ],
)
def test_binary_operators(text, name):
    assert parse(text) == op(name, V("a"), V("b"))


def test_unary_and_conditional():
    assert parse("!a") == op("not", V("a"))
    assert parse("-a") == op("neg", V("a"))
    assert parse("!!a") == op("not", op("not", V("a")))
    assert parse("--a") == op("neg", op("neg", V("a")))
    assert parse("c ? a : b") == op("cond", V("c"), V("a"), V("b"))


# Loosest first: `? :` and `??`; `||`; `&&`; equality; comparison; `+ -`; `* / %`;
# unary; `**`; postfix.
PRECEDENCE = [
    ("a + b * c", "(add a (mul b c))"),
    ("a * b + c", "(add (mul a b) c)"),
    ("a - b - c", "(sub (sub a b) c)"),
    ("a / b / c", "(div (div a b) c)"),
    ("a % b * c", "(mul (mod a b) c)"),
    ("a - b + c", "(add (sub a b) c)"),
    ("(a + b) * c", "(mul (add a b) c)"),
    ("a ** b ** c", "(pow a (pow b c))"),
    ("-a ** b", "(neg (pow a b))"),
    ("-2 ** 2", "(neg (pow 2 2))"),
    ("(-2) ** 2", "(pow (neg 2) 2)"),
    ("a ** -b", "(pow a (neg b))"),
    ("!a ** b", "(not (pow a b))"),
    ("-a * b", "(mul (neg a) b)"),
    ("a * -b", "(mul a (neg b))"),
    ("a - -b", "(sub a (neg b))"),
    ("-a.b", "(neg (b a))"),
    ("-x[0]", "(neg (getitem x 0))"),
    ("a.b ** 2", "(pow (b a) 2)"),
    ("2 ** a.b", "(pow 2 (b a))"),
    ("a < b + c", "(lt a (add b c))"),
    ("a + b < c", "(lt (add a b) c)"),
    ("a < b == c < d", "(eq (lt a b) (lt c d))"),
    ("a == b == c", "(eq (eq a b) c)"),
    ("a != b === c", "(eq (ne a b) c)"),
    ("a <= b >= c", "(ge (le a b) c)"),
    ("a == b && c != d", "(and (eq a b) (ne c d))"),
    ("a && b || c && d", "(or (and a b) (and c d))"),
    ("a || b && c", "(or a (and b c))"),
    ("a or b and c", "(or a (and b c))"),
    ("a and b or c", "(or (and a b) c)"),
    ("a && b && c", "(and (and a b) c)"),
    ("a || b || c", "(or (or a b) c)"),
    ("!a && b", "(and (not a) b)"),
    ("!(a && b)", "(not (and a b))"),
    ("a ?? b || c", "(coalesce a (or b c))"),
    ("a || b ?? c", "(coalesce (or a b) c)"),
    ("a ?? b ?? c", "(coalesce (coalesce a b) c)"),
    ("a ?? b ? c : d", "(cond (coalesce a b) c d)"),
    ("c ? a : b ?? d", "(cond c a (coalesce b d))"),
    ("a ? b : c ? d : e", "(cond a b (cond c d e))"),
    ("a ? b ? c : d : e", "(cond a (cond b c d) e)"),
    ("a || b ? c + 1 : d * 2", "(cond (or a b) (add c 1) (mul d 2))"),
    ("(a ? b : c) + 1", "(add (cond a b c) 1)"),
    ("a.b.c", "(c (b a))"),
    ("a.b(1).c[2]", "(getitem (c (b a 1)) 2)"),
    ("a[0].b", "(b (getitem a 0))"),
    ("f(a)[0]", "(getitem (f a) 0)"),
    ("x => a || b", "(fn [x] (or a b))"),
]


@pytest.mark.parametrize(("text", "shape"), PRECEDENCE)
def test_precedence_and_associativity(text, shape):
    assert sexpr(parse(text)) == shape


def test_whitespace_and_newlines_are_insignificant():
    compact = parse('rows.filter(row=>row["x"]>5&&row["y"]!=null).count')
    spaced = parse('rows\n  .filter( row  =>\n\trow["x"] > 5\n    && row["y"] != null )\r\n  .count\n')
    assert compact == spaced


def test_keywords_need_a_word_boundary():
    for text in ("a andy", "a or_else", "a order"):
        with pytest.raises(ParseError):
            parse(text)
    assert parse("a and y") == op("and", V("a"), V("y"))
    assert parse("a and(y)") == op("and", V("a"), V("y"))


def test_parse_rejects_non_strings():
    with pytest.raises(TypeError):
        parse(b"1")  # type: ignore[arg-type]


# ------------------------------------------------------------------ spans


def text_of(source: str, node: Node) -> str:
    return source[node.span.start : node.span.end]


def test_spans_cover_the_source_text():
    src = 'rows.filter(row => row["x"] > 5).count'
    node = parse(src)
    assert text_of(src, node) == src
    assert node.name_span.start == src.index("count")
    assert src[node.name_span.start : node.name_span.end] == "count"
    filt = node.args[0]
    assert text_of(src, filt) == 'rows.filter(row => row["x"] > 5)'
    assert src[filt.name_span.start : filt.name_span.end] == "filter"
    lam = filt.args[1]
    assert text_of(src, lam) == 'row => row["x"] > 5'
    gt = lam.body
    assert text_of(src, gt) == 'row["x"] > 5'
    assert src[gt.name_span.start : gt.name_span.end] == ">"
    getitem = gt.args[0]
    assert text_of(src, getitem) == 'row["x"]'
    assert src[getitem.name_span.start : getitem.name_span.end] == '["x"]'
    assert text_of(src, getitem.args[1]) == '"x"'
    assert text_of(src, gt.args[1]) == "5"


def test_span_line_and_column_are_one_based():
    src = "rows\n  .filter(row => row.x)\n  .cout"
    node = parse(src)
    assert node.name_span.line == 3
    assert node.name_span.column == 4
    assert src[node.name_span.start : node.name_span.end] == "cout"
    assert (node.span.line, node.span.column) == (1, 1)
    filt = node.args[0]
    assert (filt.name_span.line, filt.name_span.column) == (2, 4)
    lam = filt.args[1]
    assert (lam.span.line, lam.span.column) == (2, 11)


def test_spans_of_parentheses_lambdas_dates_and_dict_keys():
    src = '(a + b) * ((c)) + {k: Date("2024-05-01"), "q r": (x) => x}'
    node = parse(src)
    mul = node.args[0]
    assert text_of(src, mul) == "(a + b) * ((c))"
    assert text_of(src, mul.args[0]) == "(a + b)"
    assert text_of(src, mul.args[1]) == "((c))"
    d = node.args[1]
    assert text_of(src, d) == '{k: Date("2024-05-01"), "q r": (x) => x}'
    assert src[d.name_span.start : d.name_span.end] == "{"
    key1, date, key2, lam = d.args
    assert text_of(src, key1) == "k"
    assert text_of(src, date) == 'Date("2024-05-01")'
    assert text_of(src, key2) == '"q r"'
    assert text_of(src, lam) == "(x) => x"


def test_unary_and_cond_spans():
    src = "-x ? !y : z"
    node = parse(src)
    assert text_of(src, node) == src
    assert src[node.name_span.start : node.name_span.end] == "?"
    assert text_of(src, node.args[0]) == "-x"
    assert text_of(src, node.args[1]) == "!y"


def test_root_call_spans():
    src = '  stream_table("e/p/t")  '
    node = parse(src)
    assert text_of(src, node) == 'stream_table("e/p/t")'
    assert (node.span.line, node.span.column) == (1, 3)
    assert src[node.name_span.start : node.name_span.end] == "stream_table"


def test_spans_never_affect_equality():
    assert parse("a+b") == parse("  a  +  b  ")
    assert hash(parse("a+b")) == hash(parse("(a)+(b)"))
