"""Queries on a Dask cluster: ``evaluate(expr, client=distributed.Client(...))``.

Each physical stage (see :mod:`weave_lite.compile.physical`) over a stream table runs as one
Dask task per morsel.  The client cuts the table's snapshot into morsels from the commit
records alone (:func:`~weave_lite.execute.morsel_sources.segment_morsels`: the same rows as a
local run with the same ``morsel_rows``), and ships each task as its physical plan part and a
:class:`~weave_lite.execute.morsel_sources.SegmentMorsel`: which rows of which segments, and
the table's root (a local path that the workers share, or an ``s3://``/``gs://`` root whose
credentials they take from their environment).  A worker reads those segments itself
(:func:`run_remote`) and returns the morsel's partial aggregate, its rows, or its top-k / first-n
candidates; the client merges them in morsel order, so results are identical to a local run
with any number of workers.  A Limit submits a wave (as many morsels as the cluster has
threads) at a time and stops once it has its rows.

What is not a stage (a join, a table passed in ``tables=``, the merge itself) runs on the
client.  Live queries stay local.  Importing this module needs ``dask[distributed]`` only to
run queries, not to run tasks' code.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import pickle
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from weave_lite.compile.physical import Scan
from weave_lite.execute import executor
from weave_lite.execute.executor import Frame, Runtime
from weave_lite.execute.morsel_sources import (
    LOCAL,
    RunTask,
    SegmentMorsel,
    Task,
    read_morsel,
    segment_morsels,
)
from weave_lite.execute.morsels import run_detached
from weave_lite.execute.ops import load_area
from weave_lite.execute.vectors import Fields, Vec

# A Dask worker runs tasks having imported this module, not weave_lite.api (which sets this for
# the processes that evaluate): its kernels are registered per op area on first use too.
executor.area_loader = load_area


class DaskMorsels:
    """The morsel source of an evaluation on a Dask cluster (``client``, a
    ``distributed.Client``); ``snapshot_of(name)`` gives the snapshot the evaluation pinned."""

    remote = True

    def __init__(self, client: Any, snapshot_of, in_flight: int | None = None) -> None:
        self.client = client
        self.snapshot_of = snapshot_of
        self._threads = max(1, sum(client.nthreads().values()))
        # Tasks submitted ahead of the one whose result is awaited (results stream in order).
        self.in_flight = in_flight or 4 * self._threads
        self.submitted = 0  # tasks sent to the cluster by this evaluation (Limit's test reads it)

    def morsels(self, scan: Scan, runtime: Runtime) -> Sequence[Any]:
        if scan.op != "stream_table":  # tables passed in tables= live in this process
            return LOCAL.morsels(scan, runtime)
        snapshot = self.snapshot_of(scan.table).prune(scan.predicates)
        return segment_morsels(snapshot, runtime.morsel_rows)

    def wave(self, runtime: Runtime) -> int:
        return self._threads

    def run(self, task: Task, morsels: Sequence[Any], top: Frame, runtime: Runtime, run_task: RunTask) -> Iterator[Any]:
        if morsels and not isinstance(morsels[0], SegmentMorsel):
            yield from LOCAL.run(task, morsels, top, runtime, run_task)
            return
        blob = pickle.dumps((task, dict(top.vars)), protocol=pickle.HIGHEST_PROTOCOL)
        # Windows of `in_flight` morsels, one submission each: the next window is on the
        # cluster while this one's results come back, in order.
        windows = [list(morsels[lo : lo + self.in_flight]) for lo in range(0, len(morsels), self.in_flight)]
        pending: list = []
        try:
            ahead = self._submit(blob, windows[0], runtime) if windows else []
            for i in range(len(windows)):
                current, ahead = ahead, []
                pending = current
                if i + 1 < len(windows):
                    ahead = self._submit(blob, windows[i + 1], runtime)
                    pending = current + ahead
                runtime.budget.check()
                for packed in self.client.gather(current):
                    yield pickle.loads(packed)
            pending = []
        finally:
            if pending:
                self.client.cancel(pending)

    def _submit(self, blob: bytes, window: list[SegmentMorsel], runtime: Runtime) -> list:
        self.submitted += len(window)
        n = len(window)
        return self.client.map(run_remote_blob, [blob] * n, window, [runtime.now] * n, pure=False)


@functools.lru_cache(maxsize=8)
def _task_of(blob: bytes) -> tuple[Task, dict[str, Vec]]:
    return pickle.loads(blob)


def run_remote_blob(blob: bytes, morsel: SegmentMorsel, now: dt.datetime | None = None) -> bytes:
    """:func:`run_remote` on a pickled ``(task, vars)`` (unpickled once per worker); the result
    comes back pickled by :func:`pack`."""
    task, vars = _task_of(blob)
    return pack(run_remote(task, morsel, vars, now))


class _CompactPickler(pickle.Pickler):
    """Pickles rows that stand for a few rows of a morsel (a top-k, a filter's survivors) as
    those rows: a struct's lazily taken fields gathered, and an Arrow array that is a small
    slice of larger buffers as a compact copy (pyarrow would send the whole buffers)."""

    def reducer_override(self, obj):
        if isinstance(obj, Fields):
            return (Fields, ({name: obj[name] for name in obj},))
        if isinstance(obj, pa.Array) and obj.get_total_buffer_size() > 2 * obj.nbytes + 4096:
            try:
                return pa.concat_arrays([obj]).__reduce__()
            except pa.ArrowException:
                return NotImplemented
        return NotImplemented


def pack(result: Any) -> bytes:
    """A task's result as bytes to send back (Arrow slices copied compactly)."""
    sink = io.BytesIO()
    _CompactPickler(sink, protocol=pickle.HIGHEST_PROTOCOL).dump(result)
    return sink.getvalue()


def run_remote(
    task: Task, morsel: SegmentMorsel, vars: dict[str, Vec] | None = None, now: dt.datetime | None = None
) -> Any:
    """One task on one morsel, computed from scratch where the morsel is read (a Dask worker):
    the task (a plan part), the morsel's descriptor, the evaluation's top-level variables (as
    Vecs of one element) and its clock.  Returns a partial, rows or a whole result."""
    return run_detached(task, read_morsel(morsel), vars, now)


def connect(address: str):
    """A ``distributed.Client`` for the scheduler at ``address`` (``tcp://host:8786``)."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - the optional extra
        msg = "queries on a Dask cluster need the `dask` extra: pip install 'weave_lite[dask]'"
        raise ImportError(msg) from exc
    return Client(address)
