"""Physical planning: which parts of a plan run morsel by morsel, in parallel, and how.

A table is split into *morsels* (runs of whole segments, about a million rows each).  The parts
of a plan that read a table row by row can run on each morsel on its own, on any thread (or in
another process), and their results merge at the end.  The physical planner replaces each such
top-level node by a :class:`PStage` holding a typed physical operator:

* :class:`Concat` - a row-wise chain (``rows``, ``filter``, ``map``, picking and other ops
  mapped over each row: the specs' ``evaluation``) gives the morsels' results one after the
  other;
* :class:`Merge` of a :class:`PartialAggregate` - a reducer of such a chain (``count``,
  ``sum``, ``avg``, ``quantile``...), or the hash-aggregate idiom
  ``chain.groupby(k).map(g => {key: g.groupkey, n: g.count, ...})``: each morsel keeps a
  *partial* per group and leaf (its spec's :class:`~weave_lite.graph.registry.Partial`, see
  :mod:`weave_lite.execute.partials`), which merge exactly, so memory stays bounded by the
  morsels in flight;
* :class:`TopK` - ``chain.sort(f).limit(n)`` keeps each morsel's first n, then sorts those;
* :class:`Limit` - ``chain.limit(n)`` reads morsels in order only until it has n rows.

Each operator reads its table through a :class:`Scan` (the table, and the predicates that
prune its segments) and runs a :class:`MorselPipeline` (the plan each morsel runs).  Only the
top level is split: a lambda's body runs per element.  Morsel boundaries never depend on the
number of threads, and partials merge in morsel order, so results are the same with any number
of threads.  Operators are plain data (picklable), so another process can run one morsel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import cast

from weave_lite.compile.planner import PCall, PConst, PLambda, PNode, PVar
from weave_lite.graph import registry
from weave_lite.graph.nodes import Node
from weave_lite.graph.registry import Partial
from weave_lite.graph.types import WType

# The variable standing for a group's key in a grouped aggregate's body.
KEY_VAR = "__groupkey"
# The variable holding the morsels' candidate rows in a TopK/Limit's final step.
CANDIDATES_VAR = "__candidates"
TABLE_ROOTS = ("stream_table", "table")


@dataclass(frozen=True)
class Scan:
    """Reads one table, cut into morsels: ``op`` is its root (``stream_table`` or ``table``),
    ``predicates`` the ``(column, op, value)`` terms whose segment statistics prune it,
    ``columns`` the only columns read (None: all; see the ``project_columns`` rewrite)."""

    op: str
    table: str
    predicates: tuple = ()
    columns: tuple[str, ...] | None = None

    def __str__(self) -> str:
        pruned = f" predicates={self.predicates!r}" if self.predicates else ""
        projected = f" columns={list(self.columns)!r}" if self.columns is not None else ""
        return f"Scan {self.op}({self.table!r}){pruned}{projected}"


@dataclass(frozen=True, eq=False)
class MorselPipeline:
    """The plan ``node`` each morsel of ``scan`` runs on its own (its table root reads the
    morsel)."""

    scan: Scan
    node: PCall


@dataclass(frozen=True, eq=False)
class Leaf:
    """One aggregate of a group (or of the whole chain): ``node`` is the reducer call whose
    first argument is the list; ``partial`` (from its spec) says how per-morsel results merge;
    ``var`` stands for its merged result in :attr:`Merge.body`."""

    node: PCall
    partial: Partial
    var: str


@dataclass(frozen=True, eq=False)
class PartialAggregate:
    """Per morsel: group its rows by ``group`` (the ``groupby`` node, binding each group to
    ``param``; None for one whole-table group) and compute each leaf's partial."""

    scan: Scan
    group: PCall | None
    param: str | None
    leaves: tuple[Leaf, ...]
    uses_clock: bool = False  # reads now(): partials depend on the time of the run


@dataclass(frozen=True, eq=False)
class Merge:
    """The aggregate from the morsels' partials, merged in morsel order; ``body`` computes the
    result (per group, a list of them when grouped) from the leaves' variables."""

    partial: PartialAggregate
    body: PNode

    @property
    def scan(self) -> Scan:
        return self.partial.scan

    def summary(self) -> str:
        leaves = self.partial.leaves
        return f"aggregate, {len(leaves)} partial(s): {', '.join(f'{leaf.node.op}:{leaf.partial.kind}' for leaf in leaves)}"


@dataclass(frozen=True, eq=False)
class Concat:
    """The morsels' lists one after the other."""

    pipeline: MorselPipeline

    @property
    def scan(self) -> Scan:
        return self.pipeline.scan

    def summary(self) -> str:
        return "concat"


@dataclass(frozen=True, eq=False)
class TopK:
    """Each morsel's first n in sorted order, then ``final`` (the same op) over those
    candidates, in morsel order so that ties keep row order."""

    pipeline: MorselPipeline
    final: PCall

    @property
    def scan(self) -> Scan:
        return self.pipeline.scan

    def summary(self) -> str:
        return "topk"


@dataclass(frozen=True, eq=False)
class Limit:
    """Morsels read in order, a wave of threads at a time, until ``count`` rows are found;
    then ``final`` (the same op) over them."""

    pipeline: MorselPipeline
    count: PNode | None
    final: PCall

    @property
    def scan(self) -> Scan:
        return self.pipeline.scan

    def summary(self) -> str:
        return "limit"


Operator = Concat | Merge | TopK | Limit


@dataclass(eq=False)
class PStage(PNode):
    """A physical operator in the top-level plan, computing what ``logical`` computes (which
    also runs it when the table is a single morsel)."""

    operator: Operator
    logical: PCall
    type: WType
    source: Node


def parallelize(plan: PNode) -> PNode:
    """The plan with its top-level morsel-friendly nodes replaced by :class:`PStage` nodes
    (see the module docstring)."""
    return _visit(plan, {})


def _visit(node: PNode, done: dict[int, PNode]) -> PNode:
    if not isinstance(node, PCall):
        return node  # lambdas run per element: never split inside them
    if id(node) in done:
        return done[id(node)]
    operator = _operator_for(node)
    if operator is not None:
        out: PNode = PStage(operator, node, node.type, node.source)
    else:
        args = tuple(_visit(a, done) if isinstance(a, PCall) else a for a in node.args)
        out = node if all(a is b for a, b in zip(args, node.args)) else replace(node, args=args)
    done[id(node)] = out
    return out


def _operator_for(node: PCall) -> Operator | None:
    if node.map_depth != 0:
        return None
    if node.key == "map":
        grouped = _grouped_aggregate(node)
        if grouped is not None:
            return grouped
    if node.key in ("limit:sorted", "limit"):
        root = chain_root(node.args[0])
        if root is not None and all(_free_of_tables(a) for a in node.args[1:]):
            pipeline = MorselPipeline(_scan(root), node)
            candidates = PVar(CANDIDATES_VAR, node.args[0].type, node.source)
            final = replace(node, args=(candidates, *node.args[1:]))
            if node.key == "limit:sorted":
                return TopK(pipeline, final)
            return Limit(pipeline, node.args[1], final)
    leaf = _leaf(node, chain_root, var="__agg0")
    if leaf is not None:
        root = chain_root(node.args[0])
        assert root is not None  # _leaf accepted the chain under the first argument
        aggregate = PartialAggregate(_scan(root), None, None, (leaf,), mentions(node, "now"))
        return Merge(aggregate, PVar(leaf.var, node.type, node.source))
    root = chain_root(node)
    if root is not None and _does_work(node):
        return Concat(MorselPipeline(_scan(root), node))
    return None


def _scan(root: PCall) -> Scan:
    table = root.args[0]
    assert isinstance(table, PConst)  # chain_root returns only roots over a table name literal
    hints = dict(root.hints)
    columns = cast("tuple[str, ...] | None", hints.get("columns"))
    return Scan(root.key, table.value, cast(tuple, hints.get("predicates", ())), columns)


def chain_root(node: PNode) -> PCall | None:
    """The table root under a row-wise chain ``root.rows()...``, else None."""
    while isinstance(node, PCall):
        if node.key == "rows" and node.map_depth == 0:
            root = node.args[0]
            if isinstance(root, PCall) and root.key in TABLE_ROOTS and root.map_depth == 0:
                return root if isinstance(root.args[0], PConst) else None
            return None
        if not _row_wise(node):
            return None
        node = node.args[0]
    return None


def _row_wise(node: PCall, forbidden: frozenset[str] = frozenset()) -> bool:
    """Whether ``node`` maps each element of its first argument on its own (its other
    arguments read no table and none of the ``forbidden`` variables)."""
    if not (
        (node.map_depth == 0 and registry.spec(node.key).row_wise) or (node.map_depth == 1 and node.mapped == (0,))
    ):
        return False
    return all(_independent(a, forbidden) for a in node.args[1:])


def _independent(node: PNode | None, forbidden: frozenset[str]) -> bool:
    """Whether argument ``node`` gives the same per element in a morsel as in the whole list:
    it reads no table, no ``forbidden`` name, and is no function of the element's index."""
    if isinstance(node, PLambda) and len(node.params) > 1:
        return False
    return _free_of_tables(node) and not (_free_vars(node) & forbidden)


def _does_work(node: PNode) -> bool:
    """A chain doing more than reading (``rows`` alone, or picking a column, costs nothing)."""
    while isinstance(node, PCall) and node.key != "rows":
        if node.key != "getitem:pick":
            return True
        node = node.args[0]
    return False


def _leaf(node: PCall, list_root, forbidden: frozenset[str] = frozenset(), var: str = "") -> Leaf | None:
    """``node`` as an aggregate of the list in its first argument, if its spec says how it
    merges, ``list_root`` accepts that list (a chain, or a group's list) and its other
    arguments use no ``forbidden`` name."""
    if node.map_depth != 0 or not node.args or not registry.spec(node.key).mergeable:
        return None
    if list_root(node.args[0]) is None or not all(_independent(a, forbidden) for a in node.args[1:]):
        return None
    partial = registry.spec(node.key).partial
    assert partial is not None
    return Leaf(node, partial, var)


def _grouped_aggregate(node: PCall) -> Merge | None:
    """``chain.groupby(k).map(g => body)`` where ``body`` uses ``g`` only through
    ``g.groupkey`` and aggregates of lists derived row-wise from ``g``."""
    groups, fn = node.args[0], node.args[1]
    if not (isinstance(groups, PCall) and groups.key == "groupby" and groups.map_depth == 0):
        return None
    if not isinstance(fn, PLambda) or len(fn.params) != 1:
        return None
    root = chain_root(groups.args[0])
    if root is None or not _free_of_tables(groups.args[1]) or not _free_of_tables(fn.body):
        return None
    param = fn.params[0]
    leaves: list[Leaf] = []

    def group_list(n: PNode, forbidden: frozenset[str]):
        """``n`` if it is ``g`` or a row-wise chain over ``g``, else None."""
        while isinstance(n, PCall):
            if not _row_wise(n, forbidden):
                return None
            n = n.args[0]
        return n if isinstance(n, PVar) and n.name == param else None

    def rewrite(n: PNode, bound: frozenset[str]) -> PNode | None:
        """``n`` with its aggregates of ``g`` replaced by variables; None if ``n`` uses ``g``
        otherwise.  ``bound`` holds the parameters of the lambdas around ``n``."""
        if isinstance(n, PVar):
            return None if n.name == param else n  # g used other than through an aggregate
        if isinstance(n, PConst):
            return n
        if isinstance(n, PLambda):
            if param in n.params:  # shadows g
                return n
            body = rewrite(n.body, bound | set(n.params))
            return None if body is None else replace(n, body=body)
        if isinstance(n, PCall):
            if n.key == "groupkey" and n.map_depth == 0 and isinstance(n.args[0], PVar) and n.args[0].name == param:
                return PVar(KEY_VAR, n.type, n.source)
            forbidden = bound | {param}
            leaf = _leaf(n, lambda xs: group_list(xs, forbidden), forbidden, var=f"__agg{len(leaves)}")
            if leaf is not None:
                for known in leaves:  # the same aggregate twice (after CSE): one partial
                    if known.node is n:
                        return PVar(known.var, n.type, n.source)
                leaves.append(leaf)
                return PVar(leaf.var, n.type, n.source)
            args = []
            for a in n.args:
                r = None if a is None else rewrite(a, bound)
                if a is not None and r is None:
                    return None
                args.append(r)
            return replace(n, args=tuple(args))
        return None

    body = rewrite(fn.body, frozenset())
    if body is None:
        return None
    aggregate = PartialAggregate(_scan(root), groups, param, tuple(leaves), mentions(node, "now"))
    return Merge(aggregate, body)


def mentions(node: PNode | None, key: str) -> bool:
    """Whether ``node`` (or a lambda inside it) calls the op ``key``."""
    if isinstance(node, PCall):
        return node.key == key or any(mentions(a, key) for a in node.args)
    if isinstance(node, PLambda):
        return mentions(node.body, key)
    return False


def _free_vars(node: PNode | None, bound: frozenset[str] = frozenset()) -> set[str]:
    if node is None or isinstance(node, PConst):
        return set()
    if isinstance(node, PVar):
        return set() if node.name in bound else {node.name}
    if isinstance(node, PLambda):
        return _free_vars(node.body, bound | set(node.params))
    if isinstance(node, PCall):
        out: set[str] = set()
        for a in node.args:
            out |= _free_vars(a, bound)
        return out
    return set()


def _free_of_tables(node: PNode | None) -> bool:
    """Whether ``node`` reads no table (so it costs the same in every morsel)."""
    if node is None or isinstance(node, (PConst, PVar)):
        return True
    if isinstance(node, PLambda):
        return _free_of_tables(node.body)
    if isinstance(node, PCall):
        return node.key not in TABLE_ROOTS and all(_free_of_tables(a) for a in node.args)
    return True
