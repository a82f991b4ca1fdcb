"""Type rules of arithmetic, comparisons and number functions."""

from __future__ import annotations

from weave_lite.graph.ops.rules import (
    all_of,
    base,
    comparable,
    equatable,
    is_any,
    is_int,
    is_list,
    is_num,
    is_ts,
    num_result,
    elem,
)
from weave_lite.graph.registry import define
from weave_lite.graph.types import BOOL, FLOAT, INT, NONE, STRING, TIMESTAMP, DictT, ListT

AREA = "numbers"

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
define(
    "toString",
    AREA,
    ("scalar",),
    lambda t, c: STRING,
    accepts=lambda t: not is_list(t[0]) and not isinstance(base(t[0]), DictT),
    doc="value.toString",
)
define("toTimestamp", AREA, ("scalar",), lambda t, c: TIMESTAMP, accepts=all_of(is_num), doc="milliseconds.toTimestamp")


_BIN = DictT((("start", FLOAT), ("stop", FLOAT)))
_BIN_TS = DictT((("start", TIMESTAMP), ("stop", TIMESTAMP)))
_BINS_FIXED = DictT((("__bins", STRING), ("step", FLOAT)))
_BINS_EQUAL = DictT((("__bins", STRING), ("n", INT)))
_BINS_NICE = DictT((("__bins", STRING), ("nice", INT)))

define("binsfixed", AREA, ("scalar",), lambda t, c: _BINS_FIXED, accepts=all_of(is_num), doc="binsfixed(step)")
define("binsequal", AREA, ("scalar",), lambda t, c: _BINS_EQUAL, accepts=all_of(is_int), doc="binsequal(n)")
define("timestampBinsNice", "timestamps", ("scalar",), lambda t, c: _BINS_NICE, accepts=all_of(is_int), doc="timestampBinsNice(n)")


def _is_bins(kind):
    target = {"fixed": _BINS_FIXED, "equal": _BINS_EQUAL, "nice": _BINS_NICE}[kind]
    return lambda t: base(t) == target


define(
    "bin",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: _BIN,
    accepts=lambda t: is_num(t[0]) and not is_any(t[0]) and _is_bins("fixed")(t[1]),
    key="bin:fixed",
    doc="number.bin(binsfixed(step))",
)
define(
    "bin",
    AREA,
    ("list", "scalar"),
    lambda t, c: ListT(_BIN),
    accepts=lambda t: is_list(t[0]) and is_num(elem(t[0])) and _is_bins("equal")(t[1]),
    key="bin:equal",
    doc="numbers.bin(binsequal(n))",
)
define(
    "bin",
    "timestamps",
    ("list", "scalar"),
    lambda t, c: ListT(_BIN_TS),
    accepts=lambda t: is_list(t[0]) and is_ts(elem(t[0])) and _is_bins("nice")(t[1]),
    key="bin:nice",
    doc="timestamps.bin(timestampBinsNice(n))",
)
define(
    "bin",
    "timestamps",
    ("scalar", "scalar"),
    lambda t, c: _BIN_TS,
    accepts=lambda t: is_ts(t[0]) and t[0] != NONE and _is_bins("fixed")(t[1]),
    key="bin:timestamp",
    doc="timestamp.bin(binsfixed(milliseconds))",
)
