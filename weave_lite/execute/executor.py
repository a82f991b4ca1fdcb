"""Runs a typed plan over columnar values (see :mod:`weave_lite.execute.vectors`).

The top level is a frame of one element.  An op that takes a function (``filter``, ``map``,
``groupby``...) calls it once for *all* the elements of all its lists: the function's body runs
in a child frame whose length is the total number of list elements, and variables of outer
frames are broadcast into it by their parent index.  Auto-mapped ops run one list level down
the same way.  Nothing here loops over rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from weave_lite.budgets import Budget
from weave_lite.compile.physical import PStage
from weave_lite.compile.planner import PCall, PConst, PLambda, PNode, PVar
from weave_lite.errors import (
    ExecutionError,
    ExpressionError,
    InternalError,
    MemoryLimitError,
    ResourceLimitError,
    Span,
    WeaveError,
)
from weave_lite.execute.columns import arrow_type_for, as_list, const_vec
from weave_lite.execute.estimates import elementwise_bytes, take_bytes, vec_nbytes
from weave_lite.execute.vectors import ArrayVec, ConstVec, ListVec, Vec
from weave_lite.graph.registry import OVERLOADS
from weave_lite.graph.types import WType

# Kernel registry: overload key -> function(KernelCall) -> Vec, filled one op area at a time
# (weave_lite/execute/ops/<area>.py) by the first call of one of the area's kernels.
KERNELS: dict[str, Callable[[KernelCall], Vec]] = {}


# Physical operator type -> function(stage, frame, runtime) -> Vec (filled by weave_lite.execute.morsels).
OPERATORS: dict[type, Callable[[PStage, Frame, Runtime], Vec]] = {}


def kernel(key: str):
    """Register the kernel of overload ``key`` (see :mod:`weave_lite.graph.registry`)."""

    def attach(fn: Callable[[KernelCall], Vec]) -> Callable[[KernelCall], Vec]:
        if key in KERNELS:
            raise ValueError(f"kernel {key!r} registered twice")
        KERNELS[key] = fn
        return fn

    return attach


# Imports an op area's kernel module by name: set by ``weave_lite.api`` to
# ``weave_lite.execute.ops.load_area`` (this module cannot import the areas: they import it).
# Every process that runs a plan imports ``weave_lite`` first, so it is always set.
area_loader: Callable[[str], bool] | None = None


def kernel_for(key: str) -> Callable[[KernelCall], Vec] | None:
    """The kernel of overload ``key``, importing its op area's module on first use: a count
    loads ``lists`` (no Numba), not every area (``strings`` and ``fused`` load Numba)."""
    fn = KERNELS.get(key)
    if fn is None:
        spec = OVERLOADS.get(key)
        if spec is not None and spec.area and area_loader is not None:
            area_loader(spec.area)  # registers its kernels
            fn = KERNELS.get(key)
    return fn


def operator(*types: type):
    """Register the runner of the physical operators ``types`` (see weave_lite.compile.physical)."""

    def attach(fn: Callable[[PStage, Frame, Runtime], Vec]) -> Callable[[PStage, Frame, Runtime], Vec]:
        for t in types:
            if t in OPERATORS:
                raise ValueError(f"operator {t.__name__} registered twice")
            OPERATORS[t] = fn
        return fn

    return attach


__all__ = [
    "ExecutionError",
    "KERNELS",
    "OPERATORS",
    "Frame",
    "KernelCall",
    "LambdaFn",
    "Runtime",
    "apply",
    "kernel",
    "kernel_for",
    "operator",
    "run",
]


def place(exc: ExpressionError, span: Span | None, source: str | None) -> ExpressionError:
    """``exc`` pointing at ``span`` of ``source`` unless it points somewhere already."""
    if exc.span is None and span is not None:
        exc.span = span
    if exc.source is None and source is not None:
        exc.source = source
    exc.args = (exc._render(),)
    return exc


@dataclass
class Runtime:
    """Per-evaluation state shared by every frame: where tables come from, now(), and how
    many threads run morsels (see weave_lite.execute.morsels)."""

    load_arrow: Callable[..., pa.Table]  # (root op, name, scan predicates, columns or None) -> rows
    source: str | None = None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    threads: int = 1
    morsel_rows: int = 1 << 20
    # Live queries keep each morsel's partial aggregates here between runs (keyed by the
    # morsel's immutable buffers), so a re-run computes only the morsels that are new.
    partials: Any = None  # a weave_lite.execute.morsels.PartialsCache
    # Memory and time this evaluation may take (unlimited unless the caller gave limits).
    budget: Budget = field(default_factory=Budget)
    # Where stages' morsels are cut and run: None for this process's threads, else a
    # weave_lite.execute.morsel_sources.MorselSource (a Dask cluster: weave_lite.distributed).
    morsel_source: Any = None


class Frame:
    """Variable bindings for a run of ``length`` elements; ``budget`` (by default the parent's)
    is asked before an outer value is broadcast into the frame."""

    __slots__ = ("length", "vars", "parent", "_parent_index", "_broadcast", "memo", "budget")

    def __init__(
        self,
        length: int,
        vars: dict[str, Vec],
        parent: Frame | None = None,
        parent_index: np.ndarray | Callable[[], np.ndarray] | None = None,
        budget: Budget | None = None,
    ):
        self.length = length
        self.vars = vars
        self.parent = parent
        # May be given as a function: computed only if an outer variable is actually used.
        self._parent_index = parent_index
        self._broadcast: dict[str, Vec] = {}
        # Values of calls already run in this frame, by plan node (shared by CSE).
        self.memo: dict[int, Vec] = {}
        self.budget: Budget = budget if budget is not None else parent.budget if parent is not None else _UNLIMITED

    @property
    def parent_index(self) -> np.ndarray:
        if callable(self._parent_index):
            self._parent_index = self._parent_index()
        assert self._parent_index is not None  # read only when the frame has a parent (which sets it)
        return self._parent_index

    def lookup(self, name: str) -> Vec:
        found = self.vars.get(name)
        if found is not None:
            return found
        found = self._broadcast.get(name)
        if found is not None:
            return found
        if self.parent is None:
            raise KeyError(name)
        outer = self.parent.lookup(name)
        if self.budget.tracks_memory and not isinstance(outer, (ConstVec, ArrayVec)):
            # A list (or a row holding lists) copied once per element of this frame.
            self.budget.admit(take_bytes(outer, self.parent_index), f"`{name}` repeated for {self.length:,} elements")
        value = outer.take(self.parent_index)
        self._broadcast[name] = value
        return value


# The budget of frames made without one (constant folding, tests): never limits anything.
_UNLIMITED = Budget()


class LambdaFn:
    """A planned function, closed over the frame it was defined in."""

    __slots__ = ("plan", "frame", "runtime", "parent_index")

    def __init__(self, plan: PLambda, frame: Frame, runtime: Runtime, parent_index: np.ndarray | None = None):
        self.plan = plan
        self.frame = frame
        self.runtime = runtime
        # Set when the op using this function was auto-mapped one level down.
        self.parent_index = parent_index

    @property
    def body(self) -> PNode:
        return self.plan.body

    @property
    def arity(self) -> int:
        """How many parameters the function takes (an index parameter is computed only for
        functions that take it)."""
        return len(self.plan.params)

    def bind(self, args: list[Vec], parent_index: np.ndarray | Callable[[], np.ndarray]) -> Frame:
        """A frame with the parameters bound to ``args`` (one element per list element);
        ``parent_index`` (or a function computing it) maps each element to its list."""
        if self.parent_index is not None:
            mapping = self.parent_index
            index = parent_index() if callable(parent_index) else parent_index
            parent_index = mapping[index]
        values = dict(zip(self.plan.params, args))
        return Frame(args[0].length, values, self.frame, parent_index)

    def __call__(self, args: list[Vec], parent_index: np.ndarray | Callable[[], np.ndarray]) -> Vec:
        """Run the body for every element at once; ``parent_index[i]`` is element i's list."""
        return run(self.plan.body, self.bind(args, parent_index), self.runtime)

    def mapped(self, parent_index: np.ndarray) -> LambdaFn:
        composed = parent_index if self.parent_index is None else self.parent_index[parent_index]
        return LambdaFn(self.plan, self.frame, self.runtime, composed)


@dataclass
class KernelCall:
    """Everything a kernel gets: its arguments (Vecs or functions), their types, the op's
    display name, static parameters and place in the expression (for errors), and the runtime.
    Kernels never see the plan."""

    args: list[Any]
    arg_types: tuple[WType, ...]
    out_type: WType
    length: int
    op: str  # the op's display name, for messages
    span: Span | None  # where the op is in the expression, for errors
    params: dict[str, Any]  # the node's static parameters (set by rewrites: predicates, programs...)
    runtime: Runtime

    @classmethod
    def of(cls, node: PCall, args: list[Any], out_type: WType, length: int, runtime: Runtime) -> KernelCall:
        """The call of ``node``'s kernel on ``args`` (``length`` elements)."""
        return cls(args, node.arg_types, out_type, length, node.op, node.source.span, dict(node.hints), runtime)

    def const(self, i: int, default: Any = None) -> Any:
        """The value of argument ``i`` when it is the same for every element."""
        if i >= len(self.args) or self.args[i] is None:
            return default
        arg = self.args[i]
        if isinstance(arg, ConstVec):
            return arg.value
        if arg.length and _same_everywhere(arg):
            return arg.slice(0, 1).to_arrow()[0].as_py()
        raise ExecutionError(
            f"argument {i + 1} of `{self.op}` must be the same for every element",
            source=self.runtime.source,
            span=self.span,
        )

    def error(self, message: str) -> ExecutionError:
        return ExecutionError(message, source=self.runtime.source, span=self.span)

    @property
    def budget(self) -> Budget:
        return self.runtime.budget

    def admit(self, nbytes: int | float, what: str = "") -> None:
        """Ask the budget for ``nbytes`` before allocating them (``what`` defaults to the op)."""
        if self.runtime.budget.tracks_memory:
            self.runtime.budget.admit(nbytes, what or f"`{self.op}`")


def _order_free_view(lists: ListVec) -> tuple[np.ndarray, Vec]:
    assert lists.view is not None  # only order-free lists come here
    return lists.view


def _apply_order_free(node: PCall, args: list[Any], lists: list[ListVec], runtime: Runtime, depth: int) -> Vec:
    """Map over order-free lists (groups) element-wise on their base, keeping them order-free."""
    outer = lists[0]
    group_of = _order_free_view(outer)[0]
    bases = dict(zip(node.mapped, (_order_free_view(lv)[1] for lv in lists)))
    base = apply(node, _one_level_down(node, args, bases, group_of, runtime.budget), len(group_of), runtime, depth - 1)
    return ListVec(outer.offsets, None, outer.valid, None, view=(group_of, base))


def _one_level_down(
    node: PCall, args: list[Any], elements: dict[int, Vec], parent_index: np.ndarray, budget: Budget
) -> list[Any]:
    """The arguments one list level down: the mapped lists' ``elements``; every other argument
    broadcast to the elements through ``parent_index`` (functions remember it)."""
    inner: list[Any] = []
    for i, a in enumerate(args):
        if i in elements:
            inner.append(elements[i])
        elif isinstance(a, LambdaFn):
            inner.append(a.mapped(parent_index))
        elif a is None:
            inner.append(None)
        else:
            if budget.tracks_memory and not isinstance(a, (ConstVec, ArrayVec)):
                budget.admit(take_bytes(a, parent_index), f"argument {i + 1} of `{node.op}` repeated for every element")
            inner.append(a.take(parent_index))
    return inner


def _scalar_args(args: list[Any]) -> bool:
    """Whether a kernel's value arguments are all scalars (an element-wise kernel)."""
    return bool(args) and all(a is None or isinstance(a, (ConstVec, ArrayVec)) for a in args)


def _same_everywhere(vec: Vec) -> bool:
    """Whether every element of ``vec`` is the same value (a list literal of constants, say)."""
    if vec.length == 1:
        return True
    first = vec.slice(0, 1).to_arrow()
    return vec.to_arrow().equals(first.take(pa.array(np.zeros(vec.length, dtype=np.int64))))


def run(node: PNode, frame: Frame, runtime: Runtime) -> Vec:
    """Evaluate ``node`` for every element of ``frame``."""
    if isinstance(node, PConst):
        return const_vec(node.value, node.type, frame.length)
    if isinstance(node, PVar):
        return frame.lookup(node.name)
    if isinstance(node, PCall):
        done = frame.memo.get(id(node))
        if done is not None:
            return done
        value = _run_call(node, frame, runtime)
        frame.memo[id(node)] = value
        return value
    if isinstance(node, PStage):
        done = frame.memo.get(id(node))
        if done is None:
            done = frame.memo[id(node)] = OPERATORS[type(node.operator)](node, frame, runtime)
        return done
    raise TypeError(f"cannot run {node!r}")


def _run_call(node: PCall, frame: Frame, runtime: Runtime) -> Vec:
    budget = runtime.budget
    span = node.source.span
    try:
        budget.check()  # the deadline, between kernels
    except ResourceLimitError as exc:
        place(exc, span, runtime.source)
        raise
    args: list[Any] = []
    for a in node.args:
        if a is None:  # an optional argument left out (kept in place by a rewrite)
            args.append(None)
        elif isinstance(a, PLambda):
            args.append(LambdaFn(a, frame, runtime))
        else:
            args.append(run(a, frame, runtime))
    try:
        value = apply(node, args, frame.length, runtime, node.map_depth)
        if budget.tracks_memory:
            budget.charge(vec_nbytes(value), f"`{node.op}`")
        return value
    except ResourceLimitError as exc:  # from the budget: point at the op that passed it
        place(exc, span, runtime.source)
        raise
    except WeaveError:
        raise
    except MemoryError as exc:  # Arrow's and numpy's allocation failures too
        raise MemoryLimitError(
            f"expression ran out of memory in `{node.op}`: {exc}", source=runtime.source, span=span
        ) from exc
    except RecursionError as exc:
        raise ResourceLimitError(
            f"expression is nested too deeply to run `{node.op}`", source=runtime.source, span=span
        ) from exc
    except (pa.ArrowException, ValueError, TypeError, OverflowError, ZeroDivisionError) as exc:
        raise ExecutionError(f"`{node.op}` failed: {exc}", source=runtime.source, span=span) from exc
    except Exception as exc:  # a bug: still a WeaveError for the caller, with the cause chained
        raise InternalError(
            f"internal error in `{node.op}`: {type(exc).__name__}: {exc}", source=runtime.source, span=span
        ) from exc


def apply(node: PCall, args: list[Any], length: int, runtime: Runtime, depth: int) -> Vec:
    """Apply ``node``'s kernel, auto-mapping ``depth`` list levels down."""
    if depth == 0:
        fn = kernel_for(node.key)
        if fn is None:
            raise ExecutionError(
                f"`{node.op}` has no kernel for ({', '.join(map(str, node.arg_types))}) yet",
                source=runtime.source,
                span=node.source.span,
            )
        out_type = node.type
        for _ in range(node.map_depth):
            out_type = out_type.elem  # type: ignore[attr-defined]
        call = KernelCall.of(node, args, out_type, length, runtime)
        if runtime.budget.tracks_memory and _scalar_args(args):
            # Strings grow: a constant materialised over a large frame (`cond`, `??`), or
            # concatenations chained (`s + s` in a map of a map...).
            call.admit(elementwise_bytes(args, length, arrow_type_for(out_type)))
        return fn(call)
    lists = [as_list(args[i]) for i in node.mapped]
    outer = lists[0]
    if outer.view is not None and all(other.view is not None and other.view[0] is outer.view[0] for other in lists):
        return _apply_order_free(node, args, lists, runtime, depth)
    for other in lists[1:]:
        if not np.array_equal(other.offsets, outer.offsets):
            raise ExecutionError(
                f"`{node.op}` got lists of different lengths", source=runtime.source, span=node.source.span
            )
    pidx = outer.parent_index()
    children = dict(zip(node.mapped, (lv.child for lv in lists)))
    child = apply(node, _one_level_down(node, args, children, pidx, runtime.budget), len(pidx), runtime, depth - 1)
    valid = outer.valid
    for other in lists[1:]:
        if other.valid is not None:
            valid = other.valid if valid is None else (valid & other.valid)
    return ListVec(outer.offsets, child, valid)
