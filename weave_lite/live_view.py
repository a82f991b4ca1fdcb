"""A live view for notebooks: a table or an expression's result that updates as rows arrive.

``StreamTable.panel()`` shows the table's newest rows; ``st.panel('...rows.count')`` (or
``LiveView.of_expression``) an expression kept current by its live query
(``compile(expr).watch()``, :mod:`weave_lite.live`: only new rows are computed).

Updates go through IPython's display updates (``display(..., display_id=True)`` then
``handle.update``) from a daemon thread: nothing to install in the front end (no widget
manager, no JavaScript), so it works in JupyterLab, Notebook 7, VS Code and Colab alike, and
the notebook file keeps the last HTML shown, which is also what a static or headless run
(nbconvert, nbclient) saves.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

from weave_lite.display.results import result_body
from weave_lite.display.tables import table_body, tail_rows, wrap
from weave_lite.errors import TableNotFoundError, WeaveError

DEFAULT_INTERVAL = 0.5
DEFAULT_ROWS = 20


class _TableTail:
    """A table's row count and newest rows, re-read when its commit log moves."""

    def __init__(self, log, max_rows: int):
        self.log = log
        self.max_rows = max_rows
        self.snapshot: Any = None

    def poll(self) -> tuple[bool, Any]:
        if self.snapshot is None:
            if not self.log.exists():
                return False, None
            self.snapshot = self.log.snapshot()
        else:
            newer = self.log.poll(self.snapshot)
            if newer is None:
                return False, None
            self.snapshot = newer
        return True, (tail_rows(self.snapshot, self.max_rows), self.snapshot.num_rows)

    def body(self, value: Any, title: str) -> str:
        if value is None:
            return f'<p class="empty">{html.escape(title)}: no rows yet</p>'
        rows, total = value
        return table_body(rows, title, self.max_rows, total_rows=total, tail=True)


class _Expression:
    """An expression's result through its live query (started once its tables exist)."""

    def __init__(self, compiled, root, max_rows: int):
        self.compiled = compiled
        self.root = root
        self.max_rows = max_rows
        self.live: Any = None

    def poll(self) -> tuple[bool, Any]:
        if self.live is None:
            try:
                self.live = self.compiled.watch(root=self.root)
            except TableNotFoundError:
                return False, None  # not logged to yet: try again on the next tick
            return True, self.live.result
        result = self.live.poll()
        return result is not None, result

    def body(self, value: Any, title: str) -> str:
        if self.live is None:
            return f'<p class="empty">{html.escape(title)}: no rows yet</p>'
        return result_body(value, title, self.max_rows, tail=True)


class LiveView:
    """A notebook output that follows a table or an expression; see the module docstring.

    Displaying it (the last line of a cell, or ``display(view)``) starts a daemon thread that
    polls every ``interval`` seconds and updates the output in place; ``stop()`` ends it.
    Outside IPython, ``refresh()`` polls once and ``html()`` is the current HTML.
    """

    def __init__(self, source, title: str, *, interval: float = DEFAULT_INTERVAL):
        self._source = source
        self.title = title
        self.interval = interval
        self.value: Any = None
        self.updates = 0  # results seen (the first one included)
        self.updated_at: float | None = None
        self.error: str | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._handles: list = []
        self.refresh()

    @classmethod
    def of_table(cls, log, title: str, *, max_rows: int = DEFAULT_ROWS, interval: float = DEFAULT_INTERVAL):
        """The newest ``max_rows`` rows of the table ``log`` (a ``TableLog``) and its row count."""
        return cls(_TableTail(log, max_rows), title, interval=interval)

    @classmethod
    def of_expression(
        cls,
        expr,
        *,
        root=None,
        title: str | None = None,
        max_rows: int = DEFAULT_ROWS,
        interval: float = DEFAULT_INTERVAL,
    ):
        """``expr`` (text or a builder node) over the data ``root``, kept current."""
        from weave_lite.api import compile

        compiled = compile(expr)
        label = title if title is not None else (compiled.source or "expression")
        return cls(_Expression(compiled, root, max_rows), label, interval=interval)

    # -- polling -------------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Poll once; True when the result changed."""
        with self._lock:
            try:
                changed, value = self._source.poll()
            except WeaveError as exc:  # shown in the output; the next tick tries again
                changed, value = self.error != str(exc), None
                self.error = str(exc)
                return changed
            if changed:
                self.value = value
                self.error = None
                self.updates += 1
                self.updated_at = time.time()
            return changed

    def start(self) -> None:
        """Start the polling thread (displaying the view does); idempotent."""
        if self._thread is None or not self._thread.is_alive():
            self._stopped.clear()
            self._thread = threading.Thread(target=self._run, name="weave_lite-live-view", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop following (the output keeps the last result, marked stopped)."""
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
        self._push()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopped.is_set()

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            if self.refresh():
                self._push()

    # -- rendering -----------------------------------------------------------------------------

    def html(self) -> str:
        """The view as it is now."""
        with self._lock:
            if self.updated_at is None:
                when = "waiting for rows"
            else:
                when = "updated " + time.strftime("%H:%M:%S", time.localtime(self.updated_at))
            state = "live" if self.running else "stopped" if self._stopped.is_set() else "static"
            status = f'<p class="note">{state} · {when} · every {self.interval:g} s</p>'
            body = self._source.body(self.value, self.title)
            error = f'<pre class="error">{html.escape(self.error)}</pre>' if self.error else ""
        return wrap(f"{status}{body}{error}", "wl-live")

    def _bundle(self) -> dict:
        return {"text/html": self.html(), "text/plain": repr(self)}

    def _repr_html_(self) -> str:
        return self.html()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        self.start()  # first, so that the first output already says "live"
        handle = display(self._bundle(), raw=True, display_id=True)
        self._handles.append(handle)

    def _push(self) -> None:
        if not self._handles:
            return
        bundle = self._bundle()
        for handle in list(self._handles):
            handle.update(bundle, raw=True)

    def __repr__(self) -> str:
        return f"LiveView({self.title!r}, updates={self.updates})"
