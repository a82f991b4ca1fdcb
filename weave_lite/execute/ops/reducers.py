"""Kernels of the reducers: every list of a frame reduced at once.

Each reducer sees the lists as (list id per element, element values).  Numeric reductions run
in Numba by list id in one pass (sums, means, extremes, population variance) or one counting
sort plus per-list sorts (exact quantiles); other types use Arrow's hash aggregation keyed by
list id.  Groups from ``groupby`` arrive order-free, so ``g["lat"].avg`` reads the column as
it is, without gathering it group by group.
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
    per_list_aggregate,
    to_numpy,
    validity,
)
from weave_lite.execute.encodings import string_codes
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.kernel_choice import grouped_quantile
from weave_lite.execute.vectors import ArrayVec, ListVec, Vec
from weave_lite.lazy import lazy_module

grouping = lazy_module("weave_lite.kernels.grouping")  # Numba: loaded by the first grouped reducer
pc = lazy_module("pyarrow.compute")  # loaded by the first kernel that uses it (issue 15: start-up)


def _values(lists: ListVec, as_float: bool = False) -> pa.Array:
    child = combine(as_array(lists.child))
    return _typed(child, as_float)


def _typed(values: pa.Array, as_float: bool) -> pa.Array:
    if pa.types.is_null(values.type):
        values = values.cast(pa.float64())
    if as_float and not pa.types.is_floating(values.type):
        values = values.cast(pa.float64())
    return values


def float_values(vec: Vec) -> pa.Array | pa.ChunkedArray:
    """A Vec of numbers as float64 Arrow values, chunks kept (no concatenation)."""
    return _typed(as_array(vec), True)


def list_elements(lists: ListVec, as_float: bool = False) -> tuple[np.ndarray, pa.Array]:
    """(list id of each element, the elements' values), order-free when the lists allow."""
    if lists.view is not None:
        group_of, base = lists.view
        return group_of, _typed(combine(as_array(base)), as_float)
    return lists.parent_index(), _values(lists, as_float)


def numpy_values(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(values with nulls as 0, validity) as numpy (the reducers' Numba kernels take both)."""
    data, valid = to_numpy(values)
    return data, dense_validity(valid, len(data))


def _result(lists: ListVec, values: np.ndarray, has: np.ndarray, arrow_type: pa.DataType) -> ArrayVec:
    """Per-list results; null where a list had nothing to reduce or is itself null."""
    ok = has & lists.is_valid()
    return ArrayVec(pa.array(values, type=arrow_type, mask=~ok))


def _is_number(values: pa.Array) -> bool:
    return pa.types.is_integer(values.type) or pa.types.is_floating(values.type)


def _single_list_values(lists: ListVec) -> pa.Array | pa.ChunkedArray | None:
    """The values of a lone, non-null, in-order list of numbers (a column), else None.

    One list needs no grouping: Arrow's multi-threaded scalar aggregates read the (possibly
    chunked) column in place.
    """
    if lists.length != 1 or lists.view is not None or (lists.valid is not None and not lists.valid[0]):
        return None
    values = as_array(lists.child)
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        return None
    return values


@kernel("sum")
def sum_(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    column = _single_list_values(lists)
    if column is not None:
        out_type = pa.int64() if str(call.out_type) == "int" else pa.float64()
        total = pc.sum(column, min_count=0).as_py() or 0
        return ArrayVec(pa.array([total], type=out_type))
    group_of, values = list_elements(lists)
    data, valid = numpy_values(values)
    if pa.types.is_integer(values.type) and str(call.out_type) == "int":
        total = grouping.grouped_sum_int(group_of, data.astype(np.int64, copy=False), valid, lists.length)
        return _result(lists, total, np.ones(lists.length, bool), pa.int64())
    _, total, _, _ = grouping.grouped_moments(group_of, data.astype(np.float64, copy=False), valid, lists.length)
    return _result(lists, total, np.ones(lists.length, bool), pa.float64())


def _moments(call: KernelCall, key: str):
    lists = as_list(call.args[0])
    group_of, values = list_elements(lists, as_float=True)
    data, valid = numpy_values(values)
    if key == "avg":  # count and sum suffice: one pass, no deviations
        count, total = grouping.grouped_count_sum(group_of, data, valid, lists.length)
        return finish_moments(key, count, total, None, None, lists.is_valid())
    count, total, mean, m2 = grouping.grouped_moments(group_of, data, valid, lists.length)
    return finish_moments(key, count, total, mean, m2, lists.is_valid())


def finish_moments(key: str, count, total, mean, m2, list_valid: np.ndarray) -> ArrayVec:
    """The result of moment reducer ``key`` from per-list moments (also used to finish merged
    partial moments, see weave_lite.execute.partials)."""
    with np.errstate(all="ignore"):
        out = MOMENT_REDUCERS[key](count, total, mean, m2)
    ok = (count > 0) & list_valid
    return ArrayVec(pa.array(out, type=pa.float64(), mask=~ok))


MOMENT_REDUCERS = {
    "avg": lambda n, total, mean, m2: total / np.maximum(n, 1),
    "variance": lambda n, total, mean, m2: _variance(n, total, m2),
    "stddev": lambda n, total, mean, m2: np.sqrt(_variance(n, total, m2)),
}
for _key in MOMENT_REDUCERS:
    kernel(_key)(lambda call, key=_key: _moments(call, key))


def _variance(n: np.ndarray, total: np.ndarray, m2: np.ndarray) -> np.ndarray:
    # Infinite or NaN inputs make the variance NaN (IEEE), whatever Welford's update gives.
    return np.where(np.isfinite(total), m2 / np.maximum(n, 1), np.nan)


@kernel("countDistinct")
def count_distinct(call: KernelCall) -> Vec:
    lists = as_list(call.args[0])
    if lists.length == 1 and lists.view is None and (lists.valid is None or lists.valid[0]):
        column = as_array(lists.child)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            # One string column: its (per-segment cached) codes, 0 standing for null.
            codes = string_codes(column)
            distinct = int(np.count_nonzero(np.bincount(codes)[1:])) if len(codes) else 0
            return ArrayVec(pa.array([distinct], type=pa.int64()))
    group_of, values = list_elements(lists)
    options = pc.CountOptions(mode="only_valid")
    return ArrayVec(
        per_list_aggregate(lists, _normalized(values), "count_distinct", options, 0, pa.int64(), group_of=group_of)
    )


def _normalized(values: pa.Array) -> pa.Array:
    """-0.0 counts as 0.0 (hash kernels tell their bits apart)."""
    return canonical_floats(values) if pa.types.is_floating(values.type) else values


def _extreme(want_max: bool):
    def run(call: KernelCall) -> Vec:
        lists = as_list(call.args[0])
        group_of, values = list_elements(lists)
        if pa.types.is_null(values.type) or str(call.out_type) == "none":
            return ArrayVec(pa.nulls(lists.length))
        if _is_number(values):
            data, valid = numpy_values(values)
            if pa.types.is_floating(values.type):
                best, has = grouping.grouped_extreme_float(
                    group_of, data.astype(np.float64, copy=False), valid, lists.length, want_max
                )
                return _result(lists, best + 0.0, has, pa.float64())
            best, has = grouping.grouped_extreme_int(
                group_of, data.astype(np.int64, copy=False), valid, lists.length, want_max
            )
            return _result(lists, best, has, pa.int64())
        function = "max" if want_max else "min"
        return ArrayVec(per_list_aggregate(lists, values, function, group_of=group_of))

    return run


kernel("min")(_extreme(False))
kernel("max")(_extreme(True))


def quantiles(lists: ListVec, q: float, threads: int = 1) -> ArrayVec:
    """Exact per-list quantile with linear interpolation (numpy's default method)."""
    if lists.view is not None:
        group_of, base = lists.view
        values = float_values(base)
    else:
        group_of, values = lists.parent_index(), float_values(lists.child)
    out, has = grouped_quantile(float_pieces(group_of, values), lists.length, float(q), threads)
    return _result(lists, out, has, pa.float64())


def float_pieces(
    group_of: np.ndarray, values: pa.Array | pa.ChunkedArray, mapping: np.ndarray | None = None
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(group_of, mapping, values)`` pieces of :func:`grouping.grouped_quantile`, one per
    chunk of the float64 ``values``: nulls read as NaN, and no chunk is copied unless it has
    nulls (Arrow's conversion then fills them)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    no_mapping = np.zeros(0, dtype=np.int64) if mapping is None else mapping
    pieces, start = [], 0
    for chunk in chunks:
        data = np.asarray(chunk.to_numpy(zero_copy_only=False), dtype=np.float64)
        pieces.append((group_of[start : start + len(chunk)], no_mapping, data))
        start += len(chunk)
    return pieces


@kernel("median")
def median(call: KernelCall) -> Vec:
    return quantiles(as_list(call.args[0]), 0.5, call.runtime.threads)


@kernel("quantile")
def quantile(call: KernelCall) -> Vec:
    q = call.const(1)
    lists = as_list(call.args[0])
    if q is None:
        return ArrayVec(pa.nulls(lists.length, pa.float64()))
    if not 0 <= q <= 1:
        raise call.error(f"`quantile` takes a number between 0 and 1, got {q!r}")
    return quantiles(lists, float(q), call.runtime.threads)


# -- order-dependent reducers (need each list in order) -------------------------------------


def _non_null_elements(lists: ListVec) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """The lists' non-null elements as a table of (list ``p``, value ``v``, -0.0 read as 0.0),
    with each element's list id and its position among the children."""
    values = _values(lists)
    if pa.types.is_floating(values.type):
        values = canonical_floats(values)
    pid = lists.parent_index()
    idx = np.flatnonzero(validity(values))
    table = pa.table({"p": pa.array(pid[idx], type=pa.int64()), "v": values.take(pa.array(idx))})
    return table, pid, idx


def _arg_extreme(descending: bool):
    def run(call: KernelCall) -> Vec:
        lists = as_list(call.args[0])
        # Stable sort by (list, value): ties keep list order, so the first occurrence wins;
        # NaN sorts after every number in both directions (ignored unless all are NaN).
        table, pid, idx = _non_null_elements(lists)
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
    table, _, _ = _non_null_elements(lists)
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
        return ArrayVec(pa.nulls(lists.length, type=table.schema.field("v").type))
    return ArrayVec(column.take(pa.array(np.where(missing, 0, position), mask=missing)))
