"""Plan rewrites: each a pure function plan -> plan in its own module, applied in order.

Every rule keeps results identical (the differential tests run with and without them); they
only pick cheaper kernels for common shapes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from weave_lite.compile.planner import PCall, PLambda, PNode
from weave_lite.compile.rewrites.common_subexpressions import common_subexpressions
from weave_lite.compile.rewrites.constant_folding import constant_folding
from weave_lite.compile.rewrites.count_filter import count_filter
from weave_lite.compile.rewrites.fuse_arithmetic import fuse_arithmetic
from weave_lite.compile.rewrites.prune_segments import prune_segments
from weave_lite.compile.rewrites.sort_keys import sort_keys
from weave_lite.compile.rewrites.top_k import top_k
from weave_lite.compile.rewrites.window_functions import window_functions

Rule = Callable[[PNode], PNode]
# Node rules, applied bottom-up in this order. Folding first turns `60 * 1000` into a literal
# that pruning can use; pruning looks for filter(rows(stream_table)), so it runs before
# count_filter rewrites filters; top_k runs before sort_keys (which rewrites the key lambda of
# both `sort` and `limit:sorted`); arithmetic is fused last, once constants are folded.
RULES: tuple[Rule, ...] = (
    constant_folding,
    prune_segments,
    count_filter,
    top_k,
    sort_keys,
    window_functions,
    fuse_arithmetic,
)
# Whole-plan rules, applied last.
PLAN_RULES: tuple[Rule, ...] = (common_subexpressions,)


def optimize(plan: PNode, rules: tuple[Rule, ...] = RULES, check: Callable[[], None] | None = None) -> PNode:
    """Apply the node rules bottom-up in one walk (each node gets every rule in order, after
    its arguments got them all), then the whole-plan rules.  ``check`` (the evaluation's
    deadline) is called once per node."""
    plan = _bottom_up(plan, rules, check or _no_check)
    for rule in PLAN_RULES:
        plan = rule(plan)
    return plan


def _no_check() -> None:
    return None


def _bottom_up(node: PNode, rules: tuple[Rule, ...], check: Callable[[], None]) -> PNode:
    if isinstance(node, PCall):
        check()
        args = tuple(a if a is None else _bottom_up(a, rules, check) for a in node.args)
        if any(a is not b for a, b in zip(args, node.args)):
            node = replace(node, args=args)
        for rule in rules:
            node = rule(node)
        return node
    if isinstance(node, PLambda):
        body = _bottom_up(node.body, rules, check)
        return node if body is node.body else replace(node, body=body)
    return node
