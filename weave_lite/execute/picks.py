"""Picking from dicts (the kernels of ``getitem:pick``, in the lists area): Weave's pick paths
with ``*`` and escaped dots, and a key computed per row; :func:`stack_columns` (also used by
``values``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.execute.columns import as_array, as_list, as_struct, concat_vecs, is_null_type, take_or_null, to_numpy
from weave_lite.execute.vectors import ArrayVec, ConstVec, ListVec, StructVec, Vec
from weave_lite.graph.ops.lists import split_path, whole_key
from weave_lite.lazy import lazy_module
from weave_lite.storage.values import kind_of_type, unify_all

pc = lazy_module("pyarrow.compute")  # loaded on first use, not with this module (issue 15: start-up)


def is_list_vec(vec: Vec) -> bool:
    if isinstance(vec, ListVec):
        return True
    return isinstance(vec, ArrayVec) and (pa.types.is_list(vec.array.type) or pa.types.is_large_list(vec.array.type))


def one_value(vec: Vec) -> bool:
    array = as_array(vec)
    return pa.types.is_null(array.type) or pc.count_distinct(array, mode="all").as_py() <= 1


def struct_or_empty(vec: Vec) -> StructVec:
    if is_null_type(vec):
        return StructVec({}, vec.length, np.zeros(vec.length, bool))
    return as_struct(vec)


def pick_path(struct: StructVec, key: str) -> Vec:
    """``struct[key]``: a key with that very name, else the path walked as Weave's
    ``_dict_utils`` does (see :func:`weave_lite.graph.ops.lists.pick_type`)."""
    if key in struct.fields:
        return struct.fields[key]
    return _walk(struct, split_path(key))


def _walk(vec: Vec, parts: list[str]) -> Vec:
    if not parts:
        return vec
    head, rest = parts[0], parts[1:]
    if is_list_vec(vec):
        lists = as_list(vec)
        return ListVec(lists.offsets, _walk(lists.child, rest if head == "*" else parts), lists.valid)
    if not (isinstance(vec, StructVec) or (isinstance(vec, ArrayVec) and pa.types.is_struct(vec.array.type))):
        return ConstVec(None, pa.null(), vec.length)
    struct = as_struct(vec)
    whole = whole_key(parts)
    if whole is not None and whole in struct.fields:
        return struct.fields[whole]
    if head == "*":
        fields = {k: _walk(v, rest) for k, v in struct.fields.items()}
        return StructVec(fields, struct.length, struct.valid)
    if head not in struct.fields:
        return ConstVec(None, pa.null(), struct.length)
    return _walk(struct.with_nulls_pushed_down().fields[head], rest)


def pick_per_row(struct: StructVec, keys: Vec) -> Vec:
    """``dict[key]`` with a key per row: the field each row names (the fields stacked one
    after the other, one take), null for a key the dict lacks or a null key or dict."""
    names = list(struct.fields)
    n = struct.length
    if not names:
        return ConstVec(None, pa.null(), n)
    codes, known = to_numpy(
        pc.index_in(as_array(keys).cast(pa.string()), value_set=pa.array(names, pa.string())), n, np.int64, fill=-1
    )
    valid = (codes >= 0) & struct.is_valid()
    if known is not None:
        valid &= known
    stacked = stack_columns([struct.with_nulls_pushed_down().fields[k] for k in names])
    return take_or_null(stacked, codes * n + np.arange(n, dtype=np.int64), valid)


def stack_columns(columns: list[Vec]) -> Vec:
    """The columns one after the other; scalars of different kinds (an int and a string field)
    go into a dense union, as the storage layer types mixed columns."""
    try:
        return concat_vecs(columns)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, TypeError):
        if not all(isinstance(c, (ArrayVec, ConstVec)) for c in columns):
            raise
    return ArrayVec(_dense_union([as_array(c) for c in columns]))


def _dense_union(arrays: list) -> pa.Array:
    arrays = [a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in arrays]
    target = unify_all([a.type for a in arrays])
    if not pa.types.is_union(target):
        return pa.concat_arrays(
            [a.cast(target) if not pa.types.is_null(a.type) else pa.nulls(len(a), target) for a in arrays]
        )
    kinds = [target.field(i).name for i in range(target.num_fields)]
    children: list[list[pa.Array]] = [[] for _ in kinds]
    sizes = [0] * len(kinds)
    type_ids, offsets = [], []
    for a in arrays:
        if pa.types.is_null(a.type):
            i = 0
        else:
            kind = kind_of_type(a.type)
            i = kinds.index(kind) if kind in kinds else kinds.index("float")  # ints widen with floats
        child_type = target.field(i).type
        children[i].append(a.cast(child_type) if not pa.types.is_null(a.type) else pa.nulls(len(a), child_type))
        type_ids.append(np.full(len(a), i, dtype=np.int8))
        offsets.append(np.arange(sizes[i], sizes[i] + len(a), dtype=np.int32))
        sizes[i] += len(a)
    child_arrays = [
        pa.concat_arrays(parts) if parts else pa.array([], type=target.field(i).type)
        for i, parts in enumerate(children)
    ]
    return pa.UnionArray.from_dense(
        pa.array(np.concatenate(type_ids), type=pa.int8()),
        pa.array(np.concatenate(offsets), type=pa.int32()),
        child_arrays,
        kinds,
    )
