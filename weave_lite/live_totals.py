"""The shapes of live queries whose polls skip the executor (see
:meth:`weave_lite.live.LiveQuery._update_totals`): a whole-table fused count or sum (Q1, Q4),
whose new segments' totals the scan kernel computes alone, and a whole-table count of a range
of literals (Q8), whose new segments' statistics decide it when they put every row inside the
range or none.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from weave_lite.compile.physical import Merge, chain_root
from weave_lite.compile.planner import PCall, PLambda, PVar
from weave_lite.compile.rewrites.fuse_scan import ScanProgram
from weave_lite.compile.rewrites.prune_segments import _conjuncts as conjuncts
from weave_lite.compile.rewrites.prune_segments import _predicate as predicate
from weave_lite.storage.segments import SegmentInfo, may_match
from weave_lite.storage.table import Snapshot


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
        index = segment.schema.get_field_index(column)
        if stats is None or index < 0 or stats.null_count or stats.min is None or stats.max is None:
            return None
        t = segment.schema.field(index).type
        if not snapshot.schema.field(column).type.equals(t):
            return None
        if pa.types.is_timestamp(t):
            exact = t.tz is not None and t.unit in ("s", "ms", "us") and isinstance(value, datetime)
            exact = exact and value.tzinfo is not None
        else:
            exact = pa.types.is_integer(t) and isinstance(value, int) and not isinstance(value, bool)
        if not exact:
            return None
        lo, hi = stats.min, stats.max
        every = {"gt": lo > value, "ge": lo >= value, "lt": hi < value, "le": hi <= value, "eq": lo == hi == value}
        if not every[op]:
            return None
    return segment.rows
