"""The public entry points: ``evaluate``, ``compile``, ``to_python``.

``evaluate(expr)`` = parse (cached by text) -> plan (types checked against the tables' schemas,
before any data is read) -> run over Arrow -> convert the result:

* a list of rows -> ``pyarrow.Table``;
* a list of groups -> ``pyarrow.Table`` with columns ``groupkey`` and ``rows``;
* a list of scalars -> ``pyarrow.Array``;
* a scalar -> a Python value.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from weave_lite.budgets import Budget
from weave_lite.compile.explain import explain_plan
from weave_lite.compile.physical import PStage, parallelize
from weave_lite.compile.planner import Environment, PCall, PConst, PLambda, Planner, PNode, type_of_python
from weave_lite.compile.rewrites import lower
from weave_lite.compile.rewrites import optimize as rewrite
from weave_lite.errors import (
    ExpressionError,
    InternalError,
    MemoryLimitError,
    ResourceLimitError,
    WeaveError,
    WeaveTypeError,
)
from weave_lite.execute import executor, kernel_choice
from weave_lite.execute.columns import const_vec
from weave_lite.execute.executor import Frame, Runtime, run
from weave_lite.execute.folding import evaluate_constant
from weave_lite.execute.morsels import DEFAULT_MORSEL_ROWS
from weave_lite.execute.ops import load_area
from weave_lite.execute.results import to_python, to_result
from weave_lite.graph.nodes import Node
from weave_lite.graph.printer import render
from weave_lite.graph.recursion import ensure_headroom
from weave_lite.sources import MAX_TABLE_DEPTH, TableSources
from weave_lite.threads import default_threads

PLAN_CACHE_SIZE = 512
executor.area_loader = load_area  # kernels are registered per op area on first use

# The old private name of the table-source resolver (now weave_lite.sources.TableSources).
_Sources = TableSources  # the old private name (tests use it)


@functools.lru_cache(maxsize=PLAN_CACHE_SIZE)
def _parse_cached(text: str) -> Node:
    from weave_lite.lang.parser import parse  # Lark (~0.1 s) loads on the first parse

    return parse(text)


@contextmanager
def _engine_errors(source: str | None, stage: str) -> Iterator[None]:
    """Every failure of a stage as a WeaveError: a stack too deep or memory exhausted is a
    ResourceLimitError, anything else unexpected an InternalError (a bug, cause chained)."""
    ensure_headroom()
    try:
        yield
    except WeaveError:
        raise
    except RecursionError:
        msg = f"expression is nested too deeply to {stage}"
        raise ResourceLimitError(msg, source=source) from None
    except MemoryError as exc:
        msg = f"expression ran out of memory while it was being {_PAST[stage]}: {exc}"
        raise MemoryLimitError(msg, source=source) from exc
    except Exception as exc:
        msg = f"internal error while the expression was being {_PAST[stage]}: {type(exc).__name__}: {exc}"
        raise InternalError(msg, source=source) from exc


_PAST = {"parse": "parsed", "plan": "planned", "run": "run", "explain": "explained", "convert": "converted"}


def _as_node(expr: str | Node | Any) -> tuple[Node, str | None]:
    if isinstance(expr, str):
        return _parse_cached(expr), expr
    if isinstance(expr, Node):
        return expr, None
    node = getattr(expr, "_node", None)  # a builder node (weave_lite.builder.Expr)
    if isinstance(node, Node):
        return node, None
    raise TypeError(f"evaluate() takes an expression string or a node, not {type(expr).__name__}")


class CompiledExpression:
    """A parsed expression, ready to run against any data root or in-memory tables.

    Typed plans are cached per environment: the tables' schema versions (not their commit
    versions: appending rows does not re-plan), the free variables' types and ``optimize``.
    """

    def __init__(self, node: Node, source: str | None):
        self.node = node
        self.source = source
        self._roots: list[tuple[str, str, Node]] | None = None  # (op, table name, node)
        # Plans by environment, each with the count of nodes each rewrite changed (for explain).
        self._plans: dict[tuple, tuple[PNode, Counter]] = {}

    def plan(
        self, *, root=None, tables=None, vars=None, optimize: bool = True, budget: Budget | None = None
    ) -> tuple[PNode, TableSources]:
        """The typed (and, with ``optimize``, rewritten) plan, and the table sources it reads
        (planning stops at ``budget``'s deadline)."""
        plan, _, sources = self._planned(root, tables, vars, optimize, budget)
        return plan, sources

    def _planned(
        self, root, tables, vars, optimize: bool, budget: Budget | None
    ) -> tuple[PNode, Counter, TableSources]:
        """:meth:`plan`, and the rewrites it applied."""
        sources = TableSources(root, tables, self.source)
        var_types = _var_types(vars)
        if self._roots is not None:
            key = (optimize, var_types, self._signature(sources))
            cached = self._plans.get(key)
            if cached is not None:
                return (*cached, sources)
        env = Environment(sources.table_type, dict(var_types))
        applied: Counter = Counter()
        try:
            check = budget.check if budget is not None and budget.limited else None
            with _engine_errors(self.source, "plan"):
                plan = Planner(env, self.source, check).plan(self.node)
                plan = parallelize(
                    rewrite(plan, check=check, fold=evaluate_constant, applied=applied)
                    if optimize
                    else lower(plan, check)
                )
        except ExpressionError as exc:
            if self.source:
                exc.with_source(self.source)  # fills the error in place
            raise
        self._roots = [(p.op, _table_name(p), p.source) for p in _roots_of(plan)]
        if len(self._plans) > 64:
            self._plans.clear()
        self._plans[(optimize, var_types, self._signature(sources))] = (plan, applied)
        return plan, applied, sources

    def _signature(self, sources: TableSources) -> tuple:
        """What the plan depends on in the tables: their names and schema versions."""
        parts: list[tuple] = []
        for op, name, node in self._roots or ():
            if op == "table":
                parts.append((op, name, sources.memory_table(name, node).schema))
            else:
                snap = sources.snapshot(name, node)
                parts.append((op, name, str(snap.table.path), snap.schema_version))
        return tuple(parts)

    def execute(
        self,
        *,
        root=None,
        tables=None,
        vars=None,
        optimize: bool = True,
        threads: int | None = None,
        morsel_rows: int | None = None,
        max_memory: int | None = None,
        timeout: float | None = None,
        budget: Budget | None = None,
        client: Any = None,
    ) -> Any:
        """Run the expression (see :func:`evaluate` for the options)."""
        budget = _budget(max_memory, timeout, budget)
        plan, sources = self.plan(root=root, tables=tables, vars=vars, optimize=optimize, budget=budget)
        return self.run_plan(plan, sources, vars, threads, morsel_rows, budget=budget, client=client)

    def run_plan(
        self,
        plan: PNode,
        sources: TableSources,
        vars: Mapping[str, Any] | None = None,
        threads: int | None = None,
        morsel_rows: int | None = None,
        partials=None,
        budget: Budget | None = None,
        client: Any = None,
    ) -> Any:
        """Run ``plan`` (from :meth:`plan`) over ``sources`` and convert its result.

        ``partials`` (a :class:`~weave_lite.execute.morsels.PartialsCache`) keeps and reuses
        per-morsel aggregates between runs; the other options are :func:`evaluate`'s."""
        runtime, top = self.runtime(sources, vars, threads, morsel_rows, partials, budget)
        if client is not None:  # stages' morsels run on a Dask cluster (weave_lite.distributed)
            from weave_lite.distributed import DaskMorsels

            runtime.morsel_source = DaskMorsels(client, sources.snapshots.__getitem__)
        try:
            with _engine_errors(self.source, "run"):
                vec = run(plan, top, runtime)
                runtime.budget.check()
        finally:
            kernel_choice.start_pending_warmups()  # kernels this run did without, compiled now
        with _engine_errors(self.source, "convert"):
            return to_result(vec)

    def runtime(
        self,
        sources: TableSources,
        vars: Mapping[str, Any] | None = None,
        threads: int | None = None,
        morsel_rows: int | None = None,
        partials=None,
        budget: Budget | None = None,
    ) -> tuple[Runtime, Frame]:
        """The runtime and top-level frame a run of this expression over ``sources`` uses
        (weave_lite.live runs parts of a plan in them)."""
        budget = budget if budget is not None else Budget()
        runtime = Runtime(
            sources.load_arrow,
            self.source,
            threads=default_threads() if threads is None else max(1, int(threads)),
            morsel_rows=DEFAULT_MORSEL_ROWS if morsel_rows is None else max(1, int(morsel_rows)),
            partials=partials,
            budget=budget,
        )
        with _engine_errors(self.source, "run"):
            bound = _bind_vars(vars)
        if vars and "now" in vars:
            runtime.now = vars["now"]
        return runtime, Frame(1, bound, budget=budget)

    def watch(self, *, root=None, tables=None, vars=None, threads: int | None = None, morsel_rows: int | None = None):
        """A live query: ``.poll()`` gives the new result after commits (see weave_lite.live)."""
        from weave_lite.live import LiveQuery

        return LiveQuery(self, root=root, tables=tables, vars=vars, threads=threads, morsel_rows=morsel_rows)

    def explain(self, *, root=None, tables=None, vars=None) -> str:
        """How the expression runs, in four parts: the typed op graph after the rewrites (one
        op a line, indented by nesting, with each op's kernel; ``~`` marks what runs morsel by
        morsel), the rewrites applied, and the physical plan (operators, scans, partials);
        then the path a live query's updates take (see weave_lite.live)."""
        plan, applied, _ = self._planned(root, tables, vars, True, None)
        from weave_lite.live import explain_live

        with _engine_errors(self.source, "explain"):
            return f"{explain_plan(plan, applied)}\n\n{explain_live(plan)}"

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source or render(self.node)!r})"


def _table_name(root: PCall) -> str:
    name = root.args[0]
    assert isinstance(name, PConst)  # the planner takes a table name only as a literal
    return name.value


def _roots_of(plan: PNode) -> list[PCall]:
    """The table roots (``stream_table``/``table`` calls) of a plan."""
    found: list[PCall] = []
    stack = [plan]
    while stack:
        node = stack.pop()
        if isinstance(node, PCall):
            if node.key in ("stream_table", "table"):
                found.append(node)
            stack.extend(a for a in node.args if a is not None)
        elif isinstance(node, PStage):
            stack.append(node.logical)
        elif isinstance(node, PLambda):
            stack.append(node.body)
    return found


@functools.lru_cache(maxsize=PLAN_CACHE_SIZE)
def _compile_cached(text: str) -> CompiledExpression:
    return CompiledExpression(_parse_cached(text), text)


def compile(expr: str | Node) -> CompiledExpression:
    """Parse ``expr`` once; the result is cached by expression text."""
    if isinstance(expr, str):
        with _engine_errors(expr, "parse"):
            return _compile_cached(expr)
    node, source = _as_node(expr)
    return CompiledExpression(node, source)


def _budget(max_memory: int | None, timeout: float | None, budget: Budget | None) -> Budget:
    """The budget of one evaluation: ``budget`` as given, else one made from the limits."""
    if budget is None:
        return Budget(max_memory=max_memory, timeout=timeout)
    if max_memory is not None or timeout is not None:
        msg = "give either budget= or max_memory=/timeout=, not both"
        raise ValueError(msg)
    return budget


def _var_types(vars: Mapping[str, Any] | None) -> tuple:
    """The free variables' names and types (values nested too deeply are refused)."""
    out = []
    for name, value in (vars or {}).items():
        if _python_depth(value) > MAX_TABLE_DEPTH:
            msg = f"the value of variable `{name}` is nested more than {MAX_TABLE_DEPTH} levels deep"
            raise ResourceLimitError(msg)
        out.append((name, type_of_python(value)))
    return tuple(sorted(out))


def _bind_vars(vars: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``vars=`` values as Vecs of one element (a value Arrow cannot hold is the caller's
    error, named by its variable)."""
    bound = {}
    for name, value in (vars or {}).items():
        try:
            if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
                raise OverflowError(f"{value} does not fit in 64 bits")
            if isinstance(value, str):
                value.encode("utf-8")  # a lone surrogate is not text (UnicodeEncodeError: a ValueError)
            bound[name] = const_vec(value, type_of_python(value), 1)
        except (TypeError, ValueError, OverflowError, pa.ArrowException) as exc:
            msg = f"the value of variable `{name}` cannot be used in an expression: {exc}"
            raise WeaveTypeError(msg) from exc
    return bound


def _python_depth(value: Any) -> int:
    """How deeply lists and dicts nest in ``value`` (iteratively: any depth is safe)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Any
        if isinstance(item, (list, tuple)):
            children = item
        elif isinstance(item, dict):
            children = item.values()
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_TABLE_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def evaluate(
    expr: str | Node,
    *,
    root=None,
    tables: Mapping[str, Any] | None = None,
    vars: Mapping[str, Any] | None = None,
    optimize: bool = True,
    threads: int | None = None,
    morsel_rows: int | None = None,
    max_memory: int | None = None,
    timeout: float | None = None,
    budget: Budget | None = None,
    client: Any = None,
) -> Any:
    """Evaluate an expression string (or node) and return its result (see module docstring).

    ``optimize=False`` skips the plan rewrites (same results).  Scans run morsel by morsel on
    ``threads`` threads (default: ``WEAVE_LITE_THREADS``, else every core); a morsel is about
    ``morsel_rows`` rows (default 2**20).  Results do not depend on either.

    ``max_memory`` (bytes) and ``timeout`` (seconds) bound the evaluation (default: no bound):
    past either it raises :class:`~weave_lite.errors.ResourceLimitError` (``MemoryLimitError``,
    ``TimeLimitError``), and results estimated not to fit are refused before they are
    allocated.  ``budget`` (a :class:`weave_lite.budgets.Budget`, instead of the two) lets
    another thread ``cancel()`` the evaluation.

    ``client`` (a ``distributed.Client``; the ``dask`` extra) runs each morsel of a stream
    table's scans as a task on that Dask cluster: the workers read the segments from the data
    root themselves (a local folder they share, or an ``s3://`` root), and the results are
    identical to a local run with the same ``morsel_rows`` (see :mod:`weave_lite.distributed`).
    """
    from weave_lite.lang.parser import deadline as parse_deadline

    budget = _budget(max_memory, timeout, budget)
    with parse_deadline(budget.check if budget.limited else None):  # a long text takes a while
        compiled = compile(expr)
    return compiled.execute(
        root=root,
        tables=tables,
        vars=vars,
        optimize=optimize,
        threads=threads,
        morsel_rows=morsel_rows,
        budget=budget,
        client=client,
    )


__all__ = ["evaluate", "compile", "to_python", "to_result", "CompiledExpression"]
