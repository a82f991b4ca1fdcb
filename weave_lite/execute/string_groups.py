"""Group codes of string keys from the segments' cached dictionaries, without hashing strings.

A string column's chunks are dictionary-encoded once each (:mod:`weave_lite.execute.encodings`,
segments are immutable).  ``groupby`` numbers a chunk's rows straight from those dictionary
indices (zero-copy when the chunk has no nulls), and the merge of morsel partials maps each
morsel's dictionary onto one unified dictionary, itself kept from run to run (keyed by the
dictionaries it unifies), instead of dictionary-encoding every morsel's group keys again.

Codes only need "equal strings, equal codes": groups are then numbered by first appearance, so
the groups and their order are those of the generic path (:func:`columns.key_codes`).
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict

import numpy as np
import pyarrow as pa

from weave_lite.execute.encodings import chunk_encoding
from weave_lite.execute.vectors import ArrayVec, GatheredVec, Vec
from weave_lite.lazy import call_compute

_UNIFIED_ENTRIES = 64
# Unified dictionaries by the identity of the dictionaries they unify: (the dictionaries, kept
# so their addresses are not reused while the entry lives; the unified one; the transposes).
_UNIFIED: OrderedDict[tuple, tuple[list[pa.Array], pa.Array, list[np.ndarray]]] = OrderedDict()
_LOCK = threading.Lock()


def _is_string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def single_chunk(vec: Vec) -> pa.Array | None:
    """The one string chunk of a plain (not gathered) ArrayVec, else None."""
    if type(vec) is not ArrayVec:
        return None
    array = vec.array
    if isinstance(array, pa.ChunkedArray):
        if array.num_chunks != 1:
            return None
        array = array.chunk(0)
    return array if _is_string(array.type) else None


def chunk_codes(chunk: pa.Array) -> tuple[np.ndarray, int, pa.Array]:
    """``(codes, n_codes, dictionary)`` of a string chunk: a row's code is its index in the
    chunk's dictionary, ``len(dictionary)`` for null; int32, zero-copy without nulls."""
    encoded = chunk_encoding(chunk)
    dictionary = encoded.dictionary
    indices = encoded.indices
    if indices.null_count:
        # pc.fill_null, without importing pyarrow.compute on a fresh process's first group-by
        indices = call_compute("coalesce", indices, pa.scalar(len(dictionary), indices.type))
    return indices.to_numpy(zero_copy_only=False), len(dictionary) + 1, dictionary


def gathered_codes(vec: Vec) -> tuple[np.ndarray, np.ndarray | None, int] | None:
    """``(codes, indices, n_codes)`` of a string key whose values are one chunk (``indices``:
    the rows a GatheredVec keeps, None for every row), or None for other keys."""
    if isinstance(vec, GatheredVec):
        chunk = single_chunk(vec.base)
        if chunk is None:
            return None
        codes, n_codes, _ = chunk_codes(chunk)
        return codes, np.asarray(vec.indices, dtype=np.int64), n_codes
    chunk = single_chunk(vec)
    if chunk is None:
        return None
    codes, n_codes, _ = chunk_codes(chunk)
    return codes, None, n_codes


def lazy_keys(keys: Vec, first_index: np.ndarray) -> Vec:
    """``keys.take(first_index)``, as a gather of the key column when it is one string chunk
    (so :func:`merged_codes` finds the chunk's dictionary; the strings are copied only if read)."""
    if isinstance(keys, GatheredVec) or single_chunk(keys) is None:
        return keys.take(first_index)
    assert isinstance(keys, ArrayVec)
    return GatheredVec(keys, first_index)


def merged_codes(parts: list[Vec]) -> tuple[np.ndarray, int, pa.Array] | None:
    """``(codes, n_codes, dictionary)`` of the morsels' group keys one after the other, when
    each is a gather of one string chunk of one type: a key's code is its index in the unified
    ``dictionary`` of the chunks' dictionaries, ``len(dictionary)`` for null.  None otherwise."""
    chunks: list[pa.Array] = []
    picked: list[np.ndarray] = []
    for vec in parts:
        if not isinstance(vec, GatheredVec):
            return None
        chunk = single_chunk(vec.base)
        if chunk is None or (chunks and chunk.type != chunks[0].type):
            return None
        chunks.append(chunk)
        picked.append(np.asarray(vec.indices, dtype=np.int64))
    if not chunks:
        return None
    encoded = [chunk_codes(c) for c in chunks]
    dictionary, transposes = _unified([d for _, _, d in encoded])
    codes = [t[c[i]] for (c, _, _), t, i in zip(encoded, transposes, picked)]
    return np.concatenate(codes), len(dictionary) + 1, dictionary


def keys_of(dictionary: pa.Array, codes: np.ndarray) -> ArrayVec:
    """The key strings of ``codes`` (:func:`merged_codes`; ``len(dictionary)`` is null)."""
    null = codes == len(dictionary)
    if not len(dictionary):
        return ArrayVec(pa.nulls(len(codes), dictionary.type))
    at = pa.array(np.where(null, 0, codes), type=pa.int64(), mask=null if null.any() else None)
    return ArrayVec(dictionary.take(at))


def _unified(dictionaries: list[pa.Array]) -> tuple[pa.Array, list[np.ndarray]]:
    """One dictionary of every string of ``dictionaries`` and, per dictionary, the unified
    code of each of its entries (one more entry: its null code to the unified null code)."""
    key = tuple(_identity(d) for d in dictionaries)
    with _LOCK:
        hit = _UNIFIED.get(key)
        if hit is not None:
            _UNIFIED.move_to_end(key)
            return hit[1], hit[2]
    if len(dictionaries) == 1:
        unified = dictionaries[0]
        transposes = [np.arange(len(unified) + 1, dtype=np.int64)]
    else:
        encoded = call_compute(
            "dictionary_encode", pa.chunked_array(dictionaries, type=dictionaries[0].type).combine_chunks()
        )
        unified = encoded.dictionary
        at = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        bounds = np.cumsum([0] + [len(d) for d in dictionaries])
        null = np.array([len(unified)], dtype=np.int64)
        transposes = [np.concatenate([at[lo:hi], null]) for lo, hi in itertools.pairwise(bounds)]
    with _LOCK:
        _UNIFIED[key] = (dictionaries, unified, transposes)
        while len(_UNIFIED) > _UNIFIED_ENTRIES:
            _UNIFIED.popitem(last=False)
    return unified, transposes


def _identity(dictionary: pa.Array) -> tuple:
    """What a dictionary holds: its buffers' addresses (kept alive by the cache entry)."""
    return (tuple(b.address if b is not None else 0 for b in dictionary.buffers()), dictionary.offset, len(dictionary))
