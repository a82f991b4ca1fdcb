"""Projection pushdown: a ``table(name)`` scan reads only the columns the expression uses.

A dataset passed in ``tables=`` (Parquet, Lance, Delta...) is read when the expression runs;
reading a column the expression never looks at costs I/O and decoding.  This whole-plan rule
finds, per table, the columns picked from its rows and hands them to the scan as the hint
``("columns", (...))`` (:meth:`weave_lite.sources.TableSources.load_arrow` reads only those).

The analysis follows the table's *row type*: any value whose type contains it may carry whole
rows.  Such a value may only be consumed by an op that keeps it row-carrying (``filter``,
``sort``, ``limit``, ``groupby``... whose results are checked in turn), counts it, or picks one
top-level column by a literal name (``row["latency"]``, ``g["latency"]``, ``rows["latency"]``).
Any other use (the rows returned, a row passed to a dict op, a pick by a computed or dotted
key, a lambda returning the row) keeps every column, so the rule never changes results.
"""

from __future__ import annotations

from dataclasses import replace

from weave_lite.compile.planner import PCall, PConst, PLambda, PNode, PVar
from weave_lite.graph.types import DictT, ListT, TableT, UnionT, WType

# Ops whose first argument may carry rows: their result is checked by its own type.
_PASS_THROUGH = frozenset(
    {
        "rows",
        "filter",
        "count:where",
        "scan:count",
        "scan:sum",
        "scan:avg",
        "scan:min",
        "scan:max",
        "sort",
        "limit",
        "limit:sorted",
        "groupby",
        "map",
        "count",
        "groupkey",
        "offset",
        "first",
        "last",
        "index",
    }
)
_PICKS = frozenset({"getitem:pick", "pick"})


def project_columns(plan: PNode) -> PNode:
    """Put ``("columns", ...)`` on each ``table(name)`` root whose uses are all known."""
    roots: dict[str, list[PCall]] = {}
    _find_roots(plan, roots, set())
    if not roots:
        return plan
    columns: dict[str, tuple[str, ...]] = {}
    for name, nodes in roots.items():
        row = nodes[0].type.row if isinstance(nodes[0].type, TableT) else None
        if row is None or any(n.type != nodes[0].type for n in nodes):
            continue
        used = _used_columns(plan, row)
        if used is not None and len(used) < len(row.fields):
            columns[name] = tuple(c for c in row.names if c in used)  # in schema order
    if not columns:
        return plan
    return _annotate(plan, columns, {})


def _table_name(node: PNode) -> str | None:
    if (
        isinstance(node, PCall)
        and node.key == "table"
        and node.map_depth == 0
        and len(node.args) == 1
        and isinstance(node.args[0], PConst)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _children(node: PNode) -> tuple[PNode, ...]:
    if isinstance(node, PCall):
        return tuple(a for a in node.args if a is not None)
    if isinstance(node, PLambda):
        return (node.body,)
    return ()


def _find_roots(node: PNode, out: dict[str, list[PCall]], seen: set[int]) -> None:
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        name = _table_name(n)
        if name is not None:
            assert isinstance(n, PCall)
            out.setdefault(name, []).append(n)
        stack.extend(_children(n))


def _carries(t: WType, row: DictT) -> bool:
    """Whether a value of type ``t`` may hold whole rows of type ``row``."""
    stack = [t]
    while stack:
        t = stack.pop()
        if t == row:
            return True
        if isinstance(t, TableT):
            stack.append(t.row)
        elif isinstance(t, ListT):
            stack.append(t.elem)
            if t.key is not None:
                stack.append(t.key)
        elif isinstance(t, DictT):
            stack.extend(ft for _, ft in t.fields)
        elif isinstance(t, UnionT):
            stack.extend(t.members)
    return False


def _used_columns(plan: PNode, row: DictT) -> set[str] | None:
    """The columns of ``row`` the plan reads, or None when rows escape (every column kept)."""
    if _carries(plan.type, row):
        return None  # the result itself holds rows
    used: set[str] = set()
    seen: set[int] = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for position, child in enumerate(_children(node)):
            if not isinstance(child, (PCall, PVar)) or not _carries(child.type, row):
                continue
            if not isinstance(node, PCall) or position != 0:
                return None  # rows handed to a lambda's result, or as another argument
            if node.key in _PICKS:
                key = node.args[1] if len(node.args) > 1 else None
                if not (isinstance(key, PConst) and isinstance(key.value, str) and key.value in row.names):
                    return None
                used.add(key.value)
            elif node.key not in _PASS_THROUGH:
                return None
        stack.extend(_children(node))
    return used


def _annotate(node: PNode, columns: dict[str, tuple[str, ...]], memo: dict[int, PNode]) -> PNode:
    """The plan with the hint on every root of ``columns`` (shared nodes stay shared)."""
    done = memo.get(id(node))
    if done is not None:
        return done
    out = node
    if isinstance(node, PLambda):
        body = _annotate(node.body, columns, memo)
        out = node if body is node.body else replace(node, body=body)
    elif isinstance(node, PCall):
        name = _table_name(node)
        if name is not None and name in columns:
            out = replace(node, hints=(*node.hints, ("columns", columns[name])))
        else:
            args = tuple(None if a is None else _annotate(a, columns, memo) for a in node.args)
            if any(a is not b for a, b in zip(args, node.args)):
                out = replace(node, args=args)
    memo[id(node)] = out
    return out
