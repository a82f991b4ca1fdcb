"""Numpy versions of the group-by kernels a first query needs (no Numba).

Same inputs, same outputs, bit for bit, as :func:`weave_lite.kernels.grouping.renumber_first_appearance`
and :func:`weave_lite.kernels.grouping.grouped_quantile`: a fresh process (the CLI, the first
query after installing) runs these instead of importing Numba (~0.3-0.5 s) and compiling or
loading the kernels (seconds on an empty cache).  See :mod:`weave_lite.execute.kernel_choice`.
"""

from __future__ import annotations

import numpy as np

# Up to this many groups, each group's ranks are selected by np.partition on its own slice (a
# Python loop over groups, O(n) work); beyond it one lexsort orders every group at once.
_PARTITION_GROUPS = 256


def renumber_first_appearance(codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids ``0..G-1`` numbered by first appearance, and each group's first index
    (``codes`` are dense non-negative ints below ``n_codes``)."""
    n = len(codes)
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    first = np.full(n_codes, n, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(n, dtype=np.int64))  # each code's first index
    present = np.flatnonzero(first < n)
    by_appearance = present[np.argsort(first[present], kind="stable")]
    new_id = np.full(n_codes, -1, dtype=np.int64)
    new_id[by_appearance] = np.arange(len(by_appearance), dtype=np.int64)
    return new_id[codes], first[by_appearance]


def grouped_quantile(
    group_of: np.ndarray, values: np.ndarray, valid: np.ndarray, n_groups: int, q: float, threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-group quantile (linear interpolation between the nearest ranks; NaN and nulls
    skipped): ``(out, has)`` as the Numba kernel gives them.  ``threads`` is accepted for the
    same signature (numpy's sort and partition run on one core)."""
    keep = valid & (values == values)
    groups = group_of[keep].astype(np.int64, copy=False)
    kept = values[keep].astype(np.float64, copy=False)
    counts = np.bincount(groups, minlength=n_groups).astype(np.int64)
    offsets = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    has = counts > 0
    out = np.zeros(n_groups, dtype=np.float64)
    position = q * (counts - 1).astype(np.float64)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, counts - 1)
    frac = position - below
    low = np.zeros(n_groups, dtype=np.float64)
    high = np.zeros(n_groups, dtype=np.float64)
    # Stable sorts of group ids below 2**16 are radix sorts (about 4x timsort on int64).
    keys = groups.astype(np.uint16) if n_groups <= 0xFFFF else groups
    if np.count_nonzero(has) <= _PARTITION_GROUPS:
        # Bucket the values by group, then select the two ranks in each bucket.
        ordered = kept[np.argsort(keys, kind="stable")]
        for g in np.flatnonzero(has):
            bucket = ordered[offsets[g] : offsets[g + 1]]
            b, a = int(below[g]), int(above[g])
            part = np.partition(bucket, b)
            low[g] = part[b]
            high[g] = part[a] if a == b else part[a:].min()
    else:
        # Sort by value, then (stably) by group: every group's values in order.
        by_value = np.argsort(kept)
        ordered = kept[by_value[np.argsort(keys[by_value], kind="stable")]]
        starts = offsets[:-1][has]
        low[has] = ordered[starts + below[has]]
        high[has] = ordered[starts + above[has]]
    with np.errstate(invalid="ignore"):  # inf - inf where the two ranks are both inf: not picked
        between = low + (high - low) * frac
    out[has] = np.where((frac == 0.0) | (high == low), low, between)[has]  # also keeps inf as inf
    return out, has


def renumber_gathered(
    codes: np.ndarray, indices: np.ndarray | None, n_codes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`renumber_first_appearance` of ``codes[indices]`` (all of ``codes`` for None),
    and each group's size."""
    ids, first = renumber_first_appearance(
        np.asarray(codes) if indices is None else np.asarray(codes)[indices], n_codes
    )
    return ids, first, np.bincount(ids, minlength=len(first)).astype(np.int64)


def time_bin_groups(
    us: np.ndarray, valid: np.ndarray, width: int, max_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """:func:`weave_lite.kernels.grouping.time_bin_groups` in numpy (the same results)."""
    n = len(us)
    bins = us // width
    if valid.any():
        lowest, highest = int(bins[valid].min()), int(bins[valid].max())
        span = highest - lowest + 1
    else:
        lowest, span = 0, 0
    if span > max_bins:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.full(1, -1, np.int64), False
    codes = np.where(valid, bins - lowest, span).astype(np.int64)
    group_of, first = renumber_first_appearance(codes, span + 1)
    sizes = np.bincount(group_of, minlength=len(first)).astype(np.int64) if n else np.zeros(0, np.int64)
    contiguous = bool(n < 2 or (group_of[1:] >= group_of[:-1]).all())
    return group_of, first, sizes, contiguous
