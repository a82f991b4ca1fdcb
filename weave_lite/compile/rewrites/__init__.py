"""Plan rewrites: each a pure function plan -> plan in its own module, applied in order.

Every rule keeps results identical (the differential tests run with and without them); they
only pick cheaper kernels for common shapes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from weave_lite.compile.planner import PCall, PLambda, PNode
from weave_lite.compile.rewrites.common_subexpressions import common_subexpressions
from weave_lite.compile.rewrites.constant_folding import Fold, constant_folding
from weave_lite.compile.rewrites.count_filter import count_filter
from weave_lite.compile.rewrites.fuse_arithmetic import fuse_arithmetic
from weave_lite.compile.rewrites.fuse_scan import fuse_scan
from weave_lite.compile.rewrites.project_columns import project_columns
from weave_lite.compile.rewrites.prune_segments import prune_segments
from weave_lite.compile.rewrites.sort_keys import sort_keys
from weave_lite.compile.rewrites.top_k import top_k
from weave_lite.compile.rewrites.window_functions import refuse_other_window_functions, window_functions

Rule = Callable[[PNode], PNode]
# Node rules, applied bottom-up in this order. Folding first turns `60 * 1000` into a literal
# that pruning can use; pruning looks for filter(rows(stream_table)), so it runs before
# count_filter rewrites filters; top_k runs before sort_keys (which rewrites the key lambda of
# both `sort` and `limit:sorted`); arithmetic is fused once constants are folded, and a scan's
# predicate and value (fused arithmetic included) into one pass last.
RULES: tuple[Rule, ...] = (
    constant_folding,
    prune_segments,
    count_filter,
    top_k,
    sort_keys,
    window_functions,
    fuse_arithmetic,
    fuse_scan,
)
# Whole-plan rules, applied last (projection sees the final, shared plan).
PLAN_RULES: tuple[Rule, ...] = (common_subexpressions, project_columns)
# Rules that also run without optimisation (``optimize=False``), as the kernels themselves once
# did these while running: a sort key list's items are separate keys (exact, never widened to
# one type), and `rolling` refuses window functions docs/semantics.md does not promise.
LOWERING: tuple[Rule, ...] = (sort_keys, refuse_other_window_functions)


def lower(plan: PNode, check: Callable[[], None] | None = None) -> PNode:
    """Only the :data:`LOWERING` rules (what ``optimize=False`` still applies)."""
    return optimize(plan, rules=LOWERING, check=check, plan_rules=())


def optimize(
    plan: PNode,
    rules: tuple[Rule, ...] = RULES,
    check: Callable[[], None] | None = None,
    plan_rules: tuple[Rule, ...] = PLAN_RULES,
    fold: Fold | None = None,
    applied: Counter | None = None,
) -> PNode:
    """Apply the node rules bottom-up in one walk (each node gets every rule in order, after
    its arguments got them all), then the whole-plan rules (``rules=(top_k,), plan_rules=()``
    runs one rule alone).  ``check`` (the evaluation's deadline) is called once per node.

    Constant folding computes ops on literals with the engine's kernels, which live in the
    execute layer: the caller hands their evaluator over as ``fold`` (without one nothing is
    folded), so this layer never imports the next.  ``applied`` counts the nodes each rule
    changed, by rule name (for ``explain``).
    """
    active = tuple(partial(constant_folding, fold=fold) if rule is constant_folding else rule for rule in rules)
    names = tuple(rule.__name__ for rule in rules)
    plan = _bottom_up(plan, tuple(zip(names, active)), check or _no_check, applied)
    for rule in plan_rules:
        rewritten = rule(plan)
        if applied is not None and rewritten is not plan:
            applied[rule.__name__] += 1
        plan = rewritten
    return plan


def _no_check() -> None:
    return None


def _bottom_up(
    node: PNode, rules: tuple[tuple[str, Rule], ...], check: Callable[[], None], applied: Counter | None
) -> PNode:
    if isinstance(node, PCall):
        check()
        args = tuple(a if a is None else _bottom_up(a, rules, check, applied) for a in node.args)
        if any(a is not b for a, b in zip(args, node.args)):
            node = replace(node, args=args)
        for name, rule in rules:
            rewritten = rule(node)
            if applied is not None and rewritten is not node:
                applied[name] += 1
            node = rewritten
        return node
    if isinstance(node, PLambda):
        body = _bottom_up(node.body, rules, check, applied)
        return node if body is node.body else replace(node, body=body)
    return node
