"""Specs of the string ops (and ``toString`` of any scalar)."""

from __future__ import annotations

from weave_lite.graph.ops.rules import all_of, base, elem, is_int, is_list, is_num, is_str
from weave_lite.graph.registry import define
from weave_lite.graph.types import BOOL, FLOAT, INT, STRING, DictT, ListT, union

AREA = __name__  # the area is this module's name


def _str_args(n_ints: int = 0, n_strs: int = 0):
    preds = [is_str] + [is_str] * n_strs + [is_int] * n_ints
    return all_of(*preds)


define(
    "add",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: STRING,
    accepts=lambda t: is_str(t[0]) and is_str(t[1]) and not (is_num(t[0]) and is_num(t[1])),
    key="add:string",
    doc="string + string",
)
define("len", AREA, ("scalar",), lambda t, c: INT, accepts=_str_args(), doc="string.len")
define("lower", AREA, ("scalar",), lambda t, c: STRING, accepts=_str_args(), doc="string.lower")
define("upper", AREA, ("scalar",), lambda t, c: STRING, accepts=_str_args(), doc="string.upper")
define("strip", AREA, ("scalar",), lambda t, c: STRING, accepts=_str_args(), doc="string.strip")
define(
    "contains",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: BOOL,
    accepts=_str_args(n_strs=1),
    key="contains:string",
    doc="string.contains(sub)",
)
# A null prefix or suffix counts as "" (Weave): `s.startsWith(null)` is true for every string.
define(
    "startsWith",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: BOOL,
    accepts=_str_args(n_strs=1),
    doc="string.startsWith(prefix)",
)
define(
    "endsWith",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: BOOL,
    accepts=_str_args(n_strs=1),
    doc="string.endsWith(suffix)",
)
define(
    "slice",
    AREA,
    ("scalar", "scalar", "scalar"),
    lambda t, c: STRING,
    accepts=lambda t: is_str(t[0]) and all(is_int(x) for x in t[1:]),
    defaults=(None,),
    doc="string.slice(start, end)",
)
define(
    "replace",
    AREA,
    ("scalar", "scalar", "scalar"),
    lambda t, c: STRING,
    accepts=_str_args(n_strs=2),
    doc="string.replace(old, new)",
)
define(
    "split",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: ListT(STRING),
    accepts=_str_args(n_strs=1),
    doc="string.split(sep)",
)
# isNumeric: an optional "-", then digits with at most one "." (Weave's rule: no exponent,
# no spaces, not empty); toNumber: the float of such a text, else null.
define("isNumeric", AREA, ("scalar",), lambda t, c: BOOL, accepts=_str_args(), doc="string.isNumeric")
define("toNumber", AREA, ("scalar",), lambda t, c: union([INT, FLOAT]), accepts=_str_args(), doc="string.toNumber")
define(
    "findAll",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: ListT(STRING),
    accepts=_str_args(n_strs=1),
    doc="string.findAll(regex)",
)

# Weave's string ops (weave/ops_primitives/string.py, weave-js core/ops/primitives/string.ts):
# a null first argument gives null; a null second argument counts as "".
define("lStrip", AREA, ("scalar",), lambda t, c: STRING, accepts=_str_args(), doc="string.lStrip")
define("rStrip", AREA, ("scalar",), lambda t, c: STRING, accepts=_str_args(), doc="string.rStrip")
define(
    "isAlpha",
    AREA,
    ("scalar",),
    lambda t, c: BOOL,
    accepts=_str_args(),
    doc="string.isAlpha (not empty, every character a letter)",
)
define(
    "isAlnum",
    AREA,
    ("scalar",),
    lambda t, c: BOOL,
    accepts=_str_args(),
    doc="string.isAlnum (not empty, every character a letter or digit)",
)
define(
    "append", AREA, ("scalar", "scalar"), lambda t, c: STRING, accepts=_str_args(n_strs=1), doc="string.append(suffix)"
)
define(
    "prepend",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: STRING,
    accepts=_str_args(n_strs=1),
    doc="string.prepend(prefix)",
)
define(
    "partition",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: ListT(STRING),
    accepts=_str_args(n_strs=1),
    doc='string.partition(sep) (before, sep, after; [s, "", ""] when sep is absent, empty or null)',
)
# `a.in(b)`: with a list of strings, exact membership (false when the list is null); else a
# substring test. The list form comes first so `rows["s"].in(["a", "b"])` maps over the strings.
define(
    "in",
    AREA,
    ("scalar", "list"),
    lambda t, c: BOOL,
    accepts=lambda t: is_str(t[0]) and isinstance(base(t[1]), ListT) and is_str(elem(t[1])),
    key="in:list",
    doc='string.in(["a", "b"])',
)
define(
    "in",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: BOOL,
    accepts=_str_args(n_strs=1),
    key="in:string",
    doc="string.in(text)",
)
# Edit distance in code points; null counts as "" so the result is never null. Weave's boards
# print it as a function: `levenshtein(a, b)` and `a.levenshtein(b)` are the same call.
define(
    "levenshtein", AREA, ("scalar", "scalar"), lambda t, c: INT, accepts=_str_args(n_strs=1), doc="levenshtein(a, b)"
)
define(
    "toString",
    AREA,
    ("scalar",),
    lambda t, c: STRING,
    accepts=lambda t: not is_list(t[0]) and not isinstance(base(t[0]), DictT),
    doc="value.toString",
)
