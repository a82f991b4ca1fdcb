"""Foreign Arrow data and DataFrames -> record batches of canonical types (the bulk ``log``
path).

:func:`normalize_array` brings foreign Arrow arrays (other units, widths, encodings, views,
extension types) onto the canonical types of :mod:`weave_lite.storage.arrow_types`, refusing
what could not be stored or read back; :func:`normalize_batch` does the same for whole tables,
pandas DataFrames (typing their ``object`` columns exactly as the same values in dict rows) and
anything exposing ``__arrow_c_stream__``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from weave_lite.errors import RowError, RowValueError
from weave_lite.lazy import lazy_module
from weave_lite.row_validation import MAX_VALUE_BYTES, check_name, normalize_column
from weave_lite.storage.arrow_types import NAIVE_TIMESTAMP, UTC_TIMESTAMP, conform, unify_all
from weave_lite.storage.values import VARIABLE_WIDTH, build_array, column_errors, column_to_array, infer_type

pc = lazy_module("pyarrow.compute")  # loaded by the first query, not at import weave_lite

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
    if (
        pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_fixed_size_binary(t)
        or pa.types.is_binary_view(t)
    ):
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
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_list_view(t)
        or pa.types.is_large_list_view(t)
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
    with column_errors(column, len(array)):
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
    if target in VARIABLE_WIDTH:
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


def _bools_among_numbers(array: pa.Array, values: np.ndarray) -> bool:
    """Whether pyarrow made numbers of booleans mixed with numbers (``[0.0, False]`` -> double),
    where dict rows keep both kinds (a union)."""
    if not (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)):
        return False
    return any(isinstance(v, (bool, np.bool_)) for v in values)


def _object_column(values: np.ndarray, column: str) -> pa.Array:
    """An object column: pyarrow's C conversion when the values have one plain kind, else the
    values one by one, validated and typed exactly as in dict rows."""
    try:
        array = pa.array(values, from_pandas=True)
    except Exception:  # mixed kinds, surrogates, unsupported objects: decided below
        array = None
    if array is not None and array.type in _INFERRED_AS_IN_ROWS and not _bools_among_numbers(array, values):
        return normalize_array(array, column)
    normalized = normalize_column(values.tolist(), column, nan_is_null=True)
    with column_errors(column, len(normalized)):
        return column_to_array(normalized)
