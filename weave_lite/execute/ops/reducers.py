"""Kernels of the reducers: every list of a frame reduced at once.

Sums, means, extremes, variances and distinct counts use Arrow's hash aggregation keyed by the
list each element belongs to (one pass over all elements, whatever the number of lists).
Quantiles are exact: one sort by (list, value), then linear interpolation between the two
nearest ranks of each list, vectorized in numpy.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.ops.base import as_array, as_list, per_list_aggregate
from weave_lite.execute.vectors import ArrayVec, ListVec, Vec, combine


def _values(lists: ListVec, as_float: bool = False) -> pa.Array:
    child = combine(as_array(lists.child))
    if pa.types.is_null(child.type):
        child = child.cast(pa.float64())
    if as_float and not pa.types.is_floating(child.type):
        child = child.cast(pa.float64())
    return child


def _reduce(function: str, *, empty=None, as_float=False, options=None, out=None):
    def run(call: KernelCall) -> Vec:
        lists = as_list(call.args[0])
        values = _values(lists, as_float)
        out_type = out or (pa.float64() if as_float else None)
        if str(call.out_type) == "int":
            out_type = pa.int64()
        return ArrayVec(per_list_aggregate(lists, values, function, options, empty, out_type))

    return run


kernel("sum")(_reduce("sum", empty=0, options=pc.ScalarAggregateOptions(min_count=0)))
kernel("avg")(_reduce("mean", as_float=True))
kernel("stddev")(_reduce("stddev", as_float=True, options=pc.VarianceOptions(ddof=0)))
kernel("variance")(_reduce("variance", as_float=True, options=pc.VarianceOptions(ddof=0)))
kernel("countDistinct")(_reduce("count_distinct", empty=0, options=pc.CountOptions(mode="only_valid"), out=pa.int64()))


def _extreme(function: str):
    def run(call: KernelCall) -> Vec:
        lists = as_list(call.args[0])
        values = _values(lists)
        if pa.types.is_floating(values.type):
            values = pc.add(values, 0.0)
        if pa.types.is_null(values.type) or str(call.out_type) == "none":
            return ArrayVec(pa.nulls(lists.length))
        return ArrayVec(per_list_aggregate(lists, values, function))

    return run


kernel("min")(_extreme("min"))
kernel("max")(_extreme("max"))


# -- order statistics ----------------------------------------------------------------------------


def _sorted_valid(lists: ListVec, descending: bool = False):
    """Per-list sorted non-null, non-NaN values: (values, list id of each, count per list)."""
    values = _values(lists)
    pid = lists.parent_index()
    keep = np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_floating(values.type):
        keep &= ~np.isnan(np.asarray(pc.fill_null(values, 0.0).to_numpy(zero_copy_only=False)))
    idx = np.flatnonzero(keep)
    table = pa.table({"p": pa.array(pid[idx]), "v": values.take(pa.array(idx))})
    order = pc.sort_indices(table, sort_keys=[("p", "ascending"), ("v", "descending" if descending else "ascending")])
    order = np.asarray(order, dtype=np.int64)
    counts = np.bincount(pid[idx], minlength=lists.length).astype(np.int64)
    return idx[order], counts


def quantiles(lists: ListVec, q: float) -> pa.Array:
    """Exact per-list quantile with linear interpolation (numpy's default method)."""
    values = _values(lists, as_float=True)
    element, counts = _sorted_valid(lists)
    sorted_values = np.asarray(values.take(pa.array(element)).to_numpy(zero_copy_only=False), dtype=np.float64)
    starts = np.zeros(lists.length, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    has = counts > 0
    position = q * np.maximum(counts - 1, 0)
    lo = np.floor(position).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(counts - 1, 0))
    frac = position - lo
    lo_v = sorted_values[np.where(has, starts + lo, 0)] if len(sorted_values) else np.zeros(lists.length)
    hi_v = sorted_values[np.where(has, starts + hi, 0)] if len(sorted_values) else np.zeros(lists.length)
    with np.errstate(invalid="ignore"):
        result = np.where(frac == 0, lo_v, lo_v + (hi_v - lo_v) * frac)
    valid = has & lists.is_valid()
    return pa.array(np.where(valid, result, 0.0), type=pa.float64(), mask=~valid)


@kernel("median")
def median(call: KernelCall) -> Vec:
    return ArrayVec(quantiles(as_list(call.args[0]), 0.5))


@kernel("quantile")
def quantile(call: KernelCall) -> Vec:
    q = call.const(1)
    lists = as_list(call.args[0])
    if q is None:
        return ArrayVec(pa.nulls(lists.length, pa.float64()))
    if not 0 <= q <= 1:
        raise call.error(f"`quantile` takes a number between 0 and 1, got {q!r}")
    return ArrayVec(quantiles(lists, float(q)))


def _arg_extreme(descending: bool):
    def run(call: KernelCall) -> Vec:
        lists = as_list(call.args[0])
        values = _values(lists)
        if pa.types.is_floating(values.type):
            values = pc.add(values, 0.0)
        pid = lists.parent_index()
        valid = np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)
        idx = np.flatnonzero(valid)
        # Stable sort by (list, value): ties keep list order, so the first occurrence wins;
        # NaN sorts after every number in both directions (ignored unless all are NaN).
        table = pa.table({"p": pa.array(pid[idx]), "v": values.take(pa.array(idx))})
        order = np.asarray(
            pc.sort_indices(table, sort_keys=[("p", "ascending"), ("v", "descending" if descending else "ascending")]),
            dtype=np.int64,
        )
        chosen = idx[order]
        counts = np.bincount(pid[idx], minlength=lists.length)
        starts = np.zeros(lists.length, dtype=np.int64)
        np.cumsum(counts[:-1], out=starts[1:])
        has = (counts > 0) & lists.is_valid()
        first = chosen[np.where(has, starts, 0)] if len(chosen) else np.zeros(lists.length, dtype=np.int64)
        position = first - lists.offsets[:-1]
        return ArrayVec(pa.array(np.where(has, position, 0), type=pa.int64(), mask=~has))

    return run


kernel("argmax")(_arg_extreme(True))
kernel("argmin")(_arg_extreme(False))


@kernel("mode")
def mode(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    values = _values(lists)
    if pa.types.is_floating(values.type):
        values = pc.add(values, 0.0)
    pid = lists.parent_index()
    valid = np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)
    idx = np.flatnonzero(valid)
    table = pa.table({"p": pa.array(pid[idx], type=pa.int64()), "v": values.take(pa.array(idx))})
    counted = table.group_by(["p", "v"], use_threads=False).aggregate([("p", "count")])
    # Most frequent first; ties: the smallest value (NaN counts as the largest).
    order = pc.sort_indices(counted, sort_keys=[("p", "ascending"), ("p_count", "descending"), ("v", "ascending")])
    counted = counted.take(order)
    p = np.asarray(counted.column("p").to_numpy(), dtype=np.int64)
    first_of_list = np.ones(len(p), dtype=bool)
    first_of_list[1:] = p[1:] != p[:-1]
    winners = counted.filter(pa.array(first_of_list))
    position = np.full(lists.length, -1, dtype=np.int64)
    position[np.asarray(winners.column("p").to_numpy(), dtype=np.int64)] = np.arange(winners.num_rows)
    missing = (position < 0) | ~lists.is_valid()
    column = combine(winners.column("v"))
    if not len(column):
        return ArrayVec(pa.nulls(lists.length, type=values.type))
    return ArrayVec(column.take(pa.array(np.where(missing, 0, position), mask=missing)))
