"""Golden error messages: the exact text (message line and caret snippet) for broken expressions."""

from __future__ import annotations

import pytest

from weave_lite.errors import ExpressionError, ParseError, WeaveError
from weave_lite.lang import parse

# (expression, the lines of str(error)): one line saying what is wrong, then the
# source line and a caret line under the offending part.
GOLDEN: list[tuple[str, list[str]]] = [
    (
        '',
        [
            'empty expression',
            '  ',
            '  ^',
        ],
    ),
    (
        '  \n ',
        [
            'empty expression',
            '    ',
            '  ^',
        ],
    ),
    (
        'rows.count +',
        [
            'unexpected end of input at line 1, column 13; expected an expression',
            '  rows.count +',
            '              ^',
        ],
    ),
    (
        '"abc',
        [
            'unterminated string starting at line 1, column 1',
            '  "abc',
            '  ^^^^',
        ],
    ),
    (
        "x == 'abc",
        [
            'unterminated string starting at line 1, column 6',
            "  x == 'abc",
            '       ^^^^',
        ],
    ),
    (
        'row["name] == 1',
        [
            'unterminated string starting at line 1, column 5',
            '  row["name] == 1',
            '      ^^^^^^^^^^^',
        ],
    ),
    (
        'f(1, 2',
        [
            "missing ')' to close '(' at line 1, column 2",
            '  f(1, 2',
            '   ^',
        ],
    ),
    (
        '[1, 2',
        [
            "missing ']' to close '[' at line 1, column 1",
            '  [1, 2',
            '  ^',
        ],
    ),
    (
        '{a: 1',
        [
            "missing '}' to close '{' at line 1, column 1",
            '  {a: 1',
            '  ^',
        ],
    ),
    (
        'rows.filter(row => row["x"] > 5',
        [
            "missing ')' to close '(' at line 1, column 12",
            '  rows.filter(row => row["x"] > 5',
            '             ^',
        ],
    ),
    (
        'f(1))',
        [
            "unmatched ')' at line 1, column 5",
            '  f(1))',
            '      ^',
        ],
    ),
    (
        '[1, 2)',
        [
            "unexpected ')' at line 1, column 6; expected ']' to close '[' at line 1, column 1",
            '  [1, 2)',
            '       ^',
        ],
    ),
    (
        '{a: [1, 2}',
        [
            "unexpected '}' at line 1, column 10; expected ']' to close '[' at line 1, column 5",
            '  {a: [1, 2}',
            '           ^',
        ],
    ),
    (
        'a = 1',
        [
            "unexpected '=' at line 1, column 3; use '==' to compare values",
            '  a = 1',
            '    ^',
        ],
    ),
    (
        'row["x"] = 5',
        [
            "unexpected '=' at line 1, column 10; use '==' to compare values",
            '  row["x"] = 5',
            '           ^',
        ],
    ),
    (
        'a @ b',
        [
            "unknown character '@' at line 1, column 3",
            '  a @ b',
            '    ^',
        ],
    ),
    (
        'rows # comment',
        [
            "unknown character '#' at line 1, column 6",
            '  rows # comment',
            '       ^',
        ],
    ),
    (
        'a $ b',
        [
            "unknown character '$' at line 1, column 3",
            '  a $ b',
            '    ^',
        ],
    ),
    (
        'a + * b',
        [
            "unexpected '*' at line 1, column 5; expected an expression",
            '  a + * b',
            '      ^',
        ],
    ),
    (
        'a && || b',
        [
            "unexpected '||' at line 1, column 6; expected an expression",
            '  a && || b',
            '       ^^',
        ],
    ),
    (
        'a & b',
        [
            "unexpected '&' at line 1, column 3; use '&&' or 'and'",
            '  a & b',
            '    ^',
        ],
    ),
    (
        'a | b',
        [
            "unexpected '|' at line 1, column 3; use '||' or 'or'",
            '  a | b',
            '    ^',
        ],
    ),
    (
        '[1 2]',
        [
            "missing ',' before number `2` at line 1, column 4",
            '  [1 2]',
            '     ^',
        ],
    ),
    (
        '{a: 1 b: 2}',
        [
            "missing ',' before name `b` at line 1, column 7",
            '  {a: 1 b: 2}',
            '        ^',
        ],
    ),
    (
        'f(1 2)',
        [
            "missing ',' before number `2` at line 1, column 5",
            '  f(1 2)',
            '      ^',
        ],
    ),
    (
        'rows.join(b "x")',
        [
            'missing \',\' before string `"x"` at line 1, column 13',
            '  rows.join(b "x")',
            '              ^^^',
        ],
    ),
    (
        '(a, 1) => a',
        [
            'bad lambda parameter list `(a, 1)` at line 1, column 1; parameters must be names, as in `(row, index) => ...`',
            '  (a, 1) => a',
            '  ^^^^^^',
        ],
    ),
    (
        '(a b) => a',
        [
            'bad lambda parameter list `(a b)` at line 1, column 1; parameters must be names, as in `(row, index) => ...`',
            '  (a b) => a',
            '  ^^^^^',
        ],
    ),
    (
        '(row, ) => row',
        [
            'bad lambda parameter list `(row, )` at line 1, column 1; parameters must be names, as in `(row, index) => ...`',
            '  (row, ) => row',
            '  ^^^^^^^',
        ],
    ),
    (
        '1 => 2',
        [
            "unexpected '=>' at line 1, column 3; lambda parameters must be names, as in `(row, index) => ...`",
            '  1 => 2',
            '    ^^',
        ],
    ),
    (
        'row.x => 1',
        [
            "unexpected '=>' at line 1, column 7; lambda parameters must be names, as in `(row, index) => ...`",
            '  row.x => 1',
            '        ^^',
        ],
    ),
    (
        '(a, a) => 1',
        [
            'duplicate lambda parameter `a` at line 1, column 5',
            '  (a, a) => 1',
            '      ^',
        ],
    ),
    (
        '(true) => 1',
        [
            'reserved word `true` as a lambda parameter at line 1, column 2; choose another name',
            '  (true) => 1',
            '   ^^^^',
        ],
    ),
    (
        'Date("yesterday")',
        [
            'invalid date `yesterday` at line 1, column 6; expected an ISO 8601 timestamp like `2024-05-01T12:00:00Z`',
            '  Date("yesterday")',
            '       ^^^^^^^^^^^',
        ],
    ),
    (
        'Date("2024-13-01")',
        [
            'invalid date `2024-13-01` at line 1, column 6; expected an ISO 8601 timestamp like `2024-05-01T12:00:00Z`',
            '  Date("2024-13-01")',
            '       ^^^^^^^^^^^^',
        ],
    ),
    (
        'Date(1)',
        [
            'unexpected number `1` at line 1, column 6; expected a string',
            '  Date(1)',
            '       ^',
        ],
    ),
    (
        'Date',
        [
            "unexpected end of input at line 1, column 5; expected '('",
            '  Date',
            '      ^',
        ],
    ),
    (
        '"a\\qb"',
        [
            'invalid escape `\\q` in string at line 1, column 3; use `\\\\` for a backslash',
            '  "a\\qb"',
            '    ^^',
        ],
    ),
    (
        '"\\u12"',
        [
            'invalid escape `\\u12` in string at line 1, column 2; expected hex digits as in `\\u00e9` or `\\u{1F600}`',
            '  "\\u12"',
            '   ^^^^',
        ],
    ),
    (
        '"\\uD800"',
        [
            'invalid unicode escape `\\uD800` at line 1, column 2; it is a lone surrogate',
            '  "\\uD800"',
            '   ^^^^^^',
        ],
    ),
    (
        'x.',
        [
            'unexpected end of input at line 1, column 3; expected an op name',
            '  x.',
            '    ^',
        ],
    ),
    (
        'x.1',
        [
            'unexpected number `1` at line 1, column 3; expected an op name',
            '  x.1',
            '    ^',
        ],
    ),
    (
        'a ? b',
        [
            "unexpected end of input at line 1, column 6; expected ':'",
            '  a ? b',
            '       ^',
        ],
    ),
    (
        'a ? b : ',
        [
            'unexpected end of input at line 1, column 8; expected an expression',
            '  a ? b : ',
            '         ^',
        ],
    ),
    (
        '{1: 2}',
        [
            "unexpected number `1` at line 1, column 2; expected a dict key or '}'",
            '  {1: 2}',
            '   ^',
        ],
    ),
    (
        '{a: 1, a: 2}',
        [
            'duplicate dict key `a` at line 1, column 8',
            '  {a: 1, a: 2}',
            '         ^',
        ],
    ),
    (
        'x[]',
        [
            "unexpected ']' at line 1, column 3; expected an expression",
            '  x[]',
            '    ^',
        ],
    ),
    (
        '()',
        [
            "unexpected ')' at line 1, column 2; expected an expression",
            '  ()',
            '   ^',
        ],
    ),
    (
        '1 2',
        [
            'unexpected number `2` at line 1, column 3; expected an operator or the end of input',
            '  1 2',
            '    ^',
        ],
    ),
    (
        '12abc',
        [
            'unexpected name `abc` at line 1, column 3; expected an operator or the end of input',
            '  12abc',
            '    ^^^',
        ],
    ),
    (
        'a andy',
        [
            'unexpected name `andy` at line 1, column 3; expected an operator or the end of input',
            '  a andy',
            '    ^^^^',
        ],
    ),
    (
        'rows\n  .filter(row => row["x"] >)\n  .count',
        [
            "unexpected ')' at line 2, column 28; expected an expression",
            '    .filter(row => row["x"] >)',
            '                             ^',
        ],
    ),
    (
        'rows.filter(row => row["x"] > )',
        [
            "unexpected ')' at line 1, column 31; expected an expression",
            '  rows.filter(row => row["x"] > )',
            '                                ^',
        ],
    ),
    (
        '99999999999999999999',
        [
            'integer literal `99999999999999999999` at line 1, column 1; it does not fit in 64 bits',
            '  99999999999999999999',
            '  ^^^^^^^^^^^^^^^^^^^^',
        ],
    ),
    (
        '[1, 2]]',
        [
            "unmatched ']' at line 1, column 7",
            '  [1, 2]]',
            '        ^',
        ],
    ),
    (
        'f(,)',
        [
            "unexpected ',' at line 1, column 3; expected an expression or ')'",
            '  f(,)',
            '    ^',
        ],
    ),
    (
        'a.(b)',
        [
            "unexpected '(' at line 1, column 3; expected an op name",
            '  a.(b)',
            '    ^',
        ],
    ),
]


@pytest.mark.parametrize(("text", "lines"), GOLDEN, ids=[repr(t)[:40] for t, _ in GOLDEN])
def test_golden_error_message(text, lines):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert str(info.value) == "\n".join(lines)


def test_there_are_enough_goldens():
    assert len(GOLDEN) >= 25


@pytest.mark.parametrize(("text", "_"), GOLDEN, ids=[repr(t)[:40] for t, _ in GOLDEN])
def test_error_carries_source_span_and_expected(text, _):
    with pytest.raises(ParseError) as info:
        parse(text)
    err = info.value
    assert isinstance(err, ExpressionError) and isinstance(err, WeaveError)
    assert err.source == text
    assert err.span is not None
    assert 0 <= err.span.start <= len(text)
    assert err.line >= 1 and err.column >= 1
    message = err.message
    assert "\n" not in message
    assert message[0].islower() or message[0] in "`'"
    assert isinstance(err.expected, tuple)


def test_position_attributes():
    with pytest.raises(ParseError) as info:
        parse('rows\n  .filter(row => row["x"] >)\n  .count')
    err = info.value
    assert (err.line, err.column) == (2, 28)
    assert err.expected == ("an expression",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("f(1, 2", ("')'",)),
        ("x.", ("an op name",)),
        ("a ? b", ("':'",)),
        ("Date(1)", ("a string",)),
        ("1 2", ("an operator", "the end of input")),
        ("f(,)", ("an expression", "')'")),
        ("{1: 2}", ("a dict key", "'}'")),
        ("[1 2]", ("','",)),
        ("a = 1", ("'=='",)),
    ],
)
def test_expected_names_are_human(text, expected):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.expected == expected


def test_long_lines_are_cut_around_the_error():
    text = "a + " * 60 + "* b"
    with pytest.raises(ParseError) as info:
        parse(text)
    message, source_line, caret_line = str(info.value).split("\n")
    assert message == "unexpected '*' at line 1, column 241; expected an expression"
    assert len(source_line) < 120
    assert source_line[caret_line.index("^")] == "*"


def test_error_inside_a_long_string_does_not_quote_all_of_it():
    text = 'Date("' + "x" * 5000 + '")'
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.message == (
        "invalid date `" + "x" * 37 + "...` at line 1, column 6; "
        "expected an ISO 8601 timestamp like `2024-05-01T12:00:00Z`"
    )
    assert len(str(info.value)) < 400
