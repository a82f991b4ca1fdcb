"""Validation of rows passed to ``StreamTable.log``, in the caller's thread.

``normalize_rows`` checks every value of every row *before* anything is enqueued, so that a bad
row raises in the caller and nothing of that call is logged.  It also returns private copies
(a caller may reuse or mutate its dict after ``log`` returns) with values normalised onto the
few Python types that the background writer converts to Arrow: ``None``, ``bool``, ``int``,
``float``, ``str``, ``bytes``, ``datetime``, ``date``, ``list`` and ``dict``.

The contract is that everything accepted here can be encoded by the writer:

* keys are ``str`` (subclasses such as ``StrEnum`` members too) and every ``str`` (key or
  value) is valid Unicode, i.e. encodes to UTF-8 (a lone surrogate such as ``"\\ud800"``
  does not);
* ints fit in 64 bits; datetimes stay within years 1-9999 once moved to UTC;
* one ``str``/``bytes`` value is at most :data:`MAX_VALUE_BYTES`, and the strings and bytes
  nested in one value at most :data:`MAX_CELL_BYTES` (so that any row fits in an Arrow array);
* lists and dicts nest at most :data:`MAX_NESTING` deep (Arrow's IPC format stops at 64
  levels, and a union can sit between any two of them);
* numpy and pandas scalars become the Python value they stand for when that is lossless
  (``np.float32`` -> ``float``, ``np.datetime64`` -> ``datetime``, ``pd.NaT``/``pd.NA`` ->
  ``None``) and are refused otherwise.

A refused value raises :class:`RowError` (a ``TypeError``) or, for a value of an accepted type
that is out of range or too large, :class:`RowValueError` (also a ``ValueError``), naming the
row, the key (a dotted path for nested keys, e.g. ``input.lang``, ``tags[2]``) and the problem.

The common case, a flat dict of short ASCII strings and numbers, costs a few type checks per
key and value; everything else takes the slow path.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any

import numpy as np

from weave_lite.errors import RowError, RowValueError

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1

# Lists and dicts nested inside each other, at most.  Arrow's IPC reader stops at 64 levels of
# nested types and a union (a column of mixed kinds) may add a level under each container.
MAX_NESTING = 31

# One str (in UTF-8) or bytes value, at most.
MAX_VALUE_BYTES = 256 * 2**20
# All the str/bytes data nested inside one top-level value, at most: one row must always fit in
# an Arrow array, whose string data is limited to 2 GiB.
MAX_CELL_BYTES = 2**30

# Types accepted as they are (exact type match; subclasses take the slow path).
_PLAIN = frozenset([type(None), bool, float, _dt.date])
_isascii = str.isascii
_EPOCH_NAIVE = _dt.datetime(1970, 1, 1)
_UTC = _dt.UTC


class _Refused(Exception):
    """Internal: a bad value somewhere inside a row.

    Containers add their part of the path (``.key``, ``[index]``) while it propagates, so that
    the path costs nothing unless a value is refused.
    """

    def __init__(self, problem: str, *, value_error: bool = False):
        super().__init__(problem)
        self.problem = problem
        self.value_error = value_error
        self.parts: list[str] = []  # innermost first

    def at(self, part: str) -> _Refused:
        self.parts.append(part)
        return self

    def row_error(self, prefix: str, key: Any, label: str = "key") -> RowError:
        """The public error, for a value found under top-level ``key``."""
        suffix = "".join(reversed(self.parts))
        path = key + suffix if type(key) is str else repr(key) + suffix
        cls = RowValueError if self.value_error else RowError
        error = cls(f"{prefix}{label} {path!r}: {self.problem}")
        error.key = path
        return error


# ---------------------------------------------------------------------------------------------
# Entry points


def normalize_rows(row_or_rows: Any) -> list[dict]:
    """Validate a row or a list of rows and return normalised private copies.

    Raises :class:`RowError` naming the row, the key and the problem of the first bad value.
    """
    if type(row_or_rows) is dict:
        return [_normalize_row(row_or_rows, 0)]
    if isinstance(row_or_rows, (list, tuple)):
        return [_normalize_row(r, i) for i, r in enumerate(row_or_rows)]
    if isinstance(row_or_rows, dict):
        return [_normalize_row(row_or_rows, 0)]
    raise RowError(
        f"log() takes a dict or a list of dicts (or an Arrow table / pandas DataFrame), not {_type_name(row_or_rows)}"
    )


def normalize_row(row: dict) -> dict:
    """Validate one row (a dict) and return its normalised private copy."""
    return _normalize_row(row, 0)


def normalize_column(values: Iterable[Any], column: str, *, nan_is_null: bool = False) -> list:
    """Validate the values of one column (e.g. a DataFrame ``object`` column) as if each was
    logged under key ``column``; returns them normalised.

    ``nan_is_null`` reads a float NaN as a missing value, as pandas does in object columns.
    """
    out: list = []
    append = out.append
    try:
        for value in values:
            if nan_is_null and type(value) is float and value != value:
                value = None
            append(_normalize_top(value))
    except _Refused as exc:
        error = exc.row_error(f"row {len(out)}: ", column, "column")
        error.row = len(out)
        raise error from None
    return out


def check_name(name: Any, label: str = "column") -> None:
    """Raise :class:`RowError` unless ``name`` is a ``str`` that encodes to UTF-8 (a column
    or field name of bulk data)."""
    if not isinstance(name, str):
        raise RowError(f"{label} name {_describe(name)} is a {_type_name(name)}; {label} names must be str")
    if not name.isascii():
        try:
            _utf8_size(name, "name")
        except _Refused as exc:
            raise exc.row_error("", name, label) from None


# ---------------------------------------------------------------------------------------------
# The hot path: one flat row


def _normalize_row(row: Any, index: int) -> dict:
    if not isinstance(row, dict):
        raise RowError(f"row {index} is a {_type_name(row)}, not a dict")
    out = dict(row)
    key = None
    try:
        for key, value in out.items():
            if not _isascii(key):  # str.isascii: also the type check (TypeError for a non-str)
                _utf8_size(key, "key")
            t = type(value)
            if t is str:  # the most common value first
                if len(value) > MAX_VALUE_BYTES or not value.isascii():
                    _check_text(value)
                continue
            if t in _PLAIN:
                continue
            if t is int:
                if not _INT_MIN <= value <= _INT_MAX:
                    raise _int_out_of_range(value)
                continue
            out[key] = _normalize_top(value)
    except _Refused as exc:
        error = exc.row_error(f"row {index}: ", key)
        error.row = index
        raise error from None
    except TypeError:
        if isinstance(key, str):  # not about the key
            raise
        raise RowError(f"row {index}: key {_describe(key)} is a {_type_name(key)}; keys must be str") from None
    return out


def _normalize_top(value: Any) -> Any:
    """A top-level value: normalised, and its nested str/bytes data within MAX_CELL_BYTES."""
    out = _normalize_value(value, 0)
    t = type(out)
    # A cheap upper bound first (4 bytes per character of a non-ASCII str), exact only if needed.
    if (t is list or t is dict) and _text_bytes_bound(out) > MAX_CELL_BYTES and _text_bytes(out) > MAX_CELL_BYTES:
        raise _Refused(
            f"the strings and bytes inside this value exceed {MAX_CELL_BYTES:,} bytes (the most one value can hold)",
            value_error=True,
        )
    return out


def _text_bytes_bound(value: Any) -> int:
    """An upper bound of the UTF-8 bytes of the str/bytes data inside a normalised value."""
    t = type(value)
    if t is str:
        return len(value) if value.isascii() else 4 * len(value)
    if t is bytes:
        return len(value)
    if t is list:
        return sum(map(_text_bytes_bound, value))
    if t is dict:
        return sum(map(_text_bytes_bound, value.values()))
    return 0


def _text_bytes(value: Any) -> int:
    """The UTF-8 bytes of the str/bytes data inside a normalised value (encodes non-ASCII str)."""
    t = type(value)
    if t is str:
        return len(value.encode("utf-8"))
    if t is bytes:
        return len(value)
    if t is list:
        return sum(map(_text_bytes, value))
    if t is dict:
        return sum(map(_text_bytes, value.values()))
    return 0


# ---------------------------------------------------------------------------------------------
# Scalars


def _check_text(text: str) -> None:
    """A str that is not ASCII or is long: it must encode to UTF-8 within MAX_VALUE_BYTES."""
    size = _utf8_size(text, "string")
    if size > MAX_VALUE_BYTES:
        raise _too_large("string", size)


def _utf8_size(text: str, what: str) -> int:
    """The UTF-8 size of ``text``; refuses a str with a lone surrogate (it has no UTF-8 form,
    so the writer could never store it)."""
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise _Refused(
            f"{what} is not valid Unicode: lone surrogate U+{ord(text[exc.start]):04X} at index "
            f"{exc.start} (it cannot be encoded as UTF-8)"
        ) from None


def _check_bytes(value: bytes) -> bytes:
    if len(value) > MAX_VALUE_BYTES:
        raise _too_large("bytes value", len(value))
    return value


def _too_large(what: str, size: int) -> _Refused:
    return _Refused(
        f"{what} of {size:,} bytes is larger than the {MAX_VALUE_BYTES:,} bytes one value may hold",
        value_error=True,
    )


def _check_int(value: int) -> int:
    if not _INT_MIN <= value <= _INT_MAX:
        raise _int_out_of_range(value)
    return value


def _int_out_of_range(value: int) -> _Refused:
    # str() of a huge int is slow and even refused past 4300 digits: show the size instead.
    shown = str(value) if value.bit_length() <= 256 else f"of {value.bit_length()} bits"
    return _Refused(f"int {shown} does not fit in 64 bits", value_error=True)


# ---------------------------------------------------------------------------------------------
# The slow path: containers, datetimes, numpy, pandas, subclasses


def _normalize_value(value: Any, depth: int) -> Any:
    """Normalise one value; ``depth`` counts the lists and dicts around it."""
    t = type(value)
    if value is None or t is bool or t is float or t is _dt.date:
        return value
    if t is str:
        if not value.isascii() or len(value) > MAX_VALUE_BYTES:
            _check_text(value)
        return value
    if t is int:
        return _check_int(value)
    if t is bytes:
        return _check_bytes(value)
    if t is list or t is tuple:
        return _normalize_list(value, depth)
    if t is dict:
        return _normalize_dict(value, depth)
    return _normalize_other(value, depth)


def _enter(depth: int) -> None:
    if depth >= MAX_NESTING:
        raise _Refused(f"nesting deeper than {MAX_NESTING} levels of lists and dicts", value_error=True)


def _normalize_list(values: Iterable[Any], depth: int) -> list:
    _enter(depth)
    out: list = []
    append = out.append
    try:
        for v in values:
            append(_normalize_value(v, depth + 1))
    except _Refused as exc:
        exc.at(f"[{len(out)}]")
        raise
    return out


def _normalize_dict(value: dict, depth: int) -> dict:
    _enter(depth)
    out = {}
    for k, v in value.items():
        if type(k) is not str:
            if not isinstance(k, str):
                raise _Refused(f"nested key {_describe(k)} is a {_type_name(k)}; keys must be str")
            k = str.__str__(k)  # a str subclass (StrEnum, ...) as the plain str
        try:
            if not k.isascii():
                _utf8_size(k, "key")
            out[k] = _normalize_value(v, depth + 1)
        except _Refused as exc:
            exc.at("." + k)
            raise
    return out


def _normalize_other(value: Any, depth: int) -> Any:
    """Everything that is not exactly one of the plain Python types."""
    if isinstance(value, _dt.datetime):
        return _normalize_datetime(value)
    if isinstance(value, _dt.date):
        return _dt.date(value.year, value.month, value.day)
    if isinstance(value, np.generic):
        return _normalize_numpy_scalar(value, depth)
    if isinstance(value, np.ndarray):
        return _normalize_numpy_array(value, depth)
    if isinstance(value, (list, tuple)):
        return _normalize_list(value, depth)
    if isinstance(value, dict):
        return _normalize_dict(value, depth)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):  # int subclasses (IntEnum, ...)
        return _check_int(int(value))
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return _normalize_value(str(value), depth)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _check_bytes(bytes(value))
    if _is_pandas_na(value):
        return None
    raise _Refused(f"cannot log a value of type {_type_name(value)}")


def _normalize_datetime(value: _dt.datetime) -> _dt.datetime | None:
    """A plain ``datetime``: naive as logged, aware moved to UTC (subclasses such as
    ``pd.Timestamp`` lose what a ``datetime`` cannot hold, i.e. nanoseconds)."""
    if value != value:  # pandas' NaT is a datetime subclass that is not equal to itself
        return None
    naive = _dt.datetime(value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond)
    try:
        offset = value.utcoffset()
    except Exception as exc:  # a broken tzinfo
        raise _Refused(f"datetime {naive.isoformat()}: its time zone failed ({exc})") from None
    if offset is None:
        return naive
    try:  # stored in UTC: an offset may push a date past year 1 or 9999
        return (naive - offset).replace(tzinfo=_UTC)
    except OverflowError:
        raise _Refused(
            f"datetime {naive.isoformat()}{_format_offset(offset)} is out of range in UTC (years 1-9999)",
            value_error=True,
        ) from None


def _format_offset(offset: _dt.timedelta) -> str:
    """``+05:30`` / ``-05:00`` (str() of a negative timedelta reads ``-1 day, 19:00:00``)."""
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _is_pandas_na(value: Any) -> bool:
    """``pd.NA`` (checked by name: pandas need not be imported)."""
    t = type(value)
    return t.__name__ == "NAType" and t.__module__.startswith("pandas")


# ---------------------------------------------------------------------------------------------
# numpy

# Microseconds per unit of numpy's datetime64 (int: exact), and units per microsecond.
_US_PER_UNIT = {
    "W": 7 * 86_400_000_000,
    "D": 86_400_000_000,
    "h": 3_600_000_000,
    "m": 60_000_000,
    "s": 1_000_000,
    "ms": 1_000,
    "us": 1,
}
_UNITS_PER_US = {"ns": 1_000, "ps": 1_000_000, "fs": 1_000_000_000, "as": 1_000_000_000_000}


# numpy kinds with no loggable meaning (timedelta64 first: it subclasses np.integer).
_NUMPY_REFUSED = (
    (np.timedelta64, "durations cannot be logged (log a number, e.g. seconds)"),
    (np.complexfloating, "complex numbers cannot be logged"),
    (np.void, "structured (void) values cannot be logged (log a dict)"),
)


def _normalize_numpy_scalar(value: np.generic, depth: int) -> Any:
    for refused, problem in _NUMPY_REFUSED:
        if isinstance(value, refused):
            raise _Refused(f"numpy value of type numpy.{type(value).__name__}: {problem}")
    if isinstance(value, np.datetime64):
        return _datetime64_to_datetime(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return _check_int(int(value))
    if isinstance(value, np.floating):
        return _numpy_float(value)
    if isinstance(value, (np.str_, np.bytes_)):
        # item(): numpy's value, without the trailing NULs that numpy treats as padding
        # (as in arrays: np.array([b"a\0"]).tolist() == [b"a"]).
        return _normalize_value(value.item(), depth)
    raise _Refused(f"cannot log a numpy value of type numpy.{type(value).__name__}")


def _numpy_float(value: np.floating) -> float:
    """float16/32/64 are exact as a Python float; a longdouble only when it round-trips."""
    f = float(value)
    if f == value or f != f:
        return f
    raise _Refused(
        f"numpy.{type(value).__name__} value {value} cannot be stored as a 64-bit float without loss",
        value_error=True,
    )


def _datetime64_to_datetime(value: np.datetime64) -> _dt.datetime | None:
    """A naive ``datetime`` (microseconds, finer units truncated); ``None`` for NaT.

    Computed with Python ints: numpy's own unit conversions overflow silently.
    """
    if np.isnat(value):
        return None
    unit, count = np.datetime_data(value.dtype)
    n = int(value.astype(np.int64)) * count
    try:
        if unit == "Y":
            return _dt.datetime(1970 + n, 1, 1)
        if unit == "M":
            years, month = divmod(n, 12)
            return _dt.datetime(1970 + years, month + 1, 1)
        if unit in _UNITS_PER_US:
            return _EPOCH_NAIVE + _dt.timedelta(microseconds=n // _UNITS_PER_US[unit])
        return _EPOCH_NAIVE + _dt.timedelta(microseconds=n * _US_PER_UNIT[unit])
    except (OverflowError, ValueError):
        raise _Refused(f"numpy.datetime64 {value} is out of range (years 1-9999)", value_error=True) from None


def _normalize_numpy_array(value: np.ndarray, depth: int) -> list:
    """A 1-d array becomes a list (it counts as one level of nesting)."""
    if value.ndim != 1:
        raise _Refused(
            f"numpy array with {value.ndim} dimensions: only 1-d arrays can be logged (log .tolist() for nested lists)"
        )
    _enter(depth)
    kind = value.dtype.kind
    if kind in "biu" or (kind == "f" and value.dtype.itemsize <= 8):
        if kind == "u" and value.dtype.itemsize == 8 and len(value) and value.max() > _INT_MAX:
            index = int(np.argmax(value > _INT_MAX))
            raise _int_out_of_range(int(value[index])).at(f"[{index}]")
        return value.tolist()  # exact Python ints, floats and bools, at C speed
    if kind in "mcV":
        name = {"m": "timedelta64", "c": "complex", "V": "structured"}[kind]
        raise _Refused(f"numpy array of dtype {value.dtype} ({name}) cannot be logged")
    # Strings, bytes and objects come out of tolist() as Python values; datetime64 and
    # longdouble are converted element by element (tolist() would give ints or lose precision).
    elements = value.tolist() if kind in "USO" else list(value)
    return _normalize_list(elements, depth)


# ---------------------------------------------------------------------------------------------
# Messages


def _type_name(value: Any) -> str:
    t = type(value)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _describe(value: Any) -> str:
    """A short repr for messages (a repr may be huge, or fail)."""
    try:
        text = repr(value)
    except Exception:
        return f"<{_type_name(value)}>"
    return text if len(text) <= 60 else text[:57] + "..."
