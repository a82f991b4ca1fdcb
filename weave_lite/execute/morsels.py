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

import pyarrow as pa

from weave_lite.compile.physical import CANDIDATES_VAR, Concat, Limit, Merge, PartialAggregate, PStage, Scan, TopK
from weave_lite.execute import partials
from weave_lite.execute.executor import Frame, Runtime, operator, run
from weave_lite.execute.columns import as_list, concat_vecs
from weave_lite.execute.vectors import ListVec, Vec
from weave_lite.threads import map_in_order

DEFAULT_MORSEL_ROWS = 1 << 20


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
    """Run a physical operator over its scan's morsels (see the module docstring)."""
    operator = stage.operator
    pieces = split_morsels(_read(operator.scan, runtime), runtime.morsel_rows)
    if len(pieces) <= 1:
        return run(stage.logical, top, runtime)
    if isinstance(operator, Merge):
        return _aggregate(operator, pieces, top, runtime)
    node = operator.pipeline.node

    def run_on(piece: pa.Table) -> Vec:
        runtime.budget.check()  # between morsels: a queued morsel stops at once past a limit
        return run(node, *_on_morsel(piece, top, runtime))

    if isinstance(operator, Concat):
        return ListVec.single(concat_rows([_elements(v) for v in map_in_order(run_on, pieces, runtime.threads)]))
    if isinstance(operator, TopK):
        candidates = [_elements(v) for v in map_in_order(run_on, pieces, runtime.threads)]
    else:  # Limit: read morsels in order, a wave of `threads` at a time, until enough rows
        candidates = _first_rows(operator, pieces, run_on, top, runtime)
    # The same op over the morsels' candidates (in morsel order, so ties keep row order).
    rows_frame = Frame(1, {**top.vars, CANDIDATES_VAR: ListVec.single(concat_rows(candidates))}, budget=runtime.budget)
    return run(operator.final, rows_frame, runtime)


def _read(scan: Scan, runtime: Runtime) -> pa.Table:
    return runtime.load_arrow(scan.op, scan.table, scan.predicates)


def _on_morsel(piece: pa.Table, top: Frame, runtime: Runtime) -> tuple[Frame, Runtime]:
    """A fresh top-level frame (its own memo) and a runtime whose table root reads ``piece``."""
    return Frame(1, dict(top.vars), budget=runtime.budget), replace(runtime, load_arrow=lambda *_: piece)


def partial_of_morsel(aggregate: PartialAggregate, piece: pa.Table, top: Frame, runtime: Runtime) -> partials.MorselPartial:
    """One morsel's partial aggregate: what a worker (a thread here, or another process given
    the pickled ``aggregate`` and its morsel) computes; :func:`partials.merge` combines them."""
    runtime.budget.check()
    return partials.morsel_partial(aggregate, *_on_morsel(piece, top, runtime))


def run_morsel_partial(aggregate: PartialAggregate, piece: pa.Table, vars: dict[str, Vec] | None = None, now=None) -> partials.MorselPartial:
    """One morsel's partial aggregate computed from scratch, as a worker process does it: the
    (unpickled) ``aggregate``, its morsel of rows, the evaluation's top-level variables (as
    Vecs of one element) and its clock."""
    runtime = Runtime(lambda *_: piece, threads=1)
    if now is not None:
        runtime.now = now
    return partial_of_morsel(aggregate, piece, Frame(1, dict(vars or {}), budget=runtime.budget), runtime)


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
    context = (aggregate, tuple(sorted((k, repr(v)) for k, v in top.vars.items())), runtime.now if aggregate.uses_clock else None)
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


def _first_rows(operator: Limit, pieces: list[pa.Table], run_on, top: Frame, runtime: Runtime) -> list[Vec]:
    count = operator.count
    wanted = run(count, top, runtime).to_arrow()[0].as_py() if count is not None else None
    found: list[Vec] = []
    have = 0
    for lo in range(0, len(pieces), runtime.threads):
        for result in map_in_order(run_on, pieces[lo : lo + runtime.threads], runtime.threads):
            found.append(_elements(result))
            have += found[-1].length
        if wanted is not None and have >= wanted:
            break
    return found


def _elements(vec: Vec) -> Vec:
    """The elements of a top-level list."""
    lists = as_list(vec)
    return lists.child.slice(int(lists.offsets[0]), int(lists.offsets[1]))


def concat_rows(parts: list[Vec]) -> Vec:
    """The morsels' elements one after the other."""
    return parts[0] if len(parts) == 1 else concat_vecs(parts)

