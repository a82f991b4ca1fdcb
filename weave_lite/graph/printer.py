"""Render graph nodes back to expression text.

``render(node)`` prints a node in the syntax of SPEC section 3 with the fewest
parentheses that keep its meaning, so that ``parse(render(n)) == n`` for every
node the parser can produce (spans aside, which never take part in equality):

* operators print with their symbols (``add`` as ``+``, ``and`` as ``&&``,
  ``or`` as ``||``, ``cond`` as ``c ? a : b``), ``getitem`` as ``x[k]``,
  ``list`` and ``dict`` as ``[...]`` and ``{k: v}``;
* a call with a receiver prints as ``x.name`` (no other arguments) or
  ``x.name(args)``; a call with no arguments, a call of a root op
  (:data:`ROOT_OPS`), or a call whose first argument is a lambda or a
  non-string constant prints as ``name(args)``.  Both spellings parse to the
  same node, so this is only about reading well;
* an operator node of the wrong arity (``Call("add", (x,))``) prints as a root
  call, ``add(x)``, which parses back to the same node;
* a datetime constant prints as ``Date("2024-05-01T12:00:00Z")`` (in UTC), a
  string in double quotes with JavaScript escapes (single quotes when that
  avoids escaping), a float with ``repr``.

Constants the parser cannot produce still print as something readable that
means the same: a negative number as ``-1`` (parses as ``neg(1)``), infinity
as ``1e999``, NaN as ``(1e999 - 1e999)``, a ``date`` as ``Date("2024-05-01")``.
``bytes`` constants print as ``Bytes("<hex>")``, which does not parse back to
bytes.  Names that cannot be written in the language (an op called ``"a b"``,
a variable called ``true``) raise ``ValueError``.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import cast

from weave_lite.graph.nodes import BINARY_OPERATORS, UNARY_OPERATORS, Call, Const, Lambda, Node, Var

__all__ = ["ROOT_OPS", "render", "to_source"]

#: Ops that read best as ``name(args)`` even when they have arguments.
ROOT_OPS = frozenset({"stream_table", "table", "now", "binsfixed", "binsequal", "timestampBinsNice"})

# Words that lex as literals where an expression starts (see weave.lark).
_RESERVED = frozenset({"true", "false", "null", "Date"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Binding strength, loosest first (the layers of grammar/weave.lark).
_LAMBDA, _COND, _COALESCE, _OR, _AND, _EQ, _REL, _ADD, _MUL, _UNARY, _POW, _POSTFIX, _ATOM = range(13)

# op -> (symbol, precedence); binary operators are left-associative except `**`.
_BINARY: dict[str, tuple[str, int]] = {
    "coalesce": ("??", _COALESCE),
    "or": ("||", _OR),
    "and": ("&&", _AND),
    "eq": ("==", _EQ),
    "ne": ("!=", _EQ),
    "lt": ("<", _REL),
    "le": ("<=", _REL),
    "gt": (">", _REL),
    "ge": (">=", _REL),
    "add": ("+", _ADD),
    "sub": ("-", _ADD),
    "mul": ("*", _MUL),
    "div": ("/", _MUL),
    "mod": ("%", _MUL),
    "pow": ("**", _POW),
}
_UNARY_SYMBOLS = {"neg": "-", "not": "!"}

# Keep the tables in step with the parser's.
assert set(_BINARY) == set(BINARY_OPERATORS.values())
assert set(_UNARY_SYMBOLS) == set(UNARY_OPERATORS.values())

_NAMED_ESCAPES = {
    "\\": "\\\\",
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\b": "\\b",
    "\f": "\\f",
    "\v": "\\v",
    "\0": "\\0",
}


def render(node: Node) -> str:
    """Expression text for ``node`` (see the module docstring).

    Works bottom-up with an explicit stack, so trees of any depth print
    without recursion.
    """
    done: dict[int, tuple[str, int]] = {}  # id(node) -> (text, precedence)
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, ready = stack.pop()
        key = id(current)
        if ready:
            done[key] = _fragment(current, done)
        elif key not in done:  # a subtree shared by several parents is printed once
            stack.append((current, True))
            stack.extend((child, False) for child in _children(current))
    return done[id(node)][0]


def to_source(node: Node) -> str:
    """Render a node back to expression text (used by ``explain`` and the node builder)."""
    return render(node)


def _children(node) -> tuple:
    kind = type(node)
    if kind is Call:
        return node.args
    if kind is Lambda:
        return (node.body,)
    return ()


def _fragment(node: Node, done: dict[int, tuple[str, int]]) -> tuple[str, int]:
    """The text of ``node`` and how tightly it binds; its children are in ``done``."""
    kind = type(node)
    if type(node) is Call:  # exact types (``type(node) is`` so that the checker narrows)
        return _call(node, done)
    if type(node) is Var:
        return _checked_name(node.name, "variable"), _ATOM
    if type(node) is Const:
        return _const(node.value)
    if type(node) is Lambda:
        return _lambda(node, done), _LAMBDA
    if isinstance(node, Node):
        msg = f"cannot render a node of type `{kind.__name__}`"
        raise TypeError(msg)
    msg = f"expected a graph node, got `{kind.__name__}`"
    raise TypeError(msg)


def _call(node: Call, done) -> tuple[str, int]:
    op, args = node.op, node.args
    n = len(args)

    def sub(child: Node, min_prec: int) -> str:
        text, prec = done[id(child)]
        return text if prec >= min_prec else f"({text})"

    def arglist(items) -> str:
        return ", ".join(sub(a, _LAMBDA) for a in items)

    if n == 2 and op in _BINARY:
        symbol, prec = _BINARY[op]
        if op == "pow":  # right-assoc; the left side must be a postfix expression
            left, right = sub(args[0], _POSTFIX), sub(args[1], _UNARY)
        else:
            left, right = sub(args[0], prec), sub(args[1], prec + 1)
        return f"{left} {symbol} {right}", prec
    if n == 1 and op in _UNARY_SYMBOLS:
        return _UNARY_SYMBOLS[op] + sub(args[0], _UNARY), _UNARY
    if n == 3 and op == "cond":
        return f"{sub(args[0], _COALESCE)} ? {sub(args[1], _LAMBDA)} : {sub(args[2], _LAMBDA)}", _COND
    if n == 2 and op == "getitem":
        return f"{sub(args[0], _POSTFIX)}[{sub(args[1], _LAMBDA)}]", _POSTFIX
    if op == "list":
        return f"[{arglist(args)}]", _ATOM
    if op == "dict" and _is_dict_literal(args):
        items = ", ".join(f"{_key(cast(Const, args[i]).value)}: {sub(args[i + 1], _LAMBDA)}" for i in range(0, n, 2))
        return "{" + items + "}", _ATOM
    canonical = op in _BINARY or op in _UNARY_SYMBOLS or op in ("cond", "getitem", "dict")
    root_style = (
        n == 0
        or canonical
        or op in ROOT_OPS
        or not _NAME.match(op)
        or type(args[0]) is Lambda
        or (type(args[0]) is Const and not isinstance(args[0].value, str))  # `abs(1)`, not `1.abs`
    )
    if root_style and op not in _RESERVED:
        return f"{_checked_name(op, 'op')}({arglist(args)})", _ATOM
    if n == 0:
        msg = f"cannot render a call of `{op}` with no arguments: `{op}` is a reserved word"
        raise ValueError(msg)
    name = _checked_name(op, "op", reserved_ok=True)
    receiver = sub(args[0], _POSTFIX)
    if n == 1:
        return f"{receiver}.{name}", _POSTFIX
    return f"{receiver}.{name}({arglist(args[1:])})", _POSTFIX


def _is_dict_literal(args) -> bool:
    if len(args) % 2:
        return False
    keys = args[0::2]
    if not all(type(k) is Const and type(k.value) is str for k in keys):
        return False
    return len({k.value for k in keys}) == len(keys)  # the parser refuses duplicate keys


def _key(key: str) -> str:
    return key if _NAME.match(key) else _string(key)


def _lambda(node: Lambda, done) -> str:
    params = node.params
    for p in params:
        _checked_name(p, "lambda parameter")
    if len(set(params)) != len(params):
        msg = f"cannot render a lambda with duplicate parameters {params!r}"
        raise ValueError(msg)
    head = params[0] if len(params) == 1 else "(" + ", ".join(params) + ")"
    return f"{head} => {done[id(node.body)][0]}"  # a body never needs parentheses


def _checked_name(name: str, what: str, *, reserved_ok: bool = False) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or (not reserved_ok and name in _RESERVED):
        msg = f"cannot render {what} name {name!r}: not a valid name in the expression language"
        raise ValueError(msg)
    return name


def _const(value) -> tuple[str, int]:
    if value is None:
        return "null", _ATOM
    if value is True:
        return "true", _ATOM
    if value is False:
        return "false", _ATOM
    kind = type(value)
    if kind is int or (isinstance(value, int) and not isinstance(value, bool)):
        text = str(int(value))
        return text, (_UNARY if value < 0 else _ATOM)
    if kind is float or isinstance(value, float):
        value = float(value)
        if math.isnan(value):
            return "(1e999 - 1e999)", _ATOM
        if math.isinf(value):
            return ("-1e999", _UNARY) if value < 0 else ("1e999", _ATOM)
        text = repr(value)
        return text, (_UNARY if text.startswith("-") else _ATOM)
    if isinstance(value, str):
        return _string(value), _ATOM
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        utc = value.astimezone(UTC).replace(tzinfo=None)
        return f'Date("{utc.isoformat()}Z")', _ATOM
    if isinstance(value, date):
        return f'Date("{value.isoformat()}")', _ATOM
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f'Bytes("{bytes(value).hex()}")', _ATOM
    msg = f"cannot render a constant of type `{kind.__name__}`"
    raise TypeError(msg)


def _string(s: str) -> str:
    quote = "'" if '"' in s and "'" not in s else '"'
    out = []
    for ch in s:
        if ch == quote:
            out.append("\\" + ch)
        elif ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif ch.isprintable() or "\ud800" <= ch <= "\udfff":
            # Surrogates stay raw: escaped, a high-low pair would read back as one character.
            # (A lone surrogate is not text: the parser refuses it, so such a string does not
            # parse back; no parsed string holds one.)
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\u{{{ord(ch):x}}}")
    return quote + "".join(out) + quote
