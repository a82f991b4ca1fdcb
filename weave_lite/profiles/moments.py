"""Streaming moments: count, min, max, mean and M2, merged with Chan et al.'s formulas.

A batch is summarised in one Numba kernel (compensated sum for the mean, then a second pass
for ``M2 = sum((x - mean)**2)``, both over the finite values only) and folded into the running
state with the parallel formulas of Chan, Golub and LeVeque::

    n = na + nb;  d = mean_b - mean_a
    mean = mean_a + d * nb / n
    M2 = M2_a + M2_b + d**2 * na * nb / n

``stddev`` is the *sample* standard deviation ``sqrt(M2 / (n - 1))``, as whylogs reports it
(0.0 for a single value, ``None`` for none).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .sketches._sort import readonly


@njit(cache=True, nogil=True)
def batch_moments(values):
    """(n, mean, m2, min, max, nan_count, inf_count) of a float64 array's finite values."""
    n = 0
    s = 0.0
    c = 0.0
    lo = np.inf
    hi = -np.inf
    nans = 0
    infs = 0
    for i in range(values.shape[0]):
        v = values[i]
        if v != v:
            nans += 1
            continue
        if v == np.inf or v == -np.inf:
            infs += 1
            continue
        n += 1
        t = s + v
        if abs(s) >= abs(v):
            c += (s - t) + v
        else:
            c += (v - t) + s
        s = t
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    if n == 0:
        return 0, 0.0, 0.0, lo, hi, nans, infs
    mean = (s + c) / n
    m2 = 0.0
    for i in range(values.shape[0]):
        v = values[i]
        if v - v == 0.0:
            d = v - mean
            m2 += d * d
    return n, mean, m2, lo, hi, nans, infs


class Moments:
    """Running count/mean/M2/min/max of the finite numeric values of a column."""

    __slots__ = ("n", "mean", "m2", "min", "max")

    def __init__(
        self, n: int = 0, mean: float = 0.0, m2: float = 0.0, min: float = math.inf, max: float = -math.inf
    ) -> None:
        self.n = n
        self.mean = mean
        self.m2 = m2
        self.min = min
        self.max = max

    def update(self, values: np.ndarray) -> tuple[int, int]:
        """Fold a float64 batch in; return its (nan_count, inf_count)."""
        n, mean, m2, lo, hi, nans, infs = batch_moments(readonly(values, np.float64))
        self.merge(Moments(int(n), float(mean), float(m2), float(lo), float(hi)))
        return int(nans), int(infs)

    def merge(self, other: Moments) -> Moments:
        """Fold ``other`` into this state (Chan's parallel formulas); return ``self``."""
        nb = other.n
        if nb == 0:
            return self
        na = self.n
        if na == 0:
            self.n, self.mean, self.m2 = nb, other.mean, other.m2
        else:
            n = na + nb
            d = other.mean - self.mean
            self.mean = self.mean + d * nb / n
            self.m2 = self.m2 + other.m2 + d * d * na * nb / n
            self.n = n
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        return self

    def copy(self) -> Moments:
        return Moments(self.n, self.mean, self.m2, self.min, self.max)

    @property
    def variance(self) -> float | None:
        """Sample variance (``M2 / (n - 1)``); 0.0 for one value, ``None`` for none."""
        if self.n == 0:
            return None
        if self.n == 1:
            return 0.0
        return self.m2 / (self.n - 1)

    @property
    def stddev(self) -> float | None:
        v = self.variance
        return None if v is None else math.sqrt(max(v, 0.0))
