"""Radix sorts in Numba (cheaper to compile than Numba's generic ``np.sort``, and faster on
the float64 chunks the KLL batch path sorts)."""

from __future__ import annotations

import numpy as np
from numba import njit


def readonly(a, dtype) -> np.ndarray:
    """A contiguous, read-only view (copy only if needed) of ``a``: kernels take read-only
    inputs only, so each compiles once whether the data comes from Arrow (read-only) or not."""
    a = np.ascontiguousarray(a, dtype=dtype)
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


_SIGN = np.uint64(0x8000000000000000)
_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
_M11 = np.uint64(2047)


@njit(cache=True, nogil=True)
def radix_sort_keys(a, b, n):
    """LSD radix sort (11-bit digits, constant digits skipped) of the uint64 keys ``a[:n]``
    using ``b`` as scratch; returns the buffer (``a`` or ``b``) holding the sorted keys."""
    hist = np.zeros((6, 2048), dtype=np.int64)
    for i in range(n):
        k = a[i]
        hist[0, k & _M11] += 1
        hist[1, (k >> np.uint64(11)) & _M11] += 1
        hist[2, (k >> np.uint64(22)) & _M11] += 1
        hist[3, (k >> np.uint64(33)) & _M11] += 1
        hist[4, (k >> np.uint64(44)) & _M11] += 1
        hist[5, (k >> np.uint64(55)) & _M11] += 1
    src = a
    dst = b
    for d in range(6):
        sh = np.uint64(11 * d)
        if n == 0 or hist[d, (src[0] >> sh) & _M11] == n:
            continue
        acc = 0
        for bkt in range(2048):
            c = hist[d, bkt]
            hist[d, bkt] = acc
            acc += c
        for i in range(n):
            k = src[i]
            bkt = (k >> sh) & _M11
            dst[hist[d, bkt]] = k
            hist[d, bkt] += 1
        tmp = src
        src = dst
        dst = tmp
    return src


@njit(cache=True, nogil=True)
def sort_f64(vals, n, a, b):
    """Sort the (non-NaN) float64 values ``vals[:n]`` in place; ``a``, ``b``: uint64 scratch
    of at least ``n`` items."""
    bits = vals.view(np.uint64)
    for i in range(n):
        x = bits[i]
        a[i] = x ^ (_ONES if (x >> np.uint64(63)) != np.uint64(0) else _SIGN)
    src = radix_sort_keys(a, b, n)
    for i in range(n):
        k = src[i]
        bits[i] = k ^ (_SIGN if (k >> np.uint64(63)) != np.uint64(0) else _ONES)


@njit(cache=True, nogil=True)
def sort_f64_range(buf, start, stop):
    """Sort ``buf[start:stop]`` in place: Shell sort (Ciura's gaps), compact to compile and
    quick on the short level-0 runs KLL compacts."""
    n = stop - start
    gaps = (701, 301, 132, 57, 23, 10, 4, 1)
    for g in gaps:
        if g >= n:
            continue
        for i in range(start + g, stop):
            v = buf[i]
            j = i
            while j - g >= start and buf[j - g] > v:
                buf[j] = buf[j - g]
                j -= g
            buf[j] = v


@njit(cache=True, nogil=True)
def sorted_nonneg_i64(vals):
    """A sorted copy of non-negative int64 values."""
    n = vals.shape[0]
    a = np.empty(n, dtype=np.uint64)
    b = np.empty(n, dtype=np.uint64)
    for i in range(n):
        a[i] = np.uint64(vals[i])
    src = radix_sort_keys(a, b, n)
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = np.int64(src[i])
    return out
