"""Build expressions in Python: ``st.rows().filter(lambda row: row["x"] > 5).count()``.

An :class:`Expr` wraps a graph node.  Attribute access names an op (checked against the op
registry at once, with suggestions); calling it adds arguments; Python operators build the
language's operators (``&``, ``|`` and ``~`` stand for ``&&``, ``||`` and ``!``, since Python's
``and``/``or``/``not`` cannot be overloaded).  A Python function passed as an argument is traced
once with symbolic parameters, so the graph is the same as the text form's and runs vectorized.
"""

from __future__ import annotations

import datetime as dt
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from weave_lite.errors import UnknownOpError
from weave_lite.graph import registry
from weave_lite.graph.nodes import Call, Const, Lambda, Node, Var
from weave_lite.graph.printer import render

_fresh = itertools.count()


class Expr:
    """A lazy expression; ``.evaluate()`` runs it."""

    __slots__ = ("_node", "_root", "_tables")
    __hash__ = None  # type: ignore[assignment]  # == builds an expression, so no hash

    def __init__(self, node: Node, root: Any = None, tables: dict | None = None):
        self._node = node
        self._root = root
        self._tables = tables

    # -- running -----------------------------------------------------------------------------

    def evaluate(self, *, root: Any = None, tables: dict | None = None, vars: dict | None = None) -> Any:
        from weave_lite.api import evaluate

        return evaluate(self._node, root=root or self._root, tables=tables or self._tables, vars=vars)

    def to_python(self) -> Any:
        from weave_lite.execute.results import to_python

        return to_python(self.evaluate())

    def explain(self) -> str:
        from weave_lite.api import compile

        return compile(self._node).explain(root=self._root, tables=self._tables)

    def _repr_html_(self) -> str:
        import pyarrow as pa

        from weave_lite.display import table_html

        result = self.evaluate()
        if isinstance(result, pa.Table):
            return table_html(result, title=render(self._node))
        return f"<pre>{_escape(render(self._node))} = {_escape(repr(result))}</pre>"

    def __repr__(self) -> str:
        return f"Expr({render(self._node)})"

    def __bool__(self) -> bool:
        raise TypeError("an expression has no truth value; use & | ~ instead of and / or / not")

    def __iter__(self) -> Expr:
        # Without this, Python iterates through __getitem__ (x[0], x[1], ...) and never stops.
        raise TypeError(
            "an expression is not iterable; run it first (`for row in expr.to_python()`) "
            "or use .map(fn) / .filter(fn) to build on it"
        )

    def __contains__(self, item: Any) -> bool:
        raise TypeError("`in` does not build an expression; use .contains(x)")

    # -- building ----------------------------------------------------------------------------

    def _wrap(self, node: Node) -> Expr:
        return Expr(node, self._root, self._tables)

    def _op(self, op: str, *args: Any) -> Expr:
        return self._wrap(Call(op, (self._node, *[to_node(a) for a in args])))

    def __getattr__(self, name: str) -> OpCall:
        if name.startswith("_"):
            raise AttributeError(name)
        if registry.lookup(name) is None:
            found = registry.suggest(name)
            hint = f"; did you mean {', '.join(f'`{s}`' for s in found)}?" if found else ""
            raise UnknownOpError(f"unknown op `{name}`{hint}", suggestions=tuple(found))
        return OpCall(Call(name, (self._node,)), self._root, self._tables)

    def __getitem__(self, key: Any) -> Expr:
        return self._op("getitem", key)

    def __add__(self, other: Any) -> Expr:
        return self._op("add", other)

    def __radd__(self, other: Any) -> Expr:
        return self._wrap(Call("add", (to_node(other), self._node)))

    def __sub__(self, other: Any) -> Expr:
        return self._op("sub", other)

    def __rsub__(self, other: Any) -> Expr:
        return self._wrap(Call("sub", (to_node(other), self._node)))

    def __mul__(self, other: Any) -> Expr:
        return self._op("mul", other)

    def __rmul__(self, other: Any) -> Expr:
        return self._wrap(Call("mul", (to_node(other), self._node)))

    def __truediv__(self, other: Any) -> Expr:
        return self._op("div", other)

    def __rtruediv__(self, other: Any) -> Expr:
        return self._wrap(Call("div", (to_node(other), self._node)))

    def __mod__(self, other: Any) -> Expr:
        return self._op("mod", other)

    def __pow__(self, other: Any) -> Expr:
        return self._op("pow", other)

    def __neg__(self) -> Expr:
        return self._wrap(Call("neg", (self._node,)))

    def __invert__(self) -> Expr:
        return self._wrap(Call("not", (self._node,)))

    def __and__(self, other: Any) -> Expr:
        return self._op("and", other)

    def __or__(self, other: Any) -> Expr:
        return self._op("or", other)

    def __eq__(self, other: Any) -> Expr:  # type: ignore[override]
        return self._op("eq", other)

    def __ne__(self, other: Any) -> Expr:  # type: ignore[override]
        return self._op("ne", other)

    def __lt__(self, other: Any) -> Expr:
        return self._op("lt", other)

    def __le__(self, other: Any) -> Expr:
        return self._op("le", other)

    def __gt__(self, other: Any) -> Expr:
        return self._op("gt", other)

    def __ge__(self, other: Any) -> Expr:
        return self._op("ge", other)


class OpCall(Expr):
    """``x.name``: already the zero-argument call; calling it adds arguments."""

    __slots__ = ()

    def __call__(self, *args: Any) -> Expr:
        node = self._node
        assert isinstance(node, Call)
        return Expr(Call(node.op, (*node.args, *[to_node(a) for a in args])), self._root, self._tables)


def to_node(value: Any) -> Node:
    """A Python value, Expr or function as a graph node."""
    if isinstance(value, Expr):
        return value._node
    if isinstance(value, Node):
        return value
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return Const(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return Const(value.astimezone(dt.UTC))
    if isinstance(value, (list, tuple)):
        return Call("list", tuple(to_node(v) for v in value))
    if isinstance(value, dict):
        args: list[Node] = []
        for k, v in value.items():
            args.extend((Const(str(k)), to_node(v)))
        return Call("dict", tuple(args))
    if callable(value):
        return trace(value)
    raise TypeError(f"cannot use a {type(value).__name__} in an expression")


def trace(fn: Callable) -> Lambda:
    """Call ``fn`` once with symbolic parameters and return the lambda it describes."""
    try:
        arity = len(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        arity = 1
    arity = max(1, min(arity, 2))
    names = tuple(f"{'row' if i == 0 else 'index'}{next(_fresh)}" for i in range(arity))
    body = fn(*[Expr(Var(n)) for n in names])
    return Lambda(names, to_node(body))


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def stream_table_rows(name: str, root=None) -> Expr:
    """The builder node for ``stream_table(name).rows()`` bound to ``root``."""
    return Expr(Call("rows", (Call("stream_table", (Const(name),)),)), root=root)
