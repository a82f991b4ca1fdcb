"""The user-facing value of a top-level result Vec (what ``evaluate`` returns).

* a list of rows -> ``pyarrow.Table``;
* a list of groups -> ``pyarrow.Table`` with columns ``groupkey`` and ``rows``;
* a list of scalars -> ``pyarrow.Array``;
* a scalar -> a Python value.

:func:`to_python` turns any of these into plain Python values.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from weave_lite.execute.columns import as_list
from weave_lite.execute.vectors import ConstVec, ListVec, StructVec, Vec


def to_result(vec: Vec) -> Any:
    """The user-facing value of element 0 of a top-level Vec."""
    if isinstance(vec, ConstVec):
        return vec.value
    if isinstance(vec, ListVec) or _is_list_array(vec):
        lists = as_list(vec)
        if lists.valid is not None and not lists.valid[0]:
            return None
        child = lists.child.slice(int(lists.offsets[0]), int(lists.offsets[1]))
        return _list_result(child)
    if isinstance(vec, StructVec):
        return vec.slice(0, 1).to_arrow()[0].as_py()
    return vec.slice(0, 1).to_arrow()[0].as_py()


def _is_list_array(vec: Vec) -> bool:
    arr = getattr(vec, "array", None)
    return arr is not None and (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type))


def _list_result(child: Vec) -> Any:
    if isinstance(child, ListVec) and child.keys is not None:
        groups = ListVec(child.offsets, child.child, child.valid)
        return pa.table({"groupkey": child.keys.to_arrow(), "rows": groups.to_arrow()})
    if isinstance(child, StructVec) and child.valid is None:
        if child.fields:
            return pa.table({k: v.to_arrow() for k, v in child.fields.items()})
        return pa.Table.from_pylist([{}] * child.length)
    array = child.to_arrow()
    if isinstance(array, pa.ChunkedArray):
        return array
    return array


def to_python(result: Any) -> Any:
    """Plain Python values: rows as dicts, groups as ``{"groupkey": k, "rows": [...]}``."""
    if isinstance(result, (pa.Table, pa.RecordBatch)):
        return result.to_pylist()
    if isinstance(result, (pa.Array, pa.ChunkedArray)):
        return result.to_pylist()
    if isinstance(result, pa.Scalar):
        return result.as_py()
    return result
