"""Kernels of the bins area: the constructors ``binsfixed(step)`` / ``binsequal(n)`` /
``timestampBinsNice(n)`` and ``x.bin(binsfixed(step))`` / ``list.bin(binsequal(n))`` /
``timestamps.bin(timestampBinsNice(n))`` / ``timestamp.bin(binsfixed(ms))``.

A bins constructor gives a dict ``{__bins: "fixed", step: float}`` / ``{__bins: "equal", n: int}``
/ ``{__bins: "nice", nice: int}`` (the ``DictT`` of ``weave_lite/graph/ops/numbers.py``); ``bin``
gives ``{start, stop}`` dicts, or null for a null (or NaN, for equal bins) number.  The float
arithmetic is the reference's, in the same order, so results are bit-identical.  Timestamps are
int64 microseconds since the epoch (floor division aligns bins to the epoch before 1970 too).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from weave_lite.execute.calls import folding
from weave_lite.execute.columns import as_list, as_struct, dense_validity, micros, timestamps, to_numpy
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.vectors import ArrayVec, ConstVec, ListVec, StructVec, Vec

# timestampBinsNice widths: 1, 2, 5, 10, 15, 30 s; 1, 2, 5, 10, 15, 30 min; 1, 2, 3, 6, 12 h;
# 1, 2, 7 d (docs/semantics.md), in microseconds.
NICE_WIDTHS_US = (
    np.array(
        [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800],
        dtype=np.int64,
    )
    * 1_000_000
)


def floats(vec: Vec, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, validity) of a numeric Vec (Arrow's checked cast to float64)."""
    values, valid = to_numpy(vec, n, np.float64, cast=pa.float64())
    return values, dense_validity(valid, len(values))


def ints(vec: Vec, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values, validity) of an int Vec."""
    values, valid = to_numpy(vec, n, np.int64)
    return values, dense_validity(valid, len(values))


def _float_array(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.float64(), mask=None if valid.all() else ~valid)


def _bins(start: np.ndarray, stop: np.ndarray, valid: np.ndarray) -> StructVec:
    fields = {"start": ArrayVec(_float_array(start, valid)), "stop": ArrayVec(_float_array(stop, valid))}
    return StructVec(fields, len(valid), None if valid.all() else valid)


@kernel("binsfixed")
def binsfixed(call: KernelCall) -> Vec:
    arg = call.args[0]
    step, ok = floats(arg, call.length)
    if not ok.all() or not (np.isfinite(step) & (step > 0)).all():
        raise call.error("`binsfixed(step)` needs a finite step > 0")
    vec = (
        ConstVec(float(arg.value), pa.float64(), call.length) if isinstance(arg, ConstVec) else ArrayVec(pa.array(step))
    )
    return bins_struct("fixed", "step", vec, call.length)


@kernel("binsequal")
def binsequal(call: KernelCall) -> Vec:
    arg = call.args[0]
    n, ok = ints(arg, call.length)
    if not ok.all() or (n < 1).any():
        raise call.error("`binsequal(n)` needs a whole number of bins n >= 1")
    vec = arg if isinstance(arg, ConstVec) else ArrayVec(pa.array(n, type=pa.int64()))
    return bins_struct("equal", "n", vec, call.length)


@kernel("bin:fixed")
@folding
def bin_fixed(call: KernelCall, args: list, n: int) -> Vec:
    x, x_ok = floats(args[0], n)
    step, step_ok = floats(as_struct(args[1]).fields["step"], n)
    valid = x_ok & step_ok
    step = np.where(step_ok, step, 1.0)
    with np.errstate(all="ignore"):
        start = np.floor(x / step) * step
        stop = start + step
    return _bins(start, stop, valid)


@kernel("bin:equal")
def bin_equal(call: KernelCall) -> Vec:
    """Bin i of x is ``floor((x - min) * n / (max - min))`` clamped to ``n - 1``, from
    ``min + i * width`` to ``min + (i + 1) * width``; every element gets ``{min, max}`` when
    they are equal; null and NaN elements, and all of a list whose min or max is infinite
    (or that has no numbers), give null."""
    lists = as_list(call.args[0])
    bins = as_struct(call.args[1])
    nbins, n_ok = ints(bins.fields["n"], lists.length)
    m = lists.child.length
    x, x_ok = floats(lists.child, m)
    ok = x_ok & ~np.isnan(x)
    count, lo, hi = per_list_min_max(lists, x, ok, np.inf, -np.inf)
    usable = (count > 0) & np.isfinite(lo) & np.isfinite(hi) & n_ok
    pid = lists.parent_index()
    valid = ok & usable[pid]
    lo_e, hi_e = lo[pid], hi[pid]
    k = nbins[pid].astype(np.float64)
    with np.errstate(all="ignore"):
        width = (hi_e - lo_e) / k
        index = np.floor((x - lo_e) * k / (hi_e - lo_e))
        index = np.minimum(np.where(np.isnan(index), 0, index), k - 1)  # overflow to inf: last bin
        start = lo_e + index * width
        stop = lo_e + (index + 1) * width
    same = hi_e == lo_e
    start = np.where(same, lo_e, start)
    stop = np.where(same, hi_e, stop)
    struct = _bins(np.where(valid, start, 0.0), np.where(valid, stop, 0.0), valid)
    return ListVec(lists.offsets, struct, lists.valid)


def bins_struct(kind: str, field: str, value: Vec, n: int) -> StructVec:
    """The value of a bins constructor: ``{__bins: kind, <field>: value}``."""
    return StructVec({"__bins": ConstVec(kind, pa.string(), n), field: value}, n)


@kernel("timestampBinsNice")
def timestamp_bins_nice(call: KernelCall) -> Vec:
    arg = call.args[0]
    values, valid = ints(arg, call.length)
    if not valid.all() or (values < 1).any():
        raise call.error("`timestampBinsNice(n)` needs a whole number of bins n >= 1")
    vec = arg if isinstance(arg, ConstVec) else ArrayVec(pa.array(values, type=pa.int64()))
    return bins_struct("nice", "nice", vec, call.length)


# Weave's NICE_BIN_SIZES_SEC (weave/legacy/ops_primitives/timestamp_bins.py), in milliseconds:
# 1 ns, 1 us, 1 ms; 1, 2.5, 5, 10, 15, 30 s; 1, 5, 10, 20, 30 min; 1-24 h; 2-30 d; 2-12 months of
# 30 days; 1-10 years of 365 days.
WEAVE_NICE_MS = np.array(
    [1e-6, 1e-3, 1.0]
    + [s * 1000.0 for s in (1, 2.5, 5, 10, 15, 30, 60, 300, 600, 1200, 1800)]
    + [3600_000.0 * i for i in range(1, 25)]
    + [86400_000.0 * i for i in range(2, 31)]
    + [86400_000.0 * 30 * i for i in range(2, 13)]
    + [365 * 86400_000.0 * i for i in range(1, 11)]
)


def _list_range(call: KernelCall, values: Callable[[Vec, int], tuple[np.ndarray, np.ndarray]]):
    """Per list of the first argument: (min, max) of its non-null values (0, 0 when it has
    none, as Weave's ``min(arr) if len(arr) > 0 else 0``) and the bin count as floats."""
    lists = as_list(call.args[0])
    m = lists.child.length
    x, ok = values(lists.child, m)
    x = x.astype(np.float64)
    ok = ok & ~np.isnan(x)
    count, lo, hi = per_list_min_max(lists, x, ok, np.inf, -np.inf)
    lo, hi = np.where(count > 0, lo, 0.0), np.where(count > 0, hi, 0.0)
    n, n_ok = floats(call.args[1], lists.length)
    return lists, lo, hi, n, n_ok & lists.is_valid()


def _step_bins(step: np.ndarray, valid: np.ndarray, n: int) -> StructVec:
    valid = valid & np.isfinite(step) & (step > 0)
    return bins_struct("fixed", "step", ArrayVec(_float_array(np.where(valid, step, 1.0), valid)), n)


@kernel("binsequal:range")
def binsequal_range(call: KernelCall) -> Vec:
    """``binsequal(xs, n)``: fixed bins ``(max - min) / n`` wide (null when that is not > 0,
    where Weave raises "Step must be greater than zero")."""
    lists, lo, hi, n, ok = _list_range(call, floats)
    with np.errstate(all="ignore"):
        step = (hi - lo) / np.where(ok, n, 1.0)
    return _step_bins(step, ok, lists.length)


@kernel("timestampBinsNice:range")
def timestamp_bins_nice_range(call: KernelCall) -> Vec:
    """``timestampBinsNice(ts, n)``: of Weave's nice widths, the one nearest ``(max - min) / n``
    by ratio (``min(sizes, key=|size / exact - 1|)``); 1 s when the range is empty."""
    lists, lo, hi, n, ok = _list_range(call, micros)
    with np.errstate(all="ignore"):
        exact = (hi - lo) / 1000.0 / np.where(ok, n, 1.0)  # milliseconds
        ratio = np.abs(WEAVE_NICE_MS[None, :] / np.where(exact > 0, exact, 1.0)[:, None] - 1.0)
    step = np.where(exact > 0, WEAVE_NICE_MS[np.argmin(ratio, axis=1)], 1000.0) if len(exact) else exact
    return _step_bins(step, ok & np.isfinite(exact), lists.length)


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
    nice, nice_ok = ints(bins.fields["nice"], lists.length)
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
