"""Specs of the timestamp ops (their bins are in :mod:`weave_lite.graph.ops.bins`)."""

from __future__ import annotations

from weave_lite.errors import WeaveTypeError
from weave_lite.graph.ops.rules import is_num, is_str, is_ts
from weave_lite.graph.registry import NOT_CONST, define
from weave_lite.graph.types import FLOAT, NONE, TIMESTAMP

AREA = __name__  # the area is this module's name

UNITS_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_unit(text: object) -> int:
    """``"5m"`` -> 300 seconds; ``ValueError`` for anything but [n]s|m|h|d."""
    if not isinstance(text, str) or not text or text[-1] not in UNITS_SECONDS:
        raise ValueError(f'unknown time unit {text!r}: use s, m, h or d with an optional multiplier, e.g. "5m"')
    count = text[:-1] or "1"
    if not count.isdigit() or int(count) <= 0:
        raise ValueError(f"unknown time unit {text!r}: the multiplier must be a positive integer")
    return int(count) * UNITS_SECONDS[text[-1]]


def _unit_rule(t, consts):
    unit = consts[1] if len(consts) > 1 else NOT_CONST
    if unit is not NOT_CONST:
        try:
            parse_unit(unit)
        except ValueError as exc:
            raise WeaveTypeError(str(exc)) from None
    return TIMESTAMP


_ts_and_unit = lambda t: is_ts(t[0]) and t[0] != NONE and is_str(t[1])  # noqa: E731

define(
    "sub",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: FLOAT,
    accepts=lambda t: is_ts(t[0]) and is_ts(t[1]) and NONE not in (t[0], t[1]),
    key="sub:timestamp",
    doc="timestamp - timestamp (milliseconds)",
)
_ts_and_ms = lambda t: is_ts(t[0]) and t[0] != NONE and is_num(t[1]) and (t[1] == NONE or not is_ts(t[1]))  # noqa: E731
define(
    "add",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: TIMESTAMP,
    accepts=_ts_and_ms,
    key="add:timestamp",
    doc="timestamp + milliseconds",
)
define(
    "add",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: TIMESTAMP,
    accepts=lambda t: _ts_and_ms((t[1], t[0])),
    key="add:ms_timestamp",
    doc="milliseconds + timestamp",
)
define(
    "sub",
    AREA,
    ("scalar", "scalar"),
    lambda t, c: TIMESTAMP,
    accepts=_ts_and_ms,
    key="sub:timestamp_ms",
    doc="timestamp - milliseconds",
)
define(
    "floor",
    AREA,
    ("scalar", "scalar"),
    _unit_rule,
    accepts=_ts_and_unit,
    key="floor:timestamp",
    doc='timestamp.floor("5m")',
)
define(
    "ceil",
    AREA,
    ("scalar", "scalar"),
    _unit_rule,
    accepts=_ts_and_unit,
    key="ceil:timestamp",
    doc='timestamp.ceil("h")',
)
define(
    "toNumber",
    AREA,
    ("scalar",),
    lambda t, c: FLOAT,
    accepts=lambda t: is_ts(t[0]) and t[0] != NONE,
    key="toNumber:timestamp",
    doc="timestamp.toNumber (ms since epoch)",
)
define("now", AREA, (), lambda t, c: TIMESTAMP, foldable=False, doc="now()")  # the clock of the run
