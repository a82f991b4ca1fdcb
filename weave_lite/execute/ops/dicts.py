"""Kernels of the dicts area: the ``{...}`` literal, ``merge``, ``keys``, ``values`` (picking
``["k"]`` lives with the list kernels).

Dicts are typed: every element of a StructVec has the same keys (a key absent from a row reads as
null), so ``keys`` is the same list for every non-null dict and ``values`` interleaves the
columns.  A null dict gives a null result (and ``merge`` with a null side is null).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.columns import as_array, as_struct, concat_vecs, is_null_type
from weave_lite.execute.vectors import ArrayVec, ConstVec, ListVec, StructVec, Vec
from weave_lite.storage.values import kind_of_type, unify_all


def _struct(vec: Vec) -> StructVec:
    if is_null_type(vec):
        return StructVec({}, vec.length, np.zeros(vec.length, bool))
    return as_struct(vec)


def _nulls_pushed(struct: StructVec) -> StructVec:
    if struct.valid is None or struct.valid.all():
        return StructVec(struct.fields, struct.length, None)
    return struct.with_nulls_pushed_down()


@kernel("dict")
def dict_literal(call: KernelCall) -> Vec:
    fields: dict[str, Vec] = {}
    args = [a for a in call.args if a is not None]
    for i in range(0, len(args), 2):
        key = args[i].value  # dict keys are literals (checked by the type rule)
        fields.pop(key, None)
        fields[key] = args[i + 1]
    return StructVec(fields, call.length)


@kernel("merge")
def merge(call: KernelCall) -> Vec:
    a, b = _struct(call.args[0]), _struct(call.args[1])
    fields = dict(a.fields)
    fields.update(b.fields)  # the right side wins; keys keep their first position (as {**a, **b})
    valid = a.is_valid() & b.is_valid()
    return _nulls_pushed(StructVec(fields, call.length, valid))


def _fixed_lists(struct: StructVec, k: int) -> np.ndarray:
    return np.arange(0, (struct.length + 1) * k, k, dtype=np.int64) if k else np.zeros(struct.length + 1, dtype=np.int64)


@kernel("keys")
def keys(call: KernelCall) -> Vec:
    struct = _struct(call.args[0])
    names = list(struct.fields)
    n = struct.length
    valid = struct.is_valid()
    counts = np.where(valid, len(names), 0).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    child = pa.array(names, type=pa.string()).take(pa.array(np.tile(np.arange(len(names), dtype=np.int64), int(valid.sum()))))
    return ListVec(offsets, ArrayVec(child), None if valid.all() else valid)


@kernel("values")
def values(call: KernelCall) -> Vec:
    struct = _struct(call.args[0])
    n = struct.length
    k = len(struct.fields)
    valid = struct.is_valid()
    if k == 0:
        return ListVec(np.zeros(n + 1, dtype=np.int64), ArrayVec(pa.array([], type=pa.string())), None if valid.all() else valid)
    columns = list(struct.fields.values())
    stacked = stack_columns(columns)  # field 0 of every element, then field 1, ...
    keep = np.repeat(valid, k)
    order = (np.arange(k, dtype=np.int64)[None, :] * n + np.arange(n, dtype=np.int64)[:, None]).ravel()[keep]
    counts = np.where(valid, k, 0).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return ListVec(offsets, stacked.take(order), None if valid.all() else valid)


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
        return pa.concat_arrays([a.cast(target) if not pa.types.is_null(a.type) else pa.nulls(len(a), target) for a in arrays])
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
        pa.concat_arrays(parts) if parts else pa.array([], type=target.field(i).type) for i, parts in enumerate(children)
    ]
    return pa.UnionArray.from_dense(
        pa.array(np.concatenate(type_ids), type=pa.int8()),
        pa.array(np.concatenate(offsets), type=pa.int32()),
        child_arrays,
        kinds,
    )
