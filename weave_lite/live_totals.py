"""Live queries whose polls skip the executor (see
:meth:`weave_lite.live.LiveQuery._update_totals`): a whole-table fused count or sum (Q1, Q4),
whose new segments' totals the scan kernel computes alone, and a whole-table count of a range
of literals (Q8), whose new segments' statistics decide it when they put every row inside the
range or none (else Arrow's comparisons over the new segment count it).

:class:`LiveTotal` keeps such a query's total as a plain Python number: a poll is the storage
poll, the new segments' totals and one addition; no runtime, executor, morsels or Vecs.  The
keeper's merged state takes the number back (:meth:`LiveTotal.sync`) only when a poll must
take the general path.  An integer sum that leaves the int64 range re-runs the query, so its
answer is the cold run's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

from weave_lite.compile.physical import Merge, chain_root
from weave_lite.compile.planner import PCall, PLambda, PNode, PVar
from weave_lite.compile.rewrites.fuse_scan import ScanProgram
from weave_lite.compile.rewrites.prune_segments import _conjuncts as conjuncts
from weave_lite.compile.rewrites.prune_segments import _predicate as predicate
from weave_lite.execute.ops.fused import SCAN_COLUMN_TYPES, ScanPieces, chunk_parts, scan_kernel_ready
from weave_lite.lazy import lazy_module
from weave_lite.storage.segments import SegmentInfo, may_match
from weave_lite.storage.table import Snapshot

pc = lazy_module("pyarrow.compute")


def fused_total(operator: Merge) -> tuple[ScanProgram | None, str]:
    """The scan program and reducer (``count``/``sum``) of a whole-table aggregate that is
    one fused count or sum of the stage's rows, its result the merged value itself (what
    :meth:`weave_lite.live.LiveQuery._update_totals` updates by the kernel alone); (None, "") otherwise."""
    partial = operator.partial
    if partial.group is not None or len(partial.leaves) != 1:
        return None, ""
    leaf = partial.leaves[0]
    node = leaf.node
    if node.key not in ("scan:count", "scan:sum") or leaf.partial.kind != "fold" or leaf.partial.merge_with != "sum":
        return None, ""
    if not (isinstance(operator.body, PVar) and operator.body.name == leaf.var):
        return None, ""
    rows = node.args[0]
    root = chain_root(rows) if isinstance(rows, PCall) else None
    if not (isinstance(rows, PCall) and rows.key == "rows" and root is rows.args[0] and root.key == "stream_table"):
        return None, ""
    program = dict(node.hints).get("scan")
    return (program, node.key.removeprefix("scan:")) if isinstance(program, ScanProgram) else (None, "")


def range_count(operator: Merge) -> tuple | None:
    """The predicates of a whole-table ``rows.filter(p).count`` whose ``p`` is exactly their
    conjunction (``row["c"] OP literal`` terms joined by ``&&``, as segment pruning reads
    them; Q8's time range), its result the merged count itself; else None."""
    partial = operator.partial
    if partial.group is not None or len(partial.leaves) != 1:
        return None
    leaf = partial.leaves[0]
    node = leaf.node
    if node.key != "count:where" or leaf.partial.kind != "fold" or leaf.partial.merge_with != "sum":
        return None
    if not (isinstance(operator.body, PVar) and operator.body.name == leaf.var):
        return None
    rows, fn = node.args[0], node.args[1]
    root = chain_root(rows) if isinstance(rows, PCall) else None
    if not (isinstance(rows, PCall) and rows.key == "rows" and root is rows.args[0] and root.key == "stream_table"):
        return None
    if not (isinstance(fn, PLambda) and len(fn.params) == 1):
        return None
    terms = conjuncts(fn.body)
    predicates = tuple(predicate(term, fn.params[0]) for term in terms)
    if not predicates or any(p is None for p in predicates):
        return None
    return predicates


def count_by_stats(snapshot: Snapshot, segment: SegmentInfo, predicates: tuple) -> int | None:
    """How many of ``segment``'s rows satisfy every ``(column, op, value)`` predicate, when
    its statistics decide it (all rows or none), else None.  Only exact statistics count:
    integer columns with integer literals, and time zone-aware timestamps of at most
    microsecond precision (what the statistics keep) with aware datetimes."""
    if not may_match(segment, predicates):
        return 0
    for column, op, value in predicates:
        stats = segment.stats.get(column)
        if stats is None or stats.null_count or stats.min is None or stats.max is None:
            return None
        if _exact(snapshot, segment, column, value) is None:
            return None
        lo, hi = stats.min, stats.max
        every = {"gt": lo > value, "ge": lo >= value, "lt": hi < value, "le": hi <= value, "eq": lo == hi == value}
        if not every[op]:
            return None
    return segment.rows


# -- the fast path's state ------------------------------------------------------------------------

# How each fast poll was answered (read by tests and benchmarks: proof of the path taken):
# ``kernel`` ran the scan kernel over new segments, ``stats`` decided a range count from the
# statistics alone, ``arrow`` counted an undecided range over the new segment, ``general``
# handed the poll to the executor's path, ``overflow`` re-ran the query (an int64 sum left the
# int64 range).
TOTALS_RUNS = {"kernel": 0, "stats": 0, "arrow": 0, "general": 0, "overflow": 0}

DONE, GENERAL, FULL_RERUN = "done", "general", "full"
_INT64 = (-(1 << 63), 1 << 63)


class LiveTotal:
    """A watched whole-table count or sum kept as a plain Python number between polls.

    A poll adds the new segments' totals (the scan kernel over their columns, or their
    statistics for a range count) to :attr:`value`; the keeper's :class:`MergedAggregate` is
    brought up to date (:meth:`sync`) only when the general path must run.  ``table`` is the
    table read, ``rows_read`` the rows the last :meth:`add` read."""

    def __init__(self, keeper: Any, value: int | float) -> None:
        self.keeper = keeper
        self.table: str = keeper.scan.table
        self.program: ScanProgram | None = keeper.program
        self.reducer: str = keeper.program_reducer
        self.predicates: tuple | None = keeper.predicates
        self.pruning: tuple = tuple(keeper.scan.predicates)  # the scan's own segment pruning
        self.pieces = ScanPieces(self.program) if self.program is not None else None
        self.value = value
        self.is_int = isinstance(value, int)
        self.pending = 0  # polls added since the MergedAggregate last held the value
        self.rows_read = 0
        self._ready = False  # whether the scan kernel is known to be compiled
        self._layout: tuple[pa.Schema, list[int]] | None = None  # the last schema's column indices

    def add(self, snapshot: Snapshot, appended: list[SegmentInfo]) -> str:
        """Add ``appended``'s total: DONE, GENERAL (nothing changed: the executor's path must
        read them) or FULL_RERUN (an integer sum left int64: the cold run's own answer)."""
        self.rows_read = 0
        if not appended:  # an empty commit
            return DONE
        delta: int | float | None
        if self.predicates is not None:
            delta = self._range_count(snapshot, appended)
        else:
            delta = self._scan(snapshot, appended)
        if delta is None:
            TOTALS_RUNS["general"] += 1
            return GENERAL
        total = self.value + delta
        if self.is_int and not (_INT64[0] <= total < _INT64[1]):
            TOTALS_RUNS["overflow"] += 1
            return FULL_RERUN
        self.value = total
        self.pending += 1
        return DONE

    def sync(self) -> bool:
        """Put :attr:`value` into the keeper's state (before the general path runs over it);
        False when the state cannot take it (the caller re-runs the query)."""
        if self.pending == 0:
            return True
        keeper = self.keeper
        if not keeper.state.set_total(self.value, self.pending):
            return False
        keeper.value = keeper.state.leaves[0].result
        self.pending = 0
        return True

    def _scan(self, snapshot: Snapshot, appended: list[SegmentInfo]) -> int | float | None:
        program, run = self.program, self.pieces
        assert program is not None and run is not None
        if not program.columns:  # a count of every row (no column read): the executor's path
            return None
        if not self._ready:  # (once compiled, the kernel stays so for the process)
            if not scan_kernel_ready(program, sum(s.rows for s in appended)):
                return None
            self._ready = True
        kinds = program.kinds
        count, ftotal, itotal = 0, 0.0, 0
        for segment in appended:
            if self.pruning and not may_match(segment, self.pruning):
                continue  # no row passes the filter (the executor skips it too)
            table = snapshot.table.read_segment(segment)
            picked = self._columns(snapshot, table)
            if picked is None:
                return None
            chunks = picked[0].num_chunks
            if any(c.num_chunks != chunks for c in picked):
                return None
            self.rows_read += table.num_rows
            for i in range(chunks):
                pieces = [c.chunk(i) for c in picked]
                n = len(pieces[0])
                if n == 0:
                    continue
                if any(len(p) != n for p in pieces):
                    return None
                c, ft, it, _, _, _ = run([chunk_parts(p, k) for p, k in zip(pieces, kinds)], 0, n)
                count += c
                ftotal += ft
                itotal += it
        TOTALS_RUNS["kernel"] += 1
        if self.reducer == "count":
            return count
        return itotal if program.value_int else ftotal

    def _columns(self, snapshot: Snapshot, table: pa.Table) -> list[pa.ChunkedArray] | None:
        """The program's columns of a new segment as the kernel reads them; a column the segment
        lacks, or holds as the null type (all null), is nulls of the table's type (what the
        executor's conformed read gives).  None when a column has another type."""
        program = self.program
        assert program is not None
        picked: list[pa.ChunkedArray | None] = []
        for index, name, kind in zip(self._indices(table.schema), program.columns, program.kinds):
            column = table.column(index) if index >= 0 else None
            if column is not None and column.type == SCAN_COLUMN_TYPES[kind]:
                picked.append(column)
                continue
            field = snapshot.schema.get_field_index(name)
            if column is not None and column.type != pa.null():
                return None
            if field < 0 or not snapshot.schema.field(field).type.equals(SCAN_COLUMN_TYPES[kind]):
                return None
            picked.append(None)
        if all(c is not None for c in picked):
            return picked
        layout = next((c for c in picked if c is not None), None)
        lengths = [len(chunk) for chunk in layout.chunks] if layout is not None else [table.num_rows]
        return [
            c if c is not None else pa.chunked_array([pa.nulls(n, SCAN_COLUMN_TYPES[k]) for n in lengths])
            for c, k in zip(picked, program.kinds)
        ]

    def _indices(self, schema: pa.Schema) -> list[int]:
        """The program's columns' indices in ``schema`` (-1: missing), kept for the next
        segment of the same schema."""
        layout = self._layout
        if layout is not None and layout[0].equals(schema):
            return layout[1]
        assert self.program is not None
        indices = [schema.get_field_index(name) for name in self.program.columns]
        self._layout = (schema, indices)
        return indices

    def _range_count(self, snapshot: Snapshot, appended: list[SegmentInfo]) -> int | None:
        predicates = self.predicates
        assert predicates is not None
        total, read = 0, False
        for segment in appended:
            counted = count_by_stats(snapshot, segment, predicates)
            if counted is None:
                counted = _count_in(snapshot, segment, predicates)
                if counted is None:
                    return None
                self.rows_read += segment.rows
                read = True
            total += counted
        TOTALS_RUNS["arrow" if read else "stats"] += 1
        return total


def live_total(keepers: list, shell: PNode) -> LiveTotal | None:
    """The fast path's state of a plan that is one whole-table fused count or sum, or one range
    count, as its result (its keeper's state holding the total as one plain number); else None."""
    if len(keepers) != 1 or not isinstance(shell, PVar):
        return None
    keeper = keepers[0]
    if getattr(keeper, "program", None) is None and getattr(keeper, "predicates", None) is None:
        return None
    value = keeper.state.total()
    if value is None:
        return None
    program = keeper.program
    if program is not None and (keeper.program_reducer == "count" or program.value_int) != isinstance(value, int):
        return None
    return LiveTotal(keeper, value)


def _exact(snapshot: Snapshot, segment: SegmentInfo, column: str, value: Any) -> pa.DataType | None:
    """The segment column's type when ``column OP value`` compares exactly as the engine does
    (integer columns with integer literals, aware timestamps of at most microsecond precision
    with aware datetimes) and the column has the table's type; else None."""
    index = segment.schema.get_field_index(column)
    if index < 0:
        return None
    t = segment.schema.field(index).type
    kept = snapshot.schema.get_field_index(column)
    if kept < 0 or not snapshot.schema.field(kept).type.equals(t):
        return None
    if pa.types.is_timestamp(t):
        aware = isinstance(value, datetime) and value.tzinfo is not None
        return t if aware and t.tz is not None and t.unit in ("s", "ms", "us") else None
    if pa.types.is_integer(t) and t != pa.uint64() and isinstance(value, int) and not isinstance(value, bool):
        return t
    return None


_ARROW_OPS = {"gt": "greater", "ge": "greater_equal", "lt": "less", "le": "less_equal", "eq": "equal"}


def _comparable(snapshot: Snapshot, segment: SegmentInfo, column: str, value: Any) -> pa.DataType | None:
    """The segment column's type when Arrow's ``column OP value`` agrees with the engine's:
    :func:`_exact`'s cases, float columns with a number (a NaN value compares false in both; a
    NaN literal is refused), string columns with a string and booleans with a boolean."""
    t = _exact(snapshot, segment, column, value)
    if t is not None:
        return t
    index = segment.schema.get_field_index(column)
    if index < 0:
        return None
    t = segment.schema.field(index).type
    if not snapshot.schema.field(column).type.equals(t):
        return None
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    if pa.types.is_floating(t) and number and abs(value) < 2**53:
        return t
    if (pa.types.is_string(t) or pa.types.is_large_string(t)) and isinstance(value, str):
        return t
    if pa.types.is_boolean(t) and isinstance(value, bool):
        return t
    return None


def _count_in(snapshot: Snapshot, segment: SegmentInfo, predicates: tuple) -> int | None:
    """How many of ``segment``'s rows satisfy every predicate, by Arrow's comparisons over its
    columns (a null compares to nothing, as in the engine); None when a comparison is not exact."""
    types = []
    for column, _, value in predicates:
        index = segment.schema.get_field_index(column)
        if index < 0 or segment.schema.field(index).type == pa.null():
            return 0  # all null here: a null compares to nothing
        t = _comparable(snapshot, segment, column, value)
        if t is None:
            return None
        types.append(t)
    table = snapshot.table.read_segment(segment)
    mask = None
    try:
        for (column, op, value), t in zip(predicates, types):
            data = table.column(column)
            if pa.types.is_timestamp(t):  # compared in microseconds: exact for s, ms and us
                us = pa.timestamp("us", tz=t.tz)
                data, literal = data.cast(us), pa.scalar(value, type=us)
            elif pa.types.is_floating(t):
                literal = pa.scalar(float(value), type=pa.float64())
            elif pa.types.is_integer(t):
                literal = pa.scalar(value, type=pa.int64())
            else:  # a string or a boolean
                literal = pa.scalar(value, type=t)
            term = pc.call_function(_ARROW_OPS[op], [data, literal])
            mask = term if mask is None else pc.and_kleene(mask, term)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError, TypeError):
        return None
    assert mask is not None
    return int(pc.sum(mask).as_py() or 0)
