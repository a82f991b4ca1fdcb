"""Specs of arithmetic, comparisons and number functions."""

from __future__ import annotations

from weave_lite.graph.ops.rules import (
    all_of,
    comparable,
    equatable,
    is_int,
    is_num,
    num_result,
)
from weave_lite.graph.registry import define
from weave_lite.graph.types import BOOL, FLOAT, TIMESTAMP, DictT, UnionT, WType

AREA = __name__  # the area is this module's name

define(
    "add",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: num_result(t[0], t[1]),
    accepts=all_of(is_num, is_num),
    doc="number + number",
)
define(
    "sub",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: num_result(t[0], t[1]),
    accepts=all_of(is_num, is_num),
    doc="number - number",
)
define(
    "mul",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: num_result(t[0], t[1]),
    accepts=all_of(is_num, is_num),
    doc="number * number",
)
define("div", AREA, ("scalar", "scalar"), lambda t, c: FLOAT, accepts=all_of(is_num, is_num), doc="number / number")
define(
    "mod",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: num_result(t[0], t[1]),
    accepts=all_of(is_num, is_num),
    doc="number % number",
)
define("pow", AREA, ("scalar", "scalar"), lambda t, c: FLOAT, accepts=all_of(is_num, is_num), doc="number ** number")
define("neg", AREA, ("scalar",), lambda t, c: num_result(t[0]), accepts=all_of(is_num), doc="-number")


def _equatable(a: WType, b: WType) -> bool:
    """Whether ``a == b`` type-checks: values of one kind, dicts with dicts, or unions holding a
    member that can equal the other side (a mixed-type column compared with a literal)."""
    if equatable(a, b):
        return True
    ba, bb = a.non_null(), b.non_null()
    if isinstance(ba, UnionT) or isinstance(bb, UnionT):
        ma = ba.members if isinstance(ba, UnionT) else (ba,)
        mb = bb.members if isinstance(bb, UnionT) else (bb,)
        return any(equatable(x, y) or (isinstance(x, DictT) and isinstance(y, DictT)) for x in ma for y in mb)
    return isinstance(ba, DictT) and isinstance(bb, DictT)


for _name, _doc in (
    ("eq", "a == b (null-safe: null == null is true)"),
    ("ne", "a != b (null-safe: x != null is true for a value x)"),
):
    define(_name, AREA, ("scalar", "scalar"), lambda t, c: BOOL, accepts=lambda t: _equatable(t[0], t[1]), doc=_doc)
for _name in ("lt", "le", "gt", "ge"):
    define(
        _name,
        AREA,
        ("scalar", "scalar"),
        lambda t, c: BOOL,
        accepts=lambda t: comparable(t[0], t[1]),
        doc="a < b (numbers, strings or timestamps)",
    )

define("abs", AREA, ("scalar",), lambda t, c: num_result(t[0]), accepts=all_of(is_num), doc="number.abs")
define("floor", AREA, ("scalar",), lambda t, c: num_result(t[0]), accepts=all_of(is_num), doc="number.floor")
define("ceil", AREA, ("scalar",), lambda t, c: num_result(t[0]), accepts=all_of(is_num), doc="number.ceil")
define(
    "round",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: num_result(t[0]),
    accepts=lambda t: is_num(t[0]) and (len(t) < 2 or is_int(t[1])),
    defaults=(0,),
    doc="number.round(digits)",
)
for _name in ("sqrt", "log", "exp"):
    define(_name, AREA, ("scalar",), lambda t, c: FLOAT, accepts=all_of(is_num), doc=f"number.{_name}")
define("toTimestamp", AREA, ("scalar",), lambda t, c: TIMESTAMP, accepts=all_of(is_num), doc="milliseconds.toTimestamp")
