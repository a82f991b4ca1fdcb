"""Numba kernels for each group's values kept sorted (the live exact quantile's state,
:class:`weave_lite.execute.sorted_values.QuantileState`).

The values live in one float64 buffer, a slot per group: ``[main | recent | free]``, both runs
sorted.  A poll's new values are sorted into per-group runs (:func:`group_runs`), then each
touched group's new run is merged into its small ``recent`` run, and ``recent`` into ``main``
only once it holds 1/16 of it (:func:`merge_runs`): a poll moves about the new values, not the
group's.  The quantile is read off at its two ranks of the two runs with a binary search.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def group_runs(local: np.ndarray, values: np.ndarray, n_groups: int):
    """``(offsets, ordered)``: the non-NaN ``values`` (NaN: null, skipped) by their group
    ``local`` (``0..n_groups-1``), each group's run sorted."""
    offsets = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(values.shape[0]):
        if values[i] == values[i]:
            offsets[local[i] + 1] += 1
    for g in range(n_groups):
        offsets[g + 1] += offsets[g]
    cursor = offsets[:-1].copy()
    ordered = np.empty(offsets[n_groups], dtype=np.float64)
    for i in range(values.shape[0]):
        x = values[i]
        if x == x:
            ordered[cursor[local[i]]] = x
            cursor[local[i]] += 1
    for g in range(n_groups):
        ordered[offsets[g] : offsets[g + 1]].sort()
    return offsets, ordered


@njit(cache=True, nogil=True)
def _merge_back(buf: np.ndarray, lo: int, n_a: int, b: np.ndarray, b_lo: int, n_b: int) -> None:
    """Merge the sorted ``b[b_lo:b_lo+n_b]`` into the sorted ``buf[lo:lo+n_a]`` (room after it),
    from the back: the run ``buf[lo:lo+n_a+n_b]`` is sorted after."""
    i = lo + n_a - 1
    j = b_lo + n_b - 1
    w = lo + n_a + n_b - 1
    while j >= b_lo:
        if i >= lo and buf[i] > b[j]:
            buf[w] = buf[i]
            i -= 1
        else:
            buf[w] = b[j]
            j -= 1
        w -= 1


@njit(cache=True, nogil=True)
def _kth(buf: np.ndarray, a_lo: int, n_a: int, b_lo: int, n_b: int, r: int) -> float:
    """The ``r``-th smallest (from 0) of the sorted runs ``buf[a_lo:a_lo+n_a]`` and
    ``buf[b_lo:b_lo+n_b]`` together: a binary search over how many come from the first."""
    lo = max(0, r + 1 - n_b)
    hi = min(r + 1, n_a)
    while lo < hi:  # the fewest i with: a[i] is at least b[r - i]
        i = (lo + hi) // 2
        if buf[b_lo + r - i] > buf[a_lo + i]:
            lo = i + 1
        else:
            hi = i
    j = r + 1 - lo
    if lo == 0:
        return buf[b_lo + j - 1]
    if j == 0:
        return buf[a_lo + lo - 1]
    return max(buf[a_lo + lo - 1], buf[b_lo + j - 1])


@njit(cache=True, nogil=True)
def merge_runs(
    buf: np.ndarray,
    used: int,
    start: np.ndarray,
    n_main: np.ndarray,
    n_recent: np.ndarray,
    cap: np.ndarray,
    groups: np.ndarray,
    offsets: np.ndarray,
    ordered: np.ndarray,
    q: float,
    share: int,
    out: np.ndarray,
    has: np.ndarray,
) -> int:
    """Merge each new run ``ordered[offsets[j]:offsets[j+1]]`` into group ``groups[j]``'s slot
    and set its quantile; ``recent`` is folded into ``main`` once it holds more than
    1/``share`` of it (``out``/``has``: linear interpolation between the nearest ranks, as
    :func:`weave_lite.kernels.selection.run_quantile`).  A slot without room moves to
    ``buf[used:]`` with twice the room it needs (the caller made ``buf`` long enough); returns
    the new ``used``."""
    scratch = np.empty(0, dtype=np.float64)
    for j in range(groups.shape[0]):
        n_new = offsets[j + 1] - offsets[j]
        if n_new == 0:
            continue
        g = groups[j]
        s, m, r = start[g], n_main[g], n_recent[g]
        if m + r + n_new > cap[g]:  # move the slot to the end, with room to grow
            room = 2 * (m + r + n_new)
            buf[used : used + m + r] = buf[s : s + m + r]
            s = used
            start[g], cap[g] = s, room
            used += room
        _merge_back(buf, s + m, r, ordered, offsets[j], n_new)
        r += n_new
        if r * share > m:  # fold recent into main (it is small: a copy of it)
            if scratch.shape[0] < r:
                scratch = np.empty(2 * r, dtype=np.float64)
            scratch[:r] = buf[s + m : s + m + r]
            _merge_back(buf, s, m, scratch, 0, r)
            m += r
            r = 0
        n_main[g], n_recent[g] = m, r
        k = m + r
        position = q * (k - 1)
        below = int(np.floor(position))
        above = min(below + 1, k - 1)
        frac = position - below
        low = _kth(buf, s, m, s + m, r, below)
        high = _kth(buf, s, m, s + m, r, above) if above != below else low
        # As the cold kernel: inf stays inf (high == low), never inf - inf.
        out[g] = low if frac == 0.0 or high == low else low + (high - low) * frac
        has[g] = True
    return used


@njit(cache=True, nogil=True)
def compact(buf: np.ndarray, start: np.ndarray, n_main: np.ndarray, n_recent: np.ndarray, cap: np.ndarray, size: int):
    """The slots laid out again in a new buffer of ``size`` values, each with room for as
    many values again as it holds; returns ``(new buffer, used)``."""
    new = np.empty(size, dtype=np.float64)
    used = 0
    for g in range(start.shape[0]):
        k = n_main[g] + n_recent[g]
        new[used : used + k] = buf[start[g] : start[g] + k]
        start[g] = used
        cap[g] = 2 * k
        used += 2 * k
    return new, used
