"""Specs of binning: bin descriptions (``binsfixed``, ``binsequal``, ``timestampBinsNice``)
and ``bin``, which puts numbers or timestamps into them."""

from __future__ import annotations

from weave_lite.graph.ops.rules import all_of, base, elem, is_any, is_int, is_list, is_num, is_ts
from weave_lite.graph.registry import NOT_MERGEABLE, define
from weave_lite.graph.types import FLOAT, INT, NONE, STRING, TIMESTAMP, DictT, ListT

AREA = __name__  # the area is this module's name

_BIN = DictT((("start", FLOAT), ("stop", FLOAT)))
_BIN_TS = DictT((("start", TIMESTAMP), ("stop", TIMESTAMP)))
_BINS_FIXED = DictT((("__bins", STRING), ("step", FLOAT)))
_BINS_EQUAL = DictT((("__bins", STRING), ("n", INT)))
_BINS_NICE = DictT((("__bins", STRING), ("nice", INT)))

define("binsfixed", AREA, ("scalar",), lambda t, c: _BINS_FIXED, accepts=all_of(is_num), doc="binsfixed(step)")
define("binsequal", AREA, ("scalar",), lambda t, c: _BINS_EQUAL, accepts=all_of(is_int), doc="binsequal(n)")
define(
    "timestampBinsNice", AREA, ("scalar",), lambda t, c: _BINS_NICE, accepts=all_of(is_int), doc="timestampBinsNice(n)"
)
# Weave's two-argument forms (what its boards print): the bins come from the range of a list,
# and are fixed-width bins any single value can be put in (`row["x"].bin(binsequal(xs, 10))`).
define(
    "binsequal",
    AREA,
    ("list", "scalar"),
    lambda t, c: _BINS_FIXED,
    accepts=lambda t: is_list(t[0]) and is_num(elem(t[0])) and is_num(t[1]),
    key="binsequal:range",
    partial=NOT_MERGEABLE,
    doc="binsequal(numbers, n): bins (max - min) / n wide, aligned to 0 (Weave's numbers-binsequal)",
)
define(
    "timestampBinsNice",
    AREA,
    ("list", "scalar"),
    lambda t, c: _BINS_FIXED,
    accepts=lambda t: is_list(t[0]) and is_ts(elem(t[0])) and is_num(t[1]),
    key="timestampBinsNice:range",
    partial=NOT_MERGEABLE,
    doc="timestampBinsNice(timestamps, n): the nice width nearest (max - min) / n, epoch-aligned (Weave's timestamps-binsnice)",
)


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
    doc="number.bin(binsfixed(step)) or number.bin(binsequal(numbers, n))",
)
define(
    "bin",
    AREA,
    ("list", "scalar"),
    lambda t, c: ListT(_BIN),
    accepts=lambda t: is_list(t[0]) and is_num(elem(t[0])) and _is_bins("equal")(t[1]),
    key="bin:equal",
    partial=NOT_MERGEABLE,  # the bins depend on the whole list's range
    doc="numbers.bin(binsequal(n))",
)
define(
    "bin",
    AREA,
    ("list", "scalar"),
    lambda t, c: ListT(_BIN_TS),
    accepts=lambda t: is_list(t[0]) and is_ts(elem(t[0])) and _is_bins("nice")(t[1]),
    key="bin:nice",
    partial=NOT_MERGEABLE,
    doc="timestamps.bin(timestampBinsNice(n))",
)
define(
    "bin",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: _BIN_TS,
    accepts=lambda t: is_ts(t[0]) and t[0] != NONE and _is_bins("fixed")(t[1]),
    key="bin:timestamp",
    doc="timestamp.bin(binsfixed(milliseconds)) or timestamp.bin(timestampBinsNice(timestamps, n))",
)
