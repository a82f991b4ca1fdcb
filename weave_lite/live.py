"""Live queries: re-evaluate an expression as commits arrive, paying for the new rows only.

``compile(expr).watch(root=...)`` runs the expression once, then ``poll()`` checks the tables'
commit logs (one ``stat`` each when nothing changed).  When rows were appended:

* a list built by ``filter``/``map``/picking over one stream table's rows is extended with the
  same expression run over the appended segments alone;
* anything else runs again, but its aggregates (``count``, ``sum``, ``avg``, ``quantile``...,
  and group-bys of them: see weave_lite.compile.physical) reuse the partial results of the
  morsels they computed before and compute only the morsels holding new segments.

Either way the result equals a cold run of the expression on the new snapshot: partials are
kept per morsel, and a cold run cuts the table into the same morsels and merges them in the
same order.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from weave_lite.compile.physical import PStage, chain_root
from weave_lite.compile.planner import PNode
from weave_lite.execute.morsels import PartialsCache
from weave_lite.sources import TableSources
from weave_lite.storage.table import Snapshot


class LiveQuery:
    """An expression kept up to date; see the module docstring."""

    result: Any  # the current value (set by each full or incremental run)
    _snapshots: dict[str, Snapshot]  # the snapshot each table was last read at

    def __init__(self, compiled, *, root=None, tables=None, vars=None, threads=None, morsel_rows=None):
        # ``compiled`` is a weave_lite.api.CompiledExpression: its public ``plan`` and
        # ``run_plan`` are all this module uses (it does not import weave_lite.api).
        self.compiled = compiled
        self.root = root
        self.tables = tables
        self.vars = vars
        self.options = {"threads": threads, "morsel_rows": morsel_rows}
        self.full_runs = 0
        self.incremental_runs = 0
        self._partials = PartialsCache()
        self._refresh_full()

    # -- public --------------------------------------------------------------------------------

    @property
    def partials(self) -> PartialsCache:
        """The per-morsel partial aggregates kept between runs (``.reused``/``.computed``
        count the morsels of the last run)."""
        return self._partials

    def poll(self) -> Any | None:
        """The new result if any table it reads has new commits, else ``None``."""
        changed = []
        for name, snap in self._snapshots.items():
            newer = snap.table.poll(snap)
            if newer is not None:
                changed.append((name, snap, newer))
        if not changed:
            return None
        if not self._appending or len(changed) != 1 or len(self._snapshots) != 1:
            return self._refresh_full()
        name, old, _ = changed[0]
        latest, appended = old.table.changes_since(old.version)
        if latest.schema_version != old.schema_version:
            return self._refresh_full()
        if appended:
            delta_sources = self._sources_over(name, latest, appended)
            delta = self.compiled.run_plan(self._plan, delta_sources, self.vars, **self.options)
            self.result = _append(self.result, delta)
            self.incremental_runs += 1
        self._snapshots[name] = latest
        return self.result

    def __iter__(self) -> Iterator[Any]:
        """Yield the current result, then each new one as commits arrive (polling every 0.2 s)."""
        yield self.result
        while True:
            result = self.poll()
            if result is not None:
                yield result
            else:
                time.sleep(0.2)

    # -- internals -----------------------------------------------------------------------------

    def _refresh_full(self) -> Any:
        plan, sources = self.compiled.plan(root=self.root, tables=self.tables, vars=self.vars)
        self._plan = plan
        self._appending = _appends(plan)
        self.result = self.compiled.run_plan(plan, sources, self.vars, partials=self._partials, **self.options)
        self._partials.end_run()
        self._snapshots = dict(sources.snapshots)
        self.full_runs += 1
        return self.result

    def _sources_over(self, name: str, snapshot, segments) -> TableSources:
        """Sources in which table ``name`` holds only ``segments`` (with the full schema)."""
        wanted = {s.path for s in segments}
        sources = TableSources(self.root, self.tables, self.compiled.source)
        restricted = snapshot.select(lambda s: s.path in wanted)
        if len(restricted.segments) != len(segments):  # compacted away meanwhile: read them
            restricted = snapshot.with_segments(segments)
        sources.snapshots[name] = restricted
        return sources


def _appends(plan: PNode) -> bool:
    """Whether new rows extend the result: a row-wise chain over one stream table's rows (the
    chains the physical planner runs per morsel, and for the same reason: each row's result
    does not depend on the others, nor on its position)."""
    if isinstance(plan, PStage):  # a morsel-parallel node: the op it computes
        plan = plan.logical
    root = chain_root(plan)
    return root is not None and root.key == "stream_table"


def _append(old: Any, delta: Any) -> Any:
    if isinstance(old, pa.Table):
        if delta.num_rows == 0:
            return old
        return pa.concat_tables([old, delta.select(old.column_names)]) if old.num_rows else delta
    return pa.chunked_array([*_chunks(old), *_chunks(delta)], type=old.type)


def _chunks(array) -> list:
    return list(array.chunks) if isinstance(array, pa.ChunkedArray) else [array]
