"""A live query's kept keys, looked up by the new rows' keys without touching the kept ones.

:class:`KeyIndex` holds the group keys of a live aggregate (or the distinct values of a
``countDistinct``) across polls, updated in place with the new keys only: nothing is re-hashed
or re-sorted per poll.  Strings are hashed (:func:`hashed_strings`, vectorised over Arrow's
buffers) into an open-addressing table probed for all the new keys at once, O(new keys); each
hit is checked against the kept string itself (its zero-padded words and length, or the Arrow
string past 64 bytes), so a hash collision is detected, never wrong: :meth:`KeyIndex.find`
and :meth:`KeyIndex.add` then return None/False and the caller falls back to its exact path.
Integers, booleans and timestamps (as integers) are their own keys, kept sorted (a binary
search per new key).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.execute.vectors import ArrayVec, Vec
from weave_lite.lazy import lazy_module

pc = lazy_module("pyarrow.compute")  # loaded by the first query, not at import weave_lite

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_SHIFT = np.uint64(31)
# Strings up to this many bytes are hashed as zero-padded 8-byte words; longer ones per byte.
_MAX_PADDED = 64
# Stored key chunks before they are combined (bounds the take of the verification).
_MAX_CHUNKS = 8


def _is_string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def string_hashes(keys: pa.Array) -> np.ndarray:
    """A 64-bit hash of each string of ``keys`` (no nulls): equal strings, equal hashes (the
    length is mixed in, so trailing NULs count)."""
    return hashed_strings(keys)[0]


def hashed_strings(keys: pa.Array) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """:func:`string_hashes`, with the strings as zero-padded little-endian 8-byte words (n x
    words; None when one is longer than 64 bytes) and their lengths: equal words and
    lengths, equal strings."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros((0, 1), dtype=np.uint64), np.zeros(0, dtype=np.int64)
    _, offsets_buf, data_buf = keys.buffers()
    wide = pa.types.is_large_string(keys.type)
    raw = np.frombuffer(offsets_buf, dtype=np.int64 if wide else np.int32, count=keys.offset + n + 1)
    offsets = raw[keys.offset :].astype(np.int64)
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    start, total = int(offsets[0]), int(offsets[-1] - offsets[0])
    body = data[start : start + total]
    # sum_k word_k * M1^k (mod 2^64) over the string's little-endian 8-byte words (the last
    # one zero-padded), whichever way it is computed: the hash depends on the string alone.
    longest = int(lengths.max())
    words_max = max(1, (longest + 7) // 8)
    powers = np.ones(words_max, dtype=np.uint64)
    if words_max > 1:
        powers[1:] = np.cumprod(np.full(words_max - 1, _M1, dtype=np.uint64))
    if longest <= _MAX_PADDED:
        width = words_max * 8
        padded = np.zeros((n, width), dtype=np.uint8)
        if longest == int(lengths.min()):  # one length (ids of one format): a reshape
            padded[:, :longest] = body.reshape(n, longest)
        else:
            shift = np.arange(n, dtype=np.int64) * width - (offsets[:-1] - start)
            padded.reshape(-1)[np.arange(total, dtype=np.int64) + np.repeat(shift, lengths)] = body
        words: np.ndarray | None = padded.view(np.uint64)
        assert words is not None
        sums = words[:, 0].copy()
        for k in range(1, words_max):
            sums += words[:, k] * powers[k]
    else:  # long strings: byte by byte (no n x longest padding)
        words = None
        position = np.arange(total, dtype=np.int64) - np.repeat(offsets[:-1] - start, lengths)
        byte_shift = ((position % 8) * 8).astype(np.uint64)
        terms = (body.astype(np.uint64) << byte_shift) * powers[position // 8]
        nonempty = lengths > 0
        sums = np.zeros(n, dtype=np.uint64)
        if total:
            sums[nonempty] = np.add.reduceat(terms, (offsets[:-1] - start)[nonempty])
    h = sums + lengths.astype(np.uint64) * _M2
    h ^= h >> _SHIFT
    h *= _M2
    h ^= h >> _SHIFT
    return h, words, lengths


class _HashTable:
    """Open addressing over 64-bit hashes (linear probing, at most half full), probed for a
    whole array of hashes at once: each round gathers one slot per unresolved hash.  A slot
    is (hash, row + 1), side by side: one cache line per probe; row + 1 == 0 marks it empty."""

    def __init__(self, capacity: int = 1024):
        self.bits = max(10, (capacity - 1).bit_length())
        self.slots = np.zeros((1 << self.bits, 2), dtype=np.uint64)
        self.count = 0

    def _home(self, hashes: np.ndarray) -> np.ndarray:
        return (hashes >> np.uint64(64 - self.bits)).astype(np.int64)

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """The row kept for each hash, -1 where none is."""
        slot = self._home(hashes)
        mask = (1 << self.bits) - 1
        probed = np.take(self.slots, slot, axis=0)  # rows whole (10x a 2-D fancy index)
        hit = probed[:, 0] == hashes
        out = probed[:, 1].astype(np.int64) - 1  # -1 where empty
        out[~hit] = -1
        more = np.flatnonzero((out < 0) & (probed[:, 1] != 0))  # another hash there: probe on
        todo, slot, wanted = more, (slot[more] + 1) & mask, hashes[more]
        while len(todo):
            probed = np.take(self.slots, slot, axis=0)
            full = probed[:, 1] != 0
            hit = full & (probed[:, 0] == wanted)
            out[todo[hit]] = probed[hit, 1].astype(np.int64) - 1
            more = full & ~hit
            todo, slot, wanted = todo[more], (slot[more] + 1) & mask, wanted[more]
        return out

    def insert(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        """Keep ``hashes`` (distinct, none kept) for ``rows``."""
        if 2 * (self.count + len(hashes)) > len(self.slots):
            kept = self.slots[self.slots[:, 1] != 0]
            self.__init__(4 * (self.count + len(hashes)))  # type: ignore[misc]
            self._place(kept[:, 0], kept[:, 1].astype(np.int64) - 1)
        self._place(hashes, rows)

    def _place(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        slot = self._home(hashes)
        mask = (1 << self.bits) - 1
        todo = np.arange(len(hashes), dtype=np.int64)
        while len(todo):
            free = self.slots[slot, 1] == 0
            # Of the hashes wanting one free slot, the first takes it; the others probe on.
            _, first = np.unique(slot[free], return_index=True)
            taker = np.flatnonzero(free)[first]
            self.slots[slot[taker], 0] = hashes[todo[taker]]
            self.slots[slot[taker], 1] = (rows[todo[taker]] + 1).astype(np.uint64)
            left = np.ones(len(todo), dtype=bool)
            left[taker] = False
            todo, slot = todo[left], np.where(free[left], slot[left], (slot[left] + 1) & mask)
        self.count += len(hashes)


class KeyIndex:
    """Kept keys (an Arrow array of one type, see ``lookup_array``) and their groups."""

    def __init__(self, keys: pa.Array, gids: np.ndarray | None = None):
        self.type = keys.type
        self.strings = _is_string(keys.type)
        self.null_gid = -1
        # Strings: a hash table of their hashes to their places in the store, the kept keys
        # in the order added (each hit is checked there), with each one's group.
        self._table = _HashTable()
        self._store: list[pa.Array] = []
        self._store_gid = np.zeros(0, dtype=np.int64)
        # The kept strings as words and lengths, in store order (hits are checked on them),
        # while none is longer than 64 bytes; else the check compares the Arrow strings.
        self._words: np.ndarray | None = np.zeros((0, 1), dtype=np.uint64)
        self._lengths = np.zeros(0, dtype=np.int64)
        # Other keys: sorted, with their groups.
        self.sorted = np.zeros(0, dtype=self._dtype(keys))
        self.gid = np.zeros(0, dtype=np.int64)
        self.ok = self.add(keys, np.arange(len(keys), dtype=np.int64) if gids is None else gids)

    def __len__(self) -> int:
        """The non-null keys kept."""
        return len(self._store_gid) if self.strings else len(self.sorted)

    @staticmethod
    def _dtype(keys: pa.Array) -> np.dtype:
        if _is_string(keys.type) or not len(keys):
            return np.dtype(np.int64)
        return keys.to_numpy(zero_copy_only=False).dtype

    def values(self) -> pa.Array:
        """The kept non-null keys (strings in the order they were added)."""
        if not self.strings:
            return pa.array(self.sorted, type=self.type)
        if not self._store:
            return pa.array([], type=self.type)
        return pa.concat_arrays(self._store) if len(self._store) > 1 else self._store[0]

    def find(self, keys: pa.Array) -> np.ndarray | None:
        """The group of each of ``keys`` (-1: not kept), or None on a hash collision."""
        gid = np.full(len(keys), -1, dtype=np.int64)
        valid = _valid(keys)
        present = keys if keys.null_count == 0 else keys.filter(pa.array(valid))
        if len(self) and len(present):
            found = self._find_strings(present) if self.strings else self._find_sorted(present)
            if found is None:
                return None
            gid[valid] = found
        gid[~valid] = self.null_gid
        return gid

    def _find_strings(self, present: pa.Array) -> np.ndarray | None:
        hashes, words, lengths = hashed_strings(present)
        at = self._table.lookup(hashes)
        hit = np.flatnonzero(at >= 0)
        if len(hit) and not self._same(present, words, lengths, hit, at[hit]):
            return None  # a hash hit on another string
        return np.where(at >= 0, self._store_gid[np.maximum(at, 0)], -1)

    def _same(self, present: pa.Array, words: np.ndarray | None, lengths: np.ndarray, hit, at) -> bool:
        """Whether ``present[hit]`` are the kept strings ``at``."""
        if self._words is not None and words is not None:
            if not np.array_equal(np.take(self._lengths, at), np.take(lengths, hit)):
                return False
            width = min(words.shape[1], self._words.shape[1])  # equal lengths: words past both are 0
            kept, new = np.take(self._words, at, axis=0), np.take(words, hit, axis=0)  # whole rows
            return bool((kept[:, :width] == new[:, :width]).all())
        kept = pa.chunked_array(self._store, type=self.type).take(pa.array(at)).combine_chunks()
        return bool(pc.all(pc.equal(kept, present.take(pa.array(hit)).cast(self.type))).as_py())

    def _find_sorted(self, present: pa.Array) -> np.ndarray:
        values = present.to_numpy(zero_copy_only=False)
        if values.dtype != self.sorted.dtype:
            common = np.result_type(self.sorted.dtype, values.dtype)
            values, self.sorted = values.astype(common), self.sorted.astype(common)
        order = np.argsort(values)  # searching in order reuses the kept keys' cache lines
        pos = np.minimum(np.searchsorted(self.sorted, values[order]), len(self.sorted) - 1)
        found = np.empty(len(values), dtype=np.int64)
        found[order] = np.where(self.sorted[pos] == values[order], self.gid[pos], -1)
        return found

    def _keep_words(self, words: np.ndarray | None, lengths: np.ndarray) -> None:
        if self._words is None or words is None:
            self._words = None
            return
        width = max(words.shape[1], self._words.shape[1])
        self._words = np.concatenate([_widened(self._words, width), _widened(words, width)])
        self._lengths = np.concatenate([self._lengths, lengths])

    def add(self, keys: pa.Array, gids: np.ndarray) -> bool:
        """Keep ``keys`` (distinct, none kept yet) as groups ``gids``; False on a hash collision
        (the index is then unusable)."""
        valid = _valid(keys)
        if not valid.all():
            self.null_gid = int(gids[~valid][0])
            keys, gids = keys.filter(pa.array(valid)), gids[valid]
        if not len(keys):
            return True
        if self.strings:
            hashes, words, lengths = hashed_strings(keys)
            if len(np.unique(hashes)) < len(hashes) or (self._table.lookup(hashes) >= 0).any():
                return False  # twice among the new strings, or a kept one's hash
            self._keep_words(words, lengths)
            self._table.insert(hashes, len(self._store_gid) + np.arange(len(keys), dtype=np.int64))
            self._store.append(keys if keys.type == self.type else keys.cast(self.type))
            if len(self._store) > _MAX_CHUNKS:
                self._store = [pa.concat_arrays(self._store)]
            self._store_gid = np.concatenate([self._store_gid, gids])
            return True
        values = keys.to_numpy(zero_copy_only=False)
        order = np.argsort(values, kind="stable")
        values, gids = values[order], gids[order]
        if values.dtype != self.sorted.dtype:
            common = np.result_type(self.sorted.dtype, values.dtype)
            values, self.sorted = values.astype(common), self.sorted.astype(common)
        pos = np.searchsorted(self.sorted, values)
        self.sorted = np.insert(self.sorted, pos, values)
        self.gid = np.insert(self.gid, pos, gids)
        return True


def _widened(words: np.ndarray, width: int) -> np.ndarray:
    if words.shape[1] == width:
        return words
    out = np.zeros((len(words), width), dtype=np.uint64)
    out[:, : words.shape[1]] = words
    return out


def _valid(keys: pa.Array) -> np.ndarray:
    if keys.null_count == 0:
        return np.ones(len(keys), dtype=bool)
    return keys.is_valid().to_numpy(zero_copy_only=False)


def lookup_array(vec: Vec) -> pa.Array | None:
    """``vec`` as one Arrow array whose equality (nulls equal) is :func:`key_codes`' (strings,
    integers, booleans; timestamps as their integers), else None (floats: NaN, -0.0)."""
    if not isinstance(vec, ArrayVec):
        return None
    array = vec.array
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    t = array.type
    if pa.types.is_temporal(t):
        return array.cast(pa.int64())
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t) or pa.types.is_boolean(t):
        return array
    return None
