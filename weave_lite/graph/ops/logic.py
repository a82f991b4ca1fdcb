"""Type rules of booleans and nulls: and, or, not, isNone, coalesce, cond."""

from __future__ import annotations

from weave_lite.graph.ops.rules import all_of, base, is_bool
from weave_lite.graph.registry import define
from weave_lite.graph.types import BOOL, NONE, union

AREA = __name__  # the area is this module's name

define("and", AREA, ("scalar", "scalar"), lambda t, c: BOOL, accepts=all_of(is_bool, is_bool), doc="boolean && boolean")
define("or", AREA, ("scalar", "scalar"), lambda t, c: BOOL, accepts=all_of(is_bool, is_bool), doc="boolean || boolean")
define("not", AREA, ("scalar",), lambda t, c: BOOL, accepts=all_of(is_bool), doc="!boolean")
define("isNone", AREA, ("scalar",), lambda t, c: BOOL, doc="value.isNone")


def _coalesce_type(t, c):
    if t[0] == NONE:
        return t[1]
    if base(t[1]) == NONE:
        return t[0]
    return union([base(t[0]), t[1]])


define("coalesce", AREA, ("scalar", "scalar"), _coalesce_type, doc="a ?? b")
define(
    "cond",
    AREA,
    ("scalar", "scalar", "scalar"),
    lambda t, c: union([t[1], t[2]]),
    accepts=lambda t: is_bool(t[0]),
    doc="condition ? a : b",
)
