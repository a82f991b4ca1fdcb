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
path) onto them, and :func:`normalize_batch` does the same for pandas DataFrames, typing their
``object`` columns exactly as the same values in dict rows.

One Arrow string, binary or list array addresses its data with 32-bit offsets, so no column
of one batch may hold more than :data:`MAX_ARRAY_BYTES`: :func:`rows_to_batch` raises
:class:`BatchTooLargeError` rather than build one, :func:`rows_to_batches` splits the rows
instead, and :func:`estimate_row_bytes` lets a writer size its batches up front.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from weave_lite.errors import BatchTooLargeError, RowError, RowValueError
from weave_lite.row_validation import (
    MAX_VALUE_BYTES,
    check_name,
    normalize_column,
)

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
_VARIABLE_WIDTH = (pa.string(), pa.binary())

# ---------------------------------------------------------------------------------------------
# Batch size limits

# The data one string/binary array can address (32-bit offsets).
MAX_ARRAY_BYTES = 2**31 - 1
# Per-value overhead assumed by estimate_row_bytes (offsets, validity, union ids, numbers).
VALUE_OVERHEAD_BYTES = 16


def estimate_row_bytes(row: dict) -> int:
    """A cheap estimate of what one normalised row adds to a record batch, in bytes.

    Every ``str`` counts its length (4 bytes a character when not ASCII, the UTF-8 worst case)
    and every ``bytes`` its length, nested ones included, plus :data:`VALUE_OVERHEAD_BYTES` per
    value.  It never underestimates the string data: rows whose estimates sum to at most
    :data:`MAX_ARRAY_BYTES` always convert without :class:`BatchTooLargeError`.
    """
    return sum(map(_value_bytes, row.values()))


def _value_bytes(value: Any) -> int:
    t = type(value)
    if t is str:
        return VALUE_OVERHEAD_BYTES + (len(value) if value.isascii() else 4 * len(value))
    if t is bytes:
        return VALUE_OVERHEAD_BYTES + len(value)
    if t is list:
        return VALUE_OVERHEAD_BYTES + sum(map(_value_bytes, value))
    if t is dict:
        return VALUE_OVERHEAD_BYTES + sum(map(_value_bytes, value.values()))
    return VALUE_OVERHEAD_BYTES


def _single(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``pa.array`` returns a ChunkedArray when the data pass what one array can address."""
    if isinstance(array, pa.ChunkedArray):
        raise BatchTooLargeError(f"more than {MAX_ARRAY_BYTES:,} bytes of data for one Arrow array")
    return array


def _is_capacity_error(exc: BaseException) -> bool:
    """Arrow's ways of saying that 32-bit offsets overflowed."""
    if isinstance(exc, (BatchTooLargeError, pa.ArrowCapacityError)):
        return True
    text = str(exc)
    return isinstance(exc, pa.ArrowInvalid) and ("overflow" in text or "too large" in text)


@contextmanager
def _column_errors(column: str, rows: int) -> Iterator[None]:
    """Name the column in a capacity error raised while converting it."""
    try:
        yield
    except Exception as exc:
        if not _is_capacity_error(exc) or getattr(exc, "column", None) is not None:
            raise
        raise BatchTooLargeError(
            f"column {column!r} of {rows:,} rows would hold more than {MAX_ARRAY_BYTES:,} bytes "
            f"in one Arrow array: split the rows (rows_to_batches does)",
            column=column,
        ) from exc


def _check_width(values: list[Any]) -> None:
    """Refuse, before building it, a str/bytes column whose data surely pass MAX_ARRAY_BYTES
    (characters never outnumber UTF-8 bytes; near the limit, _single catches the rest)."""
    if sum(map(len, filter(None, values))) > MAX_ARRAY_BYTES:  # C speed: ~10 ns a value
        raise BatchTooLargeError(f"more than {MAX_ARRAY_BYTES:,} bytes of data for one Arrow array")


# ---------------------------------------------------------------------------------------------
# Building arrays


def column_to_array(values: list[Any]) -> pa.Array:
    """Build the Arrow array of one column of normalised Python values.

    The common case (one scalar kind, maybe with nulls) goes straight to ``pa.array`` with an
    explicit type, which is C speed; anything else takes the general path.  Raises
    :class:`BatchTooLargeError` when the column cannot be one array.
    """
    kinds = frozenset(map(type, values))
    fast = _FAST_SCALARS.get(kinds)
    if fast is not None:
        if fast in _VARIABLE_WIDTH:
            _check_width(values)
        return _single(pa.array(values, type=fast))
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
    return _single(pa.array(values, type=t))


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
    Raises :class:`BatchTooLargeError` (naming the column) when a column would pass
    :data:`MAX_ARRAY_BYTES`: split the rows then, or call :func:`rows_to_batches`.
    """
    keys = _ordered_keys(rows)
    names, arrays = [], []
    n = len(rows)
    for k in keys:
        if extra and k in extra:
            continue
        names.append(k)
        with _column_errors(k, n):
            # map(dict.get, ...) runs the per-row lookups in C.
            arrays.append(column_to_array(list(map(dict.get, rows, repeat(k, n)))))
    for k, arr in (extra or {}).items():
        names.append(k)
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, names=names)


def rows_to_batches(rows: Sequence[dict], extra: dict[str, pa.Array] | None = None) -> list[pa.RecordBatch]:
    """Like :func:`rows_to_batch`, but splits the rows (in halves, recursively) into as many
    batches as needed for every column to fit in one Arrow array; they keep the rows' order.

    Costs nothing more than :func:`rows_to_batch` when the rows fit (the usual case).
    """
    try:
        return [rows_to_batch(rows, extra)]
    except BatchTooLargeError:
        if len(rows) <= 1:
            raise
    half = len(rows) // 2
    head = {k: a.slice(0, half) for k, a in extra.items()} if extra else None
    tail = {k: a.slice(half) for k, a in extra.items()} if extra else None
    return rows_to_batches(rows[:half], head) + rows_to_batches(rows[half:], tail)


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
    return [k for k in keys if isinstance(k, str)]  # str subclasses (StrEnum keys) too


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

# Python's datetime covers years 1-9999; Arrow can hold far more, but nothing could read it back.
_MIN_US = -62_135_596_800_000_000  # 0001-01-01T00:00:00
_MAX_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999
_US_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1}  # ns: every int64 value is in range
_MIN_DAY, _MAX_DAY = -719_162, 2_932_896  # date(1, 1, 1), date(9999, 12, 31)
_MS_PER_DAY = 86_400_000

# Extension types with a plain meaning, stored as their storage; other extensions are refused.
_EXTENSIONS = {"arrow.json": pa.string(), "arrow.uuid": pa.binary(), "arrow.bool8": pa.bool_()}

# Why a type cannot be stored, and what to log instead.
_UNSTORABLE_HINTS = (
    (pa.types.is_decimal, "cast it to float64 or string"),
    (pa.types.is_time, "log a timestamp or a string"),
    (pa.types.is_duration, "log a number, e.g. seconds"),
    (pa.types.is_interval, "log numbers"),
    (pa.types.is_map, "log a struct, or a list of {key, value} structs"),
)


def canonical_type(t: pa.DataType, column: str = "?") -> pa.DataType:
    """The canonical type foreign Arrow type ``t`` is stored as.

    Raises :class:`RowError` (a TypeError) naming the column when it cannot be stored.
    """
    if isinstance(t, pa.BaseExtensionType):
        return canonical_type(_extension_target(t, column), column)
    if pa.types.is_dictionary(t) or pa.types.is_run_end_encoded(t):
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
    if _is_list_like(t):
        return pa.list_(canonical_type(t.value_type, column))
    if pa.types.is_struct(t):
        _check_field_names([f.name for f in t], column)
        return pa.struct([pa.field(f.name, canonical_type(f.type, f"{column}.{f.name}")) for f in t])
    if pa.types.is_union(t):
        return unify_all(canonical_type(t.field(i).type, column) for i in range(t.num_fields))
    hint = next((h for test, h in _UNSTORABLE_HINTS if test(t)), None)
    raise RowError(
        f"column {column!r} has Arrow type `{t}`, which weave_lite cannot store" + (f" ({hint})" if hint else "")
    )


def _is_list_like(t: pa.DataType) -> bool:
    return (
        pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
        or pa.types.is_list_view(t) or pa.types.is_large_list_view(t)
    )


def _extension_target(t: pa.BaseExtensionType, column: str) -> pa.DataType:
    target = _EXTENSIONS.get(t.extension_name)
    if target is None:
        raise RowError(
            f"column {column!r} has Arrow extension type `{t.extension_name}`, which weave_lite "
            f"cannot store (convert it to a plain type first)"
        )
    return target


def _check_field_names(names: list[str], column: str | None) -> None:
    """Column names (``column=None``) or a struct column's field names: valid str, each once
    (a dict cannot hold a key twice)."""
    for name in names:
        check_name(name, "column" if column is None else "struct field")
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        where = "columns" if column is None else f"struct fields in column {column!r}"
        raise RowError(f"two {where} are named {twice!r}; names must be unique")


def normalize_array(array: pa.Array | pa.ChunkedArray, column: str = "?") -> pa.Array:
    """Bring a foreign Arrow array onto its canonical type (values unchanged, but timestamps at
    microseconds, and ints and floats at 64 bits).

    Refuses, naming the column, what could not be stored or read back: :class:`RowError` for
    types, :class:`RowValueError` for values (invalid UTF-8, dates outside years 1-9999, uint64
    past the int64 range, one value over MAX_VALUE_BYTES) and :class:`BatchTooLargeError` for a
    column over MAX_ARRAY_BYTES.
    """
    with _column_errors(column, len(array)):
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        array = _decode(array, column)
        target = canonical_type(array.type, column)
        t = array.type
        if pa.types.is_union(t):
            return conform(_union_to_canonical(array, column), target)
        if pa.types.is_struct(t):
            if not t.num_fields:  # struct<>, e.g. from {}: canonical, and from_arrays would lose its length
                return array
            children = [normalize_array(array.field(i), f"{column}.{f.name}") for i, f in enumerate(t)]
            mask = array.is_null() if array.null_count else None
            return pa.StructArray.from_arrays(children, fields=list(target), mask=mask)
        if _is_list_like(t):
            return _normalize_list_array(array, target, column)
        return _normalize_leaf(array, target, column)


def _decode(array: pa.Array, column: str) -> pa.Array:
    """Extension, dictionary and run-end encoded arrays as plain arrays of their values."""
    while True:
        t = array.type
        if isinstance(t, pa.BaseExtensionType):
            array = pc.cast(array.storage, _extension_target(t, column))
        elif pa.types.is_dictionary(t):
            array = array.dictionary_decode()
        elif pa.types.is_run_end_encoded(t):
            array = pc.run_end_decode(array)
        else:
            return array


def _normalize_list_array(array: pa.Array, target: pa.DataType, column: str) -> pa.Array:
    t = array.type
    if pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
        array = _list_view_to_list(array)
    elif not pa.types.is_list(t):  # large and fixed-size lists
        array = pc.cast(array, pa.list_(t.value_type))
    # Only the child values this (maybe sliced) array uses are checked and kept.
    offsets = array.offsets
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    if start:
        offsets = pc.subtract(offsets, pa.scalar(start, pa.int32()))
    values = normalize_array(array.values.slice(start, end - start), column)
    mask = array.is_null() if array.null_count else None
    return pa.ListArray.from_arrays(offsets, values, type=target, mask=mask)


def _list_view_to_list(array: pa.Array) -> pa.Array:
    """A list view (any offsets and sizes) as a list (contiguous values); pyarrow's own cast
    builds invalid arrays (pyarrow 26)."""
    valid = np.asarray(array.is_valid())
    sizes = np.where(valid, np.asarray(array.sizes.fill_null(0)), 0).astype(np.int64)
    starts = np.asarray(array.offsets.fill_null(0)).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    take = np.repeat(starts - offsets[:-1], sizes) + np.arange(offsets[-1])
    values = array.values.take(pa.array(take))
    mask = pa.array(~valid) if array.null_count else None
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values, mask=mask)


def _normalize_leaf(array: pa.Array, target: pa.DataType, column: str) -> pa.Array:
    """A scalar column: range checks where a cast could overflow, the cast, then the checks of
    strings and bytes on the canonical array."""
    t = array.type
    if pa.types.is_timestamp(t) and t.unit in _US_PER_UNIT:
        per = _US_PER_UNIT[t.unit]
        _check_range(array.view(pa.int64()), _MIN_US // per, _MAX_US // per, column, "timestamps")
    elif pa.types.is_date32(t):
        _check_range(array.view(pa.int32()), _MIN_DAY, _MAX_DAY, column, "dates")
    elif pa.types.is_date64(t):
        _check_range(array.view(pa.int64()), _MIN_DAY * _MS_PER_DAY, (_MAX_DAY + 1) * _MS_PER_DAY - 1, column, "dates")
    elif pa.types.is_uint64(t):
        top = pc.max(array).as_py()
        if top is not None and top >= 2**63:
            raise RowValueError(f"column {column!r} holds a uint64 value beyond the 64-bit signed range")
    if t != target:
        # Range checked: a cast only truncates timestamps finer than microseconds (SPEC section
        # 1) and date64 values that are not whole days.
        array = pc.cast(array, target, safe=not (pa.types.is_timestamp(t) or pa.types.is_date64(t)))
    if target in _VARIABLE_WIDTH:
        _check_strings(array, column)
    return array


def _check_strings(array: pa.Array, column: str) -> None:
    """Valid UTF-8 (Arrow data from files or buffers need not be), and no value over
    MAX_VALUE_BYTES."""
    if array.type == pa.string():
        try:
            array.validate(full=True)
        except pa.ArrowInvalid:
            raise RowValueError(f"column {column!r} holds strings that are not valid UTF-8") from None
    longest = pc.max(pc.binary_length(array)).as_py() if len(array) else None
    if longest is not None and longest > MAX_VALUE_BYTES:
        raise RowValueError(
            f"column {column!r} holds a value of {longest:,} bytes, larger than the "
            f"{MAX_VALUE_BYTES:,} bytes one value may hold"
        )


def _check_range(ints: pa.Array, lo: int, hi: int, column: str, what: str) -> None:
    bounds = pc.min_max(ints).as_py()
    if bounds["min"] is not None and (bounds["min"] < lo or bounds["max"] > hi):
        raise RowValueError(f"column {column!r} holds {what} outside years 1-9999, which cannot be read back")


def _union_to_canonical(array: pa.Array, column: str) -> pa.Array:
    """Rebuild a foreign union from Python values (rare; unions come from other weave_lite data),
    validated as if logged in dict rows."""
    try:
        values = array.to_pylist()
    except (OverflowError, ValueError) as exc:  # e.g. a timestamp past year 9999
        raise RowValueError(f"column {column!r} holds values that cannot be read back: {exc}") from None
    values = normalize_column(values, column)
    return build_array(values, infer_type(values))


def _normalize_arrow(batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
    """A foreign record batch or table on canonical column types (see :func:`normalize_array`)."""
    names = batch.schema.names
    _check_field_names(names, None)
    arrays = [normalize_array(batch.column(i), name) for i, name in enumerate(names)]
    return _record_batch(arrays, names, batch.num_rows)


def _record_batch(arrays: list[pa.Array], names: list[str], num_rows: int) -> pa.RecordBatch:
    if arrays:
        return pa.RecordBatch.from_arrays(arrays, names=names)
    # No columns: the rows still count (like logging {}), which from_arrays cannot express.
    return pa.RecordBatch.from_struct_array(pa.array([{}] * num_rows, type=pa.struct([])))


# ---------------------------------------------------------------------------------------------
# Bulk log() input: Arrow tables and batches, pandas DataFrames, Arrow streams

# Types pyarrow infers for a pandas object column only when every value has that one kind (or
# ints and floats, which dict rows widen to float too): the same column that dict rows give.
_INFERRED_AS_IN_ROWS = frozenset([pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.null()])


def normalize_batch(data: Any) -> pa.RecordBatch:
    """One record batch of canonical types from a ``pyarrow.Table``/``RecordBatch``, a pandas
    DataFrame, or anything exposing ``__arrow_c_stream__`` (polars, DuckDB, ...).

    Column names must be unique ``str``.  Raises :class:`RowError` (a TypeError) naming the
    column for a type or value that cannot be stored, and :class:`BatchTooLargeError` for a
    column over :data:`MAX_ARRAY_BYTES`.
    """
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        return _normalize_arrow(data)
    if _is_dataframe(data):
        return dataframe_to_batch(data)
    try:
        table = pa.table(data)
    except Exception as exc:
        raise RowError(f"cannot log a {type(data).__name__} as a table: {exc}") from None
    return _normalize_arrow(table)


def _is_dataframe(data: Any) -> bool:
    """A pandas DataFrame, or a subclass (checked by name: pandas need not be imported)."""
    return any(c.__name__ == "DataFrame" and c.__module__.startswith("pandas") for c in type(data).__mro__)


def dataframe_to_batch(df: Any) -> pa.RecordBatch:
    """A pandas DataFrame (its index is not logged) as one record batch of canonical types.

    Typed like dict rows: ``object`` columns are inferred from their values (mixed kinds make
    the same union that dict rows get), pandas' missing values (``NaN``, ``NaT``, ``None``,
    ``pd.NA``) are nulls, tz-aware timestamps are stored in UTC, categoricals as their values.
    """
    names = list(df.columns)
    _check_field_names(names, None)
    arrays = [series_to_array(df.iloc[:, i], name) for i, name in enumerate(names)]
    return _record_batch(arrays, names, len(df))


def series_to_array(series: Any, column: str) -> pa.Array:
    """One DataFrame column as a canonical Arrow array (see :func:`dataframe_to_batch`)."""
    if series.dtype == object:
        return _object_column(series.to_numpy(), column)
    try:
        array = pa.Array.from_pandas(series)
    except Exception:  # complex numbers, categories of mixed kinds, ...: the values decide
        return _object_column(series.astype(object).to_numpy(), column)
    return normalize_array(array, column)


def _object_column(values: np.ndarray, column: str) -> pa.Array:
    """An object column: pyarrow's C conversion when the values have one plain kind, else the
    values one by one, validated and typed exactly as in dict rows."""
    try:
        array = pa.array(values, from_pandas=True)
    except Exception:  # mixed kinds, surrogates, unsupported objects: decided below
        array = None
    if array is not None and array.type in _INFERRED_AS_IN_ROWS:
        return normalize_array(array, column)
    normalized = normalize_column(values.tolist(), column, nan_is_null=True)
    with _column_errors(column, len(normalized)):
        return column_to_array(normalized)
