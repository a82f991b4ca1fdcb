"""Top-k selection of one sort key column: the row indices of ``sort(...).limit(k)``'s winners
without sorting (or even comparing every value twice), for ``limit:sorted`` in the lists area.

1. A threshold from a sample: about ``SAMPLE`` values in short runs spread evenly; its j-th best
   value (j a few standard deviations above the ``k * sample / n`` winners a sample of that size
   holds on average) is, with high probability, no better than the k-th best value of all.
2. Candidates: one vectorized comparison per chunk against that threshold keeps the few rows at
   least as good (nulls and NaN are never candidates: ``sort`` puts them last in both
   directions).  Fewer than k candidates means the threshold was too strict: a looser one is
   tried, the last time every non-null non-NaN value.
3. Exact selection over the candidates: the k-th best value ``v``; the winners are the rows
   better than ``v`` and, in row order, the first rows equal to ``v`` (the stable sort keeps
   ties in row order), or every row equal to ``v`` when later sort keys break the ties.

The answer is exact whatever the sample: the sample only decides how many rows the comparison
keeps.  ``None`` means "cannot decide here" (a type without a vectorized comparison, fewer than
k non-null non-NaN values): the caller sorts everything.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa

from weave_lite.lazy import lazy_module

pc = lazy_module("pyarrow.compute")

SAMPLE = 1 << 12  # values in the threshold sample (arrays this small never touch fresh pages)
BLOCK = 16  # neighbouring values read together by the sample (two cache lines of float64)

_NUMPY_VIEWS = {8: np.int8, 16: np.int16, 32: np.int32, 64: np.int64}


def top_k_rows(column: pa.Array | pa.ChunkedArray, k: int, descending: bool, keep_ties: bool) -> np.ndarray | None:
    """Increasing row indices of the first ``k`` rows of ``column`` in sort order (stable, nulls
    and NaN last), or with ``keep_ties`` every row tied with the k-th one too; ``None`` when
    this module cannot decide them (see the module docstring)."""
    found = _top_k(column, k, descending, keep_ties)
    return None if found is None else found[0]


def top_k_order(column: pa.Array | pa.ChunkedArray, k: int, descending: bool) -> np.ndarray | None:
    """The row indices of the first ``k`` rows of ``column`` in sort order (the order of the
    stable sort, nulls and NaN last), or ``None`` as :func:`top_k_rows`."""
    found = _top_k(column, k, descending, keep_ties=False)
    if found is None:
        return None
    rows, values = found
    if isinstance(values, np.ndarray):
        if not descending:
            return rows[np.argsort(values, kind="stable")]
        # Descending with ties in row order: the stable ascending sort of the reversed values, reversed.
        backwards = np.argsort(values[::-1], kind="stable")
        return rows[::-1][backwards][::-1]
    order = pc.array_sort_indices(values, order="descending" if descending else "ascending")  # stable
    return rows[np.asarray(order, dtype=np.int64)]


def rows_at_least(
    column: pa.Array | pa.ChunkedArray, bound: pa.Scalar, descending: bool, strict: bool = False
) -> np.ndarray | None:
    """Increasing row indices of ``column`` whose values are at least as good as ``bound`` in
    sort order (``>=`` descending, ``<=`` ascending; better only, with ``strict``): a live
    top-k's new rows that may beat its k-th kept row.  Nulls and NaN never pass (sorted last);
    ``bound`` must be neither.  None when the values cannot be compared here (a type without a
    vectorized comparison, a bound not exactly of the column's type)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    t = column.type
    dtype = _numeric_dtype(t)
    if dtype is not None:
        value = _numeric_bound(bound, t, dtype)
        if value is None or any(len(c) and c.buffers()[1] is None for c in chunks):
            return None
        found, start = [], 0
        for chunk in chunks:
            values: np.ndarray = np.frombuffer(chunk.buffers()[1], dtype=dtype, count=chunk.offset + len(chunk))
            values = values[chunk.offset :]
            if descending:
                local = np.flatnonzero(values > value if strict else values >= value)  # NaN: False
            else:
                local = np.flatnonzero(values < value if strict else values <= value)
            if chunk.null_count and len(local):
                local = local[_valid_at(chunk, local)]
            found.append(local + start)
            start += len(chunk)
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        if not (pa.types.is_string(bound.type) or pa.types.is_large_string(bound.type)):
            return None
        bound = bound.cast(t)
        compare = {
            (True, True): pc.greater,
            (True, False): pc.greater_equal,
            (False, True): pc.less,
            (False, False): pc.less_equal,
        }[(descending, strict)]
        found, start = [], 0
        for chunk in chunks:
            local = np.asarray(pc.indices_nonzero(compare(chunk, bound)), dtype=np.int64)  # nulls: no row
            found.append(local + start)
            start += len(chunk)
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    return None


def _numeric_bound(bound: pa.Scalar, t: pa.DataType, dtype: type) -> Any:
    """``bound`` as a numpy value of ``dtype`` (the view of ``t``), or None when it is not of
    type ``t`` and does not convert to it exactly."""
    if not bound.type.equals(t):
        try:
            converted = bound.cast(t)  # a safe cast: overflow and truncation raise
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        if converted.cast(bound.type) != bound:
            return None
        bound = converted
    if not bound.is_valid:
        return None
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return dtype(bound.as_py())  # exact: a Python int or float holds any such value
    return dtype(bound.value)  # temporal: the integer count the column's buffer holds


def _top_k(column: pa.Array | pa.ChunkedArray, k: int, descending: bool, keep_ties: bool):
    """(rows, their values) of :func:`top_k_rows`, or None."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    n = sum(len(c) for c in chunks)
    if k <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    dtype = _numeric_dtype(column.type)
    if dtype is not None:
        if any(len(c) and c.buffers()[1] is None for c in chunks):
            return None  # no value buffer to view (never written by Arrow for these types)
        source: _Source = _NumericSource(chunks, dtype)
    elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        source = _StringSource(chunks)
    else:
        return None
    sample = source.sample(_sample_positions([len(c) for c in chunks], SAMPLE))
    usable = n - sum(c.null_count for c in chunks)
    for rank in _threshold_ranks(k, len(sample), usable if len(sample) < n else n):
        bound = source.nth_best(sample, rank, descending) if rank is not None else None
        rows, values = source.candidates(bound, descending)
        if len(rows) >= k:
            return source.select(rows, values, k, descending, keep_ties)
    return None  # fewer than k non-null non-NaN values: nulls or NaN are among the first k


def _numeric_dtype(t: pa.DataType) -> type | None:
    """The numpy type whose values order as the Arrow type's (timestamps, dates and durations
    by their integer count), else None."""
    if pa.types.is_floating(t):
        return {32: np.float32, 64: np.float64}.get(t.bit_width)  # half floats: Arrow's path
    if pa.types.is_signed_integer(t) or pa.types.is_timestamp(t) or pa.types.is_duration(t):
        return _NUMPY_VIEWS[t.bit_width]
    if pa.types.is_date(t):
        return _NUMPY_VIEWS[t.bit_width]
    if pa.types.is_unsigned_integer(t):
        return {8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64}[t.bit_width]
    return None


def _sample_positions(lengths: list[int], size: int) -> list[np.ndarray]:
    """Per chunk, the positions of a sample of about ``size`` values of them all: runs of
    ``BLOCK`` neighbours spread evenly (whole cache lines, read at memory speed, where a
    stride would wait on a cache miss per value), or every position when there are few."""
    total = sum(lengths)
    if total <= size:
        return [np.arange(m, dtype=np.int64) for m in lengths]
    out = []
    for m in lengths:
        blocks = min(m // BLOCK, round(size / BLOCK * m / total))
        if blocks <= 0:
            out.append(np.arange(0, m, max(1, total // size), dtype=np.int64))
            continue
        starts = np.linspace(0, m - BLOCK, blocks).astype(np.int64)
        out.append((starts[:, None] + np.arange(BLOCK, dtype=np.int64)).ravel())
    return out


def _threshold_ranks(k: int, sample: int, n: int) -> list[int | None]:
    """The sample ranks to try as thresholds, strictest first; ``None``: no threshold."""
    if sample == 0:
        return [None]
    if sample >= n:  # the sample is every value: its k-th best is exact
        return [k] if k <= sample else [None]
    expected = k * sample / n  # winners in the sample, on average
    first = math.ceil(expected + 4 * math.sqrt(expected) + 4)
    # Each retry 8 times looser (sorted or clustered values put the sample's best in one run).
    ranks: list[int | None] = [first * 8**i for i in range(8) if first * 8**i <= sample]
    return [*ranks, None]


class _Source:
    """The chunks of one key column, read by the three steps of the module docstring."""

    def __init__(self, chunks: list[pa.Array]) -> None:
        self.chunks = chunks
        self.starts = np.cumsum([0] + [len(c) for c in chunks])

    def sample(self, positions: list[np.ndarray]):
        """The usable (non-null, non-NaN) values at ``positions`` (per chunk)."""
        raise NotImplementedError

    def nth_best(self, sample, rank: int, descending: bool):
        """The ``rank``-th best value of the sample."""
        raise NotImplementedError

    def candidates(self, bound, descending: bool) -> tuple[np.ndarray, Any]:
        """The increasing rows whose usable values are at least as good as ``bound`` (every
        usable row when ``bound`` is None), and what :meth:`select` needs of their values."""
        raise NotImplementedError

    def select(self, rows: np.ndarray, values, k: int, descending: bool, keep_ties: bool) -> tuple[np.ndarray, Any]:
        """The winners among the candidates and their values (see the module docstring)."""
        raise NotImplementedError


def _valid_at(chunk: pa.Array, local: np.ndarray) -> np.ndarray:
    """Whether ``chunk`` is valid at each of the positions ``local`` (its bitmap read there)."""
    if not chunk.null_count:
        return np.ones(len(local), dtype=bool)
    bits = np.frombuffer(chunk.buffers()[0], dtype=np.uint8)
    at = local + chunk.offset
    return ((bits[at >> 3] >> (at & 7)) & 1).astype(bool)


class _NumericSource(_Source):
    """Integer, float and temporal chunks read as numpy views of their value buffers."""

    def __init__(self, chunks: list[pa.Array], dtype: type) -> None:
        super().__init__(chunks)
        self.values: list[np.ndarray] = [
            np.frombuffer(c.buffers()[1], dtype=dtype, count=c.offset + len(c))[c.offset :]
            if len(c)
            else np.zeros(0, dtype=dtype)
            for c in chunks
        ]
        self.floats = np.issubdtype(dtype, np.floating)

    def _usable(self, i: int, local: np.ndarray, values: np.ndarray) -> np.ndarray:
        keep = _valid_at(self.chunks[i], local)
        if self.floats:
            keep &= ~np.isnan(values)
        return keep

    def sample(self, positions: list[np.ndarray]) -> np.ndarray:
        parts = []
        for i, (values, local) in enumerate(zip(self.values, positions, strict=True)):
            picked = values[local]
            parts.append(picked[self._usable(i, local, picked)])
        return np.concatenate(parts) if parts else np.zeros(0)

    def nth_best(self, sample: np.ndarray, rank: int, descending: bool):
        at = len(sample) - rank if descending else rank - 1
        return np.partition(sample, at)[at]

    def candidates(self, bound, descending: bool) -> tuple[np.ndarray, np.ndarray]:
        found, kept = [], []
        for i, values in enumerate(self.values):
            if bound is None:
                local = np.arange(len(values), dtype=np.int64)
            else:
                local = np.flatnonzero(values >= bound if descending else values <= bound)
            picked = values[local]  # read now, while the comparison's pass left them in cache
            if self.chunks[i].null_count or (self.floats and bound is None):
                usable = self._usable(i, local, picked)
                local, picked = local[usable], picked[usable]
            found.append(local + self.starts[i])
            kept.append(picked)
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(found), np.concatenate(kept)

    def select(
        self, rows: np.ndarray, values: np.ndarray, k: int, descending: bool, keep_ties: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        at = len(values) - k if descending else k - 1
        kth = np.partition(values, at)[at]
        better = values > kth if descending else values < kth
        keep = _winners(better, values == kth, k, keep_ties)
        return rows[keep], values[keep]


class _StringSource(_Source):
    """String chunks compared by Arrow (byte order, which is code point order for UTF-8)."""

    def sample(self, positions: list[np.ndarray]) -> pa.Array:
        parts = [c.take(pa.array(local)) for c, local in zip(self.chunks, positions, strict=True)]
        return pc.drop_null(pa.concat_arrays(parts))

    def nth_best(self, sample: pa.Array, rank: int, descending: bool):
        order = pc.select_k_unstable(sample, rank, sort_keys=[("x", "descending" if descending else "ascending")])
        return sample[order[rank - 1].as_py()]

    def candidates(self, bound, descending: bool) -> tuple[np.ndarray, pa.Array]:
        found, kept = [], []
        for i, chunk in enumerate(self.chunks):
            if bound is None:
                keep = pc.is_valid(chunk)
            else:
                keep = (pc.greater_equal if descending else pc.less_equal)(chunk, bound)
            local = pc.indices_nonzero(keep)  # a null comparison (a null value) is no candidate
            kept.append(chunk.take(local))
            found.append(np.asarray(local, dtype=np.int64) + self.starts[i])
        if not found:
            return np.zeros(0, dtype=np.int64), pa.array([], pa.string())
        return np.concatenate(found), pa.chunked_array(kept, type=self.chunks[0].type).combine_chunks()

    def select(
        self, rows: np.ndarray, values: pa.Array, k: int, descending: bool, keep_ties: bool
    ) -> tuple[np.ndarray, pa.Array]:
        order = pc.select_k_unstable(values, k, sort_keys=[("x", "descending" if descending else "ascending")])
        kth = values[order[k - 1].as_py()]
        better = (pc.greater if descending else pc.less)(values, kth).to_numpy(zero_copy_only=False)  # no nulls
        tied = pc.equal(values, kth).to_numpy(zero_copy_only=False)
        keep = _winners(better, tied, k, keep_ties)
        return rows[keep], values.filter(pa.array(keep))


def _winners(better: np.ndarray, tied: np.ndarray, k: int, keep_ties: bool) -> np.ndarray:
    """Which candidates win: those better than the k-th value, then those tied with it (all of
    them, or the first in row order up to k in all; candidates are in row order)."""
    if keep_ties:
        return better | tied
    keep = better.copy()
    keep[np.flatnonzero(tied)[: k - int(np.count_nonzero(better))]] = True
    return keep
