"""Plan rewrites: each a pure function plan -> plan in its own module, applied in order.

Every rule keeps results identical (the differential tests run with and without them); they
only pick cheaper kernels for common shapes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from weave_lite.compile.planner import PCall, PLambda, PNode
from weave_lite.compile.rewrites.count_filter import count_filter
from weave_lite.compile.rewrites.prune_segments import prune_segments
from weave_lite.compile.rewrites.top_k import top_k

Rule = Callable[[PNode], PNode]
# Pruning looks for filter(rows(stream_table)), so it runs before count_filter rewrites filters.
RULES: tuple[Rule, ...] = (prune_segments, count_filter, top_k)


def optimize(plan: PNode, rules: tuple[Rule, ...] = RULES) -> PNode:
    """Apply every rule bottom-up over the plan."""
    for rule in rules:
        plan = _bottom_up(plan, rule)
    return plan


def _bottom_up(node: PNode, rule: Rule) -> PNode:
    if isinstance(node, PCall):
        args = tuple(_bottom_up(a, rule) for a in node.args)
        if any(a is not b for a, b in zip(args, node.args)):
            node = replace(node, args=args)
        return rule(node)
    if isinstance(node, PLambda):
        body = _bottom_up(node.body, rule)
        return node if body is node.body else replace(node, body=body)
    return node
