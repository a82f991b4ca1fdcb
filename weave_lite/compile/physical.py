"""Physical planning: which parts of a plan run morsel by morsel, in parallel.

A table is split into *morsels* (runs of whole segments, about a million rows each).  The parts
of a plan that read a table row by row can run on each morsel on its own, on any thread, and
their results merge at the end:

* ``concat``: a row-wise chain (``rows``, ``filter``, ``map``, picking and other ops mapped
  over each row) gives the morsels' results one after the other;
* ``aggregate``: a reducer of such a chain (``count``, ``sum``, ``avg``, ``quantile``...), or
  the hash-aggregate idiom ``chain.groupby(k).map(g => {key: g.groupkey, n: g.count, ...})``,
  keeps a *partial* per morsel (and group) that merges exactly (see
  :mod:`weave_lite.execute.partials`), so memory stays bounded by the morsels in flight;
* ``topk``: ``chain.sort(f).limit(n)`` keeps each morsel's first n, then sorts those;
* ``limit``: ``chain.limit(n)`` reads morsels in order only until it has n rows.

This pass marks such nodes (only at the top level: a lambda's body runs per element) by
wrapping them in a ``morsels`` call that carries a :class:`MorselSpec`.  Morsel boundaries
never depend on the number of threads, and partials merge in morsel order, so results are the
same with any number of threads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from weave_lite.compile.planner import PCall, PConst, PLambda, PNode, PVar

# Ops that act on each element of a list on its own, keeping list order (map_depth 0).
_ROW_WISE = {"filter", "map", "dropna"}
# Reducer partials that merge by applying another reducer to the partial results.
_FOLDS = {"count": "sum", "count:where": "sum", "sum": "sum", "min": "min", "max": "max"}
_MOMENTS = {"avg", "variance", "stddev"}
# Reducers merged exactly from all the values of each list, gathered across morsels.
_EXACT = {"median", "quantile", "mode", "argmax", "argmin"}
# Physical op keys.
MORSELS = "morsels"
KEY_VAR = "__groupkey"


@dataclass(frozen=True, eq=False)
class Leaf:
    """One aggregate of a group (or of the whole chain): ``node`` is the reducer call whose
    first argument is the list; ``partial`` says how per-morsel results merge."""

    node: PCall
    partial: str  # "fold" | "moments" | "distinct" | "values"
    merge_key: str | None = None  # for "fold": the reducer that merges the partials
    var: str = ""  # the variable standing for its result in MorselSpec.body


@dataclass(frozen=True, eq=False)
class MorselSpec:
    kind: str  # "concat" | "aggregate" | "topk" | "limit"
    node: PCall  # the node each morsel runs (for "aggregate": the groupby, or None)
    root: PCall  # the table root split into morsels
    leaves: tuple[Leaf, ...] = ()
    param: str | None = None  # the group parameter of a grouped aggregate
    body: PNode | None = None  # the per-group (or whole) result from the leaves' variables
    group_node: PCall | None = None
    uses_clock: bool = False  # reads now(): partials depend on the time of the run

    def __repr__(self) -> str:  # shown by explain()
        extra = f", {len(self.leaves)} partial(s): {', '.join(f'{l.node.op}:{l.partial}' for l in self.leaves)}" if self.leaves else ""
        return f"{self.kind}{extra}"


def parallelize(plan: PNode) -> PNode:
    """Wrap the plan's top-level morsel-friendly nodes (see the module docstring)."""
    return _visit(plan, {})


def _visit(node: PNode, done: dict[int, PNode]) -> PNode:
    if not isinstance(node, PCall):
        return node  # lambdas run per element: never split inside them
    if id(node) in done:
        return done[id(node)]
    spec = _spec_for(node)
    if spec is not None:
        out: PNode = _wrap(node, spec)
    else:
        args = tuple(_visit(a, done) if isinstance(a, PCall) else a for a in node.args)
        out = node if all(a is b for a, b in zip(args, node.args)) else replace(node, args=args)
    done[id(node)] = out
    return out


def _wrap(node: PCall, spec: MorselSpec) -> PCall:
    spec = replace(spec, uses_clock=_mentions(node, "now"))
    # The wrapped node travels as a lambda of no parameters, so the executor hands it over
    # unevaluated, closed over the top-level frame.
    body = PLambda((), (), node, node.type, node.source)
    return PCall(node.op, MORSELS, (body,), node.type, node.source, hints=(("morsels", spec),))


def _spec_for(node: PCall) -> MorselSpec | None:
    if node.map_depth != 0:
        return None
    if node.key == "map":
        grouped = _grouped_aggregate(node)
        if grouped is not None:
            return grouped
    if node.key == "limit:sorted" or node.key == "limit":
        root = chain_root(node.args[0])
        if root is not None and all(_free_of_tables(a) for a in node.args[1:]):
            return MorselSpec("topk" if node.key == "limit:sorted" else "limit", node, root)
    leaf = _leaf(node, chain_root)
    if leaf is not None:
        root = chain_root(node.args[0])
        return MorselSpec("aggregate", node, root, (replace(leaf, var="__agg0"),), body=PVar("__agg0", node.type, node.source))
    root = chain_root(node)
    if root is not None and _does_work(node):
        return MorselSpec("concat", node, root)
    return None


def chain_root(node: PNode) -> PCall | None:
    """The table root under a row-wise chain ``root.rows()...``, else None."""
    while isinstance(node, PCall):
        if node.key == "rows" and node.map_depth == 0:
            root = node.args[0]
            if isinstance(root, PCall) and root.key in ("stream_table", "table") and root.map_depth == 0:
                return root if isinstance(root.args[0], PConst) else None
            return None
        if not _row_wise(node):
            return None
        node = node.args[0]
    return None


def _row_wise(node: PCall, forbidden: frozenset[str] = frozenset()) -> bool:
    """Whether ``node`` maps each element of its first argument on its own (its other
    arguments read no table and none of the ``forbidden`` variables)."""
    if not ((node.key in _ROW_WISE and node.map_depth == 0) or (node.map_depth == 1 and node.mapped == (0,))):
        return False
    return all(_independent(a, forbidden) for a in node.args[1:])


def _independent(node: PNode | None, forbidden: frozenset[str]) -> bool:
    """Whether argument ``node`` gives the same per element in a morsel as in the whole list:
    it reads no table, no ``forbidden`` name, and is no function of the element's index."""
    if isinstance(node, PLambda) and len(node.params) > 1:
        return False
    return _free_of_tables(node) and not (_free_vars(node) & forbidden)


def _does_work(node: PCall) -> bool:
    """A chain doing more than reading (``rows`` alone, or picking a column, costs nothing)."""
    while isinstance(node, PCall) and node.key != "rows":
        if node.key != "getitem:pick":
            return True
        node = node.args[0]
    return False


def _leaf(node: PCall, list_root, forbidden: frozenset[str] = frozenset()) -> Leaf | None:
    """``node`` as an aggregate of the list in its first argument, if ``list_root`` accepts
    that list (a chain, or a group's list) and its other arguments use no ``forbidden`` name."""
    if node.map_depth != 0 or not node.args or list_root(node.args[0]) is None:
        return None
    if not all(_independent(a, forbidden) for a in node.args[1:]):
        return None
    if node.key in _FOLDS:
        return Leaf(node, "fold", _FOLDS[node.key])
    if node.key in _MOMENTS:
        return Leaf(node, "moments")
    if node.key == "countDistinct":
        return Leaf(node, "distinct")
    if node.key in _EXACT:
        return Leaf(node, "values")
    return None


def _grouped_aggregate(node: PCall) -> MorselSpec | None:
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
            leaf = _leaf(n, lambda xs: group_list(xs, forbidden), forbidden)
            if leaf is not None:
                for known in leaves:  # the same aggregate twice (after CSE): one partial
                    if known.node is n:
                        return PVar(known.var, n.type, n.source)
                leaf = replace(leaf, var=f"__agg{len(leaves)}")
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
    return MorselSpec("aggregate", groups, root, tuple(leaves), param=param, body=body, group_node=groups)


def _mentions(node: PNode | None, key: str) -> bool:
    if isinstance(node, PCall):
        return node.key == key or any(_mentions(a, key) for a in node.args)
    if isinstance(node, PLambda):
        return _mentions(node.body, key)
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
        return node.key not in ("stream_table", "table", MORSELS) and all(_free_of_tables(a) for a in node.args)
    return True
