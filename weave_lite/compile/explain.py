"""The text of ``explain()``: the typed op graph, the rewrites applied, the physical plan.

::

    count -> int  kernel=count:where
      ~ runs morsel by morsel on all threads: aggregate, 1 partial(s): count:fold
      rows -> list<{...}>  kernel=rows
        ...

    rewrites applied: constant_folding x1, count_filter x1

    physical plan:
      Merge -> int  (aggregate, 1 partial(s): count:fold)
        PartialAggregate  leaves: count as fold(sum)
          MorselPipeline  rows > filter
            Scan table('t')
"""

from __future__ import annotations

from collections import Counter

from weave_lite.compile.physical import Limit, Merge, MorselPipeline, PStage, Scan, TopK
from weave_lite.compile.planner import PCall, PConst, PLambda, PNode, PVar
from weave_lite.graph.types import WType, type_text

# Dicts of more fields show this many (a table's row type would fill every line).
SHOWN_FIELDS = 4


def _t(t: WType) -> str:
    return type_text(t, max_fields=SHOWN_FIELDS)


def explain_plan(plan: PNode, applied: Counter) -> str:
    """The three parts of ``explain()`` for a physical ``plan`` and the rewrite counts."""
    lines: list[str] = []
    _logical(plan, 0, lines, set())
    lines.append("")
    done = ", ".join(f"{name} x{count}" for name, count in sorted(applied.items()))
    lines.append(f"rewrites applied: {done or 'none'}")
    lines.append("")
    stages = _stages(plan)
    if not stages:
        lines.append(
            "physical plan: the whole plan runs once, on the calling thread (nothing reads a table row by row)"
        )
    else:
        lines.append(f"physical plan: {len(stages)} stage(s) run morsel by morsel; the rest runs once around them")
        for stage in stages:
            _physical(stage, lines)
    return "\n".join(lines)


def _logical(node: PNode, depth: int, lines: list[str], seen: set[int]) -> None:
    pad = "  " * depth
    if isinstance(node, PConst):
        lines.append(f"{pad}const {node.value!r} : {_t(node.type)}")
    elif isinstance(node, PVar):
        lines.append(f"{pad}var {node.name} : {_t(node.type)}")
    elif isinstance(node, PLambda):
        lines.append(f"{pad}lambda ({', '.join(node.params)}) : {_t(node.type)}")
        _logical(node.body, depth + 1, lines, seen)
    elif isinstance(node, PStage):
        at = len(lines)
        _logical(node.logical, depth, lines, seen)
        lines.insert(at + 1, f"{pad}  ~ runs morsel by morsel on all threads: {node.operator.summary()}")
    elif isinstance(node, PCall):
        if id(node) in seen:  # a common subexpression: computed once per frame
            lines.append(f"{pad}{node.op} -> {_t(node.type)}  (shared, computed once)")
            return
        seen.add(id(node))
        mapped = f" [auto-mapped {node.map_depth} level(s)]" if node.map_depth else ""
        hints = "".join(f" {k}={v!r}" for k, v in node.hints)
        lines.append(f"{pad}{node.op} -> {_t(node.type)}  kernel={node.key}{mapped}{hints}")
        for a in node.args:
            if a is not None:
                _logical(a, depth + 1, lines, seen)


def _stages(plan: PNode) -> list[PStage]:
    """The plan's stages, in the order they appear (they are only ever at the top level)."""
    found: list[PStage] = []
    stack = [plan]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, PStage):
            found.append(node)
        elif isinstance(node, PCall):
            stack.extend(reversed([a for a in node.args if isinstance(a, (PCall, PStage))]))
    return found


def _physical(stage: PStage, lines: list[str]) -> None:
    operator = stage.operator
    name = type(operator).__name__
    lines.append(f"  {name} -> {_t(stage.type)}  ({operator.summary()})")
    if isinstance(operator, Merge):
        aggregate = operator.partial
        leaves = ", ".join(f"{leaf.node.op} as {leaf.partial!r}" for leaf in aggregate.leaves)
        grouped = f"  per group of `{aggregate.param}`" if aggregate.group is not None else ""
        lines.append(f"    PartialAggregate{grouped}  leaves: {leaves}")
        chain = (
            [*_chain(aggregate.group.args[0]), "groupby"]
            if aggregate.group is not None
            else _chain(aggregate.leaves[0].node.args[0])
        )
        _pipeline(chain, aggregate.scan, "      ", lines)
        return
    if isinstance(operator, (TopK, Limit)):
        lines.append(f"    then `{operator.final.op}` over the morsels' candidates, in morsel order")
    pipeline: MorselPipeline = operator.pipeline
    _pipeline(_chain(pipeline.node), pipeline.scan, "    ", lines)


def _pipeline(chain: list[str], scan: Scan, pad: str, lines: list[str]) -> None:
    lines.append(f"{pad}MorselPipeline  {' > '.join(chain)}")
    lines.append(f"{pad}  {scan}")


def _chain(node: PNode | None) -> list[str]:
    """The ops from the table's rows up to ``node`` (a row-wise chain), outermost last."""
    ops: list[str] = []
    while isinstance(node, PCall) and node.key not in ("stream_table", "table"):
        ops.append(node.op if not node.map_depth else f"{node.op} (each row)")
        node = node.args[0] if node.args else None
    return list(reversed(ops))
