"""Error messages of the expression parser.

Lark reports a syntax error as ``UnexpectedCharacters`` (the lexer found no
token) or ``UnexpectedToken`` (the LALR parser got a token it cannot use).
:func:`from_lark` turns either into a :class:`~weave_lite.errors.ParseError`
whose message is one lower-case line saying what is wrong and where, with the
offending text quoted; :class:`~weave_lite.errors.ExpressionError` adds the
expression with a caret line under the offending part::

    missing ')' to close '(' at line 1, column 12
      rows.filter(row => row["x"] > 5
                 ^

Common mistakes get a message of their own: an unterminated string, an
unclosed or mismatched bracket, ``=`` for ``==``, ``&``/``|`` for ``&&``/``||``,
an unknown character, a missing comma between items, a lambda whose
parameters are not names, empty input.  Everything else reads
``unexpected <what> at line L, column C; expected <what would be valid>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from weave_lite.errors import ParseError, Span

__all__ = [
    "EXPRESSION_START",
    "TERMINAL_NAMES",
    "OPERATORS",
    "bracket_stack",
    "describe_expected",
    "describe_token",
    "first_too_deep_bracket",
    "from_lark",
    "join_alternatives",
    "location",
    "span_at",
]

# Human names of terminals, in the order they are listed after "expected".
_TERMINAL_NAMES: dict[str, str] = {
    "NAME": "a name",
    "STRING": "a string",
    "INT": "a number",
    "FLOAT": "a number",
    "LAMBDA_LPAR": "'('",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "COMMA": "','",
    "COLON": "':'",
    "DOT": "'.'",
    "ARROW": "'=>'",
    "QMARK": "'?'",
    "COALESCE": "'??'",
    "OROR": "'||'",
    "OR": "'or'",
    "ANDAND": "'&&'",
    "AND": "'and'",
    "EQ": "'=='",
    "NE": "'!='",
    "STRICT_EQ": "'==='",
    "STRICT_NE": "'!=='",
    "LT": "'<'",
    "LE": "'<='",
    "GT": "'>'",
    "GE": "'>='",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "PERCENT": "'%'",
    "POW": "'**'",
    "BANG": "'!'",
    "TRUE": "'true'",
    "FALSE": "'false'",
    "NULL": "'null'",
    "DATE": "'Date'",
    "$END": "the end of input",
}
_ORDER = {name: i for i, name in enumerate(_TERMINAL_NAMES)}
#: Every terminal of the grammar (and "$END").
TERMINAL_NAMES = frozenset(_TERMINAL_NAMES)

#: Terminals that can start an expression.
EXPRESSION_START = frozenset(
    {
        "NAME",
        "INT",
        "FLOAT",
        "STRING",
        "TRUE",
        "FALSE",
        "NULL",
        "DATE",
        "LPAR",
        "LAMBDA_LPAR",
        "LSQB",
        "LBRACE",
        "MINUS",
        "BANG",
    }
)
#: Binary and ternary operators (what may follow a complete operand).
OPERATORS = frozenset(
    {
        "QMARK",
        "COALESCE",
        "OROR",
        "OR",
        "ANDAND",
        "AND",
        "EQ",
        "NE",
        "STRICT_EQ",
        "STRICT_NE",
        "LT",
        "LE",
        "GT",
        "GE",
        "PLUS",
        "MINUS",
        "STAR",
        "SLASH",
        "PERCENT",
        "POW",
    }
)
# Also valid after an operand, but not worth listing once "an operator" is.
_POSTFIX = frozenset({"DOT", "LSQB", "LPAR", "ARROW"})

_CLOSER = {"(": ")", "[": "]", "{": "}"}
_CLOSER_TERMINAL = {"(": "RPAR", "[": "RSQB", "{": "RBRACE"}
_CLOSING_TERMINALS = {"RPAR": ")", "RSQB": "]", "RBRACE": "}"}

# Strings (skipped whole), a lone quote (an unterminated string), or a bracket.
_SCAN = re.compile(r""""[^"\\\n]*(?:\\.[^"\\\n]*)*"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'|["'()\[\]{}]""")

_LAMBDA_HINT = "parameters must be names, as in `(row, index) => ...`"


# ------------------------------------------------------------------ helpers


def location(text: str, pos: int) -> tuple[int, int]:
    """1-based ``(line, column)`` of offset ``pos`` in ``text``."""
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, column


def span_at(text: str, start: int, end: int | None = None) -> Span:
    """The :class:`Span` ``[start, end)`` of ``text`` (one character when ``end`` is omitted)."""
    line, column = location(text, start)
    return Span(start, start + 1 if end is None else end, line, column)


def _where(span: Span) -> str:
    return f"line {span.line}, column {span.column}"


def _shorten(s: str, limit: int = 30) -> str:
    return s if len(s) <= limit else s[: limit - 3] + "..."


def describe_token(tok) -> str:
    """``name `x```, ``number `2```, ``string `"a"```, ``')'`` or ``end of input``."""
    kind = tok.type
    if kind == "$END":
        return "end of input"
    if kind == "NAME":
        return f"name `{_shorten(tok)}`"
    if kind in ("INT", "FLOAT"):
        return f"number `{_shorten(tok)}`"
    if kind == "STRING":
        return f"string `{_shorten(tok)}`"
    return f"'{tok}'"


def describe_expected(terminals: Iterable[str]) -> tuple[str, ...]:
    """Human names for a set of terminal names, grouped and in a stable order.

    A set that holds every way to start an expression reads "an expression";
    one that holds the binary operators reads "an operator".
    """
    names = set(terminals)
    out: list[str] = []
    if {"NAME", "INT", "LSQB"} <= names:
        out.append("an expression")
        names -= EXPRESSION_START
    elif {"NAME", "STRING"} <= names:
        out.append("a dict key")
        names -= {"NAME", "STRING"}
    elif names == {"NAME"}:
        return ("an op name",)
    if names & OPERATORS:
        out.append("an operator")
        names -= OPERATORS | _POSTFIX
    seen = set(out)
    for name in sorted(names, key=lambda n: (_ORDER.get(n, len(_ORDER)), n)):
        human = _TERMINAL_NAMES.get(name, name)
        if human not in seen:
            seen.add(human)
            out.append(human)
    return tuple(out)


def join_alternatives(items: tuple[str, ...]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    if not items:
        return "nothing"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def bracket_stack(text: str, stop: int) -> list[tuple[str, int]]:
    """The brackets still open at offset ``stop``: ``[(char, offset), ...]``, innermost last.

    Brackets inside strings do not count; the scan ends at an unterminated string.
    """
    stack: list[tuple[str, int]] = []
    for m in _SCAN.finditer(text, 0, stop):
        ch = m.group()
        if len(ch) != 1:
            continue
        if ch in _CLOSER:
            stack.append((ch, m.start()))
        elif ch in "\"'":
            break
        elif stack and _CLOSER[stack[-1][0]] == ch:
            stack.pop()
    return stack


def _matching_close(text: str, open_pos: int) -> int | None:
    """Offset of the bracket that closes the one at ``open_pos``, if any."""
    depth = 0
    for m in _SCAN.finditer(text, open_pos):
        ch = m.group()
        if len(ch) != 1:
            continue
        if ch in _CLOSER:
            depth += 1
        elif ch in "\"'":
            return None
        else:
            depth -= 1
            if depth == 0:
                return m.start()
    return None


def first_too_deep_bracket(text: str, limit: int) -> int | None:
    """Offset of the first opening bracket nested deeper than ``limit``, or ``None``."""
    depth = 0
    for m in _SCAN.finditer(text):
        ch = m.group()
        if len(ch) != 1:
            continue
        if ch in _CLOSER:
            depth += 1
            if depth > limit:
                return m.start()
        elif ch in "\"'":
            return None  # the lexer stops at an unterminated string anyway
        elif depth:
            depth -= 1
    return None


# ------------------------------------------------------------- from lark


def from_lark(exc: UnexpectedInput, text: str) -> ParseError:
    """The :class:`ParseError` for a Lark syntax error in ``text``."""
    if isinstance(exc, UnexpectedToken):
        return _unexpected_token(exc, text)
    if isinstance(exc, UnexpectedCharacters):
        return _unexpected_characters(exc, text)
    pos = min(max(getattr(exc, "pos_in_stream", None) or 0, 0), len(text))
    span = span_at(text, pos)
    return ParseError(f"syntax error at {_where(span)}", source=text, span=span)


def _error(message: str, text: str, span: Span, expected: tuple[str, ...]) -> ParseError:
    return ParseError(message, source=text, span=span, expected=expected)


def _acceptable(exc: UnexpectedInput, fallback: Iterable[str] | None) -> set[str]:
    """The terminals that could really come next.

    An LALR state's own lookahead set is too wide (states are merged, so `1 2`
    would claim that ',' may follow), so ask Lark's interactive parser, which
    tries each terminal on a copy of the parser stack.
    """
    parser = getattr(exc, "interactive_parser", None)
    if parser is not None:
        try:
            return set(parser.accepts())
        except Exception:  # best effort, fall back to the state's lookahead set
            pass
    return set(fallback or ())


def _unexpected_characters(exc: UnexpectedCharacters, text: str) -> ParseError:
    pos = exc.pos_in_stream
    assert pos is not None  # always set for a lexer error
    ch = text[pos]
    expected = describe_expected(_acceptable(exc, exc.allowed))
    if ch in "\"'":
        line_end = text.find("\n", pos)
        span = span_at(text, pos, len(text) if line_end == -1 else line_end)
        return _error(f"unterminated string starting at {_where(span)}", text, span, (f"a closing {ch}",))
    span = span_at(text, pos)
    if ch == "=":
        return _error(f"unexpected '=' at {_where(span)}; use '==' to compare values", text, span, ("'=='",))
    if ch in "&|":
        hint = "'&&' or 'and'" if ch == "&" else "'||' or 'or'"
        return _error(f"unexpected '{ch}' at {_where(span)}; use {hint}", text, span, expected)
    shown = ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
    return _error(f"unknown character '{shown}' at {_where(span)}", text, span, expected)


def _unexpected_token(exc: UnexpectedToken, text: str) -> ParseError:
    tok = exc.token
    kind = tok.type
    expected_terminals = _acceptable(exc, exc.expected)
    expected = describe_expected(expected_terminals)
    if kind == "$END":
        end = len(text.rstrip())
        span = span_at(text, end, end)
    else:
        span = Span(tok.start_pos, tok.end_pos, tok.line, tok.column)
    stack = bracket_stack(text, span.start)

    # A lambda whose parameter list is not a list of names.
    if kind == "ARROW":
        before = text[: span.start].rstrip()
        if before.endswith(")"):
            inner = bracket_stack(text, len(before) - 1)
            if inner and inner[-1][0] == "(":
                return _bad_lambda_list(text, inner[-1][1], len(before))
        return _error(f"unexpected '=>' at {_where(span)}; lambda {_LAMBDA_HINT}", text, span, expected)
    if stack and stack[-1][0] == "(":
        close = _matching_close(text, stack[-1][1])
        if close is not None and text[close + 1 :].lstrip().startswith("=>"):
            return _bad_lambda_list(text, stack[-1][1], close + 1)

    if kind in _CLOSING_TERMINALS:
        if not stack:
            return _error(f"unmatched '{tok}' at {_where(span)}", text, span, expected)
        opener, open_pos = stack[-1]
        want = _CLOSER_TERMINAL[opener]
        if want in expected_terminals and want != kind:
            open_span = span_at(text, open_pos)
            return _error(
                f"unexpected '{tok}' at {_where(span)}; expected '{_CLOSER[opener]}' "
                f"to close '{opener}' at {_where(open_span)}",
                text,
                span,
                (f"'{_CLOSER[opener]}'",),
            )
    elif kind == "$END":
        if stack and _CLOSER_TERMINAL[stack[-1][0]] in expected_terminals:
            opener, open_pos = stack[-1]
            open_span = span_at(text, open_pos)
            return _error(
                f"missing '{_CLOSER[opener]}' to close '{opener}' at {_where(open_span)}",
                text,
                open_span,
                (f"'{_CLOSER[opener]}'",),
            )
    elif kind in EXPRESSION_START and "COMMA" in expected_terminals:
        return _error(f"missing ',' before {describe_token(tok)} at {_where(span)}", text, span, ("','",))

    return _error(
        f"unexpected {describe_token(tok)} at {_where(span)}; expected {join_alternatives(expected)}",
        text,
        span,
        expected,
    )


def _bad_lambda_list(text: str, start: int, end: int) -> ParseError:
    span = span_at(text, start, end)
    shown = _shorten(" ".join(text[start:end].split()), 40)
    return _error(f"bad lambda parameter list `{shown}` at {_where(span)}; {_LAMBDA_HINT}", text, span, ("a name",))
