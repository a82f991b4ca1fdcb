"""The canonical Arrow types weave_lite stores, and the schema evolution rules of SPEC section 2.

A column's type is the *unification* of the types of everything logged into it:

* ``null`` unifies with anything (a key absent from some rows makes the column optional);
* ``int64`` and ``float64`` widen to ``float64``;
* lists unify element types, structs (nested dicts) unify field by field;
* values of incompatible kinds (an int, then a string) make a dense union with one variant per
  kind, so that every value reads back exactly as logged.

Union variants are kept in one canonical order (:data:`KIND_ORDER`) so that unifying the same
types in any order gives the same type.  :func:`conform` turns a stored array into a wider
(unified) type, so that segments written under older schemas read as the table's schema.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from weave_lite.lazy import lazy_module

pc = lazy_module("pyarrow.compute")  # loaded by the first query, not at import weave_lite

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
NAIVE_TIMESTAMP = pa.timestamp("us")

# Canonical order of union variants, by kind name.
KIND_ORDER = (
    "bool",
    "int",
    "float",
    "string",
    "bytes",
    "date",
    "timestamp",
    "timestamp_utc",
    "list",
    "struct",
)
_KIND_RANK = {k: i for i, k in enumerate(KIND_ORDER)}

SCALAR_TYPES: dict[str, pa.DataType] = {
    "bool": pa.bool_(),
    "int": pa.int64(),
    "float": pa.float64(),
    "string": pa.string(),
    "bytes": pa.binary(),
    "date": pa.date32(),
    "timestamp": NAIVE_TIMESTAMP,
    "timestamp_utc": UTC_TIMESTAMP,
}

# Python type -> kind, for values already normalised by row validation.
_PY_KIND: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "string",
    bytes: "bytes",
    _dt.date: "date",
    list: "list",
    dict: "struct",
}


def kind_of_value(value: Any) -> str | None:
    """The kind of a normalised Python value (``None`` for ``None``)."""
    if value is None:
        return None
    t = type(value)
    if t is _dt.datetime:
        return "timestamp" if value.tzinfo is None else "timestamp_utc"
    return _PY_KIND[t]


def kind_of_type(t: pa.DataType) -> str | None:
    """The kind of a canonical Arrow type (``None`` for the null type; ``"union"`` for unions)."""
    if pa.types.is_null(t):
        return None
    if pa.types.is_union(t):
        return "union"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "bytes"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp" if t.tz is None else "timestamp_utc"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return "list"
    if pa.types.is_struct(t):
        return "struct"
    raise TypeError(f"unsupported Arrow type `{t}`")


# ---------------------------------------------------------------------------------------------
# Unification


def _variants(t: pa.DataType) -> list[pa.DataType]:
    if pa.types.is_null(t):
        return []
    if pa.types.is_union(t):
        return [t.field(i).type for i in range(t.num_fields)]
    return [t]


def unify(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The narrowest canonical type that holds every value of ``a`` and of ``b``."""
    if a == b:
        return a
    return unify_all([a, b])


def unify_all(types: Iterable[pa.DataType]) -> pa.DataType:
    """Unify many types at once (see :func:`unify`)."""
    by_kind: dict[str, list[pa.DataType]] = {}
    for t in types:
        for v in _variants(t):
            kind = kind_of_type(v)
            assert kind is not None  # variants are never the null type
            by_kind.setdefault(kind, []).append(v)
    if not by_kind:
        return pa.null()
    if "int" in by_kind and "float" in by_kind:
        del by_kind["int"]
    merged: list[tuple[str, pa.DataType]] = []
    for kind, members in by_kind.items():
        if kind == "list":
            child = unify_all(m.value_type for m in members)
            merged.append((kind, pa.list_(child)))
        elif kind == "struct":
            merged.append((kind, _unify_structs(members)))
        else:
            merged.append((kind, SCALAR_TYPES[kind]))
    if len(merged) == 1:
        return merged[0][1]
    merged.sort(key=lambda kv: _KIND_RANK[kv[0]])
    return pa.dense_union([pa.field(kind, t) for kind, t in merged])


def _unify_structs(structs: Sequence[pa.DataType]) -> pa.DataType:
    names: dict[str, list[pa.DataType]] = {}
    for s in structs:
        for i in range(s.num_fields):
            f = s.field(i)
            names.setdefault(f.name, []).append(f.type)
    return pa.struct([pa.field(n, unify_all(ts)) for n, ts in names.items()])


def unify_schemas(schemas: Iterable[pa.Schema]) -> pa.Schema:
    """Unify schemas column by column; columns keep the order in which they first appear."""
    columns: dict[str, list[pa.DataType]] = {}
    for schema in schemas:
        for f in schema:
            columns.setdefault(f.name, []).append(f.type)
    return pa.schema([pa.field(n, unify_all(ts)) for n, ts in columns.items()])


# ---------------------------------------------------------------------------------------------
# Conforming stored arrays to a unified type


def conform(array: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array | pa.ChunkedArray:
    """Convert ``array`` (of a canonical type) to ``target``, a unification of its type.

    Values are never changed except for the int -> float widening of SPEC section 2.
    """
    if isinstance(array, pa.ChunkedArray):
        return pa.chunked_array([conform(c, target) for c in array.chunks], type=target)
    src = array.type
    if src == target:
        return array
    if pa.types.is_null(src):
        return pa.nulls(len(array), type=target)
    if pa.types.is_union(target):
        return _conform_to_union(array, target)
    if pa.types.is_struct(target):
        children = []
        for f in target:
            idx = src.get_field_index(f.name)
            child = array.field(idx) if idx >= 0 else pa.nulls(len(array), type=f.type)
            children.append(conform(child, f.type))
        mask = array.is_null() if array.null_count else None
        return pa.StructArray.from_arrays(children, fields=list(target), mask=mask)
    if pa.types.is_list(target):
        values = conform(array.values, target.value_type)
        mask = array.is_null() if array.null_count else None
        return pa.ListArray.from_arrays(array.offsets, values, type=target, mask=mask)
    # int -> float widening may round integers beyond 2**53, as SPEC section 2 accepts.
    return pc.cast(array, target, safe=False)


def _conform_to_union(array: pa.Array, target: pa.DataType) -> pa.Array:
    kinds = [target.field(i).name for i in range(target.num_fields)]
    code_of = {k: i for i, k in enumerate(kinds)}
    if "float" in code_of and "int" not in code_of:
        code_of["int"] = code_of["float"]
    src = array.type
    n = len(array)
    if not pa.types.is_union(src):
        kind = kind_of_type(src)
        code = code_of[kind]
        children = [
            conform(array, target.field(i).type) if i == code else pa.nulls(0, type=target.field(i).type)
            for i in range(len(kinds))
        ]
        return pa.UnionArray.from_dense(
            pa.array(np.full(n, code, dtype=np.int8)),
            pa.array(np.arange(n, dtype=np.int32)),
            children,
            kinds,
            list(range(len(kinds))),
        )
    # union -> wider union: children move to their variant; offsets into a merged child shift.
    src_kinds = [src.field(i).name for i in range(src.num_fields)]
    src_codes = np.asarray(array.type_codes)
    src_offsets = np.asarray(array.offsets).astype(np.int64)
    new_codes = np.empty(n, dtype=np.int8)
    new_offsets = np.empty(n, dtype=np.int32)
    pieces: list[list[pa.Array]] = [[] for _ in kinds]
    base = [0] * len(kinds)
    for i, sk in enumerate(src_kinds):
        child = array.field(i)
        tcode = code_of[sk]
        sel = src_codes == src.type_codes[i]
        new_codes[sel] = tcode
        new_offsets[sel] = src_offsets[sel] + base[tcode]
        pieces[tcode].append(conform(child, target.field(tcode).type))
        base[tcode] += len(child)
    children = [pa.concat_arrays(p) if p else pa.nulls(0, type=target.field(i).type) for i, p in enumerate(pieces)]
    return pa.UnionArray.from_dense(
        pa.array(new_codes), pa.array(new_offsets), children, kinds, list(range(len(kinds)))
    )


def conform_batch(batch: pa.RecordBatch | pa.Table, schema: pa.Schema) -> pa.RecordBatch | pa.Table:
    """Conform every column of ``batch`` to ``schema`` (missing columns become null)."""
    arrays = []
    for f in schema:
        idx = batch.schema.get_field_index(f.name)
        col = batch.column(idx) if idx >= 0 else pa.nulls(batch.num_rows, type=f.type)
        arrays.append(conform(col, f.type))
    if isinstance(batch, pa.Table):
        return pa.Table.from_arrays(arrays, schema=schema)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
