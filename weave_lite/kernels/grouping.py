"""Numba kernels for group-by: dense codes in first-appearance order, counting sorts, and
per-group reductions by group id (no sort, no hashing: the ids are dense)."""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

from weave_lite.kernels.selection import grouped_run_quantiles, run_quantile
from weave_lite.threads import map_in_order


@njit(cache=True, nogil=True)
def renumber_first_appearance(codes: np.ndarray, n_codes: int):
    """Dense ids ``0..G-1`` numbered by first appearance, and each group's first index.

    ``codes`` are dense non-negative ints below ``n_codes``.
    """
    n = codes.shape[0]
    new_id = np.full(n_codes, -1, dtype=np.int64)
    out = np.empty(n, dtype=np.int64)
    first = np.empty(min(n, n_codes), dtype=np.int64)
    groups = 0
    for i in range(n):
        c = codes[i]
        g = new_id[c]
        if g < 0:
            g = groups
            new_id[c] = g
            first[g] = i
            groups += 1
        out[i] = g
    return out, first[:groups].copy()


@njit(cache=True, nogil=True)
def stable_order(group_of: np.ndarray, n_groups: int):
    """The permutation listing elements group by group, keeping their order (counting sort).

    Also returns the groups' offsets into that order.
    """
    n = group_of.shape[0]
    offsets = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(n):
        offsets[group_of[i] + 1] += 1
    for g in range(n_groups):
        offsets[g + 1] += offsets[g]
    cursor = offsets[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        g = group_of[i]
        order[cursor[g]] = i
        cursor[g] += 1
    return order, offsets


@njit(cache=True, nogil=True)
def grouped_moments(group_of: np.ndarray, values: np.ndarray, valid: np.ndarray, n_groups: int):
    """Per group: count of valid values, sum, mean and the sum of squared deviations (M2).

    NaN and infinities propagate as IEEE arithmetic does (see :func:`grouped_moment_partials`).
    """
    count, total, _shift, _shifted_mean, m2 = grouped_moment_partials(group_of, values, valid, n_groups)
    return count, total, _means(total, count), m2


@njit(cache=True, nogil=True)
def _means(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """total / count per group (0 for empty groups)."""
    mean = np.zeros(total.shape[0], dtype=np.float64)
    for g in range(total.shape[0]):
        if count[g] > 0:
            mean[g] = total[g] / count[g]
    return mean


@njit(cache=True, nogil=True)
def grouped_moment_partials(group_of: np.ndarray, values: np.ndarray, valid: np.ndarray, n_groups: int):
    """Per group: count of valid values, sum, shift (the group's first value), mean of the
    shifted values and the sum of squared deviations (M2).

    M2 is computed in two passes on values shifted by the group's first value, so deviations
    are exact differences even for large clustered values (epoch milliseconds, say).  The
    shift is kept so that partial moments merge without losing that precision
    (:func:`merge_moment_partials`).
    """
    n = values.shape[0]
    count = np.zeros(n_groups, dtype=np.int64)
    total = np.zeros(n_groups, dtype=np.float64)
    shift = np.zeros(n_groups, dtype=np.float64)
    shifted_sum = np.zeros(n_groups, dtype=np.float64)
    for i in range(n):
        if not valid[i]:
            continue
        g = group_of[i]
        x = values[i]
        if count[g] == 0:
            shift[g] = x
        count[g] += 1
        total[g] += x
        shifted_sum[g] += x - shift[g]
    shifted_mean = np.zeros(n_groups, dtype=np.float64)
    for g in range(n_groups):
        if count[g] > 0:
            shifted_mean[g] = shifted_sum[g] / count[g]
    m2 = np.zeros(n_groups, dtype=np.float64)
    for i in range(n):
        if not valid[i]:
            continue
        g = group_of[i]
        d = (values[i] - shift[g]) - shifted_mean[g]
        m2[g] += d * d
    return count, total, shift, shifted_mean, m2


@njit(cache=True, nogil=True)
def merge_moment_partials(
    group_of: np.ndarray,
    count: np.ndarray,
    total: np.ndarray,
    shift: np.ndarray,
    shifted_mean: np.ndarray,
    m2: np.ndarray,
    n_groups: int,
):
    """Fold partial moments (one row per partial, in order) into per-group moments with
    Chan et al.'s pairwise update; deviations stay relative to each group's first shift."""
    c = np.zeros(n_groups, dtype=np.int64)
    t = np.zeros(n_groups, dtype=np.float64)
    s = np.zeros(n_groups, dtype=np.float64)
    sm = np.zeros(n_groups, dtype=np.float64)
    q = np.zeros(n_groups, dtype=np.float64)
    for i in range(count.shape[0]):
        nb = count[i]
        if nb == 0:
            continue
        g = group_of[i]
        na = c[g]
        if na == 0:
            c[g] = nb
            t[g] = total[i]
            s[g] = shift[i]
            sm[g] = shifted_mean[i]
            q[g] = m2[i]
            continue
        n = na + nb
        delta = (shift[i] - s[g]) + (shifted_mean[i] - sm[g])  # mean_b - mean_a
        sm[g] += delta * nb / n
        q[g] += m2[i] + delta * delta * (float(na) * float(nb) / n)
        t[g] += total[i]
        c[g] = n
    return c, t, _means(t, c), q


@njit(cache=True, nogil=True)
def grouped_sum_int(group_of: np.ndarray, values: np.ndarray, valid: np.ndarray, n_groups: int):
    """Per-group sums of int64 values (wrapping at 64 bits, like Arrow's unchecked sum)."""
    total = np.zeros(n_groups, dtype=np.int64)
    for i in range(values.shape[0]):
        if valid[i]:
            total[group_of[i]] += values[i]
    return total


@njit(cache=True, nogil=True)
def grouped_extreme_float(group_of: np.ndarray, values: np.ndarray, valid: np.ndarray, n_groups: int, want_max: bool):
    """Per-group min or max ignoring NaN (NaN only when a group holds nothing but NaN)."""
    best = np.zeros(n_groups, dtype=np.float64)
    seen = np.zeros(n_groups, dtype=np.bool_)
    nan_only = np.zeros(n_groups, dtype=np.bool_)
    for i in range(values.shape[0]):
        if not valid[i]:
            continue
        g = group_of[i]
        x = values[i]
        if x != x:
            if not seen[g]:
                nan_only[g] = True
            continue
        if not seen[g]:
            best[g] = x
            seen[g] = True
            nan_only[g] = False
        elif (want_max and x > best[g]) or ((not want_max) and x < best[g]):
            best[g] = x
    for g in range(n_groups):
        if nan_only[g]:
            best[g] = np.nan
    return best, seen | nan_only


@njit(cache=True, nogil=True)
def grouped_extreme_int(group_of: np.ndarray, values: np.ndarray, valid: np.ndarray, n_groups: int, want_max: bool):
    best = np.zeros(n_groups, dtype=np.int64)
    seen = np.zeros(n_groups, dtype=np.bool_)
    for i in range(values.shape[0]):
        if not valid[i]:
            continue
        g = group_of[i]
        x = values[i]
        if not seen[g]:
            best[g] = x
            seen[g] = True
        elif (want_max and x > best[g]) or ((not want_max) and x < best[g]):
            best[g] = x
    return best, seen


@njit(cache=True, nogil=True)
def scatter_by_group(
    group_of: np.ndarray, mapping: np.ndarray, values: np.ndarray, cursor: np.ndarray, buffer: np.ndarray, write: bool
):
    """One pass of a counting sort of the non-NaN float ``values`` into their groups.

    Element i's group is ``mapping[group_of[i]]`` (``group_of[i]`` when ``mapping`` is empty:
    a morsel's local groups map to global ones without a gathered copy).  Counting (``write``
    False) adds one to ``cursor[g + 1]`` per value; placing stores it at ``buffer[cursor[g]]``
    and advances ``cursor[g]``.  Nulls arrive as NaN (Arrow's float conversion), so no
    validity is read.  One kernel for both passes: one compile on the first quantile.
    """
    mapped = mapping.shape[0] > 0
    for i in range(values.shape[0]):
        x = values[i]
        if x != x:
            continue
        g = group_of[i]
        if mapped:
            g = mapping[g]
        if write:
            buffer[cursor[g]] = x
            cursor[g] += 1
        else:
            cursor[g + 1] += 1


@njit(cache=True, nogil=True)
def select_quantiles(
    offsets: np.ndarray, buffer: np.ndarray, q: float, first: int, stop: int, out: np.ndarray, has: np.ndarray
):
    """Exact quantile (linear interpolation between the nearest ranks, numpy's default) of
    buckets ``first..stop-1`` of ``buffer``, into ``out``/``has``: one bracketed selection
    per bucket (:func:`run_quantile`), not a sort."""
    longest = 0
    for g in range(first, stop):
        longest = max(longest, offsets[g + 1] - offsets[g])
    scratch = np.empty(longest, dtype=np.float64)
    for g in range(first, stop):
        if offsets[g + 1] > offsets[g]:
            out[g], has[g] = run_quantile(buffer, offsets[g], offsets[g + 1], q, scratch)


def grouped_quantile(
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_groups: int, q: float, threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-group quantile of float values given in pieces ``(group_of, mapping,
    values)`` (see :func:`scatter_by_group`; NaN, i.e. nulls, skipped).

    The pieces (a morsel's values each) are counted and placed in parallel, each into its own
    slots of one group-contiguous buffer; then groups are selected in parallel, in contiguous
    ranges holding about the same number of values each (the kernels release the GIL).
    """
    threads = max(1, threads)
    by_runs = grouped_run_quantiles(pieces, n_groups, q, threads)
    if by_runs is not None:
        return by_runs
    no_buffer = np.zeros(0, dtype=np.float64)

    def count(piece: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
        counts = np.zeros(n_groups + 1, dtype=np.int64)
        scatter_by_group(piece[0], piece[1], piece[2], counts, no_buffer, False)
        return counts[1:]

    counts = np.stack(map_in_order(count, pieces, threads)) if pieces else np.zeros((0, n_groups), np.int64)
    offsets = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(counts.sum(axis=0), out=offsets[1:])
    buffer = np.empty(offsets[-1], dtype=np.float64)
    # Piece m's values of group g start after the earlier pieces' values of g.
    starts = offsets[:-1] + np.cumsum(counts, axis=0) - counts
    map_in_order(
        lambda m: scatter_by_group(pieces[m][0], pieces[m][1], pieces[m][2], starts[m].copy(), buffer, True),
        range(len(pieces)),
        threads,
    )
    out = np.zeros(n_groups, dtype=np.float64)
    has = np.zeros(n_groups, dtype=np.bool_)
    cuts = np.searchsorted(offsets, np.linspace(0, offsets[-1], threads + 1)[1:-1])
    bounds = [0, *sorted({int(c) for c in cuts} - {0, n_groups}), n_groups]
    ranges = list(itertools.pairwise(bounds))
    map_in_order(lambda r: select_quantiles(offsets, buffer, q, r[0], r[1], out, has), ranges, threads)
    return out, has


@njit(cache=True, nogil=True)
def renumber_gathered(
    codes: np.ndarray,
    indices: np.ndarray,
    gathered: bool,
    new_id: np.ndarray,
    out: np.ndarray,
    first: np.ndarray,
    sizes: np.ndarray,
):
    """:func:`renumber_first_appearance` of ``codes[indices]`` (of ``codes`` when not
    ``gathered``) without gathering the codes first: ids into ``out``, each group's first
    position into ``first`` and its size into ``sizes`` (zeros); returns the number of
    groups.  ``new_id`` holds ``n_codes`` -1s.

    The caller allocates ``out`` and ``new_id`` with numpy, whose large arrays are reused
    from one query to the next; Numba's own allocations of that size page-fault afresh."""
    groups = 0
    for i in range(out.shape[0]):
        c = codes[indices[i]] if gathered else codes[i]
        g = new_id[c]
        if g < 0:
            g = groups
            new_id[c] = g
            first[g] = i
            groups += 1
        out[i] = g
        sizes[g] += 1
    return groups


@njit(cache=True, nogil=True)
def grouped_count_sum(group_of: np.ndarray, values: np.ndarray, valid: np.ndarray, n_groups: int):
    """Per group: count of valid values and their sum, in one pass (what ``avg`` needs; the
    sums are added in row order, as :func:`grouped_moment_partials` adds them)."""
    count = np.zeros(n_groups, dtype=np.int64)
    total = np.zeros(n_groups, dtype=np.float64)
    for i in range(values.shape[0]):
        if valid[i]:
            g = group_of[i]
            count[g] += 1
            total[g] += values[i]
    return count, total


# -- time bins and quantiles of contiguous runs ---------------------------------------------------


@njit(cache=True, nogil=True)
def time_bin_groups(us: np.ndarray, valid: np.ndarray, width: int, max_bins: int, out: np.ndarray):
    """Groups of ``floor(us / width)`` (nulls one group), numbered by first appearance, without
    hashing: a bin's id is looked up in a table indexed by ``bin - lowest bin``.

    ``out`` (n int64, allocated by numpy: faster to fault in than Numba's allocation) receives
    the group ids.  Returns ``(group_of, first, sizes, contiguous)``; ``contiguous`` is True when every group
    is one run of consecutive elements (near-sorted timestamps, a stream table's usual case).
    Returns a zero-length ``first`` with ``sizes[0] == -1`` when the bins span more than
    ``max_bins`` values (the table would be too large: the caller hashes instead).
    """
    n = us.shape[0]
    if n > 0 and _sorted_and_valid(us, valid):
        return _sorted_time_bins(us, width, max_bins, out)
    lowest_us = np.int64(0)
    highest_us = np.int64(-1)
    seen = False
    for i in range(n):
        if valid[i]:
            x = us[i]
            if not seen:
                lowest_us = x
                highest_us = x
                seen = True
            lowest_us = min(lowest_us, x)
            highest_us = max(highest_us, x)
    lowest = lowest_us // width
    span = highest_us // width - lowest + 1 if seen else 0
    if span > max_bins:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.full(1, -1, np.int64), False
    new_id = np.full(span + 1, -1, dtype=np.int64)  # the last slot: the null group
    first = np.empty(min(n, span + 1), dtype=np.int64)
    sizes = np.zeros(min(n, span + 1), dtype=np.int64)
    groups = 0
    previous = np.int64(-1)
    contiguous = True
    # The last bin seen, as microseconds [bin_lo, bin_hi): near-sorted timestamps mostly
    # fall in it again, and skip the division.
    bin_lo = np.int64(1)
    bin_hi = np.int64(0)
    c = np.int64(0)
    for i in range(n):
        if valid[i]:
            x = us[i]
            if x < bin_lo or x >= bin_hi:
                b = x // width
                c = b - lowest
                bin_lo = b * width
                bin_hi = bin_lo + width
            g = new_id[c]
        else:
            g = new_id[span]
            bin_hi = bin_lo  # the next valid timestamp looks its bin up again
        if g < 0:
            g = groups
            new_id[c if valid[i] else span] = g
            first[g] = i
            groups += 1
        elif g != previous:
            contiguous = False
        previous = g
        sizes[g] += 1
        out[i] = g
    return out, first[:groups].copy(), sizes[:groups].copy(), contiguous


@njit(cache=True, nogil=True)
def _sorted_and_valid(us: np.ndarray, valid: np.ndarray) -> bool:
    """Whether ``us`` never decreases and has no nulls."""
    for i in range(us.shape[0]):  # noqa: SIM110 (a loop: Numba compiles no generator)
        if not valid[i] or (i > 0 and us[i] < us[i - 1]):
            return False
    return True


@njit(cache=True, nogil=True)
def _sorted_time_bins(us: np.ndarray, width: int, max_bins: int, out: np.ndarray):
    """:func:`time_bin_groups` of sorted timestamps without nulls: each bin's rows found by
    binary search of its edges, no per-row lookup."""
    n = us.shape[0]
    lowest = us[0] // width
    span = us[n - 1] // width - lowest + 1
    if span > max_bins:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.full(1, -1, np.int64), False
    edges = (np.arange(span + 1, dtype=np.int64) + lowest) * width
    bounds = np.searchsorted(us, edges)
    bounds[0] = 0
    bounds[span] = n
    first = np.empty(span, dtype=np.int64)
    sizes = np.empty(span, dtype=np.int64)
    groups = 0
    for b in range(span):
        lo = bounds[b]
        hi = bounds[b + 1]
        if hi > lo:
            first[groups] = lo
            sizes[groups] = hi - lo
            for i in range(lo, hi):
                out[i] = groups
            groups += 1
    return out, first[:groups].copy(), sizes[:groups].copy(), True
