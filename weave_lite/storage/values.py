"""Python values -> Arrow arrays and record batches, in the canonical types of
:mod:`weave_lite.storage.arrow_types` (whose names are re-exported here).

One Arrow string, binary or list array addresses its data with 32-bit offsets, so no column
of one batch may hold more than :data:`MAX_ARRAY_BYTES`: :func:`rows_to_batch` raises
:class:`BatchTooLargeError` rather than build one, :func:`rows_to_batches` splits the rows
instead, and :func:`estimate_row_bytes` lets a writer size its batches up front.

Foreign Arrow data and DataFrames (the bulk ``log`` path) are brought onto the same types by
:mod:`weave_lite.storage.bulk_input`, which builds on this module.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa

from weave_lite.errors import BatchTooLargeError, RowError, RowValueError
from weave_lite.storage.arrow_types import (
    KIND_ORDER,
    NAIVE_TIMESTAMP,
    SCALAR_TYPES,
    UTC_TIMESTAMP,
    conform,
    conform_batch,
    kind_of_type,
    kind_of_value,
    unify,
    unify_all,
    unify_schemas,
)

__all__ = [
    # Python values -> Arrow
    "MAX_ARRAY_BYTES",
    "VALUE_OVERHEAD_BYTES",
    "build_array",
    "column_to_array",
    "estimate_row_bytes",
    "infer_type",
    "rows_to_batch",
    "rows_to_batches",
    # re-exported from arrow_types
    "KIND_ORDER",
    "NAIVE_TIMESTAMP",
    "UTC_TIMESTAMP",
    "conform",
    "conform_batch",
    "kind_of_type",
    "kind_of_value",
    "unify",
    "unify_all",
    "unify_schemas",
    # re-exported from errors (their old home)
    "BatchTooLargeError",
    "RowError",
    "RowValueError",
]

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
            types.append(SCALAR_TYPES[kind])
    return unify_all(types)


_FAST_SCALARS: dict[frozenset, pa.DataType] = {}
for _py, _kind in ((bool, "bool"), (int, "int"), (float, "float"), (str, "string"), (bytes, "bytes")):
    _FAST_SCALARS[frozenset([_py])] = SCALAR_TYPES[_kind]
    _FAST_SCALARS[frozenset([_py, type(None)])] = SCALAR_TYPES[_kind]
_FAST_SCALARS[frozenset([type(None)])] = pa.null()
_INT_FLOAT = (frozenset([int, float]), frozenset([int, float, type(None)]))
VARIABLE_WIDTH = (pa.string(), pa.binary())

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
def column_errors(column: str, rows: int) -> Iterator[None]:
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
        if fast in VARIABLE_WIDTH:
            _check_width(values)
        return _single(pa.array(values, type=fast))
    if kinds in _INT_FLOAT:
        return pa.array([float(v) if type(v) is int else v for v in values], type=pa.float64())
    return build_array(values, infer_type(values))


def known_kind_array(values: list[Any], kinds: frozenset[type]) -> pa.Array | None:
    """``column_to_array(values)`` for values whose types are known to lie in ``kinds`` (a
    superset: the flat-row fast path records every type it accepted), without looking at
    each value's type again; ``None`` when that is not enough to tell the array's type
    (several non-null kinds, whose mix decides it) or the values do not convert as known:
    then ``column_to_array`` decides (and raises, e.g. for a column too large for one array).
    """
    t = _FAST_SCALARS.get(kinds)
    if t is None:
        return None
    try:
        array = pa.array(values, type=t)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return None
    if isinstance(array, pa.ChunkedArray):  # past one array's capacity
        return None
    if array.null_count == len(array) and t != pa.null():
        # Only nulls in this run (a column that also took a kind): typed as column_to_array does.
        return pa.nulls(len(array))
    return array


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
        with column_errors(k, n):
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
