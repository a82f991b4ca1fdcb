"""Numba kernels for group-by: dense codes in first-appearance order, counting sorts, and
per-group reductions by group id (no sort, no hashing: the ids are dense)."""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

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
    buckets ``first..stop-1`` of ``buffer`` (reordered in place), into ``out``/``has``.

    Selection, not sorting: the lower rank by an in-place quickselect (Hoare partitions around
    a median of three, insertion sort below 16 values), the upper one as the minimum above it.
    """
    for g in range(first, stop):
        lo = offsets[g]
        hi = offsets[g + 1]
        k = hi - lo
        if k == 0:
            continue
        position = q * (k - 1)
        below = int(np.floor(position))
        above = min(below + 1, k - 1)
        frac = position - below
        kth = lo + below
        left = lo
        right = hi - 1
        while right > left:
            if right - left < 16:
                for a in range(left + 1, right + 1):
                    x = buffer[a]
                    b = a - 1
                    while b >= left and buffer[b] > x:
                        buffer[b + 1] = buffer[b]
                        b -= 1
                    buffer[b + 1] = x
                break
            mid = (left + right) // 2
            if buffer[mid] < buffer[left]:
                buffer[mid], buffer[left] = buffer[left], buffer[mid]
            if buffer[right] < buffer[left]:
                buffer[right], buffer[left] = buffer[left], buffer[right]
            if buffer[right] < buffer[mid]:
                buffer[right], buffer[mid] = buffer[mid], buffer[right]
            pivot = buffer[mid]
            i = left
            j = right
            while i <= j:
                while buffer[i] < pivot:
                    i += 1
                while buffer[j] > pivot:
                    j -= 1
                if i <= j:
                    buffer[i], buffer[j] = buffer[j], buffer[i]
                    i += 1
                    j -= 1
            # Now [left, j] <= pivot <= [i, right], and values between them equal the pivot.
            if kth <= j:
                right = j
            elif kth >= i:
                left = i
            else:
                break
        low_value = buffer[kth]
        high_value = low_value
        if above != below:
            high_value = buffer[kth + 1]
            for j in range(kth + 2, hi):
                if buffer[j] < high_value:
                    high_value = buffer[j]
        if frac == 0.0 or high_value == low_value:  # also keeps inf as inf
            out[g] = low_value
        else:
            out[g] = low_value + (high_value - low_value) * frac
        has[g] = True


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
