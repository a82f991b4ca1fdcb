"""Resource limits: huge or deeply nested expressions fail fast with ResourceLimitError."""

from __future__ import annotations

import pytest

from weave_lite.errors import ParseError, ResourceLimitError
from weave_lite.graph.nodes import Call
from weave_lite.graph.printer import render
from weave_lite.lang import MAX_DEPTH, MAX_LENGTH, parse


def test_limits():
    assert MAX_LENGTH == 100_000
    assert MAX_DEPTH == 200


def test_ten_thousand_nested_parentheses():
    text = "(" * 10_000 + "1" + ")" * 10_000
    with pytest.raises(ResourceLimitError) as info:
        parse(text)
    assert info.value.message == (
        "expression is nested too deeply at line 1, column 201: more than 200 levels of brackets"
    )
    assert info.value.span.start == 200


def test_ten_thousand_unclosed_brackets():
    with pytest.raises(ResourceLimitError):
        parse("[" * 10_000)
    with pytest.raises(ResourceLimitError):
        parse("f(" * 5_000)
    with pytest.raises(ResourceLimitError):
        parse("{a: " * 5_000)


def test_one_megabyte_string_literal():
    text = '"' + "x" * 1_000_000 + '"'
    with pytest.raises(ResourceLimitError) as info:
        parse(text)
    assert str(info.value) == "expression is too long: 1,000,002 characters; the limit is 100,000"


def test_long_but_allowed_string_literal():
    text = '"' + "x" * (MAX_LENGTH - 2) + '"'
    assert parse(text).value == "x" * (MAX_LENGTH - 2)
    with pytest.raises(ResourceLimitError):
        parse(text + " ")


def test_brackets_inside_strings_do_not_count():
    text = '"' + "(" * 5_000 + '"'
    assert parse(text).value == "(" * 5_000
    text = "[" + ", ".join(['"[[[["'] * 100) + "]"
    assert len(parse(text).args) == 100


def test_exactly_the_limit_is_allowed():
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    node = parse(text)
    # Consumers that recurse (equality, hashing, printing) are safe at the limit.
    assert node == parse(text)
    assert hash(node) == hash(parse(text))
    assert parse(render(node)) == node
    with pytest.raises(ResourceLimitError):
        parse("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


def test_parentheses_alone_do_not_make_the_tree_deep():
    text = "(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    assert parse(text) == parse("x")


@pytest.mark.parametrize(
    "text",
    [
        "-" * 5_000 + "x",
        "!" * 5_000 + "x",
        "a" + " + a" * 5_000,
        "2" + " ** 2" * 5_000,
        "x" + ".f" * 5_000,
        "x" + "[0]" * 5_000,
        "c ? 1 : " * 5_000 + "0",
        "x => " * 5_000 + "x",
    ],
    ids=["neg", "not", "add", "pow", "method", "getitem", "cond", "lambda"],
)
def test_deep_operator_chains(text):
    with pytest.raises(ResourceLimitError) as info:
        parse(text)
    assert "more than 200 levels of operators and calls" in info.value.message


def test_long_flat_expressions_are_fine():
    node = parse("[" + ", ".join(str(i) for i in range(5_000)) + "]")
    assert isinstance(node, Call) and len(node.args) == 5_000
    node = parse("a" + " + a" * 150)
    assert node.op == "add"


def test_resource_errors_are_not_parse_errors():
    # Callers can tell "too big" apart from "wrong syntax".
    assert not issubclass(ResourceLimitError, ParseError)
