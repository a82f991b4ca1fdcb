"""KLL quantile sketch (Karnin, Lang, Liberty 2016): :class:`KLLSketch`, its merge, queries and
serialisation. The algorithm and its Numba kernels are in :mod:`.kll_kernels`."""

from __future__ import annotations

import numpy as np

from .._binio import BinReader, BinWriter, FormatError
from ._sort import readonly
from .kll_kernels import (
    _K,
    _L0_SORTED,
    _M,
    _MAXL,
    _META_LEN,
    _N,
    _NUM_LEVELS,
    CHUNK,
    DEFAULT_K,
    MIN_WIDTH,
    _total_capacity,
    kll_merge,
    kll_sorted_view,
    kll_update,
    kll_update_batch,
)


class KLLSketch:
    """A mergeable quantile sketch over float64 values.

    >>> s = KLLSketch()
    >>> s.update(np.arange(1000, dtype=np.float64))
    >>> s.quantile(0.5)
    499.0
    """

    __slots__ = ("items", "levels", "meta", "rng", "mm", "_view")

    def __init__(self, k: int = DEFAULT_K, seed: int = 0x5EED_CAFE_F00D) -> None:
        if not 8 <= k <= 65535:
            msg = f"kll k must be in [8, 65535], got {k}"
            raise ValueError(msg)
        self.items = np.empty(k, dtype=np.float64)
        self.levels = np.zeros(_MAXL + 2, dtype=np.int64)
        self.levels[0] = k
        self.levels[1] = k
        self.meta = np.zeros(_META_LEN, dtype=np.int64)
        self.meta[_NUM_LEVELS] = 1
        self.meta[_K] = k
        self.meta[_M] = MIN_WIDTH
        self.meta[_L0_SORTED] = 0
        self.rng = np.array([seed or 1], dtype=np.uint64)
        self.mm = np.array([np.inf, -np.inf], dtype=np.float64)
        self._view = None

    # -- properties
    @property
    def k(self) -> int:
        return int(self.meta[_K])

    @property
    def n(self) -> int:
        """Number of (finite) values the sketch has seen."""
        return int(self.meta[_N])

    @property
    def num_retained(self) -> int:
        nl = int(self.meta[_NUM_LEVELS])
        return int(self.levels[nl] - self.levels[0])

    @property
    def min(self) -> float | None:
        return float(self.mm[0]) if self.n else None

    @property
    def max(self) -> float | None:
        return float(self.mm[1]) if self.n else None

    def is_empty(self) -> bool:
        return self.n == 0

    # -- updates
    def update(self, values: np.ndarray) -> None:
        """Insert the finite values of a 1-d numeric array (converted to float64)."""
        values = readonly(values, np.float64)
        if values.shape[0] == 0:
            return
        if values.shape[0] >= CHUNK:
            self.items, done = kll_update_batch(self.items, self.levels, self.meta, self.rng, self.mm, values)
            values = values[done:]
        if values.shape[0]:
            self.items = kll_update(self.items, self.levels, self.meta, self.rng, self.mm, values)
        self._view = None

    def merge(self, other: KLLSketch) -> KLLSketch:
        """Merge ``other`` into this sketch in place and return ``self``."""
        if other.k != self.k:
            msg = f"cannot merge kll sketches of different k ({self.k} and {other.k})"
            raise ValueError(msg)
        if other.n == 0:
            return self
        self.items = kll_merge(
            self.items,
            self.levels,
            self.meta,
            self.rng,
            self.mm,
            other.items,
            other.levels,
            other.meta,
            other.mm,
        )
        self._view = None
        return self

    def copy(self) -> KLLSketch:
        c = KLLSketch.__new__(KLLSketch)
        c.items = self.items.copy()
        c.levels = self.levels.copy()
        c.meta = self.meta.copy()
        c.rng = self.rng.copy()
        c.mm = self.mm.copy()
        c._view = self._view
        return c

    # -- queries
    def _sorted_view(self):
        if self._view is None:
            self._view = kll_sorted_view(self.items, self.levels, self.meta)
        return self._view

    def quantiles(self, qs) -> np.ndarray:
        """Quantiles at the fractions ``qs`` (each in [0, 1]); NaN when the sketch is empty.

        The quantile at ``q`` is the smallest retained value whose cumulative weight reaches
        ``ceil(q * n)``; ``q = 0`` and ``q = 1`` give the exact minimum and maximum.
        """
        qs = np.atleast_1d(np.asarray(qs, dtype=np.float64))
        if np.any(~((qs >= 0.0) & (qs <= 1.0))):
            msg = f"quantile fractions must be in [0, 1], got {qs.tolist()}"
            raise ValueError(msg)
        out = np.full(qs.shape[0], np.nan)
        n = self.n
        if n == 0:
            return out
        sv, cw = self._sorted_view()
        target = np.maximum(1, np.ceil(qs * n)).astype(np.int64)
        idx = np.minimum(np.searchsorted(cw, target, side="left"), sv.shape[0] - 1)
        out = sv[idx]
        out = np.where(qs == 0.0, self.mm[0], out)
        out = np.where(qs == 1.0, self.mm[1], out)
        return out

    def quantile(self, q: float) -> float | None:
        v = float(self.quantiles([q])[0])
        return None if np.isnan(v) else v

    def rank(self, value: float) -> float:
        """Estimated fraction of values ``<= value``."""
        n = self.n
        if n == 0:
            return float("nan")
        sv, cw = self._sorted_view()
        i = np.searchsorted(sv, value, side="right")
        return float(cw[i - 1] / n) if i > 0 else 0.0

    # -- serialisation
    def to_bytes(self) -> bytes:
        w = BinWriter()
        nl = int(self.meta[_NUM_LEVELS])
        w.u32(self.k)
        w.u32(int(self.meta[_M]))
        w.u32(nl)
        w.i64(int(self.meta[_N]))
        w.u8(int(self.meta[_L0_SORTED]))
        w.u64(int(self.rng[0]))
        w.f64(float(self.mm[0]))
        w.f64(float(self.mm[1]))
        base = int(self.levels[0])
        w.array(self.levels[: nl + 1] - base, "<i8")
        w.array(self.items[base : int(self.levels[nl])], "<f8")
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> KLLSketch:
        r = BinReader(data)
        k = r.u32()
        m = r.u32()
        nl = r.u32()
        n = r.i64()
        l0s = r.u8()
        seed = r.u64()
        lo = r.f64()
        hi = r.f64()
        rel = r.array("<i8")
        vals = r.array("<f8")
        if not (8 <= k <= 65535) or nl < 1 or nl > _MAXL or rel.shape[0] != nl + 1:
            msg = "corrupt kll sketch"
            raise FormatError(msg)
        total = int(_total_capacity(np.int64(k), np.int64(m), np.int64(nl)))
        pop = vals.shape[0]
        if pop != rel[-1] or pop > total or np.any(np.diff(rel) < 0):
            msg = "corrupt kll sketch"
            raise FormatError(msg)
        s = cls(k=k, seed=seed or 1)
        s.meta[_M] = m
        s.meta[_NUM_LEVELS] = nl
        s.meta[_N] = n
        s.meta[_L0_SORTED] = l0s
        s.items = np.empty(total, dtype=np.float64)
        free = total - pop
        s.items[free:] = vals
        s.levels[:] = 0
        s.levels[: nl + 1] = rel + free
        s.mm[0] = lo
        s.mm[1] = hi
        return s
