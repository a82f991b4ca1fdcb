"""The op graph: immutable, hashable expression nodes.

The parser turns expression text into these nodes; the compiler, the
reference interpreter in ``tests/`` and the Python node builder all consume
them.  Nodes compare and hash by structure only: the ``span`` (where the node
came from in the source text) is carried along for error messages but never
takes part in equality, so two spellings of the same expression are the same
graph (which is what common-subexpression elimination and plan caching need).

There are four kinds of node:

* :class:`Const` - a scalar literal: ``None``, ``bool``, ``int``, ``float``,
  ``str``, ``bytes`` or a timezone-aware ``datetime``.  List and dict literals
  are calls of the ``list`` and ``dict`` ops so that their items may be
  expressions.
* :class:`Var` - a variable: a lambda parameter or a free variable bound with
  ``vars=``.
* :class:`Lambda` - ``row => body`` / ``(row, index) => body``.
* :class:`Call` - an op applied to arguments.  ``x.name`` and ``x.name(a)``
  become ``Call("name", (x, a))``; ``name(a)`` becomes ``Call("name", (a,))``.

Canonical op names used by the parser for the operators and brackets (all
other calls keep the name written in the source):

==========================  =====================================
source                      node
==========================  =====================================
``a + b`` ... ``a ** b``    ``add sub mul div mod pow``
``a == b`` (also ``===``)   ``eq``; ``!=``/``!==`` -> ``ne``
``< <= > >=``               ``lt le gt ge``
``a && b`` / ``a and b``    ``and``; ``||``/``or`` -> ``or``
``!a``, ``-a``              ``not``, ``neg``
``a ?? b``                  ``coalesce``
``c ? a : b``               ``cond``
``x[k]``                    ``getitem`` (pick a key, a column or an index)
``[a, b]``                  ``list`` (items as arguments)
``{k: v, ...}``             ``dict`` (``Const`` key, value, key, value, ...)
``Date("...")``             ``Const`` holding a UTC ``datetime``
==========================  =====================================
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from weave_lite.errors import Span

BINARY_OPERATORS: dict[str, str] = {
    "+": "add",
    "-": "sub",
    "*": "mul",
    "/": "div",
    "%": "mod",
    "**": "pow",
    "==": "eq",
    "===": "eq",
    "!=": "ne",
    "!==": "ne",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
    "&&": "and",
    "and": "and",
    "||": "or",
    "or": "or",
    "??": "coalesce",
}

UNARY_OPERATORS: dict[str, str] = {"!": "not", "-": "neg"}


class Node:
    """Base class of every graph node."""

    __slots__ = ()
    span: Span | None

    def children(self) -> tuple[Node, ...]:
        return ()

    def walk(self) -> Iterator[Node]:
        """Yield this node and every node below it, parents first."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children()))


@dataclass(frozen=True, slots=True)
class Const(Node):
    """A scalar literal."""

    value: Any
    span: Span | None = field(default=None, compare=False, hash=False, repr=False)

    def __hash__(self) -> int:
        # True == 1 == 1.0 in Python; keep literals of different kinds apart.
        value = self.value
        if isinstance(value, float) and value != value:
            value = "nan"  # hash(nan) is per object; all NaN literals are one constant
        return hash((Const, type(self.value).__name__, value))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Const)
            and type(other.value) is type(self.value)
            and (other.value == self.value or (other.value != other.value and self.value != self.value))
        )


@dataclass(frozen=True, slots=True)
class Var(Node):
    """A variable: a lambda parameter or a free variable bound with ``vars=``."""

    name: str
    span: Span | None = field(default=None, compare=False, hash=False, repr=False)


@dataclass(frozen=True, slots=True)
class Lambda(Node):
    """An anonymous function ``(p1, p2) => body``."""

    params: tuple[str, ...]
    body: Node
    span: Span | None = field(default=None, compare=False, hash=False, repr=False)

    def children(self) -> tuple[Node, ...]:
        return (self.body,)


@dataclass(frozen=True, slots=True)
class Call(Node):
    """An op applied to arguments (the receiver of ``x.op(...)`` comes first)."""

    op: str
    args: tuple[Node, ...] = ()
    span: Span | None = field(default=None, compare=False, hash=False, repr=False)
    # Span of the op's name in the source, for "unknown op" carets.
    name_span: Span | None = field(default=None, compare=False, hash=False, repr=False)

    def children(self) -> tuple[Node, ...]:
        return self.args
