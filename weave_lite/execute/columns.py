"""Column plumbing shared by the kernels of every area: coercions between Vec kinds,
element-wise application, typed nulls, concatenation, numpy values and validity, canonical
floats, the key coder of ``groupby``/``unique``/``join``, and per-list aggregation.

One of each: a kernel needing ``(numpy values, validity)`` of a column calls :func:`to_numpy`,
floats whose equal values must have equal bits go through :func:`canonical_floats`, union
arrays are walked by :func:`~weave_lite.execute.vectors.union_variants`, and keys are coded by
:func:`key_codes`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pyarrow as pa

from weave_lite.execute.encodings import string_codes
from weave_lite.execute.vectors import (
    ArrayVec,
    ConstVec,
    GatheredVec,
    ListVec,
    StructVec,
    Vec,
    combine,
    null_where,
    to_numpy_bool,
    union_valid,
    union_variants,
    vec_from_arrow,
)
from weave_lite.graph.types import DictT, ListT, WType
from weave_lite.graph.types import to_arrow as wtype_to_arrow
from weave_lite.lazy import lazy_module
from weave_lite.storage.values import column_to_array, conform, unify_all

if TYPE_CHECKING:
    import pyarrow.compute as pc_types

pc = lazy_module("pyarrow.compute")  # loaded by the first query, not at import weave_lite

# ``pa.Array | pa.ChunkedArray``; ``Any`` to the type checker (pyarrow ships no type information).
Array: TypeAlias = Any

# -- construction ------------------------------------------------------------------------------


def arrow_type_for(t: WType) -> pa.DataType:
    """Arrow type for a weave type, falling back to null for types without one."""
    try:
        return wtype_to_arrow(t)
    except TypeError:
        return pa.null()


def const_vec(value: Any, t: WType, length: int) -> Vec:
    """A literal or bound value repeated ``length`` times."""
    if isinstance(value, (list, tuple, dict)):
        # Built as storage builds logged values: values of mixed kinds become a union.
        vec = vec_from_arrow(column_to_array([_as_lists(value)]))
        return vec.take(np.zeros(length, dtype=np.int64))
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return ConstVec(value, arrow_type_for(t), length)


def _as_lists(value: Any) -> Any:
    """``value`` with tuples as lists (the form storage builds arrays from)."""
    if isinstance(value, (list, tuple)):
        return [_as_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_lists(v) for k, v in value.items()}
    return value


def as_list(vec: Vec) -> ListVec:
    """A Vec of lists as a ListVec (list columns arrive as Arrow list arrays)."""
    if isinstance(vec, ListVec):
        return vec
    if isinstance(vec, ConstVec):
        if vec.value is None:
            return ListVec(np.zeros(vec.length + 1, dtype=np.int64), ArrayVec(pa.nulls(0)), np.zeros(vec.length, bool))
        return as_list(vec_from_arrow(vec.to_arrow()))
    if isinstance(vec, ArrayVec):
        t = vec.array.type
        if pa.types.is_null(t):
            return ListVec(np.zeros(vec.length + 1, dtype=np.int64), ArrayVec(pa.nulls(0)), np.zeros(vec.length, bool))
        converted = vec_from_arrow(vec.array)
        if isinstance(converted, ListVec):
            return converted
    raise TypeError(f"expected a list, got {vec!r}")


def as_struct(vec: Vec) -> StructVec:
    if isinstance(vec, StructVec):
        return vec
    if isinstance(vec, ConstVec):
        return as_struct(vec_from_arrow(vec.to_arrow()))
    if isinstance(vec, ArrayVec):
        if pa.types.is_null(vec.array.type):
            return StructVec({}, vec.length, np.zeros(vec.length, bool))
        converted = vec_from_arrow(vec.array)
        if isinstance(converted, StructVec):
            return converted
    raise TypeError(f"expected a dict, got {vec!r}")


def as_array(vec: Vec) -> pa.Array | pa.ChunkedArray:
    """A Vec of scalars as an Arrow array (constants materialised)."""
    if isinstance(vec, ArrayVec):
        return vec.array
    return vec.to_arrow()


def operand(vec: Vec) -> pa.Array | pa.ChunkedArray | pa.Scalar:
    """An Arrow operand for pyarrow.compute: constants stay scalars and broadcast."""
    if isinstance(vec, ConstVec):
        return vec.scalar()
    return as_array(vec)


def elementwise(fn: Callable[..., Any], *vecs: Vec) -> Vec:
    """Apply an Arrow compute function to operands; constants in, constant out."""
    consts = [v for v in vecs if isinstance(v, ConstVec)]
    if vecs and len(consts) == len(vecs):
        out = fn(*[v.scalar() for v in consts])
        return ConstVec(out.as_py(), out.type, vecs[0].length)
    out = fn(*[operand(v) for v in vecs])
    if isinstance(out, pa.Scalar):  # every operand was a scalar after all
        n = vecs[0].length
        return ConstVec(out.as_py(), out.type, n)
    return ArrayVec(out)


def is_null_type(vec: Vec) -> bool:
    if isinstance(vec, ConstVec):
        return vec.value is None
    return isinstance(vec, ArrayVec) and pa.types.is_null(vec.array.type)


def null_like(vec: Vec, n: int) -> Vec:
    """``n`` nulls of the same kind as ``vec``."""
    if isinstance(vec, ArrayVec):
        return ArrayVec(pa.nulls(n, type=vec.array.type))
    if isinstance(vec, ConstVec):
        return ConstVec(None, vec.arrow_type, n)
    if isinstance(vec, StructVec):
        return StructVec({k: null_like(v, n) for k, v in vec.fields.items()}, n, np.zeros(n, bool))
    if isinstance(vec, ListVec):
        return ListVec(np.zeros(n + 1, dtype=np.int64), vec.child.slice(0, 0), np.zeros(n, bool))
    raise TypeError(vec)


def take_or_null(vec: Vec, indices: np.ndarray, valid: np.ndarray) -> Vec:
    """``vec.take(indices)`` with nulls where ``valid`` is False (indices there are ignored)."""
    n = len(indices)
    if vec.length == 0:
        return null_like(vec, n)
    safe = np.where(valid, indices, 0)
    out = vec.take(safe)
    if valid.all():
        return out
    return null_where(out, pa.array(~valid))


# -- concatenation -----------------------------------------------------------------------------


def concat_vecs(vecs: Sequence[Vec]) -> Vec:
    """One Vec holding the elements of every Vec in order (types unified as needed)."""
    vecs = list(vecs)
    kinds = {ArrayVec if isinstance(v, ArrayVec) else type(v) for v in vecs if not is_null_type(v)}
    if kinds <= {ArrayVec, ConstVec}:
        arrays = [as_array(v) for v in vecs]
        target = _common_type([a.type for a in arrays])
        chunks: list[Any] = []
        for a in arrays:
            if a.type != target:
                a = conform(a, target) if not pa.types.is_null(a.type) else _nulls(len(a), target)
            chunks.extend(a.chunks if isinstance(a, pa.ChunkedArray) else [a])
        return ArrayVec(pa.chunked_array(chunks, type=target))
    if kinds <= {StructVec}:
        structs = [
            as_struct(v) if not is_null_type(v) else StructVec({}, v.length, np.zeros(v.length, bool)) for v in vecs
        ]
        names: list[str] = []
        for s in structs:
            names.extend(k for k in s.fields if k not in names)
        fields = {}
        for name in names:
            parts = [s.fields[name] if name in s.fields else ConstVec(None, pa.null(), s.length) for s in structs]
            fields[name] = concat_vecs(parts)
        valid = np.concatenate([s.is_valid() for s in structs]) if structs else np.ones(0, bool)
        return StructVec(fields, sum(s.length for s in structs), None if valid.all() else valid)
    if kinds <= {ListVec}:
        lists = [as_list(v) for v in vecs]
        child = concat_vecs([lv.child for lv in lists])
        offsets = [np.zeros(1, dtype=np.int64)]
        base = 0
        for lv in lists:
            offsets.append(lv.offsets[1:] + base)
            base += lv.offsets[-1]
        valid = np.concatenate([lv.is_valid() for lv in lists])
        return ListVec(np.concatenate(offsets), child, None if valid.all() else valid)
    # Values of different kinds (numbers with dicts or lists): one Arrow union of them all.
    return concat_vecs([ArrayVec(v.to_arrow()) if not isinstance(v, (ArrayVec, ConstVec)) else v for v in vecs])


def _nulls(n: int, t: pa.DataType) -> pa.Array:
    if pa.types.is_union(t):
        return conform(pa.nulls(n), t)
    return pa.nulls(n, type=t)


def _common_type(types: Sequence[pa.DataType]) -> pa.DataType:
    real = [t for t in types if not pa.types.is_null(t)]
    if not real:
        return pa.null()
    first = real[0]
    if all(t == first for t in real):
        return first
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in real):
        return pa.float64()
    return unify_all(real)


# -- positions within lists ------------------------------------------------------------------


def list_positions(lists: ListVec) -> np.ndarray:
    """Each child element's 0-based position within its list."""
    return np.arange(lists.offsets[-1], dtype=np.int64) - np.repeat(lists.offsets[:-1], lists.lengths())


def ranges(lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(k)`` for each k in ``lengths``."""
    total = int(lengths.sum())
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)


# -- canonical floats and key codes ------------------------------------------------------------


def canonical_floats(array: Array) -> Array:
    """Floats whose equal values have equal bits, for hashing and ordering: -0.0 as 0.0, every
    NaN (any sign or payload) as one NaN."""
    array = pc.add(array, 0.0)
    if pc.any(pc.is_nan(array)).as_py():
        array = pc.if_else(pc.is_nan(array), pa.scalar(float("nan"), array.type), array)
    return array


def key_codes(vec: Vec) -> np.ndarray:
    """Dense non-negative int64 codes such that equal keys get equal codes: null == null,
    NaN == NaN, -0.0 == 0.0; dicts by their fields (and whether they are null), lists by their
    items in order (and whether they are null).  The one key coder of ``groupby``, ``unique``,
    ``countDistinct`` partials and ``join`` (which drops keys holding a null itself)."""
    n = vec.length
    if isinstance(vec, ConstVec):
        return np.zeros(n, dtype=np.int64)
    if isinstance(vec, StructVec):
        codes = np.zeros(n, dtype=np.int64)
        for field in vec.fields.values():
            codes = pair_codes(codes, key_codes(field))
        if vec.valid is not None:
            codes = pair_codes(codes, np.where(vec.valid, 0, 1))
        return codes
    if isinstance(vec, ListVec):
        return _list_codes(vec)
    if isinstance(vec, GatheredVec) and _is_string(vec.base.array.type):
        return string_codes(vec.base.array)[vec.indices]  # codes of the rows kept, no string copy
    array = as_array(vec)
    if _is_string(array.type):
        return string_codes(array)  # per-segment encodings are cached (segments are immutable)
    array = combine(array)
    t = array.type
    if pa.types.is_union(t):
        return _union_codes(array)
    if pa.types.is_struct(t):
        return key_codes(as_struct(ArrayVec(array)))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return key_codes(as_list(ArrayVec(array)))
    if pa.types.is_null(t):
        return np.zeros(n, dtype=np.int64)
    if pa.types.is_floating(t):
        array = canonical_floats(array)
    encoded = pc.dictionary_encode(array, null_encoding="encode")
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _list_codes(lists: ListVec) -> np.ndarray:
    """A list key: the sequence of its items' codes, as bytes, dictionary-encoded (null lists
    apart from empty ones)."""
    n = lists.length
    child = key_codes(lists.child).astype(np.int64)
    offsets = (lists.offsets - lists.offsets[0]).astype(np.int64) * 8
    data = np.ascontiguousarray(child[int(lists.offsets[0]) : int(lists.offsets[-1])]).view(np.uint8)
    binary = pa.Array.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data.tobytes())])
    encoded = pc.dictionary_encode(binary)
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    if lists.valid is not None:
        codes = pair_codes(codes, np.where(lists.valid, 0, 1))
    return codes


def _is_string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def pair_codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense codes of the pairs ``(a[i], b[i])`` of non-negative codes (equal pairs, equal codes)."""
    if len(a) == 0:
        return a.astype(np.int64)
    width = int(b.max()) + 1
    if (int(a.max()) + 1) * width < 2**62:
        _, inverse = np.unique(a * width + b, return_inverse=True)
    else:  # the packed pair would overflow int64
        _, inverse = np.unique(np.stack([a, b], axis=1), axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def map_union(array: pa.Array, fn: Callable[[pa.Array], pa.Array], out_type: pa.DataType) -> pa.Array:
    """``fn`` (which keeps lengths) applied to each variant of a union array, the results
    gathered back in row order (the strings of a mixed column, say)."""
    parts: list[pa.Array] = []
    index = np.zeros(len(array), dtype=np.int64)
    base = 0
    for _, rows, child, inner in union_variants(array):
        converted = fn(child)
        parts.append(converted)
        index[rows] = base + inner
        base += len(converted)
    if not parts:
        return pa.nulls(len(array), out_type)
    return pa.concat_arrays(parts).take(pa.array(index))


def _union_codes(array: pa.Array) -> np.ndarray:
    codes = np.zeros(len(array), dtype=np.int64)
    null = np.zeros(len(array), dtype=bool)
    for i, rows, child, inner in union_variants(array):
        codes[rows] = key_codes(ArrayVec(child))[inner] * 64 + i
        null[rows] = ~validity(child)[inner]
    codes[null] = -1
    _, inverse = np.unique(codes, return_inverse=True)
    return inverse.astype(np.int64)


def first_appearance_groups(pid: np.ndarray, codes: np.ndarray):
    """Group elements by (list, key code) in order of first appearance.

    Returns ``(group_of_element, first_index_of_group)`` with groups numbered in order of their
    first element (so the groups of one list are contiguous and in appearance order).
    """
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    width = int(codes.max()) + 1
    combined = pid * width + codes
    _, inverse = np.unique(combined, return_inverse=True)
    groups = int(inverse.max()) + 1
    first = np.full(groups, n, dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(n, dtype=np.int64))
    order = np.argsort(first, kind="stable")
    rank = np.empty(groups, dtype=np.int64)
    rank[order] = np.arange(groups, dtype=np.int64)
    return rank[inverse], first[order]


# -- per-list aggregation ----------------------------------------------------------------------


def per_list_aggregate(
    lists: ListVec,
    values: pa.Array | pa.ChunkedArray,
    function: str,
    options: pc_types.FunctionOptions | None = None,
    empty: Any = None,
    out_type: pa.DataType | None = None,
    group_of: np.ndarray | None = None,
) -> pa.Array:
    """Aggregate ``values`` per list with Arrow's hash aggregation.

    ``values`` holds one value per child element, or per element of the order-free view when
    ``group_of`` (the list of each) is given. Lists with no elements get ``empty``; null lists
    get null.
    """
    n = lists.length
    pid = lists.parent_index() if group_of is None else group_of
    table = pa.table({"g": pa.array(pid, type=pa.int64()), "v": values})
    result = table.group_by("g", use_threads=False).aggregate([("v", function, options)])
    groups = result.column("g").to_numpy()
    agg = result.column(result.column_names[-1] if result.column_names[-1] != "g" else result.column_names[0])
    agg = combine(agg)
    if out_type is not None and agg.type != out_type:
        agg = agg.cast(out_type)
    position = np.full(n, -1, dtype=np.int64)
    position[groups] = np.arange(len(groups), dtype=np.int64)
    missing = position < 0
    out = agg.take(pa.array(position, mask=missing)) if len(agg) else pa.nulls(n, type=out_type or agg.type)
    if empty is not None and missing.any():
        out = pc.if_else(pa.array(missing), pa.scalar(empty, type=out.type), out)
    if lists.valid is not None:
        out = pc.if_else(pa.array(lists.valid), out, pa.scalar(None, type=out.type))
    return out


def fill_for_empty(lists: ListVec, out: pa.Array, empty: Any) -> pa.Array:
    """Replace results of empty (not null) lists by ``empty``."""
    mask = lists.lengths() == 0
    if lists.valid is not None:
        mask &= lists.valid
    if not mask.any():
        return out
    return pc.if_else(pa.array(mask), pa.scalar(empty, type=out.type), out)


def bool_mask(vec: Vec, null_as: bool = False) -> np.ndarray:
    """A boolean Vec as a numpy mask (nulls read as ``null_as``)."""
    if isinstance(vec, ConstVec):
        return np.full(vec.length, bool(vec.value) if vec.value is not None else null_as)
    array = as_array(vec)
    if pa.types.is_null(array.type):
        return np.full(len(array), null_as)
    return to_numpy_bool(array, null_as)


def numeric(vec: Vec) -> Vec:
    """Null-typed operands as float64 so that arithmetic kernels accept them."""
    if isinstance(vec, ConstVec) and pa.types.is_null(vec.arrow_type):
        return ConstVec(None, pa.float64(), vec.length)
    if isinstance(vec, ArrayVec) and pa.types.is_null(vec.array.type):
        return ArrayVec(pa.nulls(vec.length, type=pa.float64()))
    return vec


def validity(values: Vec | Array) -> np.ndarray:
    """Whether each value is not null, as a numpy bool array (unions look into their variants)."""
    if isinstance(values, Vec):
        return values.is_valid()
    if pa.types.is_union(values.type):
        return union_valid(combine(values))
    if values.null_count == 0:
        return np.ones(len(values), dtype=bool)
    return np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)


def to_numpy(
    values: Vec | Array, n: int | None = None, dtype: Any = None, *, fill: Any = 0, cast: pa.DataType | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """(values with nulls as ``fill``, validity or None when every value is valid) of a column
    of scalars, as numpy arrays of ``dtype`` (numpy's conversion; None keeps Arrow's type).

    ``n`` is the length of a constant; ``cast`` an Arrow type to cast to first (Arrow's checked
    cast: an int beyond 2**53 cast to float64 is an error, not a rounding).  The one converter
    from a Vec or an Arrow (chunked) array to numpy values and validity.
    """
    if isinstance(values, ConstVec):
        if values.value is None:
            return np.full(values.length if n is None else n, fill, dtype=dtype or np.float64), np.zeros(
                values.length if n is None else n, dtype=bool
            )
        return np.full(values.length if n is None else n, values.value, dtype=dtype), None
    array = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else as_array(values)
    if pa.types.is_null(array.type):
        return np.full(len(array), fill, dtype=dtype or np.float64), np.zeros(len(array), dtype=bool)
    if cast is not None:
        array = array.cast(cast)
    valid = None
    if array.null_count:
        valid = validity(array)
        array = pc.fill_null(array, fill)
    data = np.asarray(array.to_numpy(zero_copy_only=False))
    if dtype is not None:
        data = data.astype(dtype, copy=False)
    return np.ascontiguousarray(data), valid


# -- timestamps as microseconds -----------------------------------------------------------------

UTC = dt.UTC
TIMESTAMP = pa.timestamp("us", tz="UTC")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_US = dt.timedelta(microseconds=1)


def as_utc(value: dt.datetime | dt.date) -> dt.datetime:
    """An aware UTC datetime (naive ones are read as UTC, dates as their midnight)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def micros(vec: Vec, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(int64 microseconds since the epoch, validity) of a timestamp (or date) Vec."""
    if isinstance(vec, ConstVec):
        if vec.value is None:
            return np.zeros(n, np.int64), np.zeros(n, bool)
        us = (as_utc(vec.value) - EPOCH) // _US
        return np.full(n, us, dtype=np.int64), np.ones(n, bool)
    array = combine(as_array(vec))
    t = array.type
    if pa.types.is_null(t):
        return np.zeros(n, np.int64), np.zeros(n, bool)
    if pa.types.is_date(t):
        array = array.cast(pa.timestamp("us"))
    elif pa.types.is_timestamp(t):
        if t.tz is not None:
            array = array.cast(pa.timestamp(t.unit))  # same instants, naive (UTC) values
        if t.unit != "us":
            array = array.cast(pa.timestamp("us"))
    else:
        raise TypeError(f"expected timestamps, got {t}")
    values, valid = to_numpy(array, dtype=np.int64, cast=pa.int64())
    return values, dense_validity(valid, len(values))


def timestamps(us: np.ndarray, valid: np.ndarray) -> pa.Array:
    """A ``timestamp("us", tz="UTC")`` array from microseconds and validity."""
    mask = None if valid.all() else ~valid
    return pa.array(np.where(valid, us, 0).astype(np.int64), type=pa.int64(), mask=mask).cast(TIMESTAMP)


def dense_validity(valid: np.ndarray | None, n: int) -> np.ndarray:
    """A validity from :func:`to_numpy` as an array (all True for None)."""
    return np.ones(n, dtype=bool) if valid is None else valid


def is_weave_list(t: WType) -> bool:
    t = t.non_null()
    return isinstance(t, ListT)


def is_weave_dict(t: WType) -> bool:
    return isinstance(t.non_null(), DictT)
