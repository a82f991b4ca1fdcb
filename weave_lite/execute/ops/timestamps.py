"""Kernels of the timestamp ops: difference, floor/ceil to epoch-aligned units, toNumber, now,
and the timestamp bins (``bin(timestampBinsNice(n))``, ``bin(binsfixed(ms))``).

Timestamps are Arrow ``timestamp("us", tz="UTC")``; every kernel works on their int64
microseconds since the Unix epoch with numpy (floor division aligns to the epoch for times
before 1970 too).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.ops.base import as_list, as_struct
from weave_lite.execute.ops.strings import combine_chunks, folding, validity
from weave_lite.execute.vectors import ArrayVec, ConstVec, ListVec, StructVec, Vec
from weave_lite.graph.ops.timestamps import parse_unit

UTC = dt.timezone.utc
TIMESTAMP = pa.timestamp("us", tz="UTC")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_US = dt.timedelta(microseconds=1)

# timestampBinsNice widths: 1, 2, 5, 10, 15, 30 s; 1, 2, 5, 10, 15, 30 min; 1, 2, 3, 6, 12 h;
# 1, 2, 7 d (docs/semantics.md), in microseconds.
NICE_WIDTHS_US = np.array(
    [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800],
    dtype=np.int64,
) * 1_000_000


def as_utc(value: dt.datetime | dt.date) -> dt.datetime:
    """An aware UTC datetime (naive ones are read as UTC, dates as their midnight)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def micros(vec: Vec, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(int64 microseconds since the epoch, validity) of a timestamp (or date) Vec."""
    if isinstance(vec, ConstVec):
        if vec.value is None:
            return np.zeros(n, np.int64), np.zeros(n, bool)
        us = (as_utc(vec.value) - EPOCH) // _US
        return np.full(n, us, dtype=np.int64), np.ones(n, bool)
    array = combine_chunks(vec.array if isinstance(vec, ArrayVec) else vec.to_arrow())
    t = array.type
    if pa.types.is_null(t):
        return np.zeros(n, np.int64), np.zeros(n, bool)
    if pa.types.is_date(t):
        array = array.cast(pa.timestamp("us"))
    elif pa.types.is_timestamp(t):
        if t.tz is not None:
            array = array.cast(pa.timestamp(t.unit))  # same instants, naive (UTC) values
        if t.unit != "us":
            array = array.cast(pa.timestamp("us"))
    else:
        raise TypeError(f"expected timestamps, got {t}")
    valid = validity(array)
    values = np.asarray(pc.fill_null(array.cast(pa.int64()), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return values, valid


def timestamps(us: np.ndarray, valid: np.ndarray) -> pa.Array:
    """A ``timestamp("us", tz="UTC")`` array from microseconds and validity."""
    mask = None if valid.all() else ~valid
    return pa.array(np.where(valid, us, 0).astype(np.int64), type=pa.int64(), mask=mask).cast(TIMESTAMP)


def _floats(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.float64(), mask=None if valid.all() else ~valid)


# ---------------------------------------------------------------------------------------------


@kernel("sub:timestamp")
@folding
def sub(call: KernelCall, args: list, n: int) -> Vec:
    a, va = micros(args[0], n)
    b, vb = micros(args[1], n)
    return ArrayVec(_floats((a - b) / 1000.0, va & vb))


@kernel("toNumber:timestamp")
@folding
def to_number(call: KernelCall, args: list, n: int) -> Vec:
    us, valid = micros(args[0], n)
    return ArrayVec(_floats(us / 1000.0, valid))


def _widths(call: KernelCall, unit: Vec, n: int) -> np.ndarray | int:
    """The unit's width in microseconds: one int, or one per element for varying units."""
    if isinstance(unit, ConstVec):
        return parse_unit(unit.value) * 1_000_000
    array = combine_chunks(unit.array if isinstance(unit, ArrayVec) else unit.to_arrow())
    if array.null_count:
        raise call.error(f"`{call.plan.op}` needs a time unit for every element, got null")
    encoded = pc.dictionary_encode(array)
    per_value = np.array([parse_unit(u) * 1_000_000 for u in encoded.dictionary.to_pylist()], dtype=np.int64)
    return per_value[np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)]


@kernel("floor:timestamp")
@folding
def floor(call: KernelCall, args: list, n: int) -> Vec:
    us, valid = micros(args[0], n)
    w = _widths(call, args[1], n)
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


# -- bins ------------------------------------------------------------------------------------------


def _ints(vec: Vec, n: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(vec, ConstVec):
        if vec.value is None:
            return np.zeros(n, np.int64), np.zeros(n, bool)
        return np.full(n, vec.value, dtype=np.int64), np.ones(n, bool)
    array = combine_chunks(vec.array if isinstance(vec, ArrayVec) else vec.to_arrow())
    if pa.types.is_null(array.type):
        return np.zeros(n, np.int64), np.zeros(n, bool)
    return np.asarray(pc.fill_null(array, 0).to_numpy(zero_copy_only=False), dtype=np.int64), validity(array)


def bins_struct(kind: str, field: str, value: Vec, n: int) -> StructVec:
    """The value of a bins constructor: ``{__bins: kind, <field>: value}``."""
    return StructVec({"__bins": ConstVec(kind, pa.string(), n), field: value}, n)


@kernel("timestampBinsNice")
def timestamp_bins_nice(call: KernelCall) -> Vec:
    arg = call.args[0]
    values, valid = _ints(arg, call.length)
    if not valid.all() or (values < 1).any():
        raise call.error("`timestampBinsNice(n)` needs a whole number of bins n >= 1")
    vec = arg if isinstance(arg, ConstVec) else ArrayVec(pa.array(values, type=pa.int64()))
    return bins_struct("nice", "nice", vec, call.length)


def per_list_min_max(lists: ListVec, values: np.ndarray, ok: np.ndarray, lo_fill, hi_fill):
    """Per list: (count of ``ok`` elements, min and max of their ``values``)."""
    m = lists.length
    pid = lists.parent_index()
    count = np.bincount(pid[ok], minlength=m).astype(np.int64)
    lo = np.full(m, lo_fill, dtype=values.dtype)
    hi = np.full(m, hi_fill, dtype=values.dtype)
    nonempty = lists.lengths() > 0
    if nonempty.any():
        starts = lists.offsets[:-1][nonempty]
        lo[nonempty] = np.minimum.reduceat(np.where(ok, values, lo_fill), starts)
        hi[nonempty] = np.maximum.reduceat(np.where(ok, values, hi_fill), starts)
    return count, lo, hi


def _bin_struct(start: pa.Array, stop: pa.Array, valid: np.ndarray) -> StructVec:
    return StructVec({"start": ArrayVec(start), "stop": ArrayVec(stop)}, len(valid), None if valid.all() else valid)


@kernel("bin:nice")
def bin_nice(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    bins = as_struct(call.args[1])
    nice, nice_ok = _ints(bins.fields["nice"], lists.length)
    m = lists.child.length
    us, ok = micros(lists.child, m)
    big = np.iinfo(np.int64)
    count, lo, hi = per_list_min_max(lists, us, ok, big.max, big.min)
    width = np.full(lists.length, NICE_WIDTHS_US[-1], dtype=np.int64)
    have = count > 0
    lo_s, hi_s = np.where(have, lo, 0), np.where(have, hi, 0)
    for w in NICE_WIDTHS_US[::-1]:
        width = np.where(hi_s // w - lo_s // w + 1 <= nice, w, width)
    pid = lists.parent_index()
    w_e = width[pid]
    valid = ok & nice_ok[pid]
    start = np.where(valid, us, 0) // w_e * w_e
    struct = _bin_struct(timestamps(start, valid), timestamps(start + w_e, valid), valid)
    list_valid = lists.valid
    if not nice_ok.all():
        list_valid = lists.is_valid() & nice_ok
    return ListVec(lists.offsets, struct, list_valid)


@kernel("bin:timestamp")
@folding
def bin_timestamp(call: KernelCall, args: list, n: int) -> Vec:
    """``timestamp.bin(binsfixed(ms))``: epoch-aligned bins ``step`` milliseconds wide.

    (The reference interpreter has no such overload: it raises a type error.)"""
    us, valid = micros(args[0], n)
    bins = as_struct(args[1])
    from weave_lite.execute.ops.bins import floats

    step_ms, step_ok = floats(bins.fields["step"], n)
    valid = valid & step_ok & (step_ms > 0)
    width_f = np.where(valid, step_ms * 1000.0, 1.0)
    exact = (width_f == np.floor(width_f)) & (width_f < 2.0**62) & (width_f >= 1)
    w_int = np.where(exact, width_f, 1).astype(np.int64)
    with np.errstate(all="ignore"):
        start_int = us // w_int * w_int
        start_float = np.round(np.floor(us / width_f) * width_f)
        stop_float = np.round((np.floor(us / width_f) + 1) * width_f)
    start = np.where(exact, start_int, start_float.astype(np.int64))
    stop = np.where(exact, start_int + w_int, stop_float.astype(np.int64))
    return _bin_struct(timestamps(start, valid), timestamps(stop, valid), valid)
