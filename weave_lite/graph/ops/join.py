"""Specs of ``join`` (the pairs of two lists' elements whose keys match) and ``joinAll``."""

from __future__ import annotations

from weave_lite.errors import WeaveTypeError
from weave_lite.graph.ops.rules import base, elem, is_any, is_bool, is_list
from weave_lite.graph.registry import NOT_CONST, NOT_MERGEABLE, define
from weave_lite.graph.types import ANY, INT, NONE, DictT, ListT, WType, union

AREA = __name__  # the area is this module's name


def _join_type(types, consts):
    a1 = consts[4] if len(consts) > 4 and consts[4] is not NOT_CONST else "a"
    a2 = consts[5] if len(consts) > 5 and consts[5] is not NOT_CONST else "b"
    for i, alias in ((4, a1), (5, a2)):
        if i < len(types) and not isinstance(alias, str):
            raise WeaveTypeError("join aliases must be string literals")
    for i, name in ((6, "leftOuter"), (7, "rightOuter")):  # a plan-time error, not a run-time one
        if i < len(types) and not is_bool(types[i]):
            flag = consts[i] if i < len(consts) else NOT_CONST
            hint = f" (write {flag} without quotes)" if flag in ("true", "false") else ""
            raise WeaveTypeError(f"join's {name} must be true or false, got {types[i]}{hint}")
    return ListT(DictT(((a1, elem(types[0])), (a2, elem(types[1])))))


define(
    "join",
    AREA,
    ("list", "list", "lambda", "lambda", "any", "any", "any", "any"),
    _join_type,
    accepts=lambda types: is_list(types[0]) and is_list(types[1]),
    bind={2: lambda types: (elem(types[0]), INT), 3: lambda types: (elem(types[1]), INT)},
    defaults=("a", "b", False, False),
    partial=NOT_MERGEABLE,
    doc='list.join(other, a => key, b => key, "a", "b", leftOuter, rightOuter)',
)


def _join_all_row(types) -> WType:
    return elem(elem(types[0]))


def _join_all_type(types, consts):
    row = base(_join_all_row(types))
    if is_any(row):
        return ListT(ANY)
    if not isinstance(row, DictT):
        raise WeaveTypeError(f"`joinAll` joins lists of dicts; got lists of {_join_all_row(types)}")
    if len(types) > 2 and not is_bool(types[2]):
        raise WeaveTypeError(f"the `outer` flag of `joinAll` is a boolean, not {types[2]}")
    return ListT(DictT(tuple((k, ListT(union([t, NONE]))) for k, t in row.fields)))


define(
    "joinAll",
    AREA,
    ("list", "lambda", "any"),
    _join_all_type,
    accepts=lambda types: is_list(types[0]) and (is_list(elem(types[0])) or elem(types[0]) == NONE),
    bind={1: lambda types: (_join_all_row(types), INT)},
    defaults=(False,),
    partial=NOT_MERGEABLE,
    doc="lists.joinAll(row => key, outer): per key, every combination of matching rows; each column a list, one entry per list",
)
