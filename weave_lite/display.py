"""HTML rendering of Arrow tables for notebooks (``_repr_html_``)."""

from __future__ import annotations

import html

import pyarrow as pa

MAX_ROWS = 50


def table_html(table: pa.Table, title: str = "", max_rows: int = MAX_ROWS) -> str:
    """A small, escaped HTML table of the first ``max_rows`` rows."""
    head = "".join(f"<th>{html.escape(n)}</th>" for n in table.schema.names)
    body = []
    for row in table.slice(0, max_rows).to_pylist():
        cells = "".join(f"<td>{html.escape(_short(v))}</td>" for v in row.values())
        body.append(f"<tr>{cells}</tr>")
    more = f"<p>{table.num_rows - max_rows} more rows</p>" if table.num_rows > max_rows else ""
    caption = f"<caption>{html.escape(title)} ({table.num_rows} rows)</caption>" if title else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def _short(value: object, limit: int = 80) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
