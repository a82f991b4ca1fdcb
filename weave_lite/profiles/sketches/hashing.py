"""64-bit hashes of column values, in Numba, shared by the distinct-count and frequent-items sketches.

- integers hash their int64 bit pattern, floats their float64 bit pattern (``-0.0`` is folded
  onto ``0.0``; NaN is never hashed), each through the splitmix64 finaliser with a per-kind seed;
- strings hash their UTF-8 bytes straight from the Arrow offsets and data buffers (8 bytes at a
  time, mixed with splitmix64), so no Python ``str`` is ever made.

Hash value 0 is reserved (sketches use it as "empty slot") and remapped to 1.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from ._sort import readonly

_SEED_INT = np.uint64(0x9E3779B97F4A7C15)
_SEED_FLOAT = np.uint64(0xD1B54A32D192ED03)
_SEED_STR = np.uint64(0x8CB92BA72F3D8DD7)
_SEED_BOOL = np.uint64(0xABC98388FB8FAC03)


@njit(cache=True, nogil=True)
def mix64(x):
    """splitmix64 finaliser: a bijection on uint64 with full avalanche."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@njit(cache=True, nogil=True)
def _nz(h):
    return h if h != np.uint64(0) else np.uint64(1)


@njit(cache=True, nogil=True)
def hash_i64_array(values):
    out = np.empty(values.shape[0], dtype=np.uint64)
    for i in range(values.shape[0]):
        out[i] = _nz(mix64(np.uint64(values[i]) + _SEED_INT))
    return out


@njit(cache=True, nogil=True)
def hash_f64_array(values):
    """Hashes of the non-NaN values (the output is compacted: NaNs are dropped)."""
    bits = values.view(np.uint64)
    out = np.empty(values.shape[0], dtype=np.uint64)
    j = 0
    for i in range(values.shape[0]):
        v = values[i]
        if v != v:
            continue
        b = bits[i] if v != 0.0 else np.uint64(0)
        out[j] = _nz(mix64(b + _SEED_FLOAT))
        j += 1
    return out[:j]


@njit(cache=True, nogil=True)
def hash_bool_values(has_false, has_true):
    out = np.empty(int(has_false) + int(has_true), dtype=np.uint64)
    j = 0
    if has_false:
        out[j] = _nz(mix64(np.uint64(0) + _SEED_BOOL))
        j += 1
    if has_true:
        out[j] = _nz(mix64(np.uint64(1) + _SEED_BOOL))
    return out


@njit(cache=True, nogil=True)
def _hash_bytes(data, start, stop):
    length = stop - start
    h = _SEED_STR ^ (np.uint64(length) * np.uint64(0xC2B2AE3D27D4EB4F))
    i = start
    while i + 8 <= stop:
        w = np.uint64(0)
        for b in range(8):
            w |= np.uint64(data[i + b]) << np.uint64(8 * b)
        h = mix64(h ^ w) * np.uint64(0x9FB21C651E98DF25)
        i += 8
    if i < stop:
        w = np.uint64(0)
        for b in range(stop - i):
            w |= np.uint64(data[i + b]) << np.uint64(8 * b)
        h = mix64(h ^ w ^ np.uint64(0xFF)) * np.uint64(0x9FB21C651E98DF25)
    return _nz(mix64(h))


@njit(cache=True, nogil=True)
def hash_strings(offsets, data, valid, has_valid):
    """Hash each valid string; returns (hashes of valid rows, their row indices)."""
    n = offsets.shape[0] - 1
    out = np.empty(n, dtype=np.uint64)
    rows = np.empty(n, dtype=np.int64)
    j = 0
    for i in range(n):
        if has_valid and not valid[i]:
            continue
        out[j] = _hash_bytes(data, offsets[i], offsets[i + 1])
        rows[j] = i
        j += 1
    return out[:j], rows[:j]


def string_array_parts(arr: pa.Array):
    """(offsets, data, valid, has_valid) numpy views of a string / large_string Arrow array."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.large_string())
    bufs = arr.buffers()
    n = len(arr)
    off_dtype = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(bufs[1], dtype=off_dtype, count=arr.offset + n + 1)[arr.offset :]
    offsets = readonly(offsets, np.int64)  # one kernel signature for string and large_string
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    data = readonly(data, np.uint8)
    if arr.null_count:
        valid = pc.is_valid(arr).to_numpy(zero_copy_only=False).astype(np.bool_)
        return offsets, data, readonly(valid, np.bool_), True
    return offsets, data, readonly(np.zeros(0, np.bool_), np.bool_), False


def hash_int64s(values: np.ndarray) -> np.ndarray:
    return hash_i64_array(readonly(values, np.int64))


def hash_float64s(values: np.ndarray) -> np.ndarray:
    """Hashes of the non-NaN values."""
    return hash_f64_array(readonly(values, np.float64))


def hash_string_array(arr: pa.Array):
    """(hashes, row indices) of the valid strings of an Arrow string array."""
    offsets, data, valid, has_valid = string_array_parts(arr)
    return hash_strings(offsets, data, valid, has_valid)
