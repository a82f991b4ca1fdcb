"""Spec of ``rolling``: a function of each element's trailing window."""

from __future__ import annotations

from weave_lite.graph.ops.rules import elem, is_int, is_list
from weave_lite.graph.registry import NOT_MERGEABLE, define, define_internal
from weave_lite.graph.types import ListT

AREA = __name__  # the area is this module's name


def _rolling_type(types, consts):
    return ListT(types[1])


define(
    "rolling",
    AREA,
    ("list", "lambda", "scalar"),
    _rolling_type,
    accepts=lambda types: is_list(types[0]) and is_int(types[2]),
    bind={1: lambda types: (ListT(elem(types[0])),)},
    partial=NOT_MERGEABLE,  # a window straddles morsel boundaries
    doc="list.rolling(w => w.avg, n)",
)

# Made by weave_lite/compile/rewrites/window_functions.py: `rolling(xs, w => w.avg, n)` and its
# sum/min/max siblings as one pass over the list (the generic kernel builds every window).
for _fn in ("avg", "sum", "min", "max"):
    define_internal(
        f"rolling:{_fn}", AREA, "rolling", partial=NOT_MERGEABLE, doc=f"xs.rolling(w => w.{_fn}, n) in one pass"
    )
