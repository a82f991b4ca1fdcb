"""Validation of rows passed to ``StreamTable.log``, in the caller's thread.

``normalize_rows`` checks every value of every row *before* anything is enqueued, so that a bad
row raises in the caller and nothing of that call is logged.  It also returns private copies
(a caller may reuse or mutate its dict after ``log`` returns) with values normalised onto the
few Python types that the background writer converts to Arrow: ``None``, ``bool``, ``int``,
``float``, ``str``, ``bytes``, ``datetime``, ``date``, ``list`` and ``dict``.

The common case, a flat dict of scalars, costs one dict lookup per value.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
MAX_DEPTH = 64

# Types accepted as they are (exact type match; subclasses take the slow path).
_PLAIN = frozenset([type(None), bool, float, bytes, _dt.date])


class RowError(TypeError):
    """A value that cannot be logged (``TypeError`` as SPEC section 1 asks)."""


def normalize_rows(row_or_rows: Any) -> list[dict]:
    """Validate a row or a list of rows and return normalised private copies.

    Raises ``TypeError`` naming the key and the type of the first bad value.
    """
    if type(row_or_rows) is dict:
        return [_normalize_row(row_or_rows, 0)]
    if isinstance(row_or_rows, (list, tuple)):
        return [_normalize_row(r, i) for i, r in enumerate(row_or_rows)]
    if isinstance(row_or_rows, dict):
        return [_normalize_row(row_or_rows, 0)]
    raise RowError(
        f"log() takes a dict or a list of dicts (or an Arrow table / pandas DataFrame), "
        f"not {type(row_or_rows).__name__}"
    )


def normalize_row(row: dict) -> dict:
    """Validate one row (a dict) and return its normalised private copy."""
    return _normalize_row(row, 0)


def _normalize_row(row: Any, index: int) -> dict:
    if not isinstance(row, dict):
        raise RowError(f"row {index} is a {type(row).__name__}, not a dict")
    out = dict(row)
    for key, value in out.items():
        if type(key) is not str:
            raise RowError(f"row {index}: key {key!r} is a {type(key).__name__}; keys must be str")
        t = type(value)
        if t in _PLAIN:
            continue
        if t is str:
            if not value.isascii():
                _check_text(value, key, index)
            continue
        if t is int:
            if not _INT_MIN <= value <= _INT_MAX:
                raise RowError(f"row {index}: key {key!r}: int {value} does not fit in 64 bits")
            continue
        out[key] = _normalize_value(value, key, index, 0)
    return out


def _check_text(value: str, key: str, index: int) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RowError(f"row {index}: key {key!r}: string is not valid Unicode (lone surrogate)") from None


def _normalize_value(value: Any, key: str, index: int, depth: int) -> Any:
    """The slow path: containers, numpy, subclasses, datetimes."""
    if depth > MAX_DEPTH:
        raise RowError(f"row {index}: key {key!r}: nesting deeper than {MAX_DEPTH} levels")
    t = type(value)
    if value is None or t in (bool, float, bytes):
        return value
    if t is str:
        if not value.isascii():
            _check_text(value, key, index)
        return value
    if t is int:
        if not _INT_MIN <= value <= _INT_MAX:
            raise RowError(f"row {index}: key {key!r}: int {value} does not fit in 64 bits")
        return value
    if isinstance(value, _dt.datetime):
        plain = _dt.datetime(
            value.year, value.month, value.day, value.hour, value.minute, value.second,
            value.microsecond, value.tzinfo,
        )
        if plain.tzinfo is None:
            return plain
        try:  # stored as UTC; a time zone may push a date past year 1 or 9999
            return plain.astimezone(_dt.timezone.utc)
        except (OverflowError, ValueError):
            raise RowError(f"row {index}: key {key!r}: datetime {value} is out of range in UTC") from None
    if isinstance(value, _dt.date):
        return _dt.date(value.year, value.month, value.day)
    if isinstance(value, (list, tuple)):
        return [_normalize_value(v, key, index, depth + 1) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise RowError(
                    f"row {index}: key {key!r}: nested key {k!r} is a {type(k).__name__}; keys must be str"
                )
            out[k] = _normalize_value(v, key, index, depth + 1)
        return out
    if isinstance(value, np.generic):
        return _normalize_numpy_scalar(value, key, index, depth)
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise RowError(f"row {index}: key {key!r}: numpy array with {value.ndim} dimensions; only 1-d arrays")
        if value.dtype.kind in "biufUSM":
            return [_normalize_numpy_scalar(v, key, index, depth) for v in value]
        return [_normalize_value(v, key, index, depth + 1) for v in value.tolist()]
    if isinstance(value, int):  # int subclasses (IntEnum, ...)
        return _normalize_value(int(value), key, index, depth)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return _normalize_value(str(value), key, index, depth)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    type_name = t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
    raise RowError(f"row {index}: key {key!r}: cannot log a value of type {type_name}")


def _normalize_numpy_scalar(value: np.generic, key: str, index: int, depth: int) -> Any:
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        us = value.astype("datetime64[us]").astype(np.int64)
        return _EPOCH_NAIVE + _dt.timedelta(microseconds=int(us))
    if isinstance(value, (np.bool_, np.integer, np.floating, np.str_, np.bytes_)):
        return _normalize_value(value.item(), key, index, depth)
    raise RowError(f"row {index}: key {key!r}: cannot log a numpy value of type {type(value).__name__}")


_EPOCH_NAIVE = _dt.datetime(1970, 1, 1)

