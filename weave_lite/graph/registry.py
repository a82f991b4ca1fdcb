"""The op registry: one spec per overload — its parameters, type rule, kernel key, and the
properties the compiler reads.

An op (``filter``, ``avg``, ``add``...) has one or more *overloads*.  An overload declares
its parameters by shape:

* ``"scalar"`` - a single value; given a list instead, the op *auto-maps* over it
  (``rows["x"] + 1``, ``rows["s"].lower``);
* ``"list"`` - a list (reducers, ``filter``...);
* ``"any"`` - whatever comes, unmapped;
* ``"lambda"`` - a function; ``bind`` says the types of its parameters.

``accepts(types)`` picks the overload; ``infer(types)`` gives its output type or raises
:class:`~weave_lite.errors.WeaveTypeError`.  Each overload has a ``key`` (``"floor"``,
``"floor:timestamp"``) naming its kernel, registered under that key in
``weave_lite/execute/ops/<area>.py`` for the spec's ``weave_lite/graph/ops/<area>.py``.

What the compiler reads off a spec (never off a list of names of its own):

* ``evaluation`` - ``"element"`` (a scalar op, auto-mapped over lists), ``"value"`` (takes
  whatever comes, unmapped: ``rows``, literals), ``"row-wise"`` (a list op acting on each
  element on its own, keeping order: ``filter``, ``map``), or ``"whole-list"``;
* ``partial`` - for a whole-list op, how per-morsel results merge (:class:`Partial`:
  DuckDB's update/combine/finalize together, implemented in
  :mod:`weave_lite.execute.partials`), or :data:`NOT_MERGEABLE`;
* ``foldable`` - whether constant folding may compute it from literal arguments while
  planning (not for ops reading tables or the clock, nor for those building lists).

*Internal* overloads (``count:where``, ``limit:sorted``, ``fused:arith``...) are only made by
plan rewrites: the language cannot name them, but they have specs, and kernels, all the same.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from weave_lite.graph.types import WType

# A type rule gets the argument types and, for literal arguments, their values (else NOT_CONST).
TypeRule = Callable[[Sequence[WType], Sequence[object]], WType]


class _NotConst:
    def __repr__(self) -> str:
        return "NOT_CONST"


NOT_CONST = _NotConst()

ELEMENT, VALUE, ROW_WISE, WHOLE_LIST = "element", "value", "row-wise", "whole-list"


@dataclass(frozen=True)
class Partial:
    """How a whole-list op's per-morsel results merge into the result over all morsels.

    ``kind`` names an implementation in :mod:`weave_lite.execute.partials`:

    * ``"fold"`` - the op's own result per morsel, merged by the overload ``merge_with``
      (counts add up, minima take the minimum);
    * ``"moments"`` - count, sum, mean and M2, merged pairwise (``avg``, ``variance``...);
    * ``"distinct"`` - the distinct values seen (``countDistinct``);
    * ``"values"`` - every value, in order (exact ``median``, ``quantile``, ``mode``...);
    * ``"none"`` - not mergeable (:data:`NOT_MERGEABLE`): the op needs its whole list at once.
    """

    kind: str
    merge_with: str | None = None

    @property
    def mergeable(self) -> bool:
        return self.kind != "none"

    def __repr__(self) -> str:
        return f"{self.kind}({self.merge_with})" if self.merge_with else self.kind


NOT_MERGEABLE = Partial("none")


def fold(merge_with: str) -> Partial:
    """A partial that is the op's own result, merged by the reducer ``merge_with``."""
    return Partial("fold", merge_with)


MOMENTS = Partial("moments")
DISTINCT = Partial("distinct")
VALUES = Partial("values")


def _accept_all(types: Sequence[WType]) -> bool:
    return True


def _internal_rule(types: Sequence[WType], consts: Sequence[object]) -> WType:
    raise TypeError("an internal overload is made by a rewrite, never planned from its name")


@dataclass
class Overload:
    """The spec of one signature of an op."""

    key: str
    shapes: tuple[str, ...]
    infer: TypeRule
    accepts: Callable[[Sequence[WType]], bool] = _accept_all
    # For each lambda parameter position: types of the lambda's parameters given the types of
    # the arguments before it (e.g. filter: (elem, int) for ``(row, index) => ...``).
    bind: dict[int, Callable[[Sequence[WType]], Sequence[WType]]] = field(default_factory=dict)
    # Trailing parameters that may be omitted get these defaults.
    defaults: tuple = ()
    # A short description of what the op does, for completion and errors.
    doc: str = ""
    area: str = ""
    op: str = ""
    evaluation: str = ELEMENT
    # None: not declared (the completeness test refuses a whole-list op without one).
    partial: Partial | None = None
    foldable: bool = True
    internal: bool = False

    @property
    def max_args(self) -> int:
        return len(self.shapes)

    @property
    def min_args(self) -> int:
        return len(self.shapes) - len(self.defaults)

    @property
    def row_wise(self) -> bool:
        return self.evaluation == ROW_WISE

    @property
    def mergeable(self) -> bool:
        return self.partial is not None and self.partial.mergeable


@dataclass
class OpDef:
    name: str
    area: str
    overloads: list[Overload] = field(default_factory=list)
    doc: str = ""


REGISTRY: dict[str, OpDef] = {}
# Every overload, internal ones included, by kernel key.
OVERLOADS: dict[str, Overload] = {}
# Names only usable as roots or written as operators never need suggesting as methods.
OPERATOR_NAMES = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "pow": "**", "eq": "==", "ne": "!=",
    "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "and": "&&", "or": "||", "not": "!", "neg": "-",
    "coalesce": "??", "cond": "? :", "getitem": "[]", "list": "[...]", "dict": "{...}",
}  # fmt: skip


def _area_of(module: str) -> str:
    """``weave_lite.graph.ops.lists`` -> ``lists``: the area is the defining module's name."""
    return module.rsplit(".", 1)[-1]


def define(
    name: str,
    module: str,
    shapes: tuple[str, ...],
    infer: TypeRule,
    *,
    accepts: Callable[[Sequence[WType]], bool] | None = None,
    bind: dict[int, Callable] | None = None,
    defaults: tuple = (),
    key: str | None = None,
    doc: str = "",
    row_wise: bool = False,
    partial: Partial | None = None,
    foldable: bool = True,
) -> Overload:
    """Register an overload of op ``name`` (creating the op on first use) and return it.

    ``module`` is the defining module's ``__name__`` (its last part is the area).  ``key``
    names the overload's kernel; it defaults to ``name`` (give one to every overload after
    the first).  A list op acting on each element on its own says ``row_wise=True``; any
    other op taking a list first must say how it merges (``partial=``).
    """
    area = _area_of(module)
    op = REGISTRY.get(name)
    if op is None:
        op = REGISTRY[name] = OpDef(name, area, doc=doc)
    key = key or name
    if key in OVERLOADS:
        raise ValueError(f"overload key {key!r} defined twice")
    first = shapes[0] if shapes else "scalar"
    evaluation = ELEMENT if first == "scalar" else VALUE if first == "any" else ROW_WISE if row_wise else WHOLE_LIST
    overload = Overload(
        key,
        shapes,
        infer,
        accepts or _accept_all,
        bind or {},
        defaults,
        doc=doc,
        area=area,
        op=name,
        evaluation=evaluation,
        partial=partial,
        foldable=foldable,
    )
    op.overloads.append(overload)
    OVERLOADS[key] = overload
    return overload


def define_internal(
    key: str,
    module: str,
    op: str,
    *,
    evaluation: str = WHOLE_LIST,
    partial: Partial | None = None,
    foldable: bool = True,
    doc: str = "",
) -> Overload:
    """Register an overload only a plan rewrite makes (it keeps the type of the node it
    replaces, so it has no type rule)."""
    if key in OVERLOADS:
        raise ValueError(f"overload key {key!r} defined twice")
    overload = Overload(
        key,
        (),
        _internal_rule,
        doc=doc,
        area=_area_of(module),
        op=op,
        evaluation=evaluation,
        partial=partial,
        foldable=foldable,
        internal=True,
    )
    OVERLOADS[key] = overload
    return overload


def spec(key: str) -> Overload:
    """The spec of the overload whose kernel key is ``key`` (internal ones included)."""
    return OVERLOADS[key]


def lookup(name: str) -> OpDef | None:
    return REGISTRY.get(name)


def suggest(name: str, limit: int = 3) -> list[str]:
    """The registered op names closest to ``name``."""
    candidates = [n for n in REGISTRY if n not in OPERATOR_NAMES]
    lowered = {c.lower(): c for c in candidates}
    found = difflib.get_close_matches(name.lower(), list(lowered), n=limit, cutoff=0.6)
    return [lowered[f] for f in found]


def all_ops() -> list[str]:
    return sorted(REGISTRY)
