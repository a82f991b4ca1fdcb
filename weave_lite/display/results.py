"""HTML of any result of ``evaluate``: tables (profiles and drift reports recognised by their
columns), lists of values and scalars; :func:`show` wraps one for a notebook."""

from __future__ import annotations

import html
from typing import Any

import pyarrow as pa

from weave_lite.display.stats import drift_html, is_drift_table, is_profile_table, profile_html
from weave_lite.display.tables import MAX_ROWS, short, table_body, wrap


def result_body(value: Any, title: str = "", max_rows: int = MAX_ROWS, *, tail: bool = False) -> str:
    """The HTML of a result, without the wrapper for plain tables and values."""
    if isinstance(value, pa.Table):
        if value.num_rows and is_drift_table(value):
            return drift_html(value, title or "drift")
        if is_profile_table(value):
            return profile_html(value, title or "profile")
        return table_body(value, title, max_rows, tail=tail)
    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        return table_body(pa.table({"value": value}), title, max_rows, tail=tail)
    label = f"<b>{html.escape(title)}</b> " if title else ""
    return f"<p>{label}<code>{html.escape(short(value, 2000))}</code></p>"


def result_html(value: Any, title: str = "", max_rows: int = MAX_ROWS, *, tail: bool = False) -> str:
    """:func:`result_body` in the scoped wrapper (profiles and drift come wrapped already)."""
    body = result_body(value, title, max_rows, tail=tail)
    return body if body.startswith('<div class="weave-lite') else wrap(body, "wl-result")


class Shown:
    """A value rendered as HTML in a notebook (see :func:`show`); ``.value`` is the value."""

    def __init__(self, value: Any, title: str = "", max_rows: int = MAX_ROWS):
        self.value = value
        self.title = title
        self.max_rows = max_rows

    def _repr_html_(self) -> str:
        value = self.value
        to_arrow = getattr(value, "to_arrow", None)
        if callable(to_arrow) and not isinstance(value, pa.Table):  # a DatasetProfile
            value = to_arrow()
        return result_html(value, self.title, self.max_rows)

    def __repr__(self) -> str:
        return f"Shown({self.value!r})"


def show(value: Any, title: str = "", max_rows: int = MAX_ROWS) -> Shown:
    """``value`` (a result of ``evaluate``, a profile, a drift report) as notebook HTML:
    ``weave_lite.show(weave_lite.profiles.drift(ref, cur))`` highlights the drifted columns."""
    return Shown(value, title, max_rows)
