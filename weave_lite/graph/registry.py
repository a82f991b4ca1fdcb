"""The op registry: every op's name, parameters, type rule and kernel, found by name.

An op (``filter``, ``avg``, ``add``...) has one or more *overloads*.  An overload declares
its parameters by shape:

* ``"scalar"`` - a single value; given a list instead, the op *auto-maps* over it
  (``rows["x"] + 1``, ``rows["s"].lower``);
* ``"list"`` - a list (reducers, ``filter``...);
* ``"any"`` - whatever comes, unmapped;
* ``"lambda"`` - a function; ``bind`` says the types of its parameters.

``accepts(types)`` picks the overload; ``infer(types)`` gives its output type or raises
:class:`~weave_lite.errors.WeaveTypeError`.  Each overload has a ``key`` (``"floor"``,
``"floor:timestamp"``) under which the executor finds its kernel.  Type rules live in
``weave_lite/graph/ops/<area>.py`` and kernels in ``weave_lite/execute/ops/<area>.py``: one area
a module, each op under its name.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Callable, Sequence

from weave_lite.graph.types import WType

# A type rule gets the argument types and, for literal arguments, their values (else NOT_CONST).
TypeRule = Callable[[Sequence[WType], Sequence[object]], WType]


class _NotConst:
    def __repr__(self) -> str:
        return "NOT_CONST"


NOT_CONST = _NotConst()


@dataclass
class Overload:
    """One signature of an op."""

    key: str
    shapes: tuple[str, ...]
    infer: TypeRule
    accepts: Callable[[Sequence[WType]], bool] = lambda types: True
    # For each lambda parameter position: types of the lambda's parameters given the types of
    # the arguments before it (e.g. filter: (elem, int) for ``(row, index) => ...``).
    bind: dict[int, Callable[[Sequence[WType]], Sequence[WType]]] = field(default_factory=dict)
    # Number of trailing parameters that may be omitted (they get ``defaults``).
    defaults: tuple = ()
    # A short description of what the op does, for completion and errors.
    doc: str = ""

    @property
    def max_args(self) -> int:
        return len(self.shapes)

    @property
    def min_args(self) -> int:
        return len(self.shapes) - len(self.defaults)


@dataclass
class OpDef:
    name: str
    area: str
    overloads: list[Overload] = field(default_factory=list)
    doc: str = ""


REGISTRY: dict[str, OpDef] = {}
# Names only usable as roots or written as operators never need suggesting as methods.
OPERATOR_NAMES = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "pow": "**", "eq": "==", "ne": "!=",
    "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "and": "&&", "or": "||", "not": "!", "neg": "-",
    "coalesce": "??", "cond": "? :", "getitem": "[]", "list": "[...]", "dict": "{...}",
}


def define(
    name: str,
    area: str,
    shapes: tuple[str, ...],
    infer: TypeRule,
    *,
    accepts: Callable[[Sequence[WType]], bool] | None = None,
    bind: dict[int, Callable] | None = None,
    defaults: tuple = (),
    key: str | None = None,
    doc: str = "",
) -> Overload:
    """Register an overload of op ``name`` (creating the op on first use) and return it.

    ``key`` names the overload's kernel; it defaults to ``name`` (give one to every overload
    after the first).
    """
    op = REGISTRY.get(name)
    if op is None:
        op = REGISTRY[name] = OpDef(name, area, doc=doc)
    key = key or name
    if any(o.key == key for o in op.overloads):
        raise ValueError(f"overload key {key!r} defined twice")
    overload = Overload(key, shapes, infer, accepts or (lambda types: True), bind or {}, defaults, doc=doc)
    op.overloads.append(overload)
    return overload


def lookup(name: str) -> OpDef | None:
    _ensure_loaded()
    return REGISTRY.get(name)


def suggest(name: str, limit: int = 3) -> list[str]:
    """The registered op names closest to ``name``."""
    _ensure_loaded()
    candidates = [n for n in REGISTRY if n not in OPERATOR_NAMES]
    lowered = {c.lower(): c for c in candidates}
    found = difflib.get_close_matches(name.lower(), list(lowered), n=limit, cutoff=0.6)
    return [lowered[f] for f in found]


def all_ops() -> list[str]:
    _ensure_loaded()
    return sorted(REGISTRY)


_loaded = False


def _ensure_loaded() -> None:
    """Import every area module once (they register their ops on import)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import weave_lite.graph.ops  # noqa: F401  (registers the type rules)
