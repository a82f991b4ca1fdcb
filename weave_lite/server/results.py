"""Turning ``evaluate`` results into JSON pages (the API) and plain values (the command line).

Only pyarrow and the standard library are used here, so the command line can import this module
without the ``serve`` extra.

A result is one of four kinds:

* ``rows``   - a list of rows (a ``pyarrow.Table``);
* ``groups`` - a list of groups (a table with columns ``groupkey`` and ``rows``);
* ``values`` - a list of scalars (an Arrow array);
* ``scalar`` - one value.

:func:`page` cuts one page (``offset``/``limit``) out of a list result and converts only that
page to Python, so a result of millions of rows costs a slice, never a full conversion.
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
from typing import Any

import pyarrow as pa

from weave_lite.lazy import lazy_module

pc = lazy_module("pyarrow.compute")  # loaded on first use, not with this module (issue 15: start-up)

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# Rows shown per group in a ``groups`` page (each group also reports its full ``count``).
GROUP_PREVIEW_ROWS = 5
# Strings longer than this are cut in API pages (``truncated`` marks such a page).
MAX_STRING_CHARS = 10_000


def result_kind(result: Any) -> str:
    if isinstance(result, pa.RecordBatch):
        result = pa.Table.from_batches([result])
    if isinstance(result, pa.Table):
        if _is_groups(result):
            return "groups"
        return "rows"
    if isinstance(result, (pa.Array, pa.ChunkedArray)):
        return "values"
    return "scalar"


def _is_groups(table: pa.Table) -> bool:
    if table.schema.names != ["groupkey", "rows"]:
        return False
    t = table.schema.field("rows").type
    return pa.types.is_list(t) or pa.types.is_large_list(t)


def as_table(result: Any) -> pa.Table:
    """Any result as an Arrow table: values as column ``value``, a scalar as one row."""
    if isinstance(result, pa.RecordBatch):
        return pa.Table.from_batches([result])
    if isinstance(result, pa.Table):
        return result
    if isinstance(result, pa.ChunkedArray):
        return pa.table({"value": result})
    if isinstance(result, pa.Array):
        return pa.table({"value": result})
    if isinstance(result, pa.Scalar):
        return pa.table({"value": pa.array([result.as_py()], type=result.type)})
    try:
        return pa.table({"value": pa.array([result])})
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pa.table({"value": pa.array([repr(result)])})


def column_types(schema: pa.Schema) -> list[dict]:
    """``[{"name", "type", "arrow_type"}]``: ``type`` is the weave type (``int``, ``timestamp``...)."""
    from weave_lite.graph.types import from_arrow

    out = []
    for f in schema:
        try:
            wtype = str(from_arrow(f.type))
        except Exception:  # an Arrow type weave has no name for
            wtype = "any"
        out.append({"name": f.name, "type": wtype, "arrow_type": str(f.type)})
    return out


def jsonable(value: Any, state: dict | None = None) -> Any:
    """A plain Python value made JSON-safe.

    Timestamps become ISO 8601 strings (``Z`` for UTC), bytes ``{"$bytes": base64}``, NaN and
    infinities the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``; strings longer than
    :data:`MAX_STRING_CHARS` are cut when ``state`` is given (``state["truncated"]`` is set).
    """
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, str):
        if state is not None and len(value) > MAX_STRING_CHARS:
            state["truncated"] = True
            return value[:MAX_STRING_CHARS] + "…"
        return value
    if isinstance(value, _dt.datetime):
        return iso(value)
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds() * 1000.0
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): jsonable(v, state) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, state) for v in value]
    if isinstance(value, pa.Scalar):
        return jsonable(value.as_py(), state)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        try:
            return jsonable(value.item(), state)
        except Exception:
            pass
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays
        return jsonable(value.tolist(), state)
    return str(value)


def iso(value: _dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(_dt.UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    return value.isoformat()


def page(result: Any, offset: int = 0, limit: int = DEFAULT_LIMIT) -> dict:
    """One page of ``result`` as a JSON-safe dict.

    ``{"kind", "columns", "rows", "total", "offset", "limit", "returned", "next_offset",
    "truncated"}`` for lists (``values`` also carries ``"values"``), ``{"kind": "scalar",
    "value", "type"}`` for a scalar.  ``rows`` are dicts keyed by column name.
    """
    kind = result_kind(result)
    state: dict = {}
    if kind == "scalar":
        value = result.as_py() if isinstance(result, pa.Scalar) else result
        return {
            "kind": "scalar",
            "value": jsonable(value, state),
            "type": type(value).__name__ if value is not None else "none",
            "total": 1,
            "truncated": bool(state.get("truncated")),
        }
    if isinstance(result, pa.RecordBatch):
        result = pa.Table.from_batches([result])
    total = len(result)
    offset = max(0, int(offset))
    limit = max(0, int(limit))
    if kind == "values":
        sliced = result.slice(offset, limit)
        values = [jsonable(v, state) for v in sliced.to_pylist()]
        columns = column_types(pa.schema([pa.field("value", result.type)]))
        rows = [{"value": v} for v in values]
        body: dict[str, Any] = {"kind": "values", "columns": columns, "rows": rows, "values": values}
    elif kind == "groups":
        sliced = result.slice(offset, limit)
        groups = sliced.column("rows")
        counts = pc.list_value_length(groups).to_pylist()
        preview = _list_head(groups, GROUP_PREVIEW_ROWS).to_pylist()
        keys = sliced.column("groupkey").to_pylist()
        rows = [
            {"groupkey": jsonable(k, state), "count": n or 0, "rows": jsonable(p or [], state)}
            for k, n, p in zip(keys, counts, preview)
        ]
        key_type = column_types(pa.schema([result.schema.field("groupkey")]))[0]
        columns = [
            key_type,
            {"name": "count", "type": "int", "arrow_type": "int64"},
            {"name": "rows", "type": "list", "arrow_type": str(result.schema.field("rows").type)},
        ]
        body = {"kind": "groups", "columns": columns, "rows": rows}
    else:
        sliced = result.slice(offset, limit)
        rows = [jsonable(r, state) for r in sliced.to_pylist()]
        body = {"kind": "rows", "columns": column_types(result.schema), "rows": rows}
    returned = len(body["rows"])
    end = offset + returned
    body.update(
        total=total,
        offset=offset,
        limit=limit,
        returned=returned,
        next_offset=end if end < total else None,
        truncated=bool(state.get("truncated")),
    )
    return body


def _list_head(lists: pa.ChunkedArray, n: int) -> pa.ChunkedArray:
    """The first ``n`` elements of each list."""
    try:
        return pc.list_slice(lists, 0, n)
    except (pa.ArrowNotImplementedError, AttributeError):
        return pa.chunked_array([pa.array([(v or [])[:n] for v in lists.to_pylist()], type=lists.type)])


def to_plain(result: Any) -> Any:
    """``weave_lite.to_python(result)`` made JSON-safe (for ``--format json``)."""
    from weave_lite.execute.results import to_python

    return jsonable(to_python(result))
