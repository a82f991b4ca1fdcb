"""Kernels of the dicts area: the ``{...}`` literal, ``merge``, ``keys``, ``values`` (picking
``["k"]`` lives with the list kernels).

Dicts are typed: every element of a StructVec has the same keys (a key absent from a row reads as
null), so ``keys`` is the same list for every non-null dict and ``values`` interleaves the
columns.  A null dict gives a null result (and ``merge`` with a null side is null).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.execute.columns import as_struct, is_null_type
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.picks import stack_columns
from weave_lite.execute.vectors import ArrayVec, ListVec, StructVec, Vec


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
    return (
        np.arange(0, (struct.length + 1) * k, k, dtype=np.int64) if k else np.zeros(struct.length + 1, dtype=np.int64)
    )


@kernel("keys")
def keys(call: KernelCall) -> Vec:
    struct = _struct(call.args[0])
    names = list(struct.fields)
    n = struct.length
    valid = struct.is_valid()
    counts = np.where(valid, len(names), 0).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    child = pa.array(names, type=pa.string()).take(
        pa.array(np.tile(np.arange(len(names), dtype=np.int64), int(valid.sum())))
    )
    return ListVec(offsets, ArrayVec(child), None if valid.all() else valid)


@kernel("values")
def values(call: KernelCall) -> Vec:
    struct = _struct(call.args[0])
    n = struct.length
    k = len(struct.fields)
    valid = struct.is_valid()
    if k == 0:
        return ListVec(
            np.zeros(n + 1, dtype=np.int64), ArrayVec(pa.array([], type=pa.string())), None if valid.all() else valid
        )
    columns = list(struct.fields.values())
    stacked = stack_columns(columns)  # field 0 of every element, then field 1, ...
    keep = np.repeat(valid, k)
    order = (np.arange(k, dtype=np.int64)[None, :] * n + np.arange(n, dtype=np.int64)[:, None]).ravel()[keep]
    counts = np.where(valid, k, 0).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return ListVec(offsets, stacked.take(order), None if valid.all() else valid)
