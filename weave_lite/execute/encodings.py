"""Dictionary encodings of immutable column chunks, computed once per chunk and reused.

A stream table's columns are chunked by segment, and segments never change once committed;
dashboards run the same group-bys again and again as data arrives.  So the dictionary
encoding of a string chunk (the costly part of grouping by a string column) is kept, keyed by
the chunk's data buffer, and only new segments are encoded on the next run.  The cache holds a
reference to each buffer it keys on, so an address is never reused while its entry lives.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import pyarrow as pa

from weave_lite.lazy import call_compute, lazy_module

pc = lazy_module("pyarrow.compute")  # loaded by the first query, not at import weave_lite

MAX_ENTRIES = 4096
_CACHE: OrderedDict[tuple, tuple[pa.Buffer, pa.DictionaryArray]] = OrderedDict()
_LOCK = threading.Lock()


def _encode_chunk(chunk: pa.Array) -> pa.DictionaryArray:
    buffers = chunk.buffers()
    data = buffers[2] if len(buffers) > 2 else None
    if data is None or len(chunk) < 65_536:  # small chunks: encoding is cheap, do not cache
        return call_compute("dictionary_encode", chunk)  # without importing pyarrow.compute
    key = (data.address, data.size, buffers[1].address, chunk.offset, len(chunk))
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit[1]
    encoded = call_compute("dictionary_encode", chunk)  # nulls stay null indices (so dictionaries unify)
    with _LOCK:
        _CACHE[key] = (data, encoded)
        while len(_CACHE) > MAX_ENTRIES:
            _CACHE.popitem(last=False)
    return encoded


def chunk_encoding(chunk: pa.Array) -> pa.DictionaryArray:
    """The dictionary encoding of one string chunk (cached for segment-sized chunks)."""
    return _encode_chunk(chunk)


def string_codes(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Dense int64 codes of a string column: equal strings (and all nulls) share a code."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    if not chunks:
        return np.zeros(0, dtype=np.int64)
    encoded = [_encode_chunk(c) for c in chunks]
    if len(encoded) > 1:  # one dictionary for all chunks
        encoded = pa.chunked_array(encoded).unify_dictionaries().chunks
    # Code 0 is null; the strings are 1 + their index in the unified dictionary.
    return np.concatenate([_codes(c) for c in encoded])


def distinct_strings(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The distinct non-null strings of a column, from the chunks' (cached) dictionaries."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    dictionaries = [_encode_chunk(c).dictionary for c in chunks if len(c)]
    if not dictionaries:
        return pa.array([], type=column.type)
    if len(dictionaries) == 1:
        return dictionaries[0]
    return pc.unique(pa.chunked_array(dictionaries, type=dictionaries[0].type))


def _codes(encoded: pa.DictionaryArray) -> np.ndarray:
    indices = encoded.indices
    if indices.null_count:
        indices = call_compute("coalesce", indices, pa.scalar(-1, indices.type))  # pc.fill_null
    return np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64) + 1
