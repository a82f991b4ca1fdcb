"""Numba kernels of ``rolling``: sliding-window sums, means and extremes over many lists at once.

Every kernel takes the flat values of all lists, a validity mask (False = null, skipped), the
list offsets (``offsets[p]:offsets[p+1]`` is list p) and the window size of each list; element
i's window is the last ``n`` elements of its list ending at i.  All run in O(total) time:

* sums keep a running compensated (Neumaier) sum of the finite values, rebuilt from scratch
  every ``n`` steps so that rounding errors cannot pile up, plus counts of NaN, +inf and -inf
  (so a NaN or an infinity leaving the window is forgotten exactly);
* extremes keep a monotonic deque of indices (first occurrence wins ties) and the last NaN.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _window_sum_from_scratch(values, valid, lo, hi):
    s = 0.0
    c = 0.0
    for j in range(lo, hi):
        if valid[j]:
            x = values[j]
            if x - x == 0.0:  # finite
                t = s + x
                if abs(s) >= abs(x):
                    c += (s - t) + x
                else:
                    c += (x - t) + s
                s = t
    return s, c


@njit(cache=True, nogil=True)
def rolling_sum_float(values, valid, offsets, ns):
    """Window sums and non-null counts of float64 ``values`` (NaN propagates, inf - inf = NaN)."""
    total = values.shape[0]
    out = np.zeros(total, dtype=np.float64)
    counts = np.zeros(total, dtype=np.int64)
    for p in range(offsets.shape[0] - 1):
        start = offsets[p]
        stop = offsets[p + 1]
        n = ns[p]
        if n > stop - start:
            n = stop - start
        s = 0.0
        c = 0.0
        count = 0
        nan = 0
        pinf = 0
        ninf = 0
        for i in range(start, stop):
            old = i - n
            if old >= start:
                if valid[old]:
                    count -= 1
                    x = values[old]
                    if x != x:
                        nan -= 1
                    elif x == np.inf:
                        pinf -= 1
                    elif x == -np.inf:
                        ninf -= 1
                if (i - start) % n == 0:
                    # Rebuild the finite sum of the window's older part from scratch.
                    s, c = _window_sum_from_scratch(values, valid, old + 1, i)
                elif valid[old]:
                    x = -values[old]
                    if x - x == 0.0:
                        t = s + x
                        if abs(s) >= abs(x):
                            c += (s - t) + x
                        else:
                            c += (x - t) + s
                        s = t
            if valid[i]:
                count += 1
                x = values[i]
                if x != x:
                    nan += 1
                elif x == np.inf:
                    pinf += 1
                elif x == -np.inf:
                    ninf += 1
                else:
                    t = s + x
                    if abs(s) >= abs(x):
                        c += (s - t) + x
                    else:
                        c += (x - t) + s
                    s = t
            counts[i] = count
            if nan > 0 or (pinf > 0 and ninf > 0):
                out[i] = np.nan
            elif pinf > 0:
                out[i] = np.inf
            elif ninf > 0:
                out[i] = -np.inf
            else:
                out[i] = s + c
    return out, counts


@njit(cache=True, nogil=True)
def rolling_sum_int(values, valid, offsets, ns):
    """Window sums of int64 ``values`` (wrapping at 64 bits, as Arrow) and non-null counts."""
    total = values.shape[0]
    out = np.zeros(total, dtype=np.int64)
    counts = np.zeros(total, dtype=np.int64)
    for p in range(offsets.shape[0] - 1):
        start = offsets[p]
        stop = offsets[p + 1]
        n = ns[p]
        s = np.int64(0)
        count = 0
        for i in range(start, stop):
            old = i - n
            if old >= start and valid[old]:
                s -= values[old]
                count -= 1
            if valid[i]:
                s += values[i]
                count += 1
            out[i] = s
            counts[i] = count
    return out, counts


@njit(cache=True, nogil=True)
def rolling_arg_extreme(values, valid, offsets, ns, want_max):
    """Index of each window's first min (or max) non-null value; NaN is ignored unless every
    non-null value of the window is NaN (then the index of a NaN); -1 for an all-null window."""
    total = values.shape[0]
    out = np.full(total, -1, dtype=np.int64)
    deque = np.empty(total, dtype=np.int64)
    for p in range(offsets.shape[0] - 1):
        start = offsets[p]
        stop = offsets[p + 1]
        n = ns[p]
        head = start
        tail = start  # deque[head:tail], indices increasing, values strictly improving
        last_nan = -1
        for i in range(start, stop):
            lo = i - n + 1
            while head < tail and deque[head] < lo:
                head += 1
            if valid[i]:
                x = values[i]
                if x != x:
                    last_nan = i
                else:
                    if want_max:
                        while head < tail and values[deque[tail - 1]] < x:
                            tail -= 1
                    else:
                        while head < tail and values[deque[tail - 1]] > x:
                            tail -= 1
                    deque[tail] = i
                    tail += 1
            if head < tail:
                out[i] = deque[head]
            elif last_nan >= lo and last_nan >= start:
                out[i] = last_nan
    return out
