"""Exact quantiles by selection, not sorting: the value of a rank in one bracketed pass
(:func:`run_quantile`), per run of consecutive values (:func:`run_quantiles`), and grouped
quantiles of groups that are runs of their pieces (:func:`grouped_run_quantiles`: the groups
of near-sorted time bins) with no counting sort.  The interpolation is numpy's default
(DuckDB's ``quantile_cont``), bit for bit the same as :mod:`weave_lite.kernels.numpy_grouping`."""

from __future__ import annotations

import numpy as np
from numba import njit

from weave_lite.threads import map_in_order


@njit(cache=True, nogil=True)
def _quickselect(buffer: np.ndarray, left: int, right: int, kth: int):
    """Reorder ``buffer[left:right + 1]`` so that ``buffer[kth]`` holds its rank and no value
    after it is smaller (Hoare partitions around a median of three, insertion sort below 16)."""
    while right > left:
        if right - left < 16:
            for a in range(left + 1, right + 1):
                x = buffer[a]
                b = a - 1
                while b >= left and buffer[b] > x:
                    buffer[b + 1] = buffer[b]
                    b -= 1
                buffer[b + 1] = x
            return
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
            return


# Up to this many values on the near side of the wanted ranks, they are kept in a small
# sorted window in one pass (a well-predicted comparison per value) instead of a quickselect.
_WINDOW = 32


@njit(cache=True, nogil=True)
def _extreme_pair(buffer: np.ndarray, stop: int, m: int, top: bool):
    """The m-th and (m-1)-th largest values of ``buffer[:stop]`` (``top``), or the m-th and
    (m-1)-th smallest: a sorted window of the m most extreme values seen, in one pass."""
    window = np.empty(m, dtype=np.float64)
    sign = 1.0 if top else -1.0  # the smallest values are the largest of the negated ones
    for i in range(m):
        x = buffer[i] * sign
        b = i - 1
        while b >= 0 and window[b] > x:
            window[b + 1] = window[b]
            b -= 1
        window[b + 1] = x
    for i in range(m, stop):
        x = buffer[i] * sign
        if x > window[0]:
            b = 1
            while b < m and window[b] < x:
                window[b - 1] = window[b]
                b += 1
            window[b - 1] = x
    second = window[1] if m > 1 else window[0]
    return window[0] * sign, second * sign


@njit(cache=True, nogil=True)
def _rank_pair(buffer: np.ndarray, stop: int, below: int, above: int):
    """The values of ranks ``below`` and ``above`` (``above`` is ``below`` or ``below + 1``) of
    ``buffer[:stop]``, reordered in place: one selection, then the minimum after it."""
    if stop - below <= _WINDOW:  # near the top: a window of the largest values
        low_value, next_value = _extreme_pair(buffer, stop, stop - below, True)
        return low_value, next_value if above != below else low_value
    if above < _WINDOW:  # near the bottom: a window of the smallest values
        high_value, previous_value = _extreme_pair(buffer, stop, above + 1, False)
        return previous_value if above != below else high_value, high_value
    _quickselect(buffer, 0, stop - 1, below)
    low_value = buffer[below]
    high_value = low_value
    if above != below:
        high_value = buffer[below + 1]
        for j in range(below + 2, stop):
            if buffer[j] < high_value:
                high_value = buffer[j]
    return low_value, high_value


@njit(cache=True, nogil=True)
def _interpolate(low_value: float, high_value: float, frac: float) -> float:
    if frac == 0.0 or high_value == low_value:  # also keeps inf as inf
        return low_value
    return low_value + (high_value - low_value) * frac


# Below this many values a run is copied whole and selected; from it on, a sample brackets
# the wanted ranks first, so that only the values inside the bracket are selected.
_BRACKET_MIN = 512
_SAMPLE = 64


@njit(cache=True, nogil=True)
def run_quantile(values: np.ndarray, lo: int, hi: int, q: float, scratch: np.ndarray):
    """Exact quantile (linear interpolation between the nearest ranks, numpy's default) of
    the non-NaN values of ``values[lo:hi]``, which are not modified; ``scratch`` holds at
    least ``hi - lo`` values.  Returns ``(value, has)``.

    A bracketed pass: the sorted values of an even sample give bounds ``[a, b]`` that hold
    both wanted ranks with high probability; one pass counts the values below ``a`` and copies
    those within ``[a, b]``, and only they are selected.  When the bracket missed a rank (or
    the run is short) every value is copied and selected instead: the same exact result.
    """
    k = hi - lo
    if k >= _BRACKET_MIN:
        sample = np.empty(_SAMPLE, dtype=np.float64)
        s = 0
        for t in range(_SAMPLE):
            x = values[lo + (t * k) // _SAMPLE]
            if x == x:
                sample[s] = x
                s += 1
        if s >= _SAMPLE // 2:
            sample = np.sort(sample[:s])
            center = q * (s - 1)
            margin = 2.5 * np.sqrt(s * max(q * (1.0 - q), 0.01)) + 1.0
            a_index = int(np.floor(center - margin))
            b_index = int(np.ceil(center + margin))
            a = sample[a_index] if a_index >= 0 else -np.inf
            b = sample[b_index] if b_index < s else np.inf
            n_below = 0
            n_above = 0
            inside = 0
            for i in range(lo, hi):
                x = values[i]
                scratch[inside] = x
                n_below += x < a
                n_above += x > b
                inside += (x >= a) & (x <= b)
            valid = n_below + inside + n_above
            position = q * (valid - 1)
            below = int(np.floor(position))
            above = min(below + 1, valid - 1)
            if n_below <= below and above < n_below + inside:
                low_value, high_value = _rank_pair(scratch, inside, below - n_below, above - n_below)
                return _interpolate(low_value, high_value, position - below), True
    valid = 0
    for i in range(lo, hi):
        x = values[i]
        scratch[valid] = x
        valid += x == x
    if valid == 0:
        return 0.0, False
    position = q * (valid - 1)
    below = int(np.floor(position))
    above = min(below + 1, valid - 1)
    low_value, high_value = _rank_pair(scratch, valid, below, above)
    return _interpolate(low_value, high_value, position - below), True


@njit(cache=True, nogil=True)
def run_quantiles(
    values: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    dest: np.ndarray,
    q: float,
    out: np.ndarray,
    has: np.ndarray,
):
    """:func:`run_quantile` of each run ``values[starts[r]:stops[r]]`` into ``out[dest[r]]``."""
    longest = 0
    for r in range(starts.shape[0]):
        longest = max(longest, stops[r] - starts[r])
    scratch = np.empty(longest, dtype=np.float64)
    for r in range(starts.shape[0]):
        value, ok = run_quantile(values, starts[r], stops[r], q, scratch)
        out[dest[r]] = value
        has[dest[r]] = ok


@njit(cache=True, nogil=True)
def sorted_runs(group_of: np.ndarray):
    """``(starts, stops, groups, ok)``: the runs of equal ids of ``group_of``; ``ok`` is False
    (and the runs are empty) unless the ids never decrease, i.e. each id is one run."""
    n = group_of.shape[0]
    runs = 0
    for i in range(n):
        if i == 0 or group_of[i] != group_of[i - 1]:
            if i > 0 and group_of[i] < group_of[i - 1]:
                return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), False
            runs += 1
    starts = np.empty(runs, dtype=np.int64)
    groups = np.empty(runs, dtype=np.int64)
    r = 0
    for i in range(n):
        if i == 0 or group_of[i] != group_of[i - 1]:
            starts[r] = i
            groups[r] = group_of[i]
            r += 1
    stops = np.empty(runs, dtype=np.int64)
    if runs:
        stops[:-1] = starts[1:]
        stops[-1] = n
    return starts, stops, groups, True


# More runs than this that share a group with another run: their values are placed by the
# counting sort instead of being gathered run by run in Python.
_SHARED_RUNS = 4096


def grouped_run_quantiles(
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_groups: int, q: float, threads: int = 1
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`grouped_quantile` when every piece's group ids never decrease (groups of
    near-sorted time bins): each group is one run of a piece's values, selected where it lies,
    with no counting sort.  A group split over several runs (a bin across two morsels) has
    its runs' values gathered first.  None when a piece is not sorted."""
    runs = []
    for group_of, mapping, values in pieces:
        starts, stops, local, ok = sorted_runs(group_of)
        if not ok:
            return None
        runs.append((starts, stops, mapping[local] if len(mapping) else local, values))
    out = np.zeros(n_groups, dtype=np.float64)
    has = np.zeros(n_groups, dtype=np.bool_)
    all_groups = np.concatenate([r[2] for r in runs]) if runs else np.zeros(0, np.int64)
    shared = np.bincount(all_groups, minlength=n_groups) > 1
    if int(np.count_nonzero(shared[all_groups])) > _SHARED_RUNS:
        return None
    jobs = []
    gathered: dict[int, list[np.ndarray]] = {}
    for starts, stops, groups, values in runs:
        alone = ~shared[groups]
        jobs.append((values, starts[alone], stops[alone], groups[alone]))
        for r in np.flatnonzero(~alone):
            gathered.setdefault(int(groups[r]), []).append(values[starts[r] : stops[r]])
    if gathered:
        parts = [np.concatenate(chunks) for chunks in gathered.values()]
        bounds = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in parts], out=bounds[1:])
        dest = np.fromiter(gathered.keys(), dtype=np.int64, count=len(parts))
        jobs.append((np.concatenate(parts), bounds[:-1].copy(), bounds[1:].copy(), dest))
    # Split the jobs into about ``threads`` equal shares of runs for the (GIL-free) kernel.
    shares = []
    for values, starts, stops, dest in jobs:
        step = max(1, -(-len(starts) // threads))
        for lo in range(0, len(starts), step):
            shares.append((values, starts[lo : lo + step], stops[lo : lo + step], dest[lo : lo + step]))
    map_in_order(lambda j: run_quantiles(j[0], j[1], j[2], j[3], q, out, has), shares, threads)
    return out, has
