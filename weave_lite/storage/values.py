"""Python values <-> Arrow arrays, and the schema evolution rules of SPEC section 2.

A column's type is the *unification* of the types of everything logged into it:

* ``null`` unifies with anything (a key absent from some rows makes the column optional);
* ``int64`` and ``float64`` widen to ``float64``;
* lists unify element types, structs (nested dicts) unify field by field;
* values of incompatible kinds (an int, then a string) make a dense union with one variant per
  kind, so that every value reads back exactly as logged.

Union variants are kept in one canonical order (:data:`KIND_ORDER`) so that unifying the same
types in any order gives the same type.  Every Arrow array weave_lite stores uses one of the
*canonical* types below; :func:`normalize_array` brings foreign Arrow data (the bulk ``log``
path) onto them.
"""

from __future__ import annotations

import datetime as _dt
from itertools import repeat
from typing import Any, Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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

_SCALAR_TYPES: dict[str, pa.DataType] = {
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
            by_kind.setdefault(kind_of_type(v), []).append(v)
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
            merged.append((kind, _SCALAR_TYPES[kind]))
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
# Python values -> Arrow


def infer_type(values: Sequence[Any]) -> pa.DataType:
    """The canonical type of a sequence of normalised Python values."""
    kinds: dict[str, list[Any]] = {}
    for v in values:
        k = kind_of_value(v)
        if k is not None:
            kinds.setdefault(k, []).append(v)
    types = []
    for kind, members in kinds.items():
        if kind == "list":
            types.append(pa.list_(infer_type([x for m in members for x in m])))
        elif kind == "struct":
            keys: dict[str, None] = {}
            for m in members:
                keys.update(dict.fromkeys(m))
            types.append(pa.struct([pa.field(k, infer_type([m.get(k) for m in members])) for k in keys]))
        else:
            types.append(_SCALAR_TYPES[kind])
    return unify_all(types)


_FAST_SCALARS: dict[frozenset, pa.DataType] = {}
for _py, _kind in ((bool, "bool"), (int, "int"), (float, "float"), (str, "string"), (bytes, "bytes")):
    _FAST_SCALARS[frozenset([_py])] = _SCALAR_TYPES[_kind]
    _FAST_SCALARS[frozenset([_py, type(None)])] = _SCALAR_TYPES[_kind]
_FAST_SCALARS[frozenset([type(None)])] = pa.null()
_INT_FLOAT = (frozenset([int, float]), frozenset([int, float, type(None)]))


def column_to_array(values: list[Any]) -> pa.Array:
    """Build the Arrow array of one column of normalised Python values.

    The common case (one scalar kind, maybe with nulls) goes straight to ``pa.array`` with an
    explicit type, which is C speed; anything else takes the general path.
    """
    kinds = frozenset(map(type, values))
    fast = _FAST_SCALARS.get(kinds)
    if fast is not None:
        return pa.array(values, type=fast)
    if kinds in _INT_FLOAT:
        return pa.array([float(v) if type(v) is int else v for v in values], type=pa.float64())
    return build_array(values, infer_type(values))


def build_array(values: Sequence[Any], t: pa.DataType) -> pa.Array:
    """Build an array of type ``t`` (a canonical type that holds every value)."""
    if pa.types.is_null(t):
        return pa.nulls(len(values))
    if pa.types.is_union(t):
        return _build_union(values, t)
    if pa.types.is_struct(t):
        mask = pa.array([v is None for v in values], type=pa.bool_())
        children = [build_array([None if v is None else v.get(f.name) for v in values], f.type) for f in t]
        return pa.StructArray.from_arrays(children, fields=list(t), mask=mask)
    if pa.types.is_list(t):
        offsets = np.zeros(len(values) + 1, dtype=np.int32)
        flat: list[Any] = []
        for i, v in enumerate(values):
            if v is not None:
                flat.extend(v)
            offsets[i + 1] = len(flat)
        child = build_array(flat, t.value_type)
        mask = pa.array([v is None for v in values], type=pa.bool_())
        return pa.ListArray.from_arrays(pa.array(offsets), child, type=t, mask=mask)
    if pa.types.is_floating(t):
        return pa.array([float(v) if type(v) is int else v for v in values], type=t)
    return pa.array(values, type=t)


def _build_union(values: Sequence[Any], t: pa.DataType) -> pa.Array:
    variant_kinds = [t.field(i).name for i in range(t.num_fields)]
    code_of = {k: i for i, k in enumerate(variant_kinds)}
    if "float" in code_of and "int" not in code_of:
        code_of["int"] = code_of["float"]
    members: list[list[Any]] = [[] for _ in variant_kinds]
    type_ids = np.empty(len(values), dtype=np.int8)
    offsets = np.empty(len(values), dtype=np.int32)
    for i, v in enumerate(values):
        # A null has no kind; dense unions have no validity bitmap, so it lives in variant 0.
        code = 0 if v is None else code_of[kind_of_value(v)]
        type_ids[i] = code
        offsets[i] = len(members[code])
        members[code].append(v)
    children = [build_array(m, t.field(i).type) for i, m in enumerate(members)]
    return pa.UnionArray.from_dense(
        pa.array(type_ids), pa.array(offsets), children, variant_kinds, list(range(len(children)))
    )


def rows_to_batch(rows: Sequence[dict], extra: dict[str, pa.Array] | None = None) -> pa.RecordBatch:
    """Turn normalised rows (dicts) into a record batch; ``extra`` adds ready-made columns.

    Columns appear in the order their keys are first seen; a key absent from a row is null.
    """
    keys = _ordered_keys(rows)
    names, arrays = [], []
    n = len(rows)
    for k in keys:
        if extra and k in extra:
            continue
        names.append(k)
        # map(dict.get, ...) runs the per-row lookups in C.
        arrays.append(column_to_array(list(map(dict.get, rows, repeat(k, n)))))
    for k, arr in (extra or {}).items():
        names.append(k)
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _ordered_keys(rows: Sequence[dict]) -> list[str]:
    """Every str key of ``rows`` in first-seen order (fast when every row has the first row's
    keys). Non-str keys are private to the writer (its time stamp) and skipped."""
    if not rows:
        return []
    union = set().union(*rows)
    first = rows[0]
    if len(union) == len(first):
        keys = list(first)
    else:
        seen: dict = {}
        for r in rows:
            seen.update(dict.fromkeys(r))
        keys = list(seen)
    return [k for k in keys if type(k) is str]


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
    children = [
        pa.concat_arrays(p) if p else pa.nulls(0, type=target.field(i).type) for i, p in enumerate(pieces)
    ]
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


# ---------------------------------------------------------------------------------------------
# Foreign Arrow data -> canonical types (the bulk log path)


def canonical_type(t: pa.DataType, column: str = "?") -> pa.DataType:
    """The canonical type foreign Arrow type ``t`` is stored as; TypeError when unsupported."""
    if pa.types.is_dictionary(t):
        return canonical_type(t.value_type, column)
    if pa.types.is_null(t) or pa.types.is_boolean(t):
        return t
    if pa.types.is_integer(t):
        return pa.int64()
    if pa.types.is_floating(t):
        return pa.float64()
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_date(t):
        return pa.date32()
    if pa.types.is_timestamp(t):
        return NAIVE_TIMESTAMP if t.tz is None else UTC_TIMESTAMP
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t) or pa.types.is_list_view(t):
        return pa.list_(canonical_type(t.value_type, column))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, canonical_type(f.type, f"{column}.{f.name}")) for f in t])
    if pa.types.is_union(t):
        return unify_all(canonical_type(t.field(i).type, column) for i in range(t.num_fields))
    raise TypeError(f"column `{column}` has Arrow type `{t}`, which weave_lite cannot store")


def normalize_array(array: pa.Array | pa.ChunkedArray, column: str = "?") -> pa.Array:
    """Cast a foreign Arrow array onto its canonical type (values unchanged)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    target = canonical_type(array.type, column)
    if array.type == target:
        return array
    if pa.types.is_dictionary(array.type):
        return normalize_array(array.dictionary_decode(), column)
    if pa.types.is_uint64(array.type):
        top = pc.max(array).as_py()
        if top is not None and top >= 2**63:
            raise TypeError(f"column `{column}` holds a uint64 value beyond the 64-bit signed range")
    if pa.types.is_union(array.type):
        return conform(_union_to_canonical(array, column), target)
    if pa.types.is_struct(array.type):
        children = [normalize_array(array.field(i), f"{column}.{f.name}") for i, f in enumerate(array.type)]
        mask = array.is_null() if array.null_count else None
        return pa.StructArray.from_arrays(children, fields=list(target), mask=mask)
    if pa.types.is_list(target) and not (pa.types.is_list(array.type)):
        array = pc.cast(array, pa.list_(array.type.value_type))
    if pa.types.is_list(target):
        values = normalize_array(array.values, column)
        mask = array.is_null() if array.null_count else None
        return pa.ListArray.from_arrays(array.offsets, values, type=target, mask=mask)
    # Timestamps are stored at microsecond precision (SPEC section 1): finer units truncate.
    return pc.cast(array, target, safe=not pa.types.is_timestamp(target))


def _union_to_canonical(array: pa.Array, column: str) -> pa.Array:
    """Rebuild a foreign union from Python values (rare; unions come from other weave_lite data)."""
    values = array.to_pylist()
    return build_array(values, infer_type(values))


def normalize_batch(batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
    """Bring a foreign record batch or table onto canonical column types."""
    arrays = [normalize_array(batch.column(i), name) for i, name in enumerate(batch.schema.names)]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)
