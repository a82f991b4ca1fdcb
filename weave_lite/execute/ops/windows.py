"""Kernels of the windows ops: ``rolling(w => w.avg, n)`` over every list of a frame at once.

The window function is recognised from the plan (``w => w.avg`` / ``.sum`` / ``.min`` /
``.max``) and computed by one Numba pass over the flat values of all lists
(:mod:`weave_lite.kernels.rolling`); nothing is materialised per window.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from weave_lite.compile.planner import PCall, PVar
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.ops.base import as_array, as_list
from weave_lite.execute.vectors import ArrayVec, ConstVec, ListVec, StructVec, Vec
from weave_lite.kernels.rolling import rolling_arg_extreme, rolling_sum_float, rolling_sum_int

_FUNCTIONS = ("avg", "sum", "min", "max")


def _window_function(call: KernelCall) -> str:
    """Which reducer the window lambda applies to its parameter (else a clear error)."""
    fn = call.args[1]
    plan = getattr(fn, "plan", None)
    body = getattr(plan, "body", None)
    if (
        plan is not None
        and isinstance(body, PCall)
        and body.op in _FUNCTIONS
        and body.map_depth == 0
        and len(body.args) == 1
        and isinstance(body.args[0], PVar)
        and plan.params
        and body.args[0].name == plan.params[0]
    ):
        return body.op
    raise call.error(
        "`rolling` takes one of `w => w.avg`, `w => w.sum`, `w => w.min` or `w => w.max` "
        "as its window function"
    )


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
        valid = np.asarray(pc.is_valid(array).to_numpy(zero_copy_only=False), dtype=bool)
        sizes = (
            np.asarray(pc.fill_null(array, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
            if not pa.types.is_null(array.type)
            else np.zeros(n, dtype=np.int64)
        )
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
    array = as_array(child)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    return array


def _numpy(array: pa.Array, dtype) -> np.ndarray:
    filled = pc.fill_null(array, pa.scalar(0, array.type)) if array.null_count else array
    return np.ascontiguousarray(filled.to_numpy(zero_copy_only=False), dtype=dtype)


@kernel("rolling")
def rolling(call: KernelCall) -> Vec:
    function = _window_function(call)
    lists = as_list(call.args[0])
    sizes = _window_sizes(call, lists)
    values = _flat_values(lists)
    t = values.type
    offsets = np.ascontiguousarray(lists.offsets, dtype=np.int64)
    valid = (
        np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)
        if values.null_count
        else np.ones(len(values), dtype=bool)
    )
    if pa.types.is_null(t):
        valid = np.zeros(len(values), dtype=bool)
    mask = None if lists.valid is None else ~lists.valid

    if function in ("sum", "avg"):
        if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_null(t)):
            raise call.error(f"`rolling` with `{function}` needs numbers, got {t}")
        integer = pa.types.is_integer(t) or pa.types.is_null(t)
        if function == "sum" and integer:
            raw = _numpy(values, np.int64) if not pa.types.is_null(t) else np.zeros(len(values), np.int64)
            sums, _ = rolling_sum_int(raw, valid, offsets, sizes)
            child = pa.array(sums, type=pa.int64())
        else:
            raw = _numpy(values, np.float64) if not pa.types.is_null(t) else np.zeros(len(values), np.float64)
            sums, counts = rolling_sum_float(raw, valid, offsets, sizes)
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
            keys = _numpy(pc.add(values, pa.scalar(0.0, t)), np.float64)
        elif pa.types.is_integer(t):
            keys = _numpy(values, np.int64)
        else:
            # Strings, timestamps, booleans...: their dense ranks order them.
            ranks = pc.rank(values, sort_keys="ascending", tiebreaker="dense")
            keys = np.ascontiguousarray(ranks.to_numpy(zero_copy_only=False), dtype=np.int64)
        chosen = rolling_arg_extreme(keys, valid, offsets, sizes, function == "max")
    found = chosen >= 0
    if not len(values):
        child = values
    else:
        child = values.take(pa.array(np.where(found, chosen, 0), type=pa.int64(), mask=~found))
    return ListVec(lists.offsets, ArrayVec(child), None if mask is None else lists.valid)
