"""Kernels of the number bins: the constructors ``binsfixed(step)`` / ``binsequal(n)`` and
``x.bin(binsfixed(step))`` / ``list.bin(binsequal(n))``.

A bins constructor gives a dict ``{__bins: "fixed", step: float}`` / ``{__bins: "equal", n: int}``
(the ``DictT`` of ``weave_lite/graph/ops/numbers.py``); ``bin`` gives ``{start, stop}`` dicts, or
null for a null (or NaN, for equal bins) number.  The float arithmetic is the reference's, in the
same order, so results are bit-identical.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.ops.base import as_list, as_struct
from weave_lite.execute.ops.strings import combine_chunks, folding, validity
from weave_lite.execute.ops.timestamps import _ints, bins_struct, per_list_min_max
from weave_lite.execute.vectors import ArrayVec, ConstVec, ListVec, StructVec, Vec


def floats(vec: Vec, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, validity) of a numeric Vec."""
    if isinstance(vec, ConstVec):
        if vec.value is None:
            return np.zeros(n, np.float64), np.zeros(n, bool)
        return np.full(n, float(vec.value), dtype=np.float64), np.ones(n, bool)
    array = combine_chunks(vec.array if isinstance(vec, ArrayVec) else vec.to_arrow())
    if pa.types.is_null(array.type):
        return np.zeros(n, np.float64), np.zeros(n, bool)
    values = pc.fill_null(array.cast(pa.float64()), 0.0).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64), validity(array)


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
    vec = ConstVec(float(arg.value), pa.float64(), call.length) if isinstance(arg, ConstVec) else ArrayVec(pa.array(step))
    return bins_struct("fixed", "step", vec, call.length)


@kernel("binsequal")
def binsequal(call: KernelCall) -> Vec:
    arg = call.args[0]
    n, ok = _ints(arg, call.length)
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
    nbins, n_ok = _ints(bins.fields["n"], lists.length)
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
