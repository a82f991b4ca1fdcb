"""Sizes of values before they exist: what the memory budget is asked to admit.

The executor holds values lazily (see :mod:`weave_lite.execute.vectors`): taking rows of a
struct records indices per field, a gathered column is copied only when read, a constant is
never materialised.  So the size of a result is not the product of its length and its type's
width; these functions follow the same laziness:

* :func:`vec_nbytes` - bytes a Vec holds now (each buffer counted once);
* :func:`element_bytes` - average bytes of one element once materialised;
* :func:`take_bytes` - bytes that ``vec.take(indices)`` allocates, now or when its lazily taken
  list fields are read later (a list is copied whole: that is where broadcasting blows up);
* :func:`repeat_bytes` - the same for one element repeated ``n`` times (a table scanned inside
  a ``map``: ``T.map(a => T["lat"])`` repeats T's rows once per row);
* :func:`elementwise_bytes` - an upper bound of a scalar kernel's string output, where a
  constant materialised over a large frame can be large.

Estimates are for refusing, so they err on the large side for lists (copied whole) and stay
close for scalars (copied when read, at most once per read).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.execute.vectors import ArrayVec, ConstVec, GatheredVec, ListVec, StructVec, Vec

__all__ = ["element_bytes", "elementwise_bytes", "repeat_bytes", "take_bytes", "value_bytes", "vec_nbytes"]

# Index arrays ListVec.take builds per child element (a repeat, an arange, their sum: int64).
LIST_TAKE_TEMPORARIES = 24
INDEX_BYTES = 8
# Levels of nesting the per-element estimates look into.
MAX_DEPTH = 16


def value_bytes(value: object) -> int:
    """Bytes of one Python scalar once in an Arrow array (strings: their UTF-8 plus an offset)."""
    if isinstance(value, str):
        return len(value) * (1 if value.isascii() else 4) + 4
    if isinstance(value, (bytes, bytearray)):
        return len(value) + 4
    if isinstance(value, (list, tuple)):
        return 8 + sum(value_bytes(v) for v in value)
    if isinstance(value, dict):
        return sum(value_bytes(v) for v in value.values())
    return 8


def vec_nbytes(vec: Vec, parts: int = 256) -> int:
    """Bytes ``vec`` holds now; a buffer or sub-Vec reached twice is counted once.

    At most ``parts`` parts are visited (from the top): a value nested 200 levels deep is
    charged after every kernel, and must not cost a walk of all its levels each time."""
    seen: set[int] = set()
    total = 0
    stack: list[object] = [vec]
    while stack and len(seen) < parts:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, np.ndarray):
            total += item.nbytes
        elif isinstance(item, GatheredVec):
            stack.append(item.indices)
            if item._gathered is not None:
                total += _arrow_nbytes(item._gathered)
        elif isinstance(item, ArrayVec):
            total += _arrow_nbytes(item.array)
        elif isinstance(item, StructVec):
            stack.append(item.valid)
            for entry in item.fields._entries.values():
                stack.extend(entry if isinstance(entry, tuple) else (entry,))
        elif isinstance(item, ListVec):
            stack.extend((item.offsets, item.valid, item._child, item.keys))
            if item.view is not None:
                stack.extend(item.view)
    return total


def element_bytes(vec: Vec, depth: int = 0) -> float:
    """Average bytes of one element of ``vec`` once materialised (nested parts deeper than
    :data:`MAX_DEPTH` levels are counted as one word each, so that the cost stays bounded)."""
    if depth > MAX_DEPTH:
        return INDEX_BYTES
    if isinstance(vec, ConstVec):
        return value_bytes(vec.value)
    if isinstance(vec, GatheredVec):
        base = vec.base
        return _arrow_nbytes(base.array) / max(1, base.length)
    if isinstance(vec, ArrayVec):
        return _arrow_nbytes(vec.array) / max(1, vec.length)
    if isinstance(vec, StructVec):
        return sum(element_bytes(_field_base(e), depth + 1) for e in vec.fields._entries.values()) + 1
    if isinstance(vec, ListVec):
        child = vec._child if vec._child is not None else vec.view[1]  # type: ignore[index]
        per_list = child.length / max(1, vec.length)
        return INDEX_BYTES + per_list * element_bytes(child, depth + 1)
    return INDEX_BYTES


def take_bytes(vec: Vec, indices: np.ndarray) -> int:
    """Bytes ``vec.take(indices)`` allocates (see the module docstring)."""
    n = len(indices)
    if isinstance(vec, ListVec) and vec.length:
        elements = int(vec.lengths()[indices].sum()) if n else 0
        return n * 2 * INDEX_BYTES + int(elements * _list_element_cost(vec))
    return int(n * _taken_element_cost(vec))


def repeat_bytes(vec: Vec, n: int) -> int:
    """Bytes ``vec.take(zeros(n))`` allocates, for a ``vec`` of one element."""
    if isinstance(vec, ListVec) and vec.length:
        elements = int(vec.lengths()[0]) * n
        return n * 2 * INDEX_BYTES + int(elements * _list_element_cost(vec))
    return int(n * _taken_element_cost(vec))


def elementwise_bytes(args: list, n: int, out_type: pa.DataType | None) -> int:
    """Upper bound of the output of an element-wise kernel over ``n`` elements: fixed-width
    outputs take ``n`` words; string and binary outputs at most the string inputs' bytes
    (constants counted once per element, as the output will hold them)."""
    if out_type is None or not (
        pa.types.is_string(out_type)
        or pa.types.is_large_string(out_type)
        or pa.types.is_binary(out_type)
        or pa.types.is_large_binary(out_type)
    ):
        try:
            width = max(1, out_type.bit_width // 8) if out_type is not None else INDEX_BYTES
        except ValueError:  # not a fixed-width type
            width = INDEX_BYTES
        return n * width
    total = 4 * n
    for arg in args:
        if isinstance(arg, ConstVec):
            if isinstance(arg.value, (str, bytes)):
                total += n * value_bytes(arg.value)
        elif isinstance(arg, ArrayVec):
            total += int(n * element_bytes(arg))
    return total


# -- helpers ----------------------------------------------------------------------------------


def _list_element_cost(vec: ListVec) -> float:
    """Bytes per child element when lists are taken: the index temporaries and the child's take."""
    child = vec._child if vec._child is not None else vec.view[1]  # type: ignore[index]
    return LIST_TAKE_TEMPORARIES + _taken_element_cost(child)


def _taken_element_cost(vec: Vec, depth: int = 0) -> float:
    """Bytes per element that taking ``vec`` costs, now or later when lazy parts are read."""
    if depth > MAX_DEPTH:
        return INDEX_BYTES
    if isinstance(vec, ConstVec):
        return 0.0
    if isinstance(vec, GatheredVec):
        return INDEX_BYTES
    if isinstance(vec, ArrayVec):
        return element_bytes(vec)  # gathered at once (nested Arrow arrays too)
    if isinstance(vec, StructVec):
        # One shared index array, plus the list fields, which are copied whole when read.
        return INDEX_BYTES + sum(_deferred_cost(_field_base(e), depth + 1) for e in vec.fields._entries.values())
    if isinstance(vec, ListVec):
        child = vec._child if vec._child is not None else vec.view[1]  # type: ignore[index]
        per_list = child.length / max(1, vec.length)
        return 2 * INDEX_BYTES + per_list * (LIST_TAKE_TEMPORARIES + _taken_element_cost(child, depth + 1))
    return INDEX_BYTES


def _deferred_cost(vec: Vec, depth: int) -> float:
    """Bytes per element a lazily taken struct field costs once read: lists are copied whole,
    scalars are gathered only when read (and then they are the size of the frame)."""
    if depth > MAX_DEPTH:
        return 0.0
    if isinstance(vec, ListVec):
        return _taken_element_cost(vec, depth)
    if isinstance(vec, StructVec):
        return sum(_deferred_cost(_field_base(e), depth + 1) for e in vec.fields._entries.values())
    if isinstance(vec, ArrayVec) and not isinstance(vec, GatheredVec):
        t = vec.array.type
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t):
            return element_bytes(vec)
    return 0.0


def _field_base(entry: Vec | tuple[Vec, np.ndarray]) -> Vec:
    return entry[0] if isinstance(entry, tuple) else entry


def _arrow_nbytes(array: pa.Array | pa.ChunkedArray) -> int:
    try:
        return int(array.nbytes)
    except (pa.ArrowException, TypeError, ValueError):  # e.g. a union slice pyarrow cannot size
        return int(array.get_total_buffer_size())
