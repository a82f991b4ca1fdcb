"""StreamTable: stream rows from an application into a named table on local disk.

>>> st = StreamTable("acme/prod/predictions", root=tmp)      # doctest: +SKIP
>>> st.log({"model": "m1", "latency_ms": 12.5})              # doctest: +SKIP
>>> st.finish()                                              # doctest: +SKIP

``log`` validates in the caller and enqueues; a background thread batches rows into Arrow
segments and commits them to the table's append-only log.  ``flush`` is a durability barrier
and ``finish`` also stops the thread; both re-raise background errors.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from weave_lite.errors import WeaveError
from weave_lite.flat_rows import FlatRows
from weave_lite.panel_links import DEFAULT_PORT  # noqa: F401  (re-exported: the old home)
from weave_lite.panel_links import panel_url as _panel_url
from weave_lite.row_validation import normalize_row, normalize_rows
from weave_lite.storage.bulk_input import normalize_batch
from weave_lite.storage.names import TableName
from weave_lite.storage.table import TableLog, to_pandas
from weave_lite.writer import TIME_KEY, BackgroundWriter, BatchItem, RowsItem, client_id_column, timestamp_column

if TYPE_CHECKING:
    from weave_lite.profiles.rotation import RotatingProfileWriter
    from weave_lite.storage.names import ObjectRoot

_time_ns = time.time_ns
REPR_FLUSH_SECONDS = 5.0  # how long a notebook repr waits for the rows logged just before


def panel_url(name: TableName, root: object = None) -> str:
    """The URL of a table's panel on the local panel server (``weave-lite serve``, or the one
    ``weave_lite.serve(background=True)`` started for ``root``)."""
    return _panel_url(name, None if root is None else str(root))


class StreamTable:
    """A named table that rows are streamed into.

    ``table_name`` is ``"t"``, ``"p/t"`` or ``"e/p/t"``; missing parts come from
    ``project_name``/``entity_name``, then ``$WEAVE_LITE_PROJECT`` (else ``"default"``) and
    ``$WEAVE_LITE_ENTITY`` (else the OS login name).  Data lives under ``root``
    (else ``$WEAVE_LITE_ROOT``, else ``~/.weave_lite``).

    ``batch_rows`` and ``batch_interval`` tune the background writer: it commits when that many
    rows wait or that many seconds passed, whichever comes first.

    ``profile_rotation`` (``"s"``, ``"m"``, ``"h"``, ``"d"``, with multipliers such as ``"24h"``)
    also keeps whylogs-style profiles of the committed rows, one file per window, under
    ``<root>/_profiles/<entity>.<project>.<table>/`` (see :mod:`weave_lite.profiles`);
    ``constraints`` are checked on each window as it closes (the report written beside it) and
    ``on_violation(report)`` called when one fails (see :mod:`weave_lite.profiles.constraints`).
    """

    def __init__(
        self,
        table_name: str,
        project_name: str | None = None,
        entity_name: str | None = None,
        *,
        root: str | os.PathLike | None = None,
        batch_rows: int = 10_000,
        batch_interval: float = 0.05,
        profile_rotation: str | None = None,
        constraints=None,
        on_violation=None,
    ):
        self.name = TableName.parse(table_name, project_name, entity_name)
        if profile_rotation is not None:
            from weave_lite.profiles.rotation import parse_rotation

            parse_rotation(profile_rotation)  # a bad interval fails here, not in the background
        if (constraints is not None or on_violation is not None) and profile_rotation is None:
            raise ValueError("constraints= and on_violation= check profile windows: they need profile_rotation=")
        self._profile_rotation = profile_rotation
        self._constraints = constraints
        self._on_violation = on_violation
        self._profiles: RotatingProfileWriter | None = None
        self._table = TableLog(self.name, root)
        # 64 random bits: unique per StreamTable object, and 16 bytes a row rather than 32.
        self.client_id = uuid.uuid4().hex[:16]
        self._batch_rows = batch_rows
        self._batch_interval = batch_interval
        self._writer: BackgroundWriter | None = None
        self._start_lock = threading.Lock()
        self._logged_once = False
        self._flat = FlatRows()

    # -- names ---------------------------------------------------------------------------------

    @property
    def root(self) -> Path | ObjectRoot:
        return self._table.root

    @property
    def path(self) -> Path | ObjectRoot:
        """The table's folder (on disk, or on an object store)."""
        return self._table.path

    @property
    def url(self) -> str:
        return panel_url(self.name, self.root)

    def __repr__(self) -> str:
        pending = self.pending_rows
        more = f", pending_rows={pending}" if pending else ""
        return f"StreamTable({str(self.name)!r}, root={str(self.root)!r}{more})"

    @property
    def pending_rows(self) -> int:
        """Rows logged but not yet committed (``flush`` waits for them)."""
        writer = self._writer
        return writer.unsent_rows() if writer is not None and writer.alive else 0

    # -- logging -------------------------------------------------------------------------------

    def log(self, row_or_rows: Any) -> str | None:
        """Log one row (a dict) or many (a list of dicts, an Arrow table/batch, a DataFrame).

        Validates in the caller (``TypeError`` naming the key and type; nothing of the call is
        logged then), stamps ``timestamp`` and ``_client_id``, and enqueues.  Returns the
        table's panel URL on the first call, ``None`` after.
        """
        now = _time_ns() // 1000
        item: dict | tuple | BatchItem | RowsItem
        if type(row_or_rows) is dict:  # the hot path: one row
            # FlatRows.pack and BackgroundWriter.enqueue inlined (each call costs a tenth of
            # this path): a row of the known shape whose values pass the shape's check goes
            # straight onto the running writer's queue.  Anything else (a new shape, a value
            # the check cannot vouch for, no writer yet, a failing or stopped writer) takes
            # the full path below, which validates (raising here for a bad row) and reports.
            shape = self._flat.shape
            writer = self._writer
            if shape is not None and writer is not None and tuple(row_or_rows) == shape[0]:
                fast = (shape[1], now, *row_or_rows.values())
                if shape[3](fast) and writer._failure is None and not writer._stop:
                    writer._queue.append(fast)
                    writer._pending_rows += 1
                    if writer._pending_rows >= writer.batch_rows and not writer._wake.is_set():
                        writer._wake.set()  # once: a set event stays set until the writer takes the queue
                    return None
            # A flat row of the known shape is queued as a tuple (see flat_rows); any other
            # row is fully validated (raising here when bad) and queued as its private copy.
            packed = self._flat.pack(row_or_rows, now)
            if packed is None:
                copy = normalize_row(row_or_rows)
                packed = self._flat.learn(copy, now)
                if packed is None:
                    copy[TIME_KEY] = now
            item = copy if packed is None else packed
            n = 1
        elif _is_bulk(row_or_rows):
            batch = self._bulk_batch(row_or_rows, now)
            item, n = BatchItem(batch), batch.num_rows
        else:
            rows = normalize_rows(row_or_rows)
            item, n = RowsItem(rows, now), len(rows)
        writer = self._writer
        if writer is None or writer._stop:
            writer = self._start_writer()
        writer.enqueue(item, n)
        if not self._logged_once:
            self._logged_once = True
            return self.url
        return None

    def _bulk_batch(self, data: Any, now_us: int) -> pa.RecordBatch:
        """A bulk ``log`` call as one batch with ``timestamp`` and ``_client_id`` columns.

        Converted here, in the caller, so that a type or value the log cannot store raises now,
        naming the column, and nothing of the call is logged (see ``normalize_batch``).
        """
        batch = normalize_batch(data)
        n = batch.num_rows
        names = list(batch.schema.names)
        arrays = list(batch.columns)
        if "timestamp" not in names:
            names.append("timestamp")
            arrays.append(timestamp_column(np.full(n, now_us, dtype=np.int64)))
        if "_client_id" in names:
            arrays[names.index("_client_id")] = client_id_column(self.client_id, n)
        else:
            names.append("_client_id")
            arrays.append(client_id_column(self.client_id, n))
        return pa.RecordBatch.from_arrays(arrays, names=names)

    def _start_writer(self) -> BackgroundWriter:
        with self._start_lock:
            if self._writer is None or not self._writer.alive:
                if not self._table.exists():
                    self._table.create()
                self._writer = BackgroundWriter(
                    self._table,
                    self.client_id,
                    batch_rows=self._batch_rows,
                    interval=self._batch_interval,
                    on_commit=self._profile_committed if self._profile_rotation else None,
                    column_kinds=self._flat.column_kinds,
                )
            return self._writer

    @property
    def profile_folder(self) -> Path | ObjectRoot:
        """Where ``profile_rotation`` writes this table's profiles."""
        return self.root / "_profiles" / self.profile_dataset_name

    @property
    def profile_dataset_name(self) -> str:
        return f"{self.name.entity}.{self.name.project}.{self.name.table}"

    def _profile_committed(self, batch: pa.RecordBatch) -> None:
        """Background hook: profile each committed batch (without the client id column)."""
        if self._profiles is None or self._profiles.closed:
            from weave_lite.profiles import RotatingProfileWriter

            self._profiles = RotatingProfileWriter(
                self.profile_folder,
                self.profile_dataset_name,
                self._profile_rotation,
                constraints=self._constraints,
                on_violation=self._on_violation,
            )
        names = [n for n in batch.schema.names if n != "_client_id"]
        self._profiles.log_arrow(batch.select(names))

    def flush(self) -> None:
        """Block until every row logged so far is durable; logging may go on afterwards."""
        writer = self._writer
        if writer is not None and writer.alive:
            writer.flush()

    def finish(self) -> None:
        """Flush and stop the background writer (a later ``log`` starts it again). Idempotent."""
        writer = self._writer
        if writer is not None and writer.alive:
            writer.stop()
        if self._profiles is not None:
            self._profiles.close()  # writes the open window

    def __enter__(self) -> StreamTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    # -- reading -------------------------------------------------------------------------------

    def rows(self):
        """A lazy node for ``stream_table("e/p/t").rows()``; chain ops, then ``.evaluate()``."""
        from weave_lite.builder import stream_table_rows

        return stream_table_rows(str(self.name), root=self.root)

    def to_arrow(self) -> pa.Table:
        """Every committed row, oldest first."""
        if not self._table.exists():
            return pa.table({})
        return self._table.snapshot().to_arrow()

    def to_pandas(self):
        """Every committed row as a pandas DataFrame; mixed-kind columns are object columns."""
        return to_pandas(self.to_arrow())

    def snapshot(self):
        """The committed rows as of now (a :class:`weave_lite.storage.Snapshot`)."""
        if not self._table.exists():
            self._table.create()
        return self._table.snapshot()

    def to_dataset(self):
        """The committed rows as a ``pyarrow.dataset.Dataset`` for DuckDB, Polars, DataFusion
        (projection and filter pushdown; see :func:`weave_lite.dataset`)."""
        return self.snapshot().to_dataset()

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """``pa.table(st)``, ``pl.DataFrame(st)``, ``duckdb.sql("select * from st")``: the
        committed rows, streamed segment by segment."""
        return self.snapshot().__arrow_c_stream__(requested_schema)

    def _repr_html_(self) -> str:
        """The newest rows, after a flush (bounded: rows still pending are counted, not hidden),
        so that ``st`` right after ``st.log(...)`` shows them; an empty table says so."""
        from weave_lite.display import MAX_ROWS, table_html
        from weave_lite.display.tables import tail_rows

        note = ""
        writer = self._writer
        if writer is not None and writer.alive:
            try:
                writer.flush(timeout=REPR_FLUSH_SECONDS)
            except WeaveError as exc:  # a repr must render: say why rows may be missing
                note = f"{self.pending_rows} rows not committed yet: {exc}"
        if not self._table.exists():
            html = table_html(pa.table({}), title=str(self.name))
        else:
            snap = self._table.snapshot()
            html = table_html(tail_rows(snap, MAX_ROWS), str(self.name), total_rows=snap.num_rows, tail=True)
        if note:
            from html import escape

            html += f'<p class="weave-lite note">{escape(note)}</p>'
        return html

    def panel(self, expr: str | None = None, *, max_rows: int = 20, interval: float = 0.5):
        """A live notebook view of the table (its newest ``max_rows`` rows and row count), or
        of ``expr`` kept current as rows arrive; an ``expr`` starting with ``.`` continues
        this table's rows (``st.panel(".count")``). See :mod:`weave_lite.live_view`."""
        from weave_lite.live_view import LiveView

        if expr is None:
            return LiveView.of_table(self._table, str(self.name), max_rows=max_rows, interval=interval)
        if expr.startswith("."):
            expr = f'stream_table("{self.name}").rows{expr}'
        return LiveView.of_expression(expr, root=self.root, max_rows=max_rows, interval=interval)


def _is_bulk(data: Any) -> bool:
    """Tabular data logged as a whole: Arrow tables and batches, pandas DataFrames, and anything
    else exposing an Arrow stream (polars, DuckDB relations, ...)."""
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        return True
    if isinstance(data, (list, tuple, dict)):
        return False
    # pandas by name (it need not be imported); DataFrame subclasses too.
    is_dataframe = any(c.__name__ == "DataFrame" and c.__module__.startswith("pandas") for c in type(data).__mro__)
    return is_dataframe or hasattr(type(data), "__arrow_c_stream__")
