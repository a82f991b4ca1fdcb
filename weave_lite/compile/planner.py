"""Graph -> typed plan: resolve ops, infer types, decide auto-mapping, bind lambdas.

Type errors are raised here, before any data is read, naming the op, the argument and the
types, with a caret under the offending part of the expression.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import weave_lite.graph.ops  # noqa: F401  (the op catalog: registers every spec)
from weave_lite.errors import (
    ResourceLimitError,
    UnboundVariableError,
    UnknownOpError,
    WeaveTypeError,
    did_you_mean,
    quoted,
)
from weave_lite.graph import registry
from weave_lite.graph.nodes import Call, Const, Lambda, Node, Var
from weave_lite.graph.ops.roots import GET_FORM, table_name_of_uri
from weave_lite.graph.registry import NOT_CONST, OPERATOR_NAMES, Overload
from weave_lite.graph.types import (
    ANY,
    BOOL,
    BYTES,
    DATE,
    FLOAT,
    INT,
    NONE,
    STRING,
    TIMESTAMP,
    DictT,
    ListT,
    WType,
    type_size,
    union,
)

MAX_MAP_DEPTH = 4
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Parts a result's type may have. `{a: x, b: x}` doubles its argument's type, so twenty nested
# maps of it would make a type (and values, and a text) of a million parts.
MAX_TYPE_SIZE = 100_000


class PNode:
    """A node of the typed plan."""

    type: WType
    source: Node


@dataclass(eq=False)
class PConst(PNode):
    value: Any
    type: WType
    source: Node


@dataclass(eq=False)
class PVar(PNode):
    name: str
    type: WType
    source: Node


@dataclass(eq=False)
class PLambda(PNode):
    params: tuple[str, ...]
    param_types: tuple[WType, ...]
    body: PNode
    type: WType
    source: Node


@dataclass(eq=False)
class PCall(PNode):
    op: str
    key: str  # the overload's kernel key
    args: tuple[PNode, ...]
    type: WType
    source: Node
    # Auto-mapping: the op runs ``map_depth`` list levels down; ``mapped`` are the argument
    # positions whose lists are mapped over (the others are broadcast).
    map_depth: int = 0
    mapped: tuple[int, ...] = ()
    arg_types: tuple[WType, ...] = ()  # after peeling the mapped list levels
    # Physical hints set by rewrites (never by the language), e.g. scan predicates.
    hints: tuple[tuple[str, object], ...] = ()


@dataclass
class Environment:
    """What the planner may know about the world: table schemas and free variables."""

    table_type: Callable[[str, str, Node], WType]  # (root op, name, node) -> TableT
    var_types: dict[str, WType] = field(default_factory=dict)


def type_of_python(value: Any) -> WType:
    """The weave type of a Python literal or ``vars=`` value."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, str):
        return STRING
    if isinstance(value, bytes):
        return BYTES
    if isinstance(value, dt.datetime):
        return TIMESTAMP
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, (list, tuple)):
        return ListT(union(type_of_python(v) for v in value) if value else NONE)
    if isinstance(value, dict):
        return DictT(tuple((str(k), type_of_python(v)) for k, v in value.items()))
    return ANY


class Planner:
    """Builds the typed plan of one expression."""

    def __init__(self, env: Environment, source: str | None = None, check: Callable[[], None] | None = None):
        self.env = env
        self.source = source
        self._type_sizes: dict = {}  # type_size's memo, shared by the whole plan
        # Called once per op planned: the evaluation's deadline (planning a long expression
        # is part of its time).
        self._check = check

    def plan(self, node: Node) -> PNode:
        return self._plan(node, {})

    # -- nodes ---------------------------------------------------------------------------------

    def _plan(self, node: Node, scope: dict[str, WType]) -> PNode:
        if isinstance(node, Const):
            if type(node.value) is int and not INT64_MIN <= node.value <= INT64_MAX:
                # The parser lets 2**63 through only so that `-9223372036854775808` can be written.
                raise WeaveTypeError(
                    f"integer literal `{node.value}` does not fit in 64 bits (the largest is {INT64_MAX})",
                    source=self.source,
                    span=node.span,
                )
            return PConst(node.value, type_of_python(node.value), node)
        if isinstance(node, Var):
            if node.name in scope:
                return PVar(node.name, scope[node.name], node)
            if node.name in self.env.var_types:
                return PVar(node.name, self.env.var_types[node.name], node)
            known = sorted(set(scope) | set(self.env.var_types))
            hint = did_you_mean(node.name, known)
            raise UnboundVariableError(f"unknown variable `{node.name}`{hint}", source=self.source, span=node.span)
        if isinstance(node, Lambda):
            raise WeaveTypeError(
                "a function is only allowed as an argument of an op such as `filter` or `map`",
                source=self.source,
                span=node.span,
            )
        if isinstance(node, Call):
            return self._plan_call(node, scope)
        raise TypeError(f"not a graph node: {node!r}")

    def _plan_call(self, node: Call, scope: dict[str, WType]) -> PNode:
        if self._check is not None:
            self._check()
        op = registry.lookup(node.op)
        if op is None:
            suggestions = registry.suggest(node.op)
            hint = f"; did you mean {quoted(suggestions)}?" if suggestions else ""
            raise UnknownOpError(
                f"unknown op `{node.op}`{hint}",
                suggestions=tuple(suggestions),
                source=self.source,
                span=node.name_span or node.span,
            )
        if node.op in ("stream_table", "table", "get"):
            return self._plan_root(node)
        if _is_int64_min(node):
            return PConst(INT64_MIN, INT, node)
        # Plan value arguments first: lambdas get their parameter types from them.
        planned: list[PNode | None] = [None if isinstance(a, Lambda) else self._plan(a, scope) for a in node.args]
        types = [p.type if p is not None else None for p in planned]
        candidates = [o for o in op.overloads if o.min_args <= len(node.args) <= o.max_args]
        if not candidates:
            raise WeaveTypeError(
                f"`{_display(node.op)}` takes {_arity_text(op.overloads)}, got {len(node.args)}",
                source=self.source,
                span=node.span,
            )
        for i, arg in enumerate(node.args):
            wants_fn = [o.shapes[i] == "lambda" for o in candidates]
            if all(wants_fn) and not isinstance(arg, Lambda):
                raise WeaveTypeError(
                    f"argument {i + 1} of `{node.op}` must be a function such as `row => ...`",
                    source=self.source,
                    span=arg.span or node.span,
                )
        for depth in range(MAX_MAP_DEPTH + 1):
            for overload in candidates:
                match = _try_overload(overload, types, node.args, depth)
                if match is None:
                    continue
                peeled, mapped = match
                return self._finish_call(node, overload, planned, peeled, mapped, depth, scope)
        raise self._type_error(node, op, types)

    def _finish_call(self, node, overload: Overload, planned, peeled, mapped, depth, scope) -> PCall:
        args: list[PNode] = []
        for i, arg in enumerate(node.args):
            if isinstance(arg, Lambda):
                if overload.shapes[i] != "lambda":
                    raise WeaveTypeError(
                        f"argument {i + 1} of `{_display(node.op)}` must be a value, not a function",
                        source=self.source,
                        span=arg.span,
                    )
                bound = list(overload.bind[i](peeled[:i]))
                if len(arg.params) > len(bound):
                    raise WeaveTypeError(
                        f"the function given to `{node.op}` takes {len(arg.params)} parameters; "
                        f"`{node.op}` passes {len(bound)}",
                        source=self.source,
                        span=arg.span,
                    )
                inner = dict(scope)
                inner.update(zip(arg.params, bound))
                body = self._plan(arg.body, inner)
                plam = PLambda(arg.params, tuple(bound[: len(arg.params)]), body, body.type, arg)
                args.append(plam)
                peeled[i] = body.type
            else:
                if overload.shapes[i] == "lambda":
                    raise WeaveTypeError(
                        f"argument {i + 1} of `{node.op}` must be a function such as `row => ...`",
                        source=self.source,
                        span=arg.span,
                    )
                args.append(planned[i])
        consts = [a.value if isinstance(a, Const) else NOT_CONST for a in node.args]
        try:
            out = overload.infer(peeled, consts)
        except WeaveTypeError as exc:
            if exc.span is None:
                exc.span = node.span
            if self.source:
                exc.with_source(self.source)  # fills the text in place
            raise
        for _ in range(depth):
            out = ListT(out)
        if type_size(out, self._type_sizes) > MAX_TYPE_SIZE:
            raise ResourceLimitError(
                f"the result of `{_display(node.op)}` would have a type of more than {MAX_TYPE_SIZE:,} parts",
                source=self.source,
                span=node.span,
            )
        return PCall(node.op, overload.key, tuple(args), out, node, depth, tuple(mapped), tuple(peeled))

    def _plan_root(self, node: Call) -> PCall:
        example = f'"{GET_FORM}"' if node.op == "get" else '"entity/project/table"'
        what = "stream table URI" if node.op == "get" else "table name"
        if len(node.args) != 1 or not isinstance(node.args[0], Const) or not isinstance(node.args[0].value, str):
            raise WeaveTypeError(
                f"`{node.op}` takes one {what} as a string literal, e.g. {node.op}({example})",
                source=self.source,
                span=node.span,
            )
        name = node.args[0].value
        key = node.op
        if node.op == "get":
            # Weave's root: the same plan node as stream_table(name), op named `get` (see
            # weave_lite/graph/ops/roots.py), so everything keyed on `stream_table` applies.
            try:
                name = table_name_of_uri(name)
            except ValueError as exc:
                raise WeaveTypeError(str(exc), source=self.source, span=node.args[0].span or node.span) from None
            key = "stream_table"
        table_type = self.env.table_type(key, name, node)
        return PCall(node.op, key, (PConst(name, STRING, node.args[0]),), table_type, node)

    def _type_error(self, node: Call, op, types) -> WeaveTypeError:
        """Name the op, the argument no signature accepts, its type and what was expected."""
        expected = " or ".join(o.doc for o in op.overloads if o.doc)
        culprit = _culprit(op, types, len(node.args))
        if culprit is not None:
            arg = node.args[culprit]
            text = self._text(arg)
            what = f"argument {culprit + 1} of `{_display(node.op)}`" + (f" (`{text}`)" if text else "")
            message = f"{what} is {types[culprit]}; expected {expected}"
            span = arg.span or node.name_span or node.span
        else:
            shown = ", ".join("function" if t is None else str(t) for t in types)
            message = f"`{_display(node.op)}` cannot take ({shown}); expected {expected}"
            span = node.name_span or node.span
        return WeaveTypeError(message, source=self.source, span=span)

    def _text(self, node: Node) -> str:
        if self.source is None or node.span is None:
            return ""
        text = self.source[node.span.start : node.span.end]
        return text if len(text) <= 60 else text[:57] + "..."


def _culprit(op, types, n_args: int) -> int | None:
    """The one argument whose type, if it were anything, would make some signature match."""
    found = None
    for i, t in enumerate(types):
        if t is None:
            continue
        relaxed = list(types)
        relaxed[i] = ANY
        for overload in op.overloads:
            if overload.min_args <= n_args <= overload.max_args and any(
                _try_overload(overload, relaxed, [None] * n_args, d) is not None for d in range(MAX_MAP_DEPTH + 1)
            ):
                if found is not None:
                    return None  # more than one argument could be at fault
                found = i
                break
    return found


def _is_int64_min(node: Call) -> bool:
    """``-9223372036854775808``: the one negation whose operand alone is out of range."""
    if node.op != "neg" or len(node.args) != 1:
        return False
    arg = node.args[0]
    return isinstance(arg, Const) and type(arg.value) is int and arg.value == INT64_MAX + 1


def _try_overload(overload: Overload, types, args, depth: int):
    """Peel ``depth`` list levels off the list arguments of scalar parameters; check."""
    peeled = list(types)
    mapped = []
    for i, t in enumerate(types):
        shape = overload.shapes[i]
        if shape == "lambda":
            if not isinstance(args[i], Lambda):
                return None
            continue
        if t is None:
            return None
        if depth and shape in ("scalar", "list"):
            # A scalar op maps over lists; a list op (a reducer, say) over lists of lists.
            inner = t
            levels = 0
            while levels < depth and isinstance(inner.non_null(), ListT):
                inner = inner.non_null().elem
                levels += 1
            if levels == depth and (shape == "scalar" or isinstance(inner.non_null(), ListT)):
                peeled[i] = inner
                mapped.append(i)
    if depth and not mapped:
        return None
    # A scalar parameter never takes a list: the op maps over it instead (one level deeper).
    for i, shape in enumerate(overload.shapes[: len(peeled)]):
        if shape == "scalar" and peeled[i] is not None and isinstance(peeled[i].non_null(), ListT):
            return None
    try:
        ok = overload.accepts(peeled)
    except Exception:
        ok = False
    return (peeled, mapped) if ok else None


def _display(op: str) -> str:
    return OPERATOR_NAMES.get(op, op)


def _arity_text(overloads: Sequence[Overload]) -> str:
    counts = sorted({n for o in overloads for n in range(o.min_args, o.max_args + 1)})
    if len(counts) == 1:
        n = counts[0]
        return f"{n} argument{'s' if n != 1 else ''}"
    return f"{counts[0]} to {counts[-1]} arguments"
