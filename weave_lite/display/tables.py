"""HTML of Arrow tables for notebooks: escaped cells, a caption with the row count, and a
clear "no rows" line for an empty table (never blank rows)."""

from __future__ import annotations

import html

import pyarrow as pa

MAX_ROWS = 50

# Scoped to the ``weave-lite`` wrapper so the notebook's own styles are not touched.
STYLE = (
    "<style>"
    ".weave-lite{font-size:12px}"
    ".weave-lite table{border-collapse:collapse;font-size:12px}"
    ".weave-lite th,.weave-lite td{border:1px solid #ddd;padding:2px 6px;text-align:left}"
    ".weave-lite caption{text-align:left;font-weight:bold;padding:2px 0;white-space:nowrap}"
    ".weave-lite .empty{color:#666;font-style:italic}"
    ".weave-lite tr.drifted td{background:#fde2e2}"
    ".weave-lite .note{color:#666;font-size:11px;margin:2px 0}"
    "</style>"
)


def wrap(body: str, kind: str) -> str:
    """``body`` in the scoped wrapper; ``kind`` names what it shows (a CSS class, for tests)."""
    return f'<div class="weave-lite {kind}">{STYLE}{body}</div>'


def table_html(
    table: pa.Table, title: str = "", max_rows: int = MAX_ROWS, *, total_rows: int | None = None, tail: bool = False
) -> str:
    """An escaped HTML table of the first ``max_rows`` rows of ``table`` (the last ones with
    ``tail``). ``total_rows``: the rows of the whole table when ``table`` holds only part."""
    total = table.num_rows if total_rows is None else total_rows
    return wrap(table_body(table, title, max_rows, total_rows=total, tail=tail), "wl-table")


def table_body(
    table: pa.Table, title: str = "", max_rows: int = MAX_ROWS, *, total_rows: int | None = None, tail: bool = False
) -> str:
    """:func:`table_html` without the wrapper (for composing views)."""
    total = table.num_rows if total_rows is None else total_rows
    names = table.schema.names
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    shown = table.slice(max(0, table.num_rows - max_rows)) if tail else table.slice(0, max_rows)
    body = [row_html(row.values()) for row in shown.to_pylist()]
    if total == 0:
        body = [f'<tr><td class="empty" colspan="{max(1, len(names))}">no rows</td></tr>']
    label = f"{total:,} row" + ("" if total == 1 else "s")
    caption = f"<caption>{html.escape(title)} ({label})</caption>" if title else f"<caption>{label}</caption>"
    more = ""
    if total > shown.num_rows:
        which = "last" if tail else "first"
        more = f'<p class="note">showing the {which} {shown.num_rows:,} of {total:,} rows</p>'
    thead = f"<thead><tr>{head}</tr></thead>" if names else ""
    return f"<table>{caption}{thead}<tbody>{''.join(body)}</tbody></table>{more}"


def row_html(values) -> str:
    return "<tr>" + "".join(f"<td>{html.escape(short(v))}</td>" for v in values) + "</tr>"


def short(value: object, limit: int = 80) -> str:
    """A cell's text, cut to ``limit`` characters."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tail_rows(snapshot, max_rows: int) -> pa.Table:
    """The last ``max_rows`` rows of a table snapshot, reading only the segments that hold
    them (a notebook repr must not read a million rows to show fifty)."""
    picked: list = []
    rows = 0
    for segment in reversed(snapshot.segments):
        if rows >= max_rows:
            break
        picked.append(segment)
        rows += segment.rows
    part = snapshot.with_segments(list(reversed(picked)))
    table = part.to_arrow()
    return table.slice(max(0, table.num_rows - max_rows))
