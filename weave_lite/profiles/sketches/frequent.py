"""Frequent-items sketch for strings: Misra-Gries counters with median purges.

The counters live in an open-addressing table keyed by the 64-bit hash of each string
(``MAP_SIZE = 2048`` slots, at most ``MAX_ACTIVE = 1536`` live counters). When a new item finds
the table full, the median counter value is subtracted from every counter, the counters that
reach zero are dropped (at least half of them) and the subtracted amount is added to
``offset``, the sketch's maximum error. Each purge removes at least ``MAX_ACTIVE / 2 * median``
from the counters, so ``offset <= n / 768`` (0.13% of the stream): every item with a frequency
above 1% keeps a counter of at least 0.87% of ``n`` and is reported.

For an item, ``count <= true frequency <= count + offset``; like Apache DataSketches the
reported estimate is ``count + offset`` and items are listed "without false positives"
(``count > offset``); with no purge yet (at most 1536 distinct strings) every count is exact.

The kernels only see hashes; the strings themselves are fetched once per batch for the (at
most 1536) counters touched, from the row index the kernel records per counter.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._binio import BinReader, BinWriter, FormatError
from ._sort import sorted_nonneg_i64

MAP_SIZE = 2048
MAX_ACTIVE = 1536

_ACTIVE = 0
_OFFSET = 1
_N = 2


@njit(cache=True, nogil=True)
def _probe(keys, h):
    mask = np.uint64(keys.shape[0] - 1)
    pos = h & mask
    while True:
        cur = keys[pos]
        if cur == h or cur == np.uint64(0):
            return pos
        pos = (pos + np.uint64(1)) & mask


@njit(cache=True, nogil=True)
def _purge(keys, counts, rows, meta):
    # (explicit loops: Numba's fancy indexing and slice assignment are slow to compile)
    size = keys.shape[0]
    live = 0
    for i in range(size):
        if keys[i] != np.uint64(0):
            live += 1
    k2 = np.empty(live, dtype=np.uint64)
    c2 = np.empty(live, dtype=np.int64)
    r2 = np.empty(live, dtype=np.int64)
    j = 0
    for i in range(size):
        if keys[i] != np.uint64(0):
            k2[j] = keys[i]
            c2[j] = counts[i]
            r2[j] = rows[i]
            j += 1
        keys[i] = 0
        counts[i] = 0
        rows[i] = -1
    act = sorted_nonneg_i64(c2)
    med = act[live // 2]
    active = 0
    for i in range(live):
        c = c2[i] - med
        if c > 0:
            pos = _probe(keys, k2[i])
            keys[pos] = k2[i]
            counts[pos] = c
            rows[pos] = r2[i]
            active += 1
    meta[_ACTIVE] = active
    meta[_OFFSET] += med


@njit(cache=True, nogil=True)
def _add(keys, counts, rows, meta, h, w, row):
    pos = _probe(keys, h)
    if keys[pos] == h:
        counts[pos] += w
        if row >= 0:
            rows[pos] = row
        return
    if meta[_ACTIVE] >= MAX_ACTIVE:
        _purge(keys, counts, rows, meta)
        pos = _probe(keys, h)
    keys[pos] = h
    counts[pos] = w
    rows[pos] = row
    meta[_ACTIVE] += 1


@njit(cache=True, nogil=True)
def freq_update(keys, counts, rows, meta, hashes, row_index):
    """Count each hash once; remember in ``rows`` the batch row of each counter's last hit."""
    mask = np.uint64(keys.shape[0] - 1)
    one = np.uint64(1)
    zero = np.uint64(0)
    active = meta[_ACTIVE]
    for i in range(hashes.shape[0]):
        h = hashes[i]
        pos = h & mask
        while True:
            cur = keys[pos]
            if cur == h:
                counts[pos] += 1
                rows[pos] = row_index[i]
                break
            if cur == zero:
                if active >= MAX_ACTIVE:
                    meta[_ACTIVE] = active
                    _purge(keys, counts, rows, meta)
                    active = meta[_ACTIVE]
                    pos = _probe(keys, h)
                keys[pos] = h
                counts[pos] = 1
                rows[pos] = row_index[i]
                active += 1
                break
            pos = (pos + one) & mask
    meta[_ACTIVE] = active
    meta[_N] += hashes.shape[0]


@njit(cache=True, nogil=True)
def freq_update_weighted(keys, counts, rows, meta, hashes, weights):
    total = 0
    for i in range(hashes.shape[0]):
        _add(keys, counts, rows, meta, hashes[i], weights[i], -1)
        total += weights[i]
    meta[_N] += total


class FrequentItemsSketch:
    """Heavy hitters over strings (hash-keyed counters plus the strings they stand for)."""

    __slots__ = ("keys", "counts", "rows", "meta", "values")

    def __init__(self) -> None:
        self.keys = np.zeros(MAP_SIZE, dtype=np.uint64)
        self.counts = np.zeros(MAP_SIZE, dtype=np.int64)
        self.rows = np.full(MAP_SIZE, -1, dtype=np.int64)
        self.meta = np.zeros(3, dtype=np.int64)
        self.values: dict[int, str] = {}

    @property
    def n(self) -> int:
        return int(self.meta[_N])

    @property
    def offset(self) -> int:
        """Maximum error of any count (the total subtracted by purges)."""
        return int(self.meta[_OFFSET])

    def update(self, hashes: np.ndarray, row_index: np.ndarray, value_at) -> None:
        """Count strings given their hashes; ``value_at(row)`` returns the string at a row of
        the batch (called at most once per live counter touched by this batch)."""
        if hashes.shape[0] == 0:
            return
        freq_update(self.keys, self.counts, self.rows, self.meta, hashes, row_index)
        touched = np.nonzero(self.rows >= 0)[0]
        values = self.values
        for slot in touched:
            h = int(self.keys[slot])
            if h not in values:
                values[h] = value_at(int(self.rows[slot]))
        self.rows[touched] = -1
        self._prune_values()

    def _prune_values(self) -> None:
        if len(self.values) > 2 * MAP_SIZE:
            live = set(self.keys[self.keys != 0].tolist())
            self.values = {h: v for h, v in self.values.items() if h in live}

    def merge(self, other: FrequentItemsSketch) -> FrequentItemsSketch:
        """Merge ``other`` into this sketch in place and return ``self``."""
        live = other.keys != 0
        hashes = other.keys[live]
        weights = other.counts[live]
        for h in hashes.tolist():
            if h not in self.values and h in other.values:
                self.values[h] = other.values[h]
        n_before = self.n
        freq_update_weighted(self.keys, self.counts, self.rows, self.meta, hashes, weights)
        # the stream length is the sum of both streams, not of the surviving counters
        self.meta[_N] = n_before + other.n
        self.meta[_OFFSET] += other.meta[_OFFSET]
        self._prune_values()
        return self

    def copy(self) -> FrequentItemsSketch:
        c = FrequentItemsSketch.__new__(FrequentItemsSketch)
        c.keys = self.keys.copy()
        c.counts = self.counts.copy()
        c.rows = self.rows.copy()
        c.meta = self.meta.copy()
        c.values = dict(self.values)
        return c

    def items(self) -> list[dict]:
        """``[{"value", "est"}]`` of the items with ``count > offset``, by estimate descending."""
        off = self.offset
        live = np.nonzero((self.keys != 0) & (self.counts > off))[0]
        out = [(int(self.counts[s]) + off, self.values.get(int(self.keys[s]), "")) for s in live]
        out.sort(key=lambda t: (-t[0], t[1]))
        return [{"value": v, "est": c} for c, v in out]

    def estimate(self, value_hash: int) -> tuple[int, int, int]:
        """(estimate, lower, upper) of one item by hash; zeros if untracked."""
        pos = np.nonzero(self.keys == np.uint64(value_hash))[0]
        if pos.shape[0] == 0:
            return 0, 0, self.offset
        c = int(self.counts[pos[0]])
        return c + self.offset, c, c + self.offset

    # -- serialisation
    def to_bytes(self) -> bytes:
        w = BinWriter()
        live = np.nonzero(self.keys != 0)[0]
        w.i64(self.n)
        w.i64(self.offset)
        w.array(self.keys[live], "<u8")
        w.array(self.counts[live], "<i8")
        for s in live:
            w.text(self.values.get(int(self.keys[s]), ""))
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FrequentItemsSketch:
        r = BinReader(data)
        s = cls()
        n = r.i64()
        offset = r.i64()
        keys = r.array("<u8").astype(np.uint64)
        counts = r.array("<i8").astype(np.int64)
        if keys.shape[0] != counts.shape[0] or keys.shape[0] > MAX_ACTIVE:
            msg = "corrupt frequent-items sketch"
            raise FormatError(msg)
        for h in keys.tolist():
            s.values[h] = r.text()
        freq_update_weighted(s.keys, s.counts, s.rows, s.meta, keys, counts)
        s.meta[_N] = n
        s.meta[_OFFSET] = offset
        return s
