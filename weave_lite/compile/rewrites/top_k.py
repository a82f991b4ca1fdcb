"""``xs.sort(f, dirs).limit(n)`` -> the first n in sorted order without sorting everything.

The kernel selects candidates with Arrow's top-k, then sorts only those with the same stable
order (ties by position), so the result is exactly the full sort's first n.
"""

from __future__ import annotations

from dataclasses import replace

from weave_lite.compile.planner import PCall, PNode
from weave_lite.compile.rewrites.chain import outer_over


def top_k(node: PNode) -> PNode:
    inner = outer_over(node, "limit", "sort")
    if inner is None or not isinstance(node, PCall):  # a match means ``node`` is a call
        return node
    sort_args = inner.args if len(inner.args) == 3 else (*inner.args, None)
    # A sort without directions gets None in their place (the kernel's default order).
    return replace(node, key="limit:sorted", args=(*sort_args, node.args[1]))  # type: ignore[arg-type]
