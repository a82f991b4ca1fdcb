"""Live queries: re-evaluate an expression as commits arrive, paying for the new rows only.

``compile(expr).watch(root=...)`` runs the expression once, then ``poll()`` checks the tables'
commit logs (one ``stat`` each when nothing changed).  The plan's morsel-parallel stages (see
:mod:`weave_lite.compile.physical`) are what read the tables; a live query keeps each stage's
state and, when rows are appended, feeds it the new segments alone (the *incremental* path):

* an aggregate (``count``, ``sum``, ``avg``, ``quantile``, ``countDistinct``..., and group-bys
  of them) keeps its merged partials per group and recomputes only the groups the new rows
  touch (:mod:`weave_lite.execute.accumulate`): an exact p95 per minute costs the minutes
  the new rows fall in;
* a top-k (``sort(f).limit(n)``) keeps its k rows and the k-th row's first sort key: only the
  new rows at least as good on that key (usually none) are sorted with the kept k;
* ``limit(n)`` without a sort is final once it has n rows;
* a row-wise list (``rows``, ``filter``, ``map``, picking) is extended with the new rows'.

What lies around the stages (a ``sort`` of a group-by's result, the dict of a result) runs
again over the stages' kept results, which read no table.  A plan whose table reads are not
all inside such stages (a lambda that reads a table, a positional filter, ``now()`` in a
stage), a schema change, a repair or a change to several tables' shapes at once falls back to
a *full* re-run, which still reuses the partials of the morsels it saw before.  Either way
the result equals a cold run on the new snapshot (floats up to rounding: sums add in another
order).  :attr:`LiveQuery.path` and :meth:`LiveQuery.explain` say which path updates take, and
:attr:`LiveQuery.last_update` what the last one read.  An update of fewer than
:data:`SMALL_UPDATE_ROWS` new rows runs on the polling thread alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from weave_lite.compile.physical import (
    Concat,
    Limit,
    Merge,
    MorselPipeline,
    PStage,
    Scan,
    TopK,
    chain_root,
    mentions,
)
from weave_lite.compile.planner import PCall, PConst, PLambda, PNode, PVar
from weave_lite.execute import kernel_choice
from weave_lite.execute.accumulate import MergedAggregate
from weave_lite.execute.executor import Frame, Runtime, run
from weave_lite.execute.morsel_sources import elements
from weave_lite.execute.morsels import PartialsCache, concat_rows
from weave_lite.execute.partials import MorselPartial, morsel_partial
from weave_lite.execute.results import to_result
from weave_lite.execute.vectors import ListVec
from weave_lite.live_groups import absorb_new_rows, direct_shape
from weave_lite.live_keeper import Keeper
from weave_lite.live_topk import LimitKeeper as _Limit
from weave_lite.live_topk import TopKKeeper as _TopK
from weave_lite.live_totals import DONE, FULL_RERUN, LiveTotal, fused_total, live_total, range_count
from weave_lite.sources import TableSources
from weave_lite.storage.table import Snapshot
from weave_lite.threads import map_in_order

INCREMENTAL, FULL = "incremental", "full"
# Updates appending fewer rows run on the polling thread alone.
SMALL_UPDATE_ROWS = 1 << 17


@dataclass
class UpdateStats:
    """What one run of a live query did: ``path`` (``incremental`` or ``full``), the rows
    and segments it read, and how long it took."""

    path: str
    rows_read: int
    segments_read: int
    seconds: float


class LiveQuery:
    """An expression kept up to date; see the module docstring."""

    result: Any  # the current value (set by each full or incremental run)
    path: str  # how updates run: "incremental" or "full"
    reason: str  # why (the stages kept, or what forces full re-runs)
    last_update: UpdateStats | None
    _snapshots: dict[str, Snapshot]  # the snapshot each table was last read at
    _total: LiveTotal | None  # a whole-table count or sum kept as a number (the fast path)

    def __init__(self, compiled, *, root=None, tables=None, vars=None, threads=None, morsel_rows=None):
        # ``compiled`` is a weave_lite.api.CompiledExpression: its public ``plan``, ``runtime``
        # and ``run_plan`` are all this module uses (it does not import weave_lite.api).
        self.compiled = compiled
        self.root = root
        self.tables = tables
        self.vars = vars
        self.options = {"threads": threads, "morsel_rows": morsel_rows}
        self.full_runs = 0
        self.incremental_runs = 0
        self.last_update = None
        self._partials = PartialsCache()
        self._refresh_full()

    # -- public --------------------------------------------------------------------------------

    @property
    def partials(self) -> PartialsCache:
        """The per-morsel partial aggregates a full re-run reuses (``.reused``/``.computed``
        count the morsels of the last full run)."""
        return self._partials

    def poll(self) -> Any | None:
        """The new result if any table it reads has new commits, else ``None``."""
        start = time.perf_counter()
        changed = []
        for name, snap in self._snapshots.items():
            newer = snap.table.poll(snap)
            if newer is not None:
                changed.append((name, snap, newer))
        if not changed:
            return None
        if self.path != INCREMENTAL:
            return self._refresh_full()
        deltas = {}
        for name, old, newer in changed:
            latest, appended, only_appends = _changes(old, newer)
            if not only_appends or latest.schema_version != old.schema_version:
                return self._refresh_full()
            deltas[name] = (latest, appended)
        self._update(deltas, start)
        return self.result

    def explain(self) -> str:
        """How updates run: the path, and the state each stage keeps."""
        lines = [f"live: {self.path} updates ({self.reason})"]
        for keeper in getattr(self, "_keepers", []) if self.path == INCREMENTAL else []:
            lines.append(f"  {keeper.describe()}")
        return "\n".join(lines)

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
        start = time.perf_counter()
        self.path, self._total = FULL, None  # (until it succeeds: a failed run is retried)
        plan, sources = self.compiled.plan(root=self.root, tables=self.tables, vars=self.vars)
        shape = incremental_shape(plan)
        if isinstance(shape, str):
            self.path, self.reason = FULL, shape
            self.result = self.compiled.run_plan(plan, sources, self.vars, partials=self._partials, **self.options)
            self._partials.end_run()
        else:
            shell, stages = shape
            runtime, top = self.compiled.runtime(sources, self.vars, **self.options)
            self._keepers = [_keeper(stage, var) for stage, var in stages]
            for keeper in self._keepers:
                keeper.start(top, runtime)
            self._shell = shell
            self.result = self._run_shell(top, runtime)
            self.path, self.reason = INCREMENTAL, _describe_shell(shell, self._keepers)
            self._total = live_total(self._keepers, shell)
            kernel_choice.start_pending_warmups()  # kernels the start did without (see api.run_plan)
        self._snapshots = dict(sources.snapshots)
        self.full_runs += 1
        read = sum(s.num_rows for s in sources.snapshots.values())
        segments = sum(len(s.segments) for s in sources.snapshots.values())
        self.last_update = UpdateStats(FULL, read, segments, time.perf_counter() - start)
        return self.result

    def _update(self, deltas: dict[str, tuple[Snapshot, list]], start: float) -> None:
        if self._update_totals(deltas, start):
            return
        if self._total is not None and not self._total.sync():  # the kept total into the state
            self._refresh_full()
            return
        sources = TableSources(self.root, self.tables, self.compiled.source)
        for name, (latest, appended) in deltas.items():
            sources.snapshots[name] = _restricted(latest, appended)
        runtime, top = self.compiled.runtime(sources, self.vars, **self.options)
        if sum(s.rows for _, appended in deltas.values() for s in appended) < SMALL_UPDATE_ROWS:
            runtime.threads = 1  # a thread pool's hand-offs cost more than a few rows' work
        changed = False
        for keeper in self._keepers:
            if keeper.scan.table in deltas:
                keeper.update(top, runtime)
                changed = changed or keeper.changed
        if changed or not isinstance(self._shell, PVar):  # (a stage's unchanged value: the same result)
            self.result = self._run_shell(top, runtime)
        for name, (latest, _) in deltas.items():
            self._snapshots[name] = latest
        self.incremental_runs += 1
        read = sum(t.num_rows for t in sources.loaded.values())
        segments = sum(len(appended) for _, appended in deltas.values())
        self.last_update = UpdateStats(INCREMENTAL, read, segments, time.perf_counter() - start)
        self._total = live_total(self._keepers, self._shell)  # rebased on the state just updated
        kernel_choice.start_pending_warmups()  # kernels this update did without, compiled now

    def _update_totals(self, deltas: dict[str, tuple[Snapshot, list]], start: float) -> bool:
        """The fast path of a whole-table fused count or sum, or range count, as the result
        (``Q1``, ``Q4``, ``Q8``; see :class:`weave_lite.live_totals.LiveTotal`): the new
        segments' total added to the kept number; False (nothing changed) when the query is not
        that shape or the new segments need the general path."""
        total = self._total
        if total is None or len(deltas) != 1:
            return False
        name, (latest, appended) = next(iter(deltas.items()))
        if name != total.table:
            return False
        outcome = total.add(latest, appended)
        if outcome == FULL_RERUN:
            self._refresh_full()
            return True
        if outcome != DONE:
            return False
        self.result = total.value
        self._snapshots[name] = latest
        self.incremental_runs += 1
        self.last_update = UpdateStats(INCREMENTAL, total.rows_read, len(appended), time.perf_counter() - start)
        return True

    def _run_shell(self, top: Frame, runtime: Runtime) -> Any:
        values = {keeper.var: keeper.value for keeper in self._keepers}
        frame = Frame(1, {**top.vars, **values}, budget=runtime.budget)
        return to_result(run(self._shell, frame, runtime))


def _changes(old: Snapshot, newer: Snapshot) -> tuple[Snapshot, list, bool]:
    """The newest snapshot, the segments appended since ``old`` and whether rows were only
    appended (compaction keeps the rows; a repair drops some)."""
    kept = len(old.segments)
    if newer.segments[:kept] == old.segments:  # the usual case: segments added at the end
        return newer, list(newer.segments[kept:]), True
    latest, appended = old.table.changes_since(old.version)
    ops = {entry.get("op") for _, entry in old.table.log.read_entries(range(old.version + 1, latest.version + 1))}
    return latest, appended, ops <= {"append", "compact"}


def _restricted(snapshot: Snapshot, segments: list) -> Snapshot:
    """``snapshot`` read through ``segments`` alone (with the full schema)."""
    wanted = {s.path for s in segments}
    restricted = snapshot.select(lambda s: s.path in wanted)
    if len(restricted.segments) != len(segments):  # compacted away meanwhile: read them
        restricted = snapshot.with_segments(segments)
    return restricted


# -- the incremental shape of a plan --------------------------------------------------------------


def incremental_shape(plan: PNode) -> tuple[PNode, list[tuple[PStage, str]]] | str:
    """The plan with its table-reading stages replaced by variables (the *shell*) and the
    stages, or the reason updates must re-run the whole plan."""
    if isinstance(plan, PCall):  # a bare chain (``rows``, ``rows["x"]``) as the result: a list
        root = chain_root(plan)
        if root is not None and root.key == "stream_table":
            plan = PStage(Concat(MorselPipeline(_scan_of(root), plan)), plan, plan.type, plan.source)
    stages: dict[int, tuple[PStage, str]] = {}

    def visit(node: PNode) -> PNode:
        if isinstance(node, PStage):
            if id(node) not in stages:
                stages[id(node)] = (node, f"__live{len(stages)}")
            return PVar(stages[id(node)][1], node.type, node.source)
        if isinstance(node, PCall):
            args = tuple(visit(a) if isinstance(a, (PCall, PStage)) else a for a in node.args)
            return node if all(a is b for a, b in zip(args, node.args)) else replace(node, args=args)
        return node

    shell = visit(plan)
    if _reads_table(shell):
        return "the plan reads a table outside its morsel stages (a lambda reading a table, a positional op)"
    for stage, _ in stages.values():
        if stage.operator.scan.op != "stream_table":
            return "a stage reads an in-memory table"
        if mentions(stage.logical, "now") or (isinstance(stage.operator, Merge) and stage.operator.partial.uses_clock):
            return "a stage reads now(): its state depends on the time of the run"
    if not stages:
        return "the plan reads no stream table"
    return shell, list(stages.values())


def explain_live(plan: PNode) -> str:
    """The line ``explain`` prints about watching the plan: which path its updates take."""
    shape = incremental_shape(plan)
    if isinstance(shape, str):
        return f"live: full re-run on each update ({shape})"
    shell, stages = shape
    names = {Merge: "aggregate state per group", TopK: "top k", Limit: "first n", Concat: "rows"}
    kept = ", ".join(names[type(stage.operator)] for stage, _ in stages)
    around = "" if isinstance(shell, PVar) else "; the rest re-runs over the kept results"
    return f"live: incremental updates (the new rows update the kept {kept}{around})"


def _scan_of(root: PCall) -> Scan:
    name = root.args[0]
    assert isinstance(name, PConst)  # chain_root returns only roots over a table name literal
    predicates: Any = dict(root.hints).get("predicates", ())
    return Scan(root.key, name.value, tuple(predicates))


def _reads_table(node: PNode | None) -> bool:
    if isinstance(node, PCall):
        return node.key in ("stream_table", "table") or any(_reads_table(a) for a in node.args)
    if isinstance(node, PLambda):
        return _reads_table(node.body)
    return isinstance(node, PStage)


def _describe_shell(shell: PNode, keepers: list) -> str:
    kept = ", ".join(k.kind for k in keepers)
    if isinstance(shell, PVar):
        return f"the new rows update the kept state: {kept}"
    ops = []
    stack = [shell]
    while stack:
        node = stack.pop()
        if isinstance(node, PCall):
            ops.append(node.op)
            stack.extend(a for a in node.args if isinstance(a, PCall))
    return f"the new rows update the kept state: {kept}; then {', '.join(reversed(ops))} re-run over the kept results"


# -- what each stage keeps ---------------------------------------------------------------------


class _Aggregate(Keeper):
    kind = "aggregate state per group"

    def start(self, top: Frame, runtime: Runtime) -> None:
        operator = self.stage.operator
        assert isinstance(operator, Merge)
        leaves = ", ".join(f"{leaf.node.op}:{leaf.partial.kind}" for leaf in operator.partial.leaves)
        self.kind = f"aggregate state per group ({leaves})"
        self.state = MergedAggregate(operator, top, runtime)
        self.program, self.program_reducer = fused_total(operator)
        self.predicates = range_count(operator)
        self.direct_pieces = 0  # pieces the last update grouped straight into the kept groups
        self._absorb(top, runtime)

    def update(self, top: Frame, runtime: Runtime) -> None:
        self._absorb(top, runtime, direct=True)

    def _absorb(self, top: Frame, runtime: Runtime, direct: bool = False) -> None:
        aggregate = self.state.operator.partial
        pieces = self.rows(runtime)
        if direct and self.state.index is not None and direct_shape(aggregate):
            # A group-by's new rows straight into the kept groups (in row order: piece by piece).
            self.direct_pieces = 0
            for piece in pieces:
                if absorb_new_rows(self.state, piece, top, runtime):
                    self.direct_pieces += 1
                else:
                    self.state.absorb(_raw_partial(aggregate, piece, top, runtime), top, runtime)
            pieces = []
        parts = map_in_order(lambda piece: _raw_partial(aggregate, piece, top, runtime), pieces, runtime.threads)
        for part in parts:
            self.state.absorb(part, top, runtime)
        if self.state.parts == 0:  # no rows yet: the plan's own result for an empty table
            self.value = run(self.stage.logical, Frame(1, dict(top.vars), budget=runtime.budget), runtime)
        else:
            self.value = self.state.result(top, runtime)


def _raw_partial(aggregate, piece, top: Frame, runtime: Runtime) -> MorselPartial:
    """A morsel's partial as :func:`partial_of_morsel` computes it, ``distinct`` leaves raw
    (see :func:`weave_lite.execute.partials.morsel_partial`)."""
    runtime.budget.check()
    frame = Frame(1, dict(top.vars), budget=runtime.budget)
    return morsel_partial(aggregate, frame, replace(runtime, load_arrow=lambda *_: piece), raw=True)


class _Concat(Keeper):
    kind = "rows, extended with the new rows'"

    def update(self, top: Frame, runtime: Runtime) -> None:
        new = [rows for rows in self._new_rows(top, runtime) if rows.length]
        if new:
            self.value = ListVec.single(concat_rows([elements(self.value), *new]))


def _keeper(stage: PStage, var: str) -> Keeper:
    kinds: dict[type, type[Keeper]] = {Merge: _Aggregate, TopK: _TopK, Limit: _Limit, Concat: _Concat}
    return kinds[type(stage.operator)](stage, var)
