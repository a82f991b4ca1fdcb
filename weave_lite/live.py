"""Live queries: re-evaluate an expression as commits arrive, paying for the new rows only.

``compile(expr).watch(root=...)`` runs the expression once, then ``poll()`` checks the tables'
commit logs (one ``stat`` each when nothing changed).  When rows were appended:

* a list built by ``filter``/``map``/picking over one stream table's rows is extended with the
  same expression run over the appended segments alone;
* a ``count`` of such a list (or of a filter) is increased by the count over the new segments,
  and ``min``/``max`` (and integer ``sum``) are merged likewise;
* anything else (sorts, group-bys, floating sums, joins, schema changes...) runs again in full.

Either way the result equals a cold run of the expression on the new snapshot.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

import pyarrow as pa

from weave_lite.compile.physical import MORSELS
from weave_lite.compile.planner import PCall, PLambda, PNode

# Ops that act on each row independently: their result over old + new rows is the old result
# followed by the result over the new rows.
_ROW_WISE = {"rows", "filter", "map"}
# Reducers whose results merge exactly from partial results.
_MERGEABLE = {"count", "count:where", "min", "max", "sum"}


class LiveQuery:
    """An expression kept up to date; see the module docstring."""

    def __init__(self, compiled, *, root=None, tables=None, vars=None):
        self.compiled = compiled
        self.root = root
        self.tables = tables
        self.vars = vars
        self.full_runs = 0
        self.incremental_runs = 0
        self._refresh_full()

    # -- public --------------------------------------------------------------------------------

    def poll(self) -> Any | None:
        """The new result if any table it reads has new commits, else ``None``."""
        changed = []
        for name, snap in self._snapshots.items():
            newer = snap.table.poll(snap)
            if newer is not None:
                changed.append((name, snap, newer))
        if not changed:
            return None
        if self._mode is None or len(changed) != 1 or len(self._snapshots) != 1:
            return self._refresh_full()
        name, old, _ = changed[0]
        latest, appended = old.table.changes_since(old.version)
        if latest.schema_version != old.schema_version:
            return self._refresh_full()
        if appended:
            delta_sources = self._sources_over(name, latest, appended)
            delta = self.compiled._run(self._plan, delta_sources, self.vars)
            self.result = _merge(self._mode, self._top, self.result, delta)
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
        self._mode, self._top = _classify(plan)
        self.result = self.compiled._run(plan, sources, self.vars)
        self._snapshots = dict(sources.snapshots)
        self.full_runs += 1
        return self.result

    def _sources_over(self, name: str, snapshot, segments):
        """Sources in which table ``name`` holds only ``segments`` (with the full schema)."""
        from weave_lite.api import _Sources

        wanted = {s.path for s in segments}
        sources = _Sources(self.root, self.tables, self.compiled.source)
        restricted = snapshot.select(lambda s: s.path in wanted)
        if len(restricted.segments) != len(segments):  # compacted away meanwhile: read them
            restricted = type(snapshot)(snapshot.table, snapshot.version, tuple(segments))
            restricted.__dict__["schema"] = snapshot.schema
        sources.snapshots[name] = restricted
        return sources


def _classify(plan: PNode) -> tuple[str | None, str | None]:
    """("append", None), ("merge", reducer key) or (None, None) for a full re-run."""
    if isinstance(plan, PCall) and plan.key == MORSELS:  # a morsel-parallel node: its op
        plan = plan.args[0].body
    if _row_wise_chain(plan):
        return "append", None
    if isinstance(plan, PCall) and plan.key in _MERGEABLE and plan.map_depth == 0:
        if plan.key == "sum" and str(plan.type) != "int":
            return None, None  # float sums re-associate: only exact merges here
        if _row_wise_chain(plan.args[0]) and all(_reads_no_table(a) for a in plan.args[1:]):
            return "merge", plan.key
    return None, None


def _row_wise_chain(node: PNode) -> bool:
    """A chain of row-wise ops down to ``stream_table(...)``."""
    while isinstance(node, PCall):
        if node.key == "stream_table":
            return True
        row_wise = node.key in _ROW_WISE and node.map_depth == 0
        picked = node.key == "getitem:pick" and node.map_depth == 1
        if not (row_wise or picked) or not all(_reads_no_table(a) for a in node.args[1:]):
            return False
        node = node.args[0]
    return False


def _reads_no_table(node: PNode | None) -> bool:
    if node is None:
        return True
    if isinstance(node, PCall):
        return node.key not in ("stream_table", "table") and all(_reads_no_table(a) for a in node.args)
    if isinstance(node, PLambda):
        return _reads_no_table(node.body)
    return True


def _merge(mode: str, reducer: str | None, old: Any, delta: Any) -> Any:
    if mode == "append":
        if isinstance(old, pa.Table):
            if delta.num_rows == 0:
                return old
            return pa.concat_tables([old, delta.select(old.column_names)]) if old.num_rows else delta
        return pa.chunked_array([*_chunks(old), *_chunks(delta)], type=old.type)
    if reducer in ("count", "count:where", "sum"):
        return (old or 0) + (delta or 0)
    if old is None or delta is None:
        return old if delta is None else delta
    if _is_nan(old) or _is_nan(delta):  # NaN only when every value is NaN (docs/semantics.md)
        return delta if _is_nan(old) else old
    return min(old, delta) if reducer == "min" else max(old, delta)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


def _chunks(array) -> list:
    return list(array.chunks) if isinstance(array, pa.ChunkedArray) else [array]
