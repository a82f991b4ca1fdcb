"""Kernels of the windows area: ``rolling(w => w.avg, n)`` over every list of a frame at once.

``rolling`` runs its window function on every window: the windows of all lists are built as one
list of lists and the function runs once over all of them.  The rewrite
:mod:`weave_lite.compile.rewrites.window_functions` recognises ``w => w.avg`` / ``.sum`` /
``.min`` / ``.max`` while planning and gives ``rolling:avg`` ... ``rolling:max``, computed by one
Numba pass over the flat values of all lists (:mod:`weave_lite.kernels.rolling`) with nothing
materialised per window.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.execute.columns import (
    as_array,
    as_list,
    canonical_floats,
    combine,
    dense_validity,
    list_positions,
    ranges,
    to_numpy,
    validity,
)
from weave_lite.execute.estimates import take_bytes
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.vectors import ArrayVec, ConstVec, ListVec, StructVec, Vec
from weave_lite.lazy import lazy_module

rolling_kernels = lazy_module("weave_lite.kernels.rolling")  # Numba: loaded by the first rolling window
pc = lazy_module("pyarrow.compute")  # loaded by the first kernel that uses it (issue 15: start-up)

# The window functions computed without building windows (keys ``rolling:<function>``).
FUNCTIONS = ("avg", "sum", "min", "max")


@kernel("rolling")
def rolling(call: KernelCall) -> Vec:
    """Any window function: run once over the windows of every element of every list."""
    lists = as_list(call.args[0])
    sizes = _window_sizes(call, lists)
    fn = call.args[1]
    pid = lists.parent_index()
    here = np.arange(lists.child.length, dtype=np.int64)
    lo = np.maximum(lists.offsets[:-1][pid], here - sizes[pid] + 1) if len(pid) else here
    widths = here + 1 - lo
    offsets = np.zeros(len(here) + 1, dtype=np.int64)
    np.cumsum(widths, out=offsets[1:])
    index = np.repeat(lo, widths) + ranges(widths)
    call.admit(take_bytes(lists.child, index), f"`rolling` windows ({len(index):,} elements)")
    windows = ListVec(offsets, lists.child.take(index))
    params: list[Vec] = [windows]
    if fn.arity > 1:  # the element's index in its list
        params.append(ArrayVec(pa.array(list_positions(lists), type=pa.int64())))
    return ListVec(lists.offsets, fn(params, pid), lists.valid)


def _window_sizes(call: KernelCall, lists: ListVec) -> np.ndarray:
    """The window size of every list (an int >= 1 wherever the list is not null)."""
    arg = call.args[2] if len(call.args) > 2 else None
    n = lists.length
    live = lists.is_valid()
    if arg is None:
        raise call.error("`rolling` needs a window size n")
    if isinstance(arg, ConstVec):
        value = arg.value
        valid = np.full(n, value is not None, dtype=bool)
        sizes = np.full(n, 0 if value is None or isinstance(value, bool) else int(value), dtype=np.int64)
        if isinstance(value, bool) or (value is not None and not isinstance(value, int)):
            valid[:] = False
    else:
        array = as_array(arg)
        if not pa.types.is_integer(array.type) and not pa.types.is_null(array.type):
            raise call.error(f"`rolling`'s window size must be an integer, got {array.type}")
        sizes, ok = to_numpy(array, dtype=np.int64)
        valid = dense_validity(ok, len(sizes))
    bad = live & (~valid | (sizes < 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = "null" if not valid[i] else str(int(sizes[i]))
        raise call.error(f"`rolling`'s window size must be an integer of at least 1, got {shown}")
    return np.where(live, sizes, 1).astype(np.int64)


def _flat_values(lists: ListVec) -> pa.Array:
    child = lists.child
    if isinstance(child, (ListVec, StructVec)):
        raise TypeError("`rolling` windows must hold numbers (or, for min/max, orderable values)")
    if child.length == 0:
        return pa.array([], pa.float64())
    array = combine(as_array(child))
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    return array


def _numpy(array: pa.Array, dtype) -> np.ndarray:
    return to_numpy(array, dtype=dtype)[0]


def _rolling(call: KernelCall, function: str) -> Vec:
    """``rolling`` of one of :data:`FUNCTIONS`: one Numba pass, no window built."""
    lists = as_list(call.args[0])
    sizes = _window_sizes(call, lists)
    values = _flat_values(lists)
    t = values.type
    offsets = np.ascontiguousarray(lists.offsets, dtype=np.int64)
    valid = validity(values)
    mask = None if lists.valid is None else ~lists.valid

    if function in ("sum", "avg"):
        if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_null(t)):
            raise call.error(f"`rolling` with `{function}` needs numbers, got {t}")
        integer = pa.types.is_integer(t) or pa.types.is_null(t)
        if function == "sum" and integer:
            raw = _numpy(values, np.int64) if not pa.types.is_null(t) else np.zeros(len(values), np.int64)
            sums, _ = rolling_kernels.rolling_sum_int(raw, valid, offsets, sizes)
            child = pa.array(sums, type=pa.int64())
        else:
            raw = _numpy(values, np.float64) if not pa.types.is_null(t) else np.zeros(len(values), np.float64)
            sums, counts = rolling_kernels.rolling_sum_float(raw, valid, offsets, sizes)
            if function == "sum":
                child = pa.array(sums, type=pa.float64())
            else:
                has = counts > 0
                with np.errstate(invalid="ignore", divide="ignore"):
                    means = sums / np.where(has, counts, 1)
                child = pa.array(means, type=pa.float64(), mask=~has)
        return ListVec(lists.offsets, ArrayVec(child), None if mask is None else lists.valid)

    # min / max: the index of each window's extreme, then a take of the original values.
    if pa.types.is_null(t):
        chosen = np.full(len(values), -1, dtype=np.int64)
    else:
        if pa.types.is_floating(t):
            keys = _numpy(canonical_floats(values), np.float64)
        elif pa.types.is_integer(t):
            keys = _numpy(values, np.int64)
        else:
            # Strings, timestamps, booleans...: their dense ranks order them.
            ranks = pc.rank(values, sort_keys="ascending", tiebreaker="dense")
            keys = np.ascontiguousarray(ranks.to_numpy(zero_copy_only=False), dtype=np.int64)
        chosen = rolling_kernels.rolling_arg_extreme(keys, valid, offsets, sizes, function == "max")
    found = chosen >= 0
    if not len(values):
        child = values
    else:
        child = values.take(pa.array(np.where(found, chosen, 0), type=pa.int64(), mask=~found))
    return ListVec(lists.offsets, ArrayVec(child), None if mask is None else lists.valid)


for _function in FUNCTIONS:
    kernel(f"rolling:{_function}")(lambda call, function=_function: _rolling(call, function))
