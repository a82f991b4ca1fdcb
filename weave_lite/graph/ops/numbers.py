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
from weave_lite.graph.types import BOOL, FLOAT, TIMESTAMP

AREA = __name__  # the area is this module's name

define("add", AREA, ("scalar", "scalar"), lambda t, c: num_result(t[0], t[1]), accepts=all_of(is_num, is_num), doc="number + number")
define("sub", AREA, ("scalar", "scalar"), lambda t, c: num_result(t[0], t[1]), accepts=all_of(is_num, is_num), doc="number - number")
define("mul", AREA, ("scalar", "scalar"), lambda t, c: num_result(t[0], t[1]), accepts=all_of(is_num, is_num), doc="number * number")
define("div", AREA, ("scalar", "scalar"), lambda t, c: FLOAT, accepts=all_of(is_num, is_num), doc="number / number")
define("mod", AREA, ("scalar", "scalar"), lambda t, c: num_result(t[0], t[1]), accepts=all_of(is_num, is_num), doc="number % number")
define("pow", AREA, ("scalar", "scalar"), lambda t, c: FLOAT, accepts=all_of(is_num, is_num), doc="number ** number")
define("neg", AREA, ("scalar",), lambda t, c: num_result(t[0]), accepts=all_of(is_num), doc="-number")

for _name in ("eq", "ne"):
    define(_name, AREA, ("scalar", "scalar"), lambda t, c: BOOL, accepts=lambda t: equatable(t[0], t[1]), doc="a == b (same kind)")
for _name in ("lt", "le", "gt", "ge"):
    define(_name, AREA, ("scalar", "scalar"), lambda t, c: BOOL, accepts=lambda t: comparable(t[0], t[1]), doc="a < b (numbers, strings or timestamps)")

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
