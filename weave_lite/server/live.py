"""Live panels: one live query (:mod:`weave_lite.live`) per subscribed panel page, whose new
result the server pushes over server-sent events (``GET /api/live``) instead of the page
re-running the panel's whole query on every commit.

A panel showing rows ``offset..offset+limit`` of a list watches ``(expr).limit(offset+limit)``
(a sorted panel's page is then a top-k, kept up to date from the new rows alone) and, when
that is incremental too, ``(expr).count`` for the total.  Subscribers of the same page share
one live query; it is polled at the server's poll interval by whichever subscriber asks first,
and dropped with its last subscriber.  The expression is first evaluated by the worker pool
(with the server's time and memory budgets): only an expression that passed is watched here.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from weave_lite.errors import WeaveError
from weave_lite.server import results

if TYPE_CHECKING:  # the engine loads on the first subscription, not with the server
    from weave_lite.live import LiveQuery


@dataclass
class LivePage:
    """One watched page: its live queries and the last body pushed (``version`` counts them)."""

    expr: str
    offset: int
    limit: int
    rows: LiveQuery
    total: LiveQuery | None
    version: int = 0
    body: dict = field(default_factory=dict)
    subscribers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def render(self, elapsed_ms: float) -> None:
        """The page's JSON body from the live queries' current results."""
        body = results.page(self.rows.result, self.offset, self.limit)
        if body["kind"] != "scalar" and self.rows is not self.total:
            total = None if self.total is None else int(self.total.result)
            body["total"] = total
            end = self.offset + body["returned"]
            body["next_offset"] = (
                end if (end < total if total is not None else body["returned"] == self.limit) else None
            )
        stats = self.rows.last_update
        body.update(
            expr=self.expr,
            live=True,
            path=stats.path if stats else self.rows.path,
            rows_read=stats.rows_read if stats else None,
            elapsed_ms=round(elapsed_ms, 3),
            updated=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            live_plan=self.rows.explain(),
        )
        self.version += 1
        self.body = body


class LiveHub:
    """The server's live pages, shared by their subscribers."""

    def __init__(self, root: Any):
        self.root = root
        self._pages: dict[tuple[str, int, int], LivePage] = {}
        self._lock = threading.Lock()

    def subscribe(self, expr: str, offset: int, limit: int) -> LivePage:
        """The live page for ``expr`` (watched now unless another subscriber watches it)."""
        key = (expr, offset, limit)
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                page = self._pages[key] = self._watch(expr, offset, limit)
            page.subscribers += 1
            return page

    def unsubscribe(self, page: LivePage) -> None:
        with self._lock:
            page.subscribers -= 1
            if page.subscribers <= 0:
                self._pages.pop((page.expr, page.offset, page.limit), None)

    def poll(self, page: LivePage) -> None:
        """Bring ``page`` up to date (a stat per table when nothing was committed)."""
        with page.lock:
            start = time.perf_counter()
            changed = page.rows.poll() is not None
            if page.total is not None and page.total is not page.rows:
                changed = page.total.poll() is not None or changed
            if changed:
                page.render((time.perf_counter() - start) * 1000)

    def _watch(self, expr: str, offset: int, limit: int) -> LivePage:
        from weave_lite.api import compile
        from weave_lite.live import INCREMENTAL

        start = time.perf_counter()
        rows = total = None
        try:  # a list: watch the page's rows only (a sorted list's page is a top-k)
            rows = _watch_if(f"({expr}).limit({offset + limit})", self.root, require_incremental=False)
            total = _watch_if(f"({expr}).count", self.root, require_incremental=True)
            if total is None:  # a sort keeps the count: count what it sorts
                total = _watch_if(_count_unsorted(expr), self.root, require_incremental=True)
            if total is None and rows is not None and rows.path != INCREMENTAL:
                # The page re-runs anyway (e.g. a `now()` range): so may its count.
                total = _watch_if(_count_unsorted(expr), self.root, require_incremental=False)
        except WeaveError:
            rows = None  # a scalar (or anything that cannot be limited): watch it as it is
        if rows is None:
            rows = total = compile(expr).watch(root=self.root)
        page = LivePage(expr, offset, limit, rows, total)
        page.render((time.perf_counter() - start) * 1000)
        return page


def _count_unsorted(expr: str) -> Any:
    """``expr.count`` with the sorts at its end dropped (as a graph node)."""
    from weave_lite.graph.nodes import Call
    from weave_lite.lang.parser import parse

    node = parse(expr)
    while isinstance(node, Call) and node.op == "sort" and node.args:
        node = node.args[0]
    return Call("count", (node,))


def _watch_if(expr: Any, root: Any, *, require_incremental: bool) -> LiveQuery | None:
    """A live query of ``expr`` (text or graph node), or None when ``require_incremental`` and its updates would
    re-run the whole query (checked on the plan, before anything runs)."""
    from weave_lite.api import compile
    from weave_lite.live import incremental_shape

    compiled = compile(expr)
    if require_incremental:
        plan, _ = compiled.plan(root=root)
        if isinstance(incremental_shape(plan), str):
            return None
    return compiled.watch(root=root)
