"""Where a physical operator's morsels come from and where they run.

:mod:`weave_lite.execute.morsels` runs an operator as *tasks*, one per morsel: a
:class:`PartialTask` (a morsel's partial aggregate), a :class:`RowsTask` (a morsel's rows
through a row-wise pipeline, or its top-k / first-n candidates) or a :class:`WholeTask` (the
logical plan over a table that is a single morsel).  A :class:`MorselSource` cuts a scan into
morsels and runs tasks on them, results in morsel order:

* :data:`LOCAL` (the default) reads the whole table in this process, cuts it with
  :func:`split_morsels` and runs the tasks on the evaluation's threads;
* :class:`weave_lite.distributed.DaskMorsels` describes each morsel as a
  :class:`SegmentMorsel` (which rows of which segments), and a worker reads those segments
  itself and runs :func:`weave_lite.distributed.run_remote`.

The two cut a table at the same rows: :func:`plan_segment_morsels` applies
:func:`split_morsels`'s rule to the segments' record batches, whose row counts the commit
records (:attr:`~weave_lite.storage.segments.SegmentInfo.batch_rows`).  Tasks and morsel
descriptors are plain picklable data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import pyarrow as pa

from weave_lite.compile.physical import PartialAggregate, Scan
from weave_lite.compile.planner import PNode
from weave_lite.errors import InternalError
from weave_lite.execute.columns import as_list
from weave_lite.execute.executor import Frame, Runtime
from weave_lite.execute.vectors import Vec
from weave_lite.storage.names import ObjectRoot, TableName
from weave_lite.storage.segments import SegmentInfo
from weave_lite.storage.table import shared_table
from weave_lite.threads import map_in_order


def split_morsels(table: pa.Table, size: int) -> list[pa.Table]:
    """Consecutive pieces of ``table``: whole record batches gathered up to ``size`` rows,
    a batch longer than ``size`` cut into pieces of ``size`` rows."""
    size = max(1, size)
    groups: list[list[pa.RecordBatch]] = []
    current: list[pa.RecordBatch] = []
    rows = 0
    for batch in table.to_batches():
        if not batch.num_rows:
            continue
        if current and rows + batch.num_rows > size:
            groups.append(current)
            current, rows = [], 0
        if batch.num_rows > size:
            groups.extend([batch.slice(lo, size)] for lo in range(0, batch.num_rows, size))
            continue
        current.append(batch)
        rows += batch.num_rows
    if current:
        groups.append(current)
    return [pa.Table.from_batches(group, schema=table.schema) for group in groups]


# -- tasks -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PartialTask:
    """A morsel's partial aggregate (:func:`partials.morsel_partial`)."""

    aggregate: PartialAggregate


@dataclass(frozen=True, eq=False)
class RowsTask:
    """The elements of the list ``node`` (a pipeline over the morsel) gives."""

    node: PNode


@dataclass(frozen=True, eq=False)
class WholeTask:
    """The result of ``node`` (a stage's logical plan) over a table that is one morsel."""

    node: PNode


Task = PartialTask | RowsTask | WholeTask
RunTask = Callable[[Task, pa.Table, Frame, Runtime], Any]


def elements(vec: Vec) -> Vec:
    """The elements of a top-level list."""
    lists = as_list(vec)
    return lists.child.slice(int(lists.offsets[0]), int(lists.offsets[1]))


# -- sources ---------------------------------------------------------------------------------


class MorselSource(Protocol):
    """Cuts scans into morsels and runs tasks on them (see the module docstring)."""

    remote: bool  # tasks run elsewhere (a one-morsel table too is shipped as a WholeTask)

    def morsels(self, scan: Scan, runtime: Runtime) -> Sequence[Any]: ...

    def wave(self, runtime: Runtime) -> int:
        """How many morsels run at once (a Limit reads a wave at a time)."""
        ...

    def run(self, task: Task, morsels: Sequence[Any], top: Frame, runtime: Runtime, run_task: RunTask) -> Iterator[Any]:
        """The task's result on each morsel, in morsel order (``run_task`` runs one task on
        one morsel's rows: :func:`weave_lite.execute.morsels.run_task`)."""
        ...


class LocalMorsels:
    """The table read in this process, its morsels run on the evaluation's threads."""

    remote = False

    def morsels(self, scan: Scan, runtime: Runtime) -> list[pa.Table]:
        return split_morsels(
            runtime.load_arrow(scan.op, scan.table, scan.predicates, scan.columns), runtime.morsel_rows
        )

    def wave(self, runtime: Runtime) -> int:
        return runtime.threads

    def run(
        self, task: Task, morsels: Sequence[pa.Table], top: Frame, runtime: Runtime, run_task: RunTask
    ) -> Iterator[Any]:
        return iter(map_in_order(lambda piece: run_task(task, piece, top, runtime), morsels, runtime.threads))


LOCAL = LocalMorsels()


def source_of(runtime: Runtime) -> MorselSource:
    """The evaluation's morsel source (``runtime.morsel_source``, else :data:`LOCAL`)."""
    return runtime.morsel_source or LOCAL


# -- morsels described by segments ----------------------------------------------------------


@dataclass(frozen=True)
class SegmentMorsel:
    """One morsel as the rows it takes from a table's segments: ``ranges`` holds
    ``(segment index, first row, rows)`` into ``segments``; ``layouts`` the row counts of each
    segment's record batches (checked by the reader); ``schema`` the snapshot's schema every
    segment is conformed to.  ``root`` is the data root (a local path or an object store root)."""

    root: str | ObjectRoot
    table: str
    version: int
    schema: pa.Schema
    segments: tuple[SegmentInfo, ...]
    layouts: tuple[tuple[int, ...], ...]
    ranges: tuple[tuple[int, int, int], ...]

    @property
    def rows(self) -> int:
        return sum(n for _, _, n in self.ranges)


def plan_segment_morsels(layouts: Sequence[Sequence[int]], size: int) -> list[list[tuple[int, int, int]]]:
    """The morsels of a table whose segments' record batches have the row counts ``layouts``
    (in table order), as :func:`split_morsels` cuts them: each a list of ``(segment index,
    first row, rows)`` ranges, adjacent ranges of one segment joined."""
    size = max(1, size)
    groups: list[list[tuple[int, int, int]]] = []
    current: list[tuple[int, int, int]] = []
    rows = 0
    for seg, batch_rows in enumerate(layouts):
        start = 0
        for n in batch_rows:
            if not n:
                continue
            if current and rows + n > size:
                groups.append(current)
                current, rows = [], 0
            if n > size:
                groups.extend([(seg, start + lo, min(size, n - lo))] for lo in range(0, n, size))
            else:
                current.append((seg, start, n))
                rows += n
            start += n
    if current:
        groups.append(current)
    return [_joined(group) for group in groups]


def _joined(ranges: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    for seg, lo, n in ranges:
        if out and out[-1][0] == seg and out[-1][1] + out[-1][2] == lo:
            out[-1] = (seg, out[-1][1], out[-1][2] + n)
        else:
            out.append((seg, lo, n))
    return out


def segment_morsels(snapshot, size: int, layout_of=None) -> list[SegmentMorsel]:
    """The morsels of ``snapshot`` (a :class:`~weave_lite.storage.table.Snapshot`, pruned or
    not) cut at the rows where :func:`split_morsels` cuts ``snapshot.to_arrow()``, each naming
    only the segments it reads.  ``layout_of(segment)`` gives a segment's batch row counts
    (default :func:`batch_layout`)."""
    layout_of = layout_of or (lambda segment: batch_layout(snapshot, segment))
    segments = snapshot.segments
    layouts = [tuple(layout_of(s)) for s in segments]
    root = shippable_root(snapshot.table.root)
    out = []
    for group in plan_segment_morsels(layouts, size):
        used = sorted({seg for seg, _, _ in group})
        index = {seg: i for i, seg in enumerate(used)}
        out.append(
            SegmentMorsel(
                root,
                str(snapshot.table.name),
                snapshot.version,
                snapshot.schema,
                tuple(segments[i] for i in used),
                tuple(layouts[i] for i in used),
                tuple((index[seg], lo, n) for seg, lo, n in group),
            )
        )
    return out


def batch_layout(snapshot, segment: SegmentInfo) -> tuple[int, ...]:
    """The row counts of a segment's record batches as the snapshot reads it: from its commit
    record, else (a segment written before they were recorded) from the file itself."""
    if segment.batch_rows is not None and len(segment.schema):
        return segment.batch_rows
    return tuple(b.num_rows for b in snapshot.read(segment).to_batches())


def shippable_root(root: Path | ObjectRoot) -> str | ObjectRoot:
    """The data root as a worker opens it: a local path as text, an object store root without
    this process's client (workers build theirs from the environment)."""
    if isinstance(root, ObjectRoot):
        return ObjectRoot(root.scheme, root.bucket, root.prefix, filesystem=root.filesystem)
    return str(root)


def read_morsel(morsel: SegmentMorsel) -> pa.Table:
    """The rows of ``morsel``, read from its segments by this process (a worker), batch for
    batch as :func:`split_morsels` gives them from the whole snapshot."""
    log = shared_table(TableName.parse(morsel.table), cast(Any, morsel.root))  # an ObjectRoot too
    batches: list[pa.RecordBatch] = []
    conformed = [None] * len(morsel.segments)
    for seg, lo, n in morsel.ranges:
        table = conformed[seg]
        if table is None:
            segment = morsel.segments[seg]
            table = conformed[seg] = log.conformed_segment(segment, morsel.schema)
            actual = [b.num_rows for b in table.to_batches() if b.num_rows]
            if actual != [r for r in morsel.layouts[seg] if r]:
                msg = f"segment {segment.path} of `{morsel.table}` holds batches of {actual} rows, its record says {list(morsel.layouts[seg])}"
                raise InternalError(msg)
        batches.extend(b for b in table.slice(lo, n).to_batches() if b.num_rows)
    return pa.Table.from_batches(batches, schema=morsel.schema)
