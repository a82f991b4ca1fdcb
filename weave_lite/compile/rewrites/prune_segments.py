"""Predicate pushdown into the scan: skip segments a filter excludes, from commit statistics.

``stream_table(t).rows.filter(row => row["timestamp"] >= A && row["latency"] > 100 && ...)``:
every conjunct comparing a column with a literal becomes a predicate handed to the table's
scan, which drops the segments whose recorded min/max (or all-null column) prove that no row
can match. The filter itself still runs on what is read, so results never change; only the
segments read do (a time-range query reads only the segments of that time range).

Predicates are plain tuples ``(column, op, value)``, ``op`` one of ``gt ge lt le eq``; the
storage layer applies them (:meth:`weave_lite.storage.table.Snapshot.prune`,
:func:`weave_lite.storage.segments.may_match`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from weave_lite.compile.planner import PCall, PConst, PLambda, PNode, PVar

_FLIP = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq"}


def prune_segments(node: PNode) -> PNode:
    if not (isinstance(node, PCall) and node.key == "filter" and node.map_depth == 0):
        return node
    source, fn = node.args[0], node.args[1]
    if not (isinstance(source, PCall) and source.key == "rows" and isinstance(fn, PLambda) and fn.params):
        return node
    root = source.args[0]
    # A stream table prunes segments; a dataset passed as `table(...)` prunes its fragments.
    if not (isinstance(root, PCall) and root.key in ("stream_table", "table") and len(root.args) == 1):
        return node
    predicates = tuple(p for p in (_predicate(term, fn.params[0]) for term in _conjuncts(fn.body)) if p)
    if not predicates:
        return node
    pruned_root = replace(root, hints=(*root.hints, ("predicates", predicates)))
    return replace(node, args=(replace(source, args=(pruned_root,)), fn))


def _conjuncts(node: PNode) -> list[PNode]:
    if isinstance(node, PCall) and node.key == "and" and node.map_depth == 0:
        return _conjuncts(node.args[0]) + _conjuncts(node.args[1])
    return [node]


def _predicate(term: PNode, param: str) -> tuple[str, str, Any] | None:
    """``(column, op, value)`` for ``row["col"] OP literal`` (either side), else None."""
    if not (isinstance(term, PCall) and term.key in _FLIP and term.map_depth == 0):
        return None
    left, right = term.args
    op = term.key
    if isinstance(left, PConst):
        left, right, op = right, left, _FLIP[op]
    column = _column(left, param)
    if column is None or not isinstance(right, PConst) or right.value is None:
        return None  # `row["c"] == null` is true on null values (SPEC 3): nothing to prune by
    return (column, op, right.value)


def _column(node: PNode, param: str) -> str | None:
    if (
        isinstance(node, PCall)
        and node.key == "getitem:pick"
        and node.map_depth == 0
        and isinstance(node.args[0], PVar)
        and node.args[0].name == param
        and isinstance(node.args[1], PConst)
        and isinstance(node.args[1].value, str)
    ):
        return node.args[1].value
    return None
