"""Specs of the reducers: a list to one value, and how each merges across morsels."""

from __future__ import annotations

from weave_lite.errors import WeaveTypeError
from weave_lite.graph.ops.rules import all_of, base, comparable, elem, is_list, is_num, num_result
from weave_lite.graph.registry import DISTINCT, MOMENTS, NOT_CONST, VALUES, define, fold
from weave_lite.graph.types import FLOAT, INT, NONE, WType

AREA = __name__  # the area is this module's name


def _numeric_list(types) -> bool:
    return is_list(types[0]) and is_num(elem(types[0]))


def _orderable_list(types) -> bool:
    return is_list(types[0]) and comparable(elem(types[0]), elem(types[0]))


# How each reducer merges across morsels: sums add up, minima take the minimum; moments
# merge pairwise; order statistics keep every value (exact, memory grows with the values).
define(
    "sum",
    AREA,
    ("list",),
    lambda types, consts: num_result(elem(types[0])),
    accepts=_numeric_list,
    partial=fold("sum"),
    doc="list<number>.sum",
)
for _name in ("avg", "stddev", "variance"):
    define(
        _name,
        AREA,
        ("list",),
        lambda types, consts: FLOAT,
        accepts=_numeric_list,
        partial=MOMENTS,
        doc=f"list<number>.{_name}",
    )
define(
    "median",
    AREA,
    ("list",),
    lambda types, consts: FLOAT,
    accepts=_numeric_list,
    partial=VALUES,
    doc="list<number>.median",
)
for _name in ("min", "max"):
    define(
        _name,
        AREA,
        ("list",),
        lambda types, consts: base(elem(types[0])),
        accepts=_orderable_list,
        partial=fold(_name),
        doc=f"list.{_name}",
    )
for _name in ("argmin", "argmax"):
    define(
        _name, AREA, ("list",), lambda types, consts: INT, accepts=_orderable_list, partial=VALUES, doc=f"list.{_name}"
    )


def _quantile_type(types, consts) -> WType:
    q = consts[1] if len(consts) > 1 else NOT_CONST
    if q is not NOT_CONST and (not isinstance(q, (int, float)) or isinstance(q, bool) or not 0 <= q <= 1):
        raise WeaveTypeError(f"`quantile` takes a number between 0 and 1, got {q!r}")
    return FLOAT


define(
    "quantile",
    AREA,
    ("list", "scalar"),
    _quantile_type,
    accepts=lambda types: _numeric_list(types) and is_num(types[1]) and types[1] != NONE,
    partial=VALUES,
    doc="list<number>.quantile(q)",
)
define(
    "countDistinct",
    AREA,
    ("list",),
    lambda types, consts: INT,
    accepts=all_of(is_list),
    partial=DISTINCT,
    doc="list.countDistinct",
)
define(
    "mode",
    AREA,
    ("list",),
    lambda types, consts: base(elem(types[0])),
    accepts=all_of(is_list),
    partial=VALUES,
    doc="list.mode",
)
