"""Picking from dicts (the kernels of ``getitem:pick``, in the lists area): Weave's pick paths
with ``*`` and escaped dots, and a key computed per row."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from weave_lite.execute.columns import as_array, as_list, as_struct, is_null_type, take_or_null, to_numpy
from weave_lite.execute.ops.dicts import stack_columns
from weave_lite.execute.vectors import ArrayVec, ConstVec, ListVec, StructVec, Vec
from weave_lite.graph.ops.lists import split_path, whole_key


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
    codes, known = to_numpy(pc.index_in(as_array(keys).cast(pa.string()), value_set=pa.array(names, pa.string())), n, np.int64, fill=-1)
    valid = (codes >= 0) & struct.is_valid()
    if known is not None:
        valid &= known
    stacked = stack_columns([struct.with_nulls_pushed_down().fields[k] for k in names])
    return take_or_null(stacked, codes * n + np.arange(n, dtype=np.int64), valid)
