"""Kernels of the timestamps area: difference, floor/ceil to epoch-aligned units, toNumber, now
(the timestamp bins are in :mod:`weave_lite.execute.ops.bins`).

Timestamps are Arrow ``timestamp("us", tz="UTC")``; every kernel works on their int64
microseconds since the Unix epoch with numpy (floor division aligns to the epoch for times
before 1970 too).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.execute.calls import folding
from weave_lite.execute.columns import (
    TIMESTAMP,
    as_array,
    as_utc,
    combine,
    dense_validity,
    micros,
    numeric,
    timestamps,
    to_numpy,
)
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.time_bins import TimeFloorVec
from weave_lite.execute.vectors import ArrayVec, ConstVec, Vec
from weave_lite.graph.ops.timestamps import parse_unit
from weave_lite.lazy import lazy_module

pc = lazy_module("pyarrow.compute")  # loaded by the first kernel that uses it (issue 15: start-up)


def _floats(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.float64(), mask=None if valid.all() else ~valid)


# ---------------------------------------------------------------------------------------------


@kernel("sub:timestamp")
@folding
def sub(call: KernelCall, args: list, n: int) -> Vec:
    a, va = micros(args[0], n)
    b, vb = micros(args[1], n)
    return ArrayVec(_floats((a - b) / 1000.0, va & vb))


def _shift(ts: Vec, ms: Vec, n: int, sign: int) -> Vec:
    """``ts + sign * ms``: milliseconds (ints or floats) added to timestamps, rounded to the
    microsecond; null when either side is null or the result is outside years 1 to 9999."""
    us, valid = micros(ts, n)
    values, ok = to_numpy(numeric(ms), n, np.float64)
    ok = dense_validity(ok, n) & valid
    with np.errstate(all="ignore"):
        delta = np.round(np.where(ok, values, 0.0) * 1000.0) * sign
        ok &= np.isfinite(delta) & (np.abs(delta) < 2.0**62)
        shifted = us + np.where(ok, delta, 0).astype(np.int64)
    ok &= (shifted >= _MIN_US) & (shifted <= _MAX_US)  # years 1 to 9999, as Python's datetime
    return ArrayVec(timestamps(np.where(ok, shifted, 0), ok))


_MIN_US = -62135596800 * 1_000_000  # 0001-01-01T00:00:00Z
_MAX_US = 253402300799 * 1_000_000 + 999_999  # 9999-12-31T23:59:59.999999Z


@kernel("add:timestamp")
@folding
def add_ms(call: KernelCall, args: list, n: int) -> Vec:
    return _shift(args[0], args[1], n, 1)


@kernel("add:ms_timestamp")
@folding
def add_ms_first(call: KernelCall, args: list, n: int) -> Vec:
    return _shift(args[1], args[0], n, 1)


@kernel("sub:timestamp_ms")
@folding
def sub_ms(call: KernelCall, args: list, n: int) -> Vec:
    return _shift(args[0], args[1], n, -1)


@kernel("toNumber:timestamp")
@folding
def to_number(call: KernelCall, args: list, n: int) -> Vec:
    us, valid = micros(args[0], n)
    return ArrayVec(_floats(us / 1000.0, valid))


def _widths(call: KernelCall, unit: Vec, n: int) -> np.ndarray | int:
    """The unit's width in microseconds: one int, or one per element for varying units."""
    if isinstance(unit, ConstVec):
        return parse_unit(unit.value) * 1_000_000
    array = combine(as_array(unit))
    if array.null_count:
        raise call.error(f"`{call.op}` needs a time unit for every element, got null")
    encoded = pc.dictionary_encode(array)
    per_value = np.array([parse_unit(u) * 1_000_000 for u in encoded.dictionary.to_pylist()], dtype=np.int64)
    return per_value[np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)]


@kernel("floor:timestamp")
@folding
def floor(call: KernelCall, args: list, n: int) -> Vec:
    us, valid = micros(args[0], n)
    w = _widths(call, args[1], n)
    if isinstance(w, int):  # floored when read: groupby reads the bins themselves
        return TimeFloorVec(us, valid, w)
    return ArrayVec(timestamps(us - np.mod(us, w), valid))


@kernel("ceil:timestamp")
@folding
def ceil(call: KernelCall, args: list, n: int) -> Vec:
    us, valid = micros(args[0], n)
    w = _widths(call, args[1], n)
    return ArrayVec(timestamps(-np.floor_divide(-us, w) * w, valid))


@kernel("now")
def now(call: KernelCall) -> Vec:
    return ConstVec(as_utc(call.runtime.now), TIMESTAMP, call.length)
