"""Sort ranks for keys Arrow cannot sort: lists, dicts and mixed-type (union) values.

``pc.sort_indices`` refuses nested and union columns ("Unsupported type for RecordBatch
sorting"), so ``sort`` replaces such a key by its rank in one total order, an int64 column
Arrow sorts (nulls stay null, so they still go last):

- values of different kinds order by kind: booleans, numbers, strings, timestamps, bytes,
  lists, dicts (Weave's mixed-type order: numbers before strings before dicts);
- numbers by value (ints and floats together; NaN after every other number), strings by code
  point, lists lexicographically by their items, dicts by their items in key order;
- inside a list or dict, null is smaller than every value.

This walks the values in Python (one ``to_pylist`` and one sort of the distinct values): only
keys of these kinds take this path, and they are rare and small next to scalar keys.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pyarrow as pa

_KINDS = {bool: 1, int: 2, float: 2, str: 3, bytes: 5}


def needs_ranks(t: pa.DataType) -> bool:
    """Whether Arrow cannot sort a column of type ``t`` by itself."""
    return pa.types.is_nested(t) or pa.types.is_union(t)


def ranks(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Dense int64 ranks of ``array``'s values in the order above (null where a value is null)."""
    values = array.to_pylist()
    keys = [None if v is None else _key(v) for v in values]
    distinct = sorted({k for k in keys if k is not None})
    rank = {k: i for i, k in enumerate(distinct)}
    out = np.array([rank[k] if k is not None else 0 for k in keys], dtype=np.int64)
    mask = np.array([k is None for k in keys], dtype=bool)
    return pa.array(out, type=pa.int64(), mask=mask if mask.any() else None)


def _key(v: Any) -> tuple:
    if v is None:
        return (0,)
    if isinstance(v, float):
        return (2, math.inf, 1) if math.isnan(v) else (2, 0.0 if v == 0 else v, 0)
    kind = _KINDS.get(type(v))
    if kind == 2:
        return (2, v, 0)
    if kind is not None:
        return (kind, v)
    if isinstance(v, dt.datetime):
        return (4, v if v.tzinfo else v.replace(tzinfo=dt.UTC))
    if isinstance(v, dt.date):
        return (4, dt.datetime(v.year, v.month, v.day, tzinfo=dt.UTC))
    if isinstance(v, (list, tuple)):
        return (6, tuple(_key(x) for x in v))
    if isinstance(v, dict):
        return (7, tuple((str(k), _key(x)) for k, x in v.items()))
    return (8, repr(v))
