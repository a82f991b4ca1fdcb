"""HTML of profiles and drift reports, from their Arrow tables.

Both work on the tables the engine returns (``DatasetProfile.to_arrow()`` or ``rows.profile``
in an expression; ``weave_lite.profiles.drift(...)``), so this module needs nothing of
:mod:`weave_lite.profiles` (which imports it lazily for its ``_repr_html_``).
"""

from __future__ import annotations

import html
import math

import pyarrow as pa

from weave_lite.display.tables import wrap

PROFILE_KEYS = frozenset({"column", "count", "null_count", "mean", "median", "frequent_items"})
DRIFT_KEYS = frozenset({"column", "kind", "method", "statistic", "threshold", "drifted"})
TOP_ITEMS = 5

# (header, summary key) of the profile view; quantiles as whylogs shows them.
_PROFILE_COLUMNS = (
    ("count", "count"),
    ("nulls", "null_count"),
    ("distinct ≈", "distinct_est"),
    ("mean", "mean"),
    ("stddev", "stddev"),
    ("min", "min"),
    ("p5", "q_05"),
    ("p25", "q_25"),
    ("median", "median"),
    ("p75", "q_75"),
    ("p95", "q_95"),
    ("max", "max"),
)
_DRIFT_COLUMNS = ("kind", "method", "statistic", "threshold", "n_reference", "n_current", "null_rate_change")


def is_profile_table(table: pa.Table) -> bool:
    return set(table.schema.names) >= PROFILE_KEYS


def is_drift_table(table: pa.Table) -> bool:
    return set(table.schema.names) >= DRIFT_KEYS


def number(value: object) -> str:
    """A metric as text: integers with separators, floats to 4 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _items_text(items: list | None) -> str:
    if not items:
        return ""
    shown = ", ".join(f"{html.escape(str(i['value']))} ({number(i['est'])})" for i in items[:TOP_ITEMS])
    return shown + (f", … {len(items) - TOP_ITEMS} more" if len(items) > TOP_ITEMS else "")


def profile_html(summary: pa.Table, title: str = "profile") -> str:
    """One row per profiled column: counts, nulls, distinct estimate, mean, stddev and
    quantiles, and the most frequent items."""
    head = "".join(f"<th>{h}</th>" for h, _ in (("column", ""), *_PROFILE_COLUMNS, ("frequent items", "")))
    rows = []
    for r in summary.to_pylist():
        cells = [f"<td>{html.escape(str(r['column']))}</td>"]
        cells += [f"<td>{number(r.get(key))}</td>" for _, key in _PROFILE_COLUMNS]
        cells.append(f"<td>{_items_text(r.get('frequent_items'))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    if not rows:
        rows = [f'<tr><td class="empty" colspan="{len(_PROFILE_COLUMNS) + 2}">no columns profiled (no rows)</td></tr>']
    meta = summary.schema.metadata or {}
    total = meta.get(b"rows")
    label = f"{int(total):,} rows, " if total and total.isdigit() else ""
    caption = f"<caption>{html.escape(title)} ({label}{summary.num_rows} columns)</caption>"
    return wrap(f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>", "wl-profile")


def drift_html(report: pa.Table, title: str = "drift") -> str:
    """One row per compared column; drifted columns highlighted and listed in the caption."""
    head = "".join(f"<th>{h}</th>" for h in ("column", "drifted", *_DRIFT_COLUMNS))
    rows = []
    drifted = []
    for r in report.to_pylist():
        flag = r.get("drifted")
        if flag:
            drifted.append(str(r["column"]))
        mark = "DRIFT" if flag else ("" if flag is None else "no")
        cells = [f"<td>{html.escape(str(r['column']))}</td>", f"<td>{mark}</td>"]
        cells += [f"<td>{html.escape(number(r.get(k)))}</td>" for k in _DRIFT_COLUMNS]
        rows.append(f'<tr class="{"drifted" if flag else "steady"}">{"".join(cells)}</tr>')
    if not rows:
        rows = [f'<tr><td class="empty" colspan="{len(_DRIFT_COLUMNS) + 2}">no columns compared</td></tr>']
    verdict = f"{len(drifted)} of {report.num_rows} columns drifted"
    if drifted:
        verdict += ": " + ", ".join(html.escape(d) for d in drifted)
    caption = f"<caption>{html.escape(title)} ({verdict})</caption>"
    return wrap(f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>", "wl-drift")


class DriftView:
    """A drift report (``weave_lite.profiles.drift(...)``, a ``pyarrow.Table``) that renders
    as HTML in a notebook, drifted columns highlighted."""

    def __init__(self, report: pa.Table, title: str = "drift"):
        self.table = report
        self.title = title

    @property
    def drifted(self) -> list[str]:
        """The columns whose test says they drifted."""
        return [r["column"] for r in self.table.select(["column", "drifted"]).to_pylist() if r["drifted"]]

    def _repr_html_(self) -> str:
        return drift_html(self.table, self.title)

    def __repr__(self) -> str:
        return f"DriftView({self.table.num_rows} columns, drifted={self.drifted})"
