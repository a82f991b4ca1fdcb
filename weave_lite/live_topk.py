"""The live keepers of a top-k (``sort(f).limit(n)``) and of a ``limit(n)`` without a sort.

A top-k keeps its k rows and a *bound*: the k-th kept row's first sort key.  A new row can
place among the k only if its key is at least as good as the bound (better, when the sort has
one key: a tie comes after the kept rows in row order, and the stable sort keeps it there), so
an update sorts only those rows with the kept k.  Finding them costs, from cheapest:

* the new segments' statistics, when the first key is a plain column of the table's rows
  (``r["latency"]``, through row-wise filters only): a descending sort whose bound is above
  every new segment's maximum has nothing to do, without reading a segment;
* else one vectorized comparison over the new segments' key column, read straight from their
  Arrow columns (:func:`weave_lite.execute.top_k.rows_at_least`); only the rows that pass run
  the chain (its filters) and the final sort;
* else (a computed key, a ``map`` before the sort) the chain and the key function over the new
  rows, then the comparison.

Nulls and NaN sort last, so they never beat a bound; a bound of null or NaN (or fewer than k
rows kept) takes the new rows' own top k instead.  :attr:`TopKKeeper.last_path` says which way
the last update went.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa

from weave_lite.compile.physical import CANDIDATES_VAR, Limit, PStage, TopK
from weave_lite.compile.planner import PCall, PConst, PLambda, PNode, PVar
from weave_lite.execute.columns import as_list
from weave_lite.execute.executor import Frame, LambdaFn, Runtime, run
from weave_lite.execute.morsel_sources import RowsTask, elements
from weave_lite.execute.morsels import concat_rows, run_task
from weave_lite.execute.top_k import rows_at_least
from weave_lite.execute.vectors import ArrayVec, ListVec, Vec
from weave_lite.lazy import lazy_module
from weave_lite.live_keeper import Keeper
from weave_lite.storage.table import Snapshot

pc = lazy_module("pyarrow.compute")  # loaded by the first query, not at import weave_lite

# How an update found its candidates (TopKKeeper.last_path).
STATISTICS, COLUMN, ROWS, ALL = "statistics", "column", "rows", "all"


class TopKKeeper(Keeper):
    """A top-k stage's kept k rows and bound (see the module docstring)."""

    kind = "top k rows, merged with the new rows that beat the k-th"

    def __init__(self, stage: PStage, var: str):
        super().__init__(stage, var)
        self.last_path = ""  # how the last update found its candidates (STATISTICS, COLUMN, ...)
        self._key: tuple[PLambda, bool] | None = None
        self._column: str | None = None
        self._strict = False
        self._bound: tuple[str, pa.Scalar] | None = None
        self._bound_value: Any = None  # the bound as a Python value, for statistics (or None)

    def start(self, top: Frame, runtime: Runtime) -> None:
        super().start(top, runtime)
        operator = self.stage.operator
        assert isinstance(operator, TopK)
        self._key = primary_key(operator.final)
        if self._key is not None:
            self._column = _plain_column(self._key[0]) if _row_wise_chain(operator.pipeline.node.args[0]) else None
            self._strict = _single_key(operator.final)
            if self._column is not None:
                self.kind += f" (compared on column {self._column!r} of the new segments)"
        self._set_bound(top, runtime)

    def update(self, top: Frame, runtime: Runtime) -> None:
        self.changed = False
        candidates = None
        if self._bound is None:  # fewer than k rows kept, or no bound: the new rows' top k
            self.last_path = ALL
            candidates = self._new_rows(top, runtime)
        elif self._column is not None:
            candidates = self._column_candidates(top, runtime)
        if candidates is None:
            self.last_path = ROWS
            candidates = self._beating_rows(top, runtime)
        if candidates:
            self.value = self._final(top, runtime, candidates)
            self.changed = True
            self._set_bound(top, runtime)

    # -- the candidates --------------------------------------------------------------------------

    def _column_candidates(self, top: Frame, runtime: Runtime) -> list[Vec] | None:
        """The new rows whose key column passes the bound, through the chain (its filters);
        None when the column cannot be compared here (the general path decides)."""
        assert self._bound is not None and self._key is not None and self._column is not None
        bound, descending = self._bound[1], self._key[1]
        snapshot = _sources_snapshot(runtime, self.scan.table)
        if snapshot is not None and self._bound_value is not None:
            value, column = self._bound_value, self._column
            if not any(_may_beat(snapshot, s, column, value, descending, self._strict) for s in snapshot.segments):
                self.last_path = STATISTICS
                return []
        table = self._table(runtime)
        if self._column not in table.column_names:
            return None
        passing = rows_at_least(table.column(self._column), bound, descending, strict=self._strict)
        if passing is None:
            return None
        self.last_path = COLUMN
        if not len(passing):
            return []
        chain = RowsTask(self.stage.operator.pipeline.node.args[0])  # type: ignore[union-attr]
        rows = run_task(chain, table.take(pa.array(passing)), top, runtime)  # the filters still apply
        return [rows] if rows.length else []

    def _beating_rows(self, top: Frame, runtime: Runtime) -> list[Vec]:
        """The new rows whose primary key (by the key function) passes the bound."""
        assert self._bound is not None
        chain = RowsTask(self.stage.operator.pipeline.node.args[0])  # type: ignore[union-attr]
        function, bound = self._bound
        found = []
        for piece in self.rows(runtime):
            rows = run_task(chain, piece, top, runtime)
            keys = self._keys(rows, top, runtime)
            if keys is None or keys.type != bound.type:  # not comparable here: this piece's top k
                found.append(run_task(RowsTask(self.stage.operator.pipeline.node), piece, top, runtime))  # type: ignore[union-attr]
                continue
            passing = pc.indices_nonzero(pc.call_function(function, [keys, bound]))  # a null key never passes
            if len(passing):
                found.append(rows.take(np.asarray(passing, dtype=np.int64)))
        return found

    # -- the kept rows ---------------------------------------------------------------------------

    def _final(self, top: Frame, runtime: Runtime, candidates: list[Vec]) -> Vec:
        # The kept rows first: they come before the new ones, so ties keep row order.
        operator = self.stage.operator
        assert isinstance(operator, (TopK, Limit))
        rows = ListVec.single(concat_rows([elements(self.value), *candidates]))
        return run(operator.final, Frame(1, {**top.vars, CANDIDATES_VAR: rows}, budget=runtime.budget), runtime)

    def _keys(self, rows: Vec, top: Frame, runtime: Runtime) -> pa.Array | None:
        """The primary sort key of each of ``rows`` (None when it is not a plain column)."""
        assert self._key is not None
        fn, _ = self._key
        n = rows.length
        key = LambdaFn(fn, Frame(1, dict(top.vars), budget=runtime.budget), runtime)(
            [rows], lambda: np.zeros(n, np.int64)
        )
        if not isinstance(key, ArrayVec):
            return None
        array = key.to_arrow()
        t = array.type
        plain = (
            pa.types.is_integer(t)
            or pa.types.is_floating(t)
            or pa.types.is_string(t)
            or pa.types.is_large_string(t)
            or pa.types.is_timestamp(t)
        )
        return array if plain and len(array) == n else None

    def _set_bound(self, top: Frame, runtime: Runtime) -> None:
        self._bound = self._kept_bound(top, runtime)
        self._bound_value = None
        if self._bound is not None:
            t = self._bound[1].type
            # Statistics compare as Python values; exact for these types (not timestamps: kept in us).
            if (
                pa.types.is_integer(t)
                or pa.types.is_floating(t)
                or pa.types.is_string(t)
                or pa.types.is_large_string(t)
            ):
                self._bound_value = self._bound[1].as_py()

    def _kept_bound(self, top: Frame, runtime: Runtime) -> tuple[str, pa.Scalar] | None:
        """The comparison a new row's primary key must pass to place among the kept k:
        at least as good as the k-th kept row's (ties too, unless the sort has one key: the
        exact sort of the kept rows and those candidates decides).  None while fewer than k
        rows are kept, or when the k-th key is null or NaN (sorted last: any row could place)."""
        operator = self.stage.operator
        assert isinstance(operator, TopK)
        final = operator.final
        count = final.args[3] if len(final.args) > 3 else None
        if self._key is None or not isinstance(count, PConst) or not isinstance(count.value, int):
            return None
        kept = elements(self.value)
        if count.value <= 0 or kept.length < count.value:
            return None
        keys = self._keys(kept, top, runtime)
        if keys is None or keys.null_count or (pa.types.is_floating(keys.type) and pc.any(pc.is_nan(keys)).as_py()):
            return None
        if self._key[1]:
            return ("greater" if self._strict else "greater_equal"), pc.min(keys)
        return ("less" if self._strict else "less_equal"), pc.max(keys)


class LimitKeeper(TopKKeeper):
    """A ``limit(n)`` stage: the first n rows, final once n are kept."""

    kind = "first n rows (final once n are kept)"

    def start(self, top: Frame, runtime: Runtime) -> None:
        Keeper.start(self, top, runtime)  # the kept rows alone: no bound

    def update(self, top: Frame, runtime: Runtime) -> None:
        operator = self.stage.operator
        assert isinstance(operator, Limit)
        if operator.count is not None:
            wanted = run(operator.count, Frame(1, dict(top.vars), budget=runtime.budget), runtime).to_arrow()[0].as_py()
            if wanted is not None and int(as_list(self.value).lengths()[0]) >= wanted:
                self.changed = False
                return  # the first n rows are found: new rows come after them
        self.changed = True
        candidates = self._new_rows(top, runtime)
        if candidates:
            self.value = self._final(top, runtime, candidates)


# -- the shape of the sort ---------------------------------------------------------------------


def primary_key(final: PCall) -> tuple[PLambda, bool] | None:
    """A top-k's first sort key that is not a constant, as a one-parameter function of the
    row, and whether it sorts descending; None when the key function has another shape."""
    found = _sort_keys(final)
    if found is None:
        return None
    fn, items, dirs = found
    for i, item in enumerate(items):
        if isinstance(item, PConst):
            continue  # a constant key orders nothing (the kernel skips it too)
        direction = dirs[i] if i < len(dirs) else "asc"
        if direction not in ("asc", "desc"):
            return None
        return replace(fn, body=item), direction == "desc"
    return None


def _sort_keys(final: PCall) -> tuple[PLambda, list[PNode], list] | None:
    """The key function of ``limit:sorted``, its key items and directions, or None."""
    if final.key != "limit:sorted" or len(final.args) < 4:
        return None
    fn, directions = final.args[1], final.args[2]
    if not isinstance(fn, PLambda) or len(fn.params) != 1:
        return None
    body = fn.body
    if not (isinstance(body, PCall) and body.key == "sort:keys"):
        return None
    dirs = _constant(directions)
    if isinstance(dirs, str):
        dirs = [dirs]
    if not isinstance(dirs, list):
        return None
    return fn, [a for a in body.args if a is not None], dirs


def _single_key(final: PCall) -> bool:
    """Whether the sort has one key that is not a constant: then a new row tied with the k-th
    kept row sorts after it (row order) and cannot place."""
    found = _sort_keys(final)
    return found is not None and sum(not isinstance(item, PConst) for item in found[1]) == 1


def _plain_column(fn: PLambda) -> str | None:
    """The column ``fn`` picks from its row (``r => r["latency"]``), else None."""
    body = fn.body
    if not (isinstance(body, PCall) and body.key == "getitem:pick" and len(body.args) == 2):
        return None
    row, name = body.args
    if not (isinstance(row, PVar) and row.name == fn.params[0]):
        return None
    return name.value if isinstance(name, PConst) and isinstance(name.value, str) else None


def _row_wise_chain(node: PNode) -> bool:
    """Whether ``node`` is the table's rows, through one-parameter filters only: its rows are
    the table's rows (same columns), and a subset of them gives the subset of its rows."""
    while isinstance(node, PCall) and node.key == "filter":
        if len(node.args) != 2 or not isinstance(node.args[1], PLambda) or len(node.args[1].params) != 1:
            return False
        node = node.args[0]
    if not (isinstance(node, PCall) and node.key == "rows" and len(node.args) == 1):
        return False
    root = node.args[0]
    return isinstance(root, PCall) and root.key == "stream_table"


def _constant(node: PNode | None) -> Any:
    """The value of a constant or of a list literal of constants (``["desc"]``), else None."""
    if isinstance(node, PConst):
        return node.value
    if isinstance(node, PCall) and node.key == "list" and all(isinstance(a, PConst) for a in node.args):
        return [a.value for a in node.args if isinstance(a, PConst)]
    return None


# -- statistics --------------------------------------------------------------------------------


def _sources_snapshot(runtime: Runtime, table: str) -> Snapshot | None:
    """The snapshot (a live update's: the new segments) the runtime reads ``table`` from, when
    its rows come from a :class:`~weave_lite.sources.TableSources`; else None."""
    snapshots = getattr(getattr(runtime.load_arrow, "__self__", None), "snapshots", None)
    snapshot = snapshots.get(table) if isinstance(snapshots, dict) else None
    return snapshot if isinstance(snapshot, Snapshot) else None


def _may_beat(snapshot: Snapshot, segment, column: str, bound: Any, descending: bool, strict: bool) -> bool:
    """Whether a row of ``segment`` may have a ``column`` value at least as good as ``bound``
    (better when ``strict``), by its statistics (NaN ignored: like nulls, it never beats)."""
    stats = segment.stats.get(column)
    index = segment.schema.get_field_index(column)
    if stats is None or index < 0:
        return True
    if stats.null_count >= segment.rows:
        return False  # nulls only: sorted last
    t = segment.schema.field(index).type
    if not t.equals(snapshot.schema.field(column).type) or stats.min is None or stats.max is None:
        return True
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_string(t)):
        return True
    if isinstance(bound, str) != isinstance(stats.max, str):
        return True
    if descending:
        return stats.max > bound if strict else stats.max >= bound
    return stats.min < bound if strict else stats.min <= bound
