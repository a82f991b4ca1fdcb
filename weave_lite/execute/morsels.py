"""Morsel-parallel execution of the physical operators of :mod:`weave_lite.compile.physical`.

A table is cut into morsels: runs of whole segments (Arrow record batches) of about
``Runtime.morsel_rows`` rows, a larger segment cut into pieces of that size.  Each morsel runs
the operator's pipeline on its own, on a pool of ``Runtime.threads`` threads (Arrow kernels and the
``nogil`` Numba kernels release the GIL, so morsels overlap), and the results merge in morsel
order.  The cut depends only on the table, never on the number of threads, so every thread
count gives the very same result.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyarrow as pa

from weave_lite.compile.physical import CANDIDATES_VAR, Concat, Limit, Merge, PartialAggregate, PStage, TopK
from weave_lite.execute import kernel_choice, partials
from weave_lite.execute.columns import concat_vecs
from weave_lite.execute.executor import Frame, Runtime, operator, run
from weave_lite.execute.morsel_sources import PartialTask, RowsTask, Task, WholeTask, elements, source_of, split_morsels
from weave_lite.execute.vectors import ListVec, Vec
from weave_lite.threads import map_in_order

DEFAULT_MORSEL_ROWS = 1 << 20

__all__ = [
    "DEFAULT_MORSEL_ROWS",
    "PartialsCache",
    "concat_rows",
    "run_detached",
    "run_morsel_partial",
    "run_stage",
    "run_task",
    "split_morsels",
]


class PartialsCache:
    """Per-morsel partial aggregates kept from one run to the next (by live queries): a run
    reuses the partials of morsels it has seen, and what the last run did not use is dropped."""

    def __init__(self) -> None:
        self._kept: dict = {}
        self._used: dict = {}
        self.reused = self.computed = 0  # in the last run

    def get(self, key):
        found = self._used.get(key)
        if found is None:
            found = self._kept.get(key)
            if found is not None:
                self._used[key] = found
        return found

    def put(self, key, value) -> None:
        self._used[key] = value

    def end_run(self) -> None:
        self.reused = sum(1 for k in self._used if k in self._kept)
        self.computed = len(self._used) - self.reused
        self._kept, self._used = self._used, {}

    def __len__(self) -> int:
        return len(self._kept)


@operator(Concat, TopK, Limit, Merge)
def run_stage(stage: PStage, top: Frame, runtime: Runtime) -> Vec:
    """Run a physical operator over its scan's morsels (see the module docstring), where the
    evaluation's morsel source runs them (:mod:`weave_lite.execute.morsel_sources`)."""
    operator = stage.operator
    source = source_of(runtime)
    if (
        isinstance(operator, Merge)
        and not source.remote
        and runtime.partials is None
        and _scans_whole(operator, runtime)
    ):
        return run(stage.logical, top, runtime)
    pieces = list(source.morsels(operator.scan, runtime))
    if len(pieces) <= 1:
        if not pieces or not source.remote:
            return run(stage.logical, top, runtime)
        return next(source.run(WholeTask(stage.logical), pieces, top, runtime, run_task))
    if isinstance(operator, Merge):
        if source.remote:
            return partials.merge(
                operator, list(source.run(PartialTask(operator.partial), pieces, top, runtime, run_task)), top, runtime
            )
        return _aggregate(operator, pieces, top, runtime)
    task = RowsTask(operator.pipeline.node)

    def run_on(part: list) -> list[Vec]:
        return list(source.run(task, part, top, runtime, run_task))

    if isinstance(operator, Concat):
        return ListVec.single(concat_rows(run_on(pieces)))
    if isinstance(operator, TopK):
        candidates = run_on(pieces)
    else:  # Limit: read morsels in order, a wave at a time, until enough rows
        candidates = _first_rows(operator, pieces, run_on, top, runtime, source.wave(runtime))
    # The same op over the morsels' candidates (in morsel order, so ties keep row order).
    rows_frame = Frame(1, {**top.vars, CANDIDATES_VAR: ListVec.single(concat_rows(candidates))}, budget=runtime.budget)
    return run(operator.final, rows_frame, runtime)


# The fused scan kernels (execute/ops/fused.py) cut a table's chunks into pieces on the threads
# themselves; the column types (per ScanProgram kind) they read in place.
_SCAN_REDUCERS = frozenset({"scan:count", "scan:sum", "scan:avg", "scan:min", "scan:max"})
_SCAN_TYPES = {"f": pa.float64(), "i": pa.int64()}


def _scans_whole(operator: Merge, runtime: Runtime) -> bool:
    """Whether the aggregate is one fused scan the kernel can run over the whole table at once
    (its Numba kernel ready, its columns of the kernel's types).  Then no morsels, partials or
    merge are made: their Python costs ~0.1 ms a morsel, a third of the kernel's time on a
    million rows.  The kernel cuts the rows into pieces on the threads itself, at rows that
    depend on the table only (so any thread count gives the same bits)."""
    aggregate = operator.partial
    if aggregate.group is not None or len(aggregate.leaves) != 1:
        return False
    node = aggregate.leaves[0].node
    program: Any = dict(node.hints).get("scan")  # a compile.rewrites.fuse_scan.ScanProgram
    if node.key not in _SCAN_REDUCERS or program is None or not kernel_choice.is_ready(("scan",)):
        return False
    scan = operator.scan
    schema = runtime.load_arrow(scan.op, scan.table, scan.predicates, scan.columns).schema
    for name, kind in zip(program.columns, program.kinds):
        index = schema.get_field_index(name)
        if index < 0 or schema.field(index).type != _SCAN_TYPES[kind]:
            return False  # the op-by-op fallback: morsel by morsel
    return True


def run_task(task: Task, piece: pa.Table, top: Frame, runtime: Runtime):
    """One task on one morsel of rows (here, or where a distributed source runs it)."""
    if isinstance(task, PartialTask):
        return partial_of_morsel(task.aggregate, piece, top, runtime)
    runtime.budget.check()  # between morsels: a queued morsel stops at once past a limit
    result = run(task.node, *_on_morsel(piece, top, runtime))
    return elements(result) if isinstance(task, RowsTask) else result


def _on_morsel(piece: pa.Table, top: Frame, runtime: Runtime) -> tuple[Frame, Runtime]:
    """A fresh top-level frame (its own memo) and a runtime whose table root reads ``piece``."""
    return Frame(1, dict(top.vars), budget=runtime.budget), replace(runtime, load_arrow=lambda *_: piece)


def partial_of_morsel(
    aggregate: PartialAggregate, piece: pa.Table, top: Frame, runtime: Runtime
) -> partials.MorselPartial:
    """One morsel's partial aggregate: what a worker (a thread here, or another process given
    the pickled ``aggregate`` and its morsel) computes; :func:`partials.merge` combines them."""
    runtime.budget.check()
    return partials.morsel_partial(aggregate, *_on_morsel(piece, top, runtime))


def run_detached(task: Task, piece: pa.Table, vars: dict[str, Vec] | None = None, now=None):
    """One task on one morsel computed from scratch, outside any evaluation (in a worker
    process): the (unpickled) task, its morsel of rows, the evaluation's top-level variables
    (as Vecs of one element) and its clock."""
    runtime = Runtime(lambda *_: piece, threads=1)
    if now is not None:
        runtime.now = now
    return run_task(task, piece, Frame(1, dict(vars or {}), budget=runtime.budget), runtime)


def run_morsel_partial(
    aggregate: PartialAggregate, piece: pa.Table, vars: dict[str, Vec] | None = None, now=None
) -> partials.MorselPartial:
    """One morsel's partial aggregate computed from scratch (:func:`run_detached`)."""
    return run_detached(PartialTask(aggregate), piece, vars, now)


def _aggregate(operator: Merge, pieces: list[pa.Table], top: Frame, runtime: Runtime) -> Vec:
    """Each morsel's partial aggregate (reused from ``runtime.partials`` when the morsel was
    seen before), merged in morsel order."""
    aggregate = operator.partial

    def partial_of(piece: pa.Table) -> partials.MorselPartial:
        return partial_of_morsel(aggregate, piece, top, runtime)

    cache = runtime.partials
    if cache is None:
        return partials.merge(operator, map_in_order(partial_of, pieces, runtime.threads), top, runtime)
    # What else a partial depends on: the top-level variables, and the clock if it reads now().
    context = (
        aggregate,
        tuple(sorted((k, repr(v)) for k, v in top.vars.items())),
        runtime.now if aggregate.uses_clock else None,
    )
    keys = [(context, _identity(piece)) for piece in pieces]
    found = [cache.get(key) for key in keys]
    missing = [i for i, kept in enumerate(found) if kept is None]
    for i, partial in zip(missing, map_in_order(partial_of, [pieces[i] for i in missing], runtime.threads)):
        found[i] = (pieces[i], partial)  # the piece keeps its buffers' addresses taken
        cache.put(keys[i], found[i])
    return partials.merge(operator, [kept[1] for kept in found], top, runtime)


def _identity(piece: pa.Table) -> tuple:
    """What a morsel holds: its chunks' buffers (segments are immutable, so equal buffers
    mean equal rows)."""
    return tuple(
        (tuple(b.address for b in chunk.buffers() if b is not None), chunk.offset, len(chunk))
        for column in piece.columns
        for chunk in column.chunks
    )


def _first_rows(operator: Limit, pieces: list, run_on, top: Frame, runtime: Runtime, wave: int) -> list[Vec]:
    count = operator.count
    wanted = run(count, top, runtime).to_arrow()[0].as_py() if count is not None else None
    found: list[Vec] = []
    have = 0
    wave = max(1, wave)
    for lo in range(0, len(pieces), wave):
        for result in run_on(pieces[lo : lo + wave]):
            found.append(result)
            have += found[-1].length
        if wanted is not None and have >= wanted:
            break
    return found


def concat_rows(parts: list[Vec]) -> Vec:
    """The morsels' elements one after the other."""
    return parts[0] if len(parts) == 1 else concat_vecs(parts)
