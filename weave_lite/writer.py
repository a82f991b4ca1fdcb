"""The background writer of a StreamTable: batches enqueued rows into segments and commits them.

The caller's ``log`` only validates and appends to a deque (thread-safe, no lock).  This thread
wakes every ``interval`` seconds, or as soon as ``batch_rows`` rows are waiting, or when a flush
is requested; it turns everything waiting into one Arrow batch, writes it as one segment and
commits it.  Rows of one writer are committed in the order they were enqueued.

Failures (a full disk, say) never lose rows silently: the rows stay pending and are retried on
the next cycle, ``flush``/``finish`` re-raise the error, and ``log`` raises it while the writer
is failing so that the caller knows.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa

from weave_lite.errors import BackgroundWriterError
from weave_lite.storage.table import TableLog
from weave_lite.storage.values import (
    UTC_TIMESTAMP,
    column_to_array,
    conform_batch,
    rows_to_batch,
    unify_schemas,
)

# Cap on rows per segment when a backlog has built up (bounds the writer's memory).
MAX_SEGMENT_ROWS = 1_000_000


# A single-row log() call is queued as the row's private copy itself, with the call's time
# (epoch us) stored under this key: user keys are always str, so it cannot collide, and the
# queued dict stays untracked by the garbage collector (a tuple per row would be tracked,
# and collecting a long queue again and again halves the ingestion rate).
TIME_KEY = 0


@dataclass(slots=True)
class RowsItem:
    """Rows from one ``log`` call of a list: validated copies and the call's time (epoch us)."""

    rows: list[dict]
    time_us: int

    @property
    def count(self) -> int:
        return len(self.rows)


@dataclass(slots=True)
class BatchItem:
    """A ready Arrow batch from the bulk path (already carries ``timestamp`` and ``_client_id``)."""

    batch: pa.RecordBatch

    @property
    def count(self) -> int:
        return self.batch.num_rows


@dataclass(slots=True)
class FlushItem:
    """A durability barrier: set once everything enqueued before it is committed."""

    done: threading.Event


class BackgroundWriter:
    """One thread that commits the rows of one StreamTable object."""

    def __init__(
        self,
        table: TableLog,
        client_id: str,
        *,
        batch_rows: int = 10_000,
        interval: float = 0.05,
        on_commit: Callable[[pa.RecordBatch], None] | None = None,
    ):
        self.table = table
        self.client_id = client_id
        self.batch_rows = batch_rows
        self.interval = interval
        self.on_commit = on_commit
        self._queue: deque = deque()
        self._pending_rows = 0  # approximate (a hint for waking early)
        self._wake = threading.Event()
        self._stop = False
        self._error: BaseException | None = None
        self._retry: list = []  # items whose commit failed, retried first
        self._thread = threading.Thread(target=self._run, name=f"weave_lite-writer-{table.name}", daemon=True)
        self._thread.start()
        _RUNNING.add(self)

    # -- caller side ---------------------------------------------------------------------------

    def enqueue(self, item: "dict | RowsItem | BatchItem", rows: int) -> None:
        if self._error is not None:
            raise BackgroundWriterError(
                f"the background writer of `{self.table.name}` is failing: {self._error}"
            ) from self._error
        self._queue.append(item)
        self._pending_rows += rows
        if self._pending_rows >= self.batch_rows:
            self._wake.set()

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything enqueued so far is durable; re-raise a background error."""
        done = threading.Event()
        self._queue.append(FlushItem(done))
        self._wake.set()
        while not done.wait(0.1):
            if not self._thread.is_alive():
                raise BackgroundWriterError(f"the background writer of `{self.table.name}` died") from self._error
        if self._error is not None:
            raise BackgroundWriterError(f"could not commit rows to `{self.table.name}`: {self._error}") from self._error

    def stop(self) -> None:
        """Flush, then end the thread."""
        try:
            self.flush()
        finally:
            self._stop = True
            self._wake.set()
            self._thread.join()
            _RUNNING.discard(self)

    @property
    def alive(self) -> bool:
        """False once ``stop`` was called (checked on every ``log``, so a plain flag)."""
        return not self._stop

    # -- writer thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            self._drain()
            if self._stop and not self._queue:
                return

    def _drain(self) -> None:
        """Commit everything waiting, releasing flush barriers as their rows become durable."""
        while True:
            items, barrier = self._take()
            if items:
                try:
                    batch = self._build(items)
                    self.table.append(batch)
                    self._error = None
                except BaseException as exc:  # keep the rows; report through flush/log
                    self._retry = items
                    self._error = exc
                    if barrier is not None:
                        barrier.done.set()
                    return
                if self.on_commit is not None:
                    try:
                        self.on_commit(batch)
                    except Exception:  # an observer never blocks the log
                        pass
            if barrier is not None:
                barrier.done.set()
            if not self._queue:
                return

    def _take(self) -> tuple[list, FlushItem | None]:
        """Pop what is queued (after any rows kept for retry), up to the first flush barrier."""
        queue = self._queue
        popleft = queue.popleft
        # Items appended meanwhile stay queued for the next round (popleft is atomic).
        taken = [popleft() for _ in range(min(len(queue), MAX_SEGMENT_ROWS))]
        barrier = None
        for i, item in enumerate(taken):
            if type(item) is FlushItem:
                barrier = item
                queue.extendleft(reversed(taken[i + 1 :]))  # after the barrier: next round
                del taken[i:]
                break
        items = self._retry + taken if self._retry else taken
        self._retry = []
        self._pending_rows = max(0, self._pending_rows - len(taken))
        return items, barrier

    def _build(self, items: list) -> pa.RecordBatch:
        """One record batch from queued items: runs of rows are converted together."""
        batches: list[pa.RecordBatch] = []
        run: list = []
        for item in items:
            if type(item) is BatchItem:
                if run:
                    batches.append(self._rows_batch(run))
                    run = []
                batches.append(item.batch)
            else:
                run.append(item)
        if run:
            batches.append(self._rows_batch(run))
        if len(batches) == 1:
            return batches[0]
        schema = unify_schemas(b.schema for b in batches)
        table = pa.Table.from_batches([conform_batch(b, schema) for b in batches], schema=schema)
        return table.combine_chunks().to_batches(max_chunksize=None)[0]

    def _rows_batch(self, run: list) -> pa.RecordBatch:
        """Rows from single-row dicts (time under TIME_KEY) and :class:`RowsItem` lists."""
        if all(type(item) is dict for item in run):
            rows = run  # the hot path: single-row log() calls
            time_us = np.array([r[TIME_KEY] for r in rows], dtype=np.int64)
        else:
            rows, per_row = [], []
            for item in run:
                if type(item) is dict:
                    per_row.append(item[TIME_KEY])
                    rows.append(item)
                else:
                    rows.extend(item.rows)
                    per_row.extend([item.time_us] * len(item.rows))
            time_us = np.array(per_row, dtype=np.int64)
        n = len(rows)
        stamped = timestamp_column(time_us)
        if any("timestamp" in r for r in rows):  # rows that bring their own timestamp keep it
            auto = stamped.to_pylist()
            stamped = column_to_array([r.get("timestamp", a) for r, a in zip(rows, auto)])
        extra = {"timestamp": stamped, "_client_id": client_id_column(self.client_id, n)}
        # The rows are not modified (a failed commit retries them): rows_to_batch skips the
        # non-str TIME_KEY.
        return rows_to_batch(rows, extra)


# Writers still running; stopped (flushed) at interpreter exit so that no logged row is lost,
# even when the application dropped its StreamTable without calling finish().
_RUNNING: set[BackgroundWriter] = set()


@atexit.register
def _stop_all() -> None:
    for writer in list(_RUNNING):
        try:
            writer.stop()
        except Exception as exc:  # report, and let the other writers finish
            print(f"weave_lite: could not finish {writer.table.name}: {exc}", file=sys.stderr)


def client_id_column(client_id: str, n: int) -> pa.Array:
    """``n`` copies of the client id, built straight from buffers."""
    data = client_id.encode()
    offsets = np.arange(0, (n + 1) * len(data), len(data), dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data * n)])


def timestamp_column(time_us: np.ndarray) -> pa.Array:
    """UTC timestamps from epoch microseconds (int64 numpy), zero-copy."""
    time_us = np.ascontiguousarray(time_us, dtype=np.int64)
    return pa.Array.from_buffers(UTC_TIMESTAMP, len(time_us), [None, pa.py_buffer(time_us)])


def now_us() -> int:
    return time.time_ns() // 1000
