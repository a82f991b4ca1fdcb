"""A live query's kept keys, looked up by the new rows' keys without touching the kept ones.

:class:`KeyIndex` holds the group keys of a live aggregate (or the distinct values of a
``countDistinct``) across polls: a sorted numpy array of 64-bit sort keys with each key's
group, where a new key's group is a binary search, O(new keys x log kept); nothing is
re-hashed or re-sorted per poll.  Integers, booleans and timestamps (as integers) are their
own sort keys.  Strings are hashed (:func:`string_hashes`, vectorised over Arrow's buffers),
and every hit is checked against the kept string itself, so a hash collision is detected,
never wrong: :meth:`KeyIndex.find` and :meth:`KeyIndex.add` then return None/False and the
caller falls back to its exact path.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

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
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
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
        words = padded.view(np.uint64)
        sums = words[:, 0].copy()
        for k in range(1, words_max):
            sums += words[:, k] * powers[k]
    else:  # long strings: byte by byte (no n x longest padding)
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
    return h


class KeyIndex:
    """Kept keys (an Arrow array of one type, see ``lookup_array``) and their groups."""

    def __init__(self, keys: pa.Array, gids: np.ndarray | None = None):
        self.type = keys.type
        self.strings = _is_string(keys.type)
        self.null_gid = -1
        self.sorted = np.zeros(0, dtype=np.uint64 if self.strings else self._dtype(keys))
        self.gid = np.zeros(0, dtype=np.int64)
        self.at = np.zeros(0, dtype=np.int64)  # strings: each sorted key's place in the store
        self._store: list[pa.Array] = []  # strings: the kept keys, in the order added
        self._stored = 0
        self.ok = self.add(keys, np.arange(len(keys), dtype=np.int64) if gids is None else gids)

    @staticmethod
    def _dtype(keys: pa.Array) -> np.dtype:
        return keys.to_numpy(zero_copy_only=False).dtype if len(keys) else np.dtype(np.int64)

    def _sort_keys(self, values: pa.Array) -> np.ndarray:
        if self.strings:
            return string_hashes(values)
        return values.to_numpy(zero_copy_only=False)

    def values(self) -> pa.Array:
        """The kept non-null string keys, in the order they were added."""
        if not self._store:
            return pa.array([], type=self.type)
        return pa.concat_arrays(self._store) if len(self._store) > 1 else self._store[0]

    def find(self, keys: pa.Array) -> np.ndarray | None:
        """The group of each of ``keys`` (-1: not kept), or None on a hash collision."""
        gid = np.full(len(keys), -1, dtype=np.int64)
        valid = _valid(keys)
        present = keys if keys.null_count == 0 else keys.filter(pa.array(valid))
        values = self._sort_keys(present)
        if len(self.sorted) and len(values):
            if values.dtype != self.sorted.dtype:
                common = np.result_type(self.sorted.dtype, values.dtype)
                values, self.sorted = values.astype(common), self.sorted.astype(common)
            order = np.argsort(values)  # searching in order reuses the kept keys' cache lines
            pos = np.minimum(np.searchsorted(self.sorted, values[order]), len(self.sorted) - 1)
            hit = self.sorted[pos] == values[order]
            found = np.empty(len(values), dtype=np.int64)
            found[order] = np.where(hit, self.gid[pos], -1)
            if self.strings and hit.any():  # a hash hit must be the same string
                rows = order[hit]
                kept = pa.chunked_array(self._store, type=self.type).take(pa.array(self.at[pos[hit]]))
                same = pc.equal(kept.combine_chunks(), present.take(pa.array(rows)).cast(self.type))
                if not pc.all(same).as_py():
                    return None
            gid[valid] = found
        gid[~valid] = self.null_gid
        return gid

    def add(self, keys: pa.Array, gids: np.ndarray) -> bool:
        """Keep ``keys`` (distinct, none kept yet) as groups ``gids``; False on a hash collision
        (the index is then unusable)."""
        valid = _valid(keys)
        if not valid.all():
            self.null_gid = int(gids[~valid][0])
            keys, gids = keys.filter(pa.array(valid)), gids[valid]
        if not len(keys):
            return True
        values = self._sort_keys(keys)
        order = np.argsort(values, kind="stable")
        values, gids = values[order], gids[order]
        if not self.strings and values.dtype != self.sorted.dtype:
            common = np.result_type(self.sorted.dtype, values.dtype)
            values, self.sorted = values.astype(common), self.sorted.astype(common)
        pos = np.searchsorted(self.sorted, values)
        if self.strings:  # a hash already kept, or twice among the new strings: a collision
            if len(values) > 1 and (values[1:] == values[:-1]).any():
                return False
            if len(self.sorted) and (self.sorted[np.minimum(pos, len(self.sorted) - 1)] == values).any():
                return False
            at = self._stored + order
            self._store.append(keys if keys.type == self.type else keys.cast(self.type))
            self._stored += len(keys)
            if len(self._store) > _MAX_CHUNKS:
                self._store = [pa.concat_arrays(self._store)]
            self.at = np.insert(self.at, pos, at)
        self.sorted = np.insert(self.sorted, pos, values)
        self.gid = np.insert(self.gid, pos, gids)
        return True


def _valid(keys: pa.Array) -> np.ndarray:
    if keys.null_count == 0:
        return np.ones(len(keys), dtype=bool)
    return keys.is_valid().to_numpy(zero_copy_only=False)
