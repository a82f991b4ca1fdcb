"""Turn the reductions of ``grammar/weave.lark`` into graph nodes.

:class:`NodeBuilder` is handed to Lark as ``transformer=``, so the LALR parser
calls one method per grammar alias as it reduces, and no parse tree is ever
built.  Lark does not pass ``meta`` to such an inline transformer; instead the
parser keeps every token (``keep_all_tokens=True``) and each method computes
its node's :class:`~weave_lite.errors.Span` from its first and last child (a
token, or a node that already has a span).

The methods only build nodes (see :mod:`weave_lite.graph.nodes` for the
mapping); they check what the grammar cannot express (string escapes, dates,
integer range, lambda parameters, duplicate keys) and raise
:class:`~weave_lite.errors.ParseError` without the source text, which
:func:`weave_lite.lang.parser.parse` attaches.

Decisions worth knowing:

* ``-1`` is ``Call("neg", (Const(1),))``: unary minus is never folded into a
  literal (constant folding is the compiler's job).
* A parenthesised expression is the inner node, its span widened to cover the
  parentheses.
* Strings: ``\\n \\t \\r \\b \\f \\v \\0 \\\\ \\' \\" \\/ \\xHH \\uXXXX \\u{X...}``;
  a ``\\uD83D\\uDE00`` surrogate pair is joined into one code point and a lone
  surrogate escape is an error, so every parsed string is valid Unicode.
* ``Date("...")`` accepts ISO 8601 (``datetime.fromisoformat``); a date with
  no offset is taken as UTC, any offset is converted to UTC.
* Integer literals above ``2**63`` are an error (integers are 64-bit; ``2**63``
  itself is allowed so that ``-9223372036854775808`` can be written).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lark import Token, Transformer

from weave_lite.errors import ParseError, Span
from weave_lite.graph.nodes import BINARY_OPERATORS, UNARY_OPERATORS, Call, Const, Lambda, Node, Var

__all__ = ["NodeBuilder", "RESERVED_NAMES", "decode_string"]

#: Words that lex as literals where an expression may start, so they cannot be
#: variables, parameters or root op names (they may still be op names after a
#: dot and dict keys).
RESERVED_NAMES = frozenset({"true", "false", "null", "Date"})

_INT64_LIMIT = 2**63

_SIMPLE_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "0": "\0",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "/": "/",
}

# One escape sequence: a surrogate pair first, then any other \u form, \x, or one char.
_ESCAPE = re.compile(
    r"\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
    r"|u\{([0-9a-fA-F]{1,6})\}"
    r"|u([0-9a-fA-F]{4})"
    r"|x([0-9a-fA-F]{2})"
    r"|(.))",
    re.DOTALL,
)


def _positions(tok: Token) -> tuple[int, int, int, int]:
    """``(start, end, line, column)`` of a token; the lexer sets them all (lark types them optional)."""
    start, end, line, column = tok.start_pos, tok.end_pos, tok.line, tok.column
    assert start is not None and end is not None and line is not None and column is not None
    return start, end, line, column


def _span(first, last) -> Span:
    """The span from the start of ``first`` to the end of ``last`` (tokens or nodes)."""
    if type(first) is Token:
        start, _, line, column = _positions(first)
    else:
        s = first.span
        start, line, column = s.start, s.line, s.column
    end = _positions(last)[1] if type(last) is Token else last.span.end
    return Span(start, end, line, column)


def _token_span(tok: Token) -> Span:
    return Span(*_positions(tok))


def _sub_span(tok: Token, offset: int, length: int) -> Span:
    """A span inside a one-line token (strings cannot hold raw newlines)."""
    start, _, line, column = _positions(tok)
    return Span(start + offset, start + offset + length, line, column + offset)


def _error(what: str, span: Span, hint: str = "", expected: tuple[str, ...] = ()) -> ParseError:
    """``<what> at line L, column C[; <hint>]``, pointing at ``span``."""
    message = f"{what} at line {span.line}, column {span.column}"
    return ParseError(f"{message}; {hint}" if hint else message, span=span, expected=expected)


def decode_string(tok: Token) -> str:
    """The value of a STRING token: strip the quotes, resolve the escapes."""
    body = tok[1:-1]
    if "\\" not in body:
        return body

    def replace(m: re.Match) -> str:
        hi, lo, braced, u4, x2, other = m.groups()
        if hi is not None:
            return chr(0x10000 + ((int(hi, 16) - 0xD800) << 10) + (int(lo, 16) - 0xDC00))
        if x2 is not None:
            return chr(int(x2, 16))
        if u4 is not None or braced is not None:
            code = int(u4 if u4 is not None else braced, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                text = m.group(0)
                what = "it is a lone surrogate" if code <= 0x10FFFF else "code points end at U+10FFFF"
                raise _error(f"invalid unicode escape `{text}`", _sub_span(tok, 1 + m.start(), len(text)), what)
            return chr(code)
        if other in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[other]
        text = m.group(0)
        if other in ("u", "x"):
            # Show the hex digits that were there: `\u12`, `\x4`.
            found = re.match(r"[0-9a-fA-F]{0,3}", body[m.end() :])
            digits = found.group() if found else ""
            text += digits[: 3 if other == "u" else 1]
            example = "`\\u00e9` or `\\u{1F600}`" if other == "u" else "`\\x41`"
            hint = f"expected hex digits as in {example}"
        else:
            hint = "use `\\\\` for a backslash"
        raise _error(f"invalid escape `{text}` in string", _sub_span(tok, 1 + m.start(), len(text)), hint)

    return _ESCAPE.sub(replace, body)


def _parse_date(tok: Token) -> datetime:
    text = decode_string(tok)
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        else:
            value = value.astimezone(UTC)
    except (ValueError, OverflowError):
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise _error(
            f"invalid date `{shown}`",
            _token_span(tok),
            "expected an ISO 8601 timestamp like `2024-05-01T12:00:00Z`",
            ("an ISO 8601 timestamp",),
        ) from None
    return value


class NodeBuilder(Transformer):
    """Lark transformer: one method per grammar alias, each returning a graph node.

    ``args``, ``pairs``, ``pair`` and ``params`` return plain lists/tuples that
    the enclosing rule consumes.  The instance holds no state, so one parser
    can serve many threads.
    """

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)

    # ----------------------------------------------------------- literals

    def int(self, c):
        tok = c[0]
        if len(tok) > 19:
            digits = tok.lstrip("0") or "0"
            if len(digits) > 19 or int(digits) > _INT64_LIMIT:
                shown = tok if len(tok) <= 30 else tok[:27] + "..."
                raise _error(f"integer literal `{shown}`", _token_span(tok), "it does not fit in 64 bits")
        return Const(int(tok), _token_span(tok))

    def float(self, c):
        tok = c[0]
        return Const(float(tok), _token_span(tok))

    def string(self, c):
        tok = c[0]
        return Const(decode_string(tok), _token_span(tok))

    def true(self, c):
        return Const(True, _token_span(c[0]))

    def false(self, c):
        return Const(False, _token_span(c[0]))

    def null(self, c):
        return Const(None, _token_span(c[0]))

    def date(self, c):
        # "Date" "(" STRING ")"
        return Const(_parse_date(c[2]), _span(c[0], c[3]))

    def var(self, c):
        tok = c[0]
        return Var(str(tok), _token_span(tok))

    def paren(self, c):
        # "(" expr ")": the inner node, its span widened over the parentheses.
        node = c[1]
        span = _span(c[0], c[2])
        if type(node) is Call:
            return Call(node.op, node.args, span, node.name_span)
        if type(node) is Const:
            return Const(node.value, span)
        if type(node) is Var:
            return Var(node.name, span)
        return Lambda(node.params, node.body, span)

    def list(self, c):
        # "[" [args] "]"
        args = tuple(c[1]) if len(c) == 3 else ()
        return Call("list", args, _span(c[0], c[-1]), _token_span(c[0]))

    def dict(self, c):
        # "{" [pairs] "}"
        flat: list[Node] = []
        if len(c) == 3:
            for key, value in c[1]:
                flat.append(key)
                flat.append(value)
        return Call("dict", tuple(flat), _span(c[0], c[-1]), _token_span(c[0]))

    def args(self, c):
        return [x for x in c if type(x) is not Token]

    def pairs(self, c):
        pairs = [x for x in c if type(x) is not Token]
        if len(pairs) > 1:
            seen: set[str] = set()
            for key, _ in pairs:
                if key.value in seen:
                    raise _error(f"duplicate dict key `{key.value}`", key.span)
                seen.add(key.value)
        return pairs

    def pair(self, c):
        # (NAME | STRING) ":" expr
        tok = c[0]
        key = decode_string(tok) if tok.type == "STRING" else str(tok)
        return (Const(key, _token_span(tok)), c[2])

    # ---------------------------------------------------------- operators

    def binary(self, c):
        left, op, right = c
        return Call(BINARY_OPERATORS[op], (left, right), _span(left, right), _token_span(op))

    def unary(self, c):
        op, operand = c
        return Call(UNARY_OPERATORS[op], (operand,), _span(op, operand), _token_span(op))

    def cond(self, c):
        # coalesce "?" expr ":" expr
        test, q, then, _colon, other = c
        return Call("cond", (test, then, other), _span(test, other), _token_span(q))

    # ------------------------------------------------------ calls, access

    def attribute(self, c):
        # postfix "." NAME
        recv, _dot, name = c
        return Call(str(name), (recv,), _span(recv, name), _token_span(name))

    def method(self, c):
        # postfix "." NAME "(" [args] ")"
        recv, name = c[0], c[2]
        args = (recv, *c[4]) if len(c) == 6 else (recv,)
        return Call(str(name), args, _span(recv, c[-1]), _token_span(name))

    def call(self, c):
        # NAME "(" [args] ")"
        name = c[0]
        args = tuple(c[2]) if len(c) == 4 else ()
        return Call(str(name), args, _span(name, c[-1]), _token_span(name))

    def getitem(self, c):
        # postfix "[" expr "]"
        recv, lsqb, key, rsqb = c
        return Call("getitem", (recv, key), _span(recv, rsqb), _span(lsqb, rsqb))

    # ------------------------------------------------------------ lambdas

    def params(self, c):
        return [x for x in c if x.type == "NAME"]

    def lambda_expr(self, c):
        # NAME "=>" expr  |  LAMBDA_LPAR [params] ")" "=>" expr
        first, body = c[0], c[-1]
        if first.type == "NAME":
            names = [first]
        elif len(c) == 5:
            names = c[1]
        else:
            names = []
        seen: set[str] = set()
        for tok in names:
            if tok in RESERVED_NAMES:
                raise _error(
                    f"reserved word `{tok}` as a lambda parameter", _token_span(tok), "choose another name", ("a name",)
                )
            if tok in seen:
                raise _error(f"duplicate lambda parameter `{tok}`", _token_span(tok))
            seen.add(str(tok))
        return Lambda(tuple(str(t) for t in names), body, _span(first, body))
