"""The background writer of a StreamTable: batches enqueued rows into segments and commits them.

The caller's ``log`` only validates and appends to a deque (thread-safe, no lock).  This thread
wakes every ``interval`` seconds, or as soon as ``batch_rows`` rows are waiting, or when a flush
is requested; it turns everything waiting into Arrow batches (split so that no segment passes
:data:`MAX_SEGMENT_BYTES`), writes each as one segment and commits it.  Rows of one writer are
committed in the order they were enqueued.

Failures never lose acknowledged rows and never repeat them:

* A batch that could not be committed (a full disk, an I/O error, a damaged log) stays at the
  head of the line as a :class:`PendingAppend` with its batch id and its already written
  segment; it is retried (with back-off, at once on a flush) until it lands, and a retry first
  reads back whether an earlier try landed after all.  ``flush``/``finish`` raise while rows
  are not durable, ``log`` raises while the writer is failing, and ``finish`` never returns
  normally with rows missing: the writer keeps them and keeps trying.
* Rows that cannot be encoded (which validation in the caller should make impossible) are
  isolated by splitting their batch; the good rows commit and the next ``flush`` raises the
  bad row's error.
"""

from __future__ import annotations

import atexit
import contextlib
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat, starmap
from operator import itemgetter

import numpy as np
import pyarrow as pa

from weave_lite.errors import BackgroundWriterError, CorruptTableError, WeaveError
from weave_lite.flat_rows import shape_keys
from weave_lite.storage.table import PendingAppend, TableLog
from weave_lite.storage.values import (
    UTC_TIMESTAMP,
    column_errors,
    column_to_array,
    conform_batch,
    known_kind_array,
    rows_to_batch,
    unify_schemas,
)

# Cap on queued items per batch when a backlog has built up (bounds the writer's memory).
MAX_SEGMENT_ROWS = 1_000_000
# Cap on a segment's bytes: far below Arrow's 2 GiB per array, and a bounded unit of retry.
MAX_SEGMENT_BYTES = 256 * 1024 * 1024


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
    """A durability barrier: set once everything enqueued before it is committed, or with the
    error that kept it from being so."""

    done: threading.Event
    error: BaseException | None = None

    def release(self, error: BaseException | None = None) -> None:
        self.error = error
        self.done.set()


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
        column_kinds: Callable[[str], list[frozenset[type]] | None] | None = None,
    ):
        self.table = table
        # shape text -> the value types its flat rows may hold per column (FlatRows.column_kinds)
        self.column_kinds = column_kinds
        self.client_id = client_id
        self.batch_rows = batch_rows
        self.interval = interval
        self.on_commit = on_commit
        self._queue: deque = deque()
        self._pending_rows = 0  # rows queued and not yet taken (a hint for waking early)
        self._wake = threading.Event()
        self._urgent = False  # a flush is waiting: retry now, whatever the back-off
        self._stop = False
        # Batches taken from the queue and encoded but not yet committed, oldest first.
        self._unsent: deque[PendingAppend] = deque()
        self._failure: BaseException | None = None  # why the head of ``_unsent`` is stuck
        self._rejected: list[BaseException] = []  # rows dropped as unencodable, not yet reported
        self._backoff = 0.0
        self._seq = 0
        self._thread = threading.Thread(target=self._run, name=f"weave_lite-writer-{table.name}", daemon=True)
        self._thread.start()
        _RUNNING.add(self)

    # -- caller side ---------------------------------------------------------------------------

    def enqueue(self, item: dict | tuple | RowsItem | BatchItem, rows: int) -> None:
        failure = self._failure
        if failure is not None:
            raise BackgroundWriterError(
                f"the background writer of `{self.table.name}` is failing ({self.unsent_rows()} rows "
                f"waiting to be retried): {failure}"
            ) from failure
        self._queue.append(item)
        self._pending_rows += rows
        if self._pending_rows >= self.batch_rows and not self._wake.is_set():
            # Event.set takes a lock and notifies: once is enough while the writer is busy
            # (a set event stays set until the writer clears it and takes the queue).
            self._wake.set()

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything enqueued so far is durable; raise if it could not be made so
        (the rows stay queued and are retried)."""
        barrier = FlushItem(threading.Event())
        self._queue.append(barrier)
        self._urgent = True
        self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not barrier.done.wait(0.1):
            if not self._thread.is_alive() and not self._unsent and not self._queue_has_rows():
                return  # stopped with nothing left to write
            if not self._thread.is_alive():
                raise BackgroundWriterError(f"the background writer of `{self.table.name}` died") from self._failure
            if deadline is not None and time.monotonic() > deadline:
                raise BackgroundWriterError(f"flush of `{self.table.name}` timed out after {timeout} s")
        if barrier.error is not None:
            raise barrier.error

    def stop(self) -> None:
        """Flush, then end the thread.  When the flush fails the thread keeps running (and
        retrying) and the error is raised: call ``stop`` again once the cause is fixed."""
        self.flush()
        self._stop = True
        self._wake.set()
        self._thread.join()
        _RUNNING.discard(self)

    @property
    def alive(self) -> bool:
        """False once ``stop`` succeeded (checked on every ``log``, so a plain flag)."""
        return not self._stop

    def _queue_has_rows(self) -> bool:
        return any(type(i) is not FlushItem for i in list(self._queue))

    def unsent_rows(self) -> int:
        """Rows logged but not yet durable (approximate while the writer runs)."""
        queued = sum(_item_rows(i) for i in list(self._queue) if type(i) is not FlushItem)
        return queued + sum(p.batch.num_rows for p in list(self._unsent))

    # -- writer thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval if self._failure is None else max(self.interval, self._backoff))
            self._wake.clear()
            self._urgent = False
            self._drain()
            if self._stop and not self._queue and not self._unsent:
                return

    def _drain(self) -> None:
        """Commit everything waiting, releasing flush barriers as their rows become durable."""
        while True:
            if not self._send():
                self._fail_barriers()
                return
            items, barrier = self._take()
            if items:
                self._unsent.extend(self._encode(items))
                if not self._send():
                    if barrier is not None:
                        barrier.release(self._failure_error())
                    self._fail_barriers()
                    return
            if barrier is not None:
                barrier.release(self._rejection_error())
            if not self._queue:
                return
            if self._pending_rows < self.batch_rows and not (self._urgent or self._stop or self._has_barrier()):
                # Rows that arrived while this round committed wait for the next wake (the
                # interval, batch_rows, a flush): rows trickling in as fast as commits land
                # must not make a segment each.
                return

    def _has_barrier(self) -> bool:
        return any(type(i) is FlushItem for i in list(self._queue))

    def _send(self) -> bool:
        """Commit the unsent batches in order; False (and ``_failure`` set) when one fails."""
        while self._unsent:
            pending = self._unsent[0]
            try:
                self.table.commit_append(pending)
            except Exception as exc:  # keep the batch at the head of the line; retry later
                self._failure = exc
                self._backoff = min(2.0, max(0.05, self._backoff * 2))
                return False
            self._unsent.popleft()
            self._failure = None
            self._backoff = 0.0
            if self.on_commit is not None:
                with contextlib.suppress(Exception):  # an observer never blocks the log
                    self.on_commit(_as_batch(pending.batch))
        return True

    def _failure_error(self) -> WeaveError:
        failure = self._failure
        if isinstance(failure, CorruptTableError):
            # Damage is reported as itself, naming the file; the rows stay queued meanwhile.
            error: WeaveError = CorruptTableError(failure.path, failure.problem)
            error.add_note(f"{self.unsent_rows()} rows logged to `{self.table.name}` are kept and retried")
            error.__cause__ = failure
            return error
        error = BackgroundWriterError(
            f"could not commit rows to `{self.table.name}` ({self.unsent_rows()} rows kept and retried; "
            f"flush or finish again once the cause is fixed): {self._failure}"
        )
        error.__cause__ = self._failure
        return error

    def _rejection_error(self) -> BackgroundWriterError | None:
        if not self._rejected:
            return None
        first, n = self._rejected[0], len(self._rejected)
        self._rejected = []
        error = BackgroundWriterError(
            f"{n} row(s) logged to `{self.table.name}` could not be encoded and were dropped "
            f"(the other rows were committed): {first}"
        )
        error.__cause__ = first
        return error

    def _fail_barriers(self) -> None:
        """Release every flush waiting in the queue with the current failure (their rows stay)."""
        queue = self._queue
        popleft = queue.popleft
        taken = [popleft() for _ in range(len(queue))]
        kept = []
        for item in taken:
            if type(item) is FlushItem:
                item.release(self._failure_error())
            else:
                kept.append(item)
        queue.extendleft(reversed(kept))  # items appended meanwhile stay behind them

    def _take(self) -> tuple[list, FlushItem | None]:
        """Pop what is queued, up to the first flush barrier."""
        queue = self._queue
        popleft = queue.popleft
        # Items appended meanwhile stay queued for the next round (popleft is atomic).
        # (starmap: the pops run in C, a queue of 100k single rows is common.)
        taken = list(starmap(popleft, repeat((), min(len(queue), MAX_SEGMENT_ROWS))))
        barrier = None
        types = list(map(type, taken))
        if FlushItem in types:
            i = types.index(FlushItem)
            barrier = taken[i]
            queue.extendleft(reversed(taken[i + 1 :]))  # after the barrier: next round
            del taken[i:]
        self._pending_rows = max(0, self._pending_rows - _count_rows(taken))
        return taken, barrier

    def _encode(self, items: list) -> list[PendingAppend]:
        """Batches for ``items``, each under :data:`MAX_SEGMENT_BYTES`.

        A run that fails to encode is split in halves until the bad row is alone; it is
        dropped and remembered for the next flush to raise, and the rest are kept.
        """
        out: list[PendingAppend] = []
        stack = [items]
        while stack:
            part = stack.pop()
            try:
                batch = self._build(part)
            except Exception as exc:
                if _splittable(part):
                    stack.extend(reversed(_halves(part)))
                else:
                    self._rejected.append(exc)
                continue
            if batch.nbytes > MAX_SEGMENT_BYTES and _splittable(part):
                stack.extend(reversed(_halves(part)))
                continue
            self._seq += 1
            # Every path above sets ``_client_id`` to this writer's id in every row (a bulk
            # table's own column is replaced): its statistics are known, not computed.
            out.append(
                self.table.prepare_append(
                    batch, f"{self.client_id}-{self._seq}", constants={"_client_id": self.client_id}
                )
            )
        return out

    def _build(self, items: list) -> pa.RecordBatch:
        """One record batch from queued items: runs of rows are converted together."""
        if BatchItem not in set(map(type, items)):  # rows only (the common case): one run
            return self._rows_batch(items)
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
        """Rows from flat-row tuples (see ``flat_rows``), single-row dicts (time under
        TIME_KEY) and :class:`RowsItem` lists."""
        if set(map(type, run)) == {tuple}:
            batch = self._tuples_batch(run)
            if batch is not None:
                return batch
        if all(type(item) is dict for item in run):
            rows = run  # single-row log() calls of rows off the flat path
            time_us = np.array([r[TIME_KEY] for r in rows], dtype=np.int64)
        else:
            rows, per_row = [], []
            for item in run:
                if type(item) is tuple:  # a shape change inside the run: as a dict
                    item = _tuple_row(item)
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

    def _tuples_batch(self, run: list[tuple]) -> pa.RecordBatch | None:
        """Flat-row tuples ``(shape, time_us, *values)`` of one shape, columnised in C (``None``
        when the run mixes shapes)."""
        shape = run[0][0]
        # One map(itemgetter) per column, not zip(*run): zip makes an iterator per row, and
        # that many short-lived GC objects set off the (full) collections that cost most here.
        if list(map(itemgetter(0), run)).count(shape) != len(run):  # the same str: identity
            return None
        keys = shape_keys(shape)
        n = len(run)
        # The value types the caller's check let through: a column of one kind (maybe with
        # nulls) needs no pass over its values to find its type.
        kinds = self.column_kinds(shape) if self.column_kinds is not None else None
        arrays = []
        for i, name in enumerate(keys, 2):
            values = list(map(itemgetter(i), run))
            with column_errors(name, n):
                array = None if kinds is None else known_kind_array(values, kinds[i - 2])
                arrays.append(column_to_array(values) if array is None else array)
        arrays.append(timestamp_column(np.fromiter(map(itemgetter(1), run), dtype=np.int64, count=n)))
        arrays.append(client_id_column(self.client_id, n))
        return pa.RecordBatch.from_arrays(arrays, names=[*keys, "timestamp", "_client_id"])


def _tuple_row(item: tuple) -> dict:
    """A flat-row tuple as the dict the general path takes."""
    row: dict = dict(zip(shape_keys(item[0]), item[2:]))
    row[TIME_KEY] = item[1]
    return row


# Writers still running; stopped (flushed) at interpreter exit so that no logged row is lost,
# even when the application dropped its StreamTable without calling finish().
_RUNNING: set[BackgroundWriter] = set()


@atexit.register
def _stop_all() -> None:
    for writer in list(_RUNNING):
        try:
            writer.stop()
        except Exception as exc:  # report, and let the other writers finish
            print(
                f"weave_lite: {writer.unsent_rows()} rows logged to `{writer.table.name}` were never made "
                f"durable and are lost as this process exits: {exc}",
                file=sys.stderr,
            )


def _item_rows(item: object) -> int:
    return 1 if type(item) is dict or type(item) is tuple else item.count  # type: ignore[attr-defined]


def _count_rows(items: list) -> int:
    """The rows of queued items (C speed when all are single rows, the usual case)."""
    if set(map(type, items)) <= _SINGLE_ROW:
        return len(items)
    return sum(map(_item_rows, items))


_SINGLE_ROW = frozenset([dict, tuple])


def _splittable(items: list) -> bool:
    return len(items) > 1 or (len(items) == 1 and type(items[0]) not in _SINGLE_ROW and items[0].count > 1)


def _halves(items: list) -> list[list]:
    """``items`` in two halves, in order; a lone multi-row item is split by rows."""
    if len(items) > 1:
        mid = len(items) // 2
        return [items[:mid], items[mid:]]
    (item,) = items
    mid = item.count // 2
    if type(item) is RowsItem:
        return [[RowsItem(item.rows[:mid], item.time_us)], [RowsItem(item.rows[mid:], item.time_us)]]
    return [[BatchItem(item.batch.slice(0, mid))], [BatchItem(item.batch.slice(mid))]]


def _as_batch(data: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
    if isinstance(data, pa.RecordBatch):
        return data
    return data.combine_chunks().to_batches(max_chunksize=None)[0]


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
