"""Printing results: aligned plain-text tables, JSON, CSV and Arrow IPC (``query``, ``sql`` and
``profile``)."""

from __future__ import annotations

import csv
import datetime as _dt
import json
import sys
from collections.abc import Callable, Iterable
from typing import Any

import click

from weave_lite.cli.common import fail, run

TABLE_FORMAT_LIMIT = 100
MAX_CELL_CHARS = 40


def cell(value: Any, limit: int = MAX_CELL_CHARS) -> str:
    """A value as one short table cell."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        if value != value:
            text = "NaN"
        elif value in (float("inf"), float("-inf")):
            text = "Infinity" if value > 0 else "-Infinity"
        else:
            text = repr(value)
            if len(text) > 12:  # 98.61149226741131 -> 98.6115
                text = f"{value:.6g}"
    elif isinstance(value, _dt.datetime):
        from weave_lite.server.results import iso

        text = iso(value)
    elif isinstance(value, (_dt.date, _dt.time)):
        text = value.isoformat()
    elif isinstance(value, (bytes, bytearray)):
        text = f"<{len(value)} bytes>"
    elif isinstance(value, (dict, list, tuple)):
        from weave_lite.server.results import jsonable

        text = json.dumps(jsonable(value), ensure_ascii=False, separators=(", ", ": "))
    else:
        text = str(value)
    text = text.replace("\n", "\\n").replace("\t", " ")
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def format_table(names: list[str], rows: Iterable[Iterable[Any]], numeric: set[str] | None = None) -> str:
    """An aligned plain-text table with a header line and a rule under it."""
    numeric = numeric or set()
    cells = [[cell(v) for v in row] for row in rows]
    widths = [len(n) for n in names]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))

    def line(values: list[str]) -> str:
        out = []
        for i, v in enumerate(values):
            out.append(v.rjust(widths[i]) if names[i] in numeric else v.ljust(widths[i]))
        return "  ".join(out).rstrip()

    parts = [line(names), "  ".join("-" * w for w in widths)]
    parts.extend(line(row) for row in cells)
    return "\n".join(parts)


def numeric_columns(table) -> set[str]:
    import pyarrow as pa

    return {
        f.name
        for f in table.schema
        if pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type)
    }


def write_result(result: Any, fmt: str, limit: int | None) -> None:
    import pyarrow as pa

    from weave_lite.server.results import as_table, jsonable, result_kind

    kind = result_kind(result)
    if fmt == "arrow":
        table = as_table(result)
        if limit is not None:
            table = table.slice(0, limit)
        out = sys.stdout.buffer
        with pa.ipc.new_stream(out, table.schema) as writer:
            writer.write_table(table)
        out.flush()
        return
    if kind == "scalar":
        value = result.as_py() if isinstance(result, pa.Scalar) else result
        if fmt == "json":
            click.echo(json.dumps(jsonable(value), ensure_ascii=False))
        elif fmt == "csv":
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(["value"])
            writer.writerow([csv_value(value)])
        else:
            click.echo(cell(value, limit=0))
        return
    table = as_table(result)
    total = table.num_rows
    shown = table.slice(0, limit) if limit is not None else table
    if fmt == "json":
        from weave_lite.api import to_python

        out = shown.column("value").to_pylist() if kind == "values" else to_python(shown)
        sys.stdout.write(json.dumps(jsonable(out), ensure_ascii=False))
        sys.stdout.write("\n")
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(table.schema.names)
        for batch in shown.to_batches(max_chunksize=10_000):
            for row in batch.to_pylist():
                writer.writerow([csv_value(v) for v in row.values()])
        return
    # table
    if limit is None:
        limit = TABLE_FORMAT_LIMIT
        shown = table.slice(0, limit)
    names = table.schema.names
    if kind == "groups":
        import pyarrow.compute as pc

        counts = pc.list_value_length(shown.column("rows")).to_pylist()
        keys = shown.column("groupkey").to_pylist()
        text = format_table(["groupkey", "count"], zip(keys, counts), {"count"})
    else:
        rows = (row.values() for row in shown.to_pylist())
        text = format_table(names, rows, numeric_columns(table))
    click.echo(text)
    noun = {"groups": "group", "values": "value"}.get(kind, "row")
    footer = f"({total:,} {noun}{'' if total == 1 else 's'}"
    if shown.num_rows < total:
        footer += f", showing the first {shown.num_rows:,}; use --limit N or --limit 0 for all"
    click.echo(footer + ")")


def csv_value(value: Any) -> Any:
    from weave_lite.server.results import iso, jsonable

    if value is None:
        return ""
    if isinstance(value, _dt.datetime):
        return iso(value)
    if isinstance(value, (dict, list, tuple, bytes, bytearray)):
        return json.dumps(jsonable(value), ensure_ascii=False)
    if isinstance(value, float) and value != value:
        return "NaN"
    return value


def print_result(compute: Callable[[], Any], fmt: str, limit: int | None) -> None:
    """Compute a result and print it in ``fmt`` (``query`` and ``sql``); ``--limit 0`` is all."""
    if fmt == "arrow" and sys.stdout.isatty():
        fail("refusing to write binary Arrow IPC to a terminal; redirect stdout to a file or a pipe")
    if limit == 0:
        limit = None if fmt != "table" else sys.maxsize
    result = run(compute)
    run(lambda: write_result(result, fmt, limit))
