"""Specs of the string ops (and ``toString`` of any scalar)."""

from __future__ import annotations

from weave_lite.graph.ops.rules import all_of, base, is_int, is_list, is_num, is_str
from weave_lite.graph.registry import define
from weave_lite.graph.types import BOOL, FLOAT, INT, STRING, DictT, ListT, union

AREA = __name__  # the area is this module's name


def _str_args(n_ints: int = 0, n_strs: int = 0):
    preds = [is_str] + [is_str] * n_strs + [is_int] * n_ints
    return all_of(*preds)


define("add", AREA, ("scalar", "scalar"), lambda t, c: STRING, accepts=lambda t: is_str(t[0]) and is_str(t[1]) and not (is_num(t[0]) and is_num(t[1])), key="add:string", doc="string + string")
define("len", AREA, ("scalar",), lambda t, c: INT, accepts=_str_args(), doc="string.len")
define("lower", AREA, ("scalar",), lambda t, c: STRING, accepts=_str_args(), doc="string.lower")
define("upper", AREA, ("scalar",), lambda t, c: STRING, accepts=_str_args(), doc="string.upper")
define("strip", AREA, ("scalar",), lambda t, c: STRING, accepts=_str_args(), doc="string.strip")
define("contains", AREA, ("scalar", "scalar"), lambda t, c: BOOL, accepts=_str_args(n_strs=1), key="contains:string", doc="string.contains(sub)")
define("startsWith", AREA, ("scalar", "scalar"), lambda t, c: BOOL, accepts=_str_args(n_strs=1), doc="string.startsWith(prefix)")
define("endsWith", AREA, ("scalar", "scalar"), lambda t, c: BOOL, accepts=_str_args(n_strs=1), doc="string.endsWith(suffix)")
define(
    "slice",
    AREA,
    ("scalar", "scalar", "scalar"),
    lambda t, c: STRING,
    accepts=lambda t: is_str(t[0]) and all(is_int(x) for x in t[1:]),
    defaults=(None,),
    doc="string.slice(start, end)",
)
define("replace", AREA, ("scalar", "scalar", "scalar"), lambda t, c: STRING, accepts=_str_args(n_strs=2), doc="string.replace(old, new)")
define("split", AREA, ("scalar", "scalar"), lambda t, c: ListT(STRING), accepts=_str_args(n_strs=1), doc="string.split(sep)")
define("isNumeric", AREA, ("scalar",), lambda t, c: BOOL, accepts=_str_args(), doc="string.isNumeric")
define("toNumber", AREA, ("scalar",), lambda t, c: union([INT, FLOAT]), accepts=_str_args(), doc="string.toNumber")
define("findAll", AREA, ("scalar", "scalar"), lambda t, c: ListT(STRING), accepts=_str_args(n_strs=1), doc="string.findAll(regex)")
define(
    "toString",
    AREA,
    ("scalar",),
    lambda t, c: STRING,
    accepts=lambda t: not is_list(t[0]) and not isinstance(base(t[0]), DictT),
    doc="value.toString",
)
