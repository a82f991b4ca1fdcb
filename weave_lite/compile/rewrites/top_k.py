"""``xs.sort(f, dirs).limit(n)`` -> the first n in sorted order without sorting everything.

The kernel selects candidates with Arrow's top-k, then sorts only those with the same stable
order (ties by position), so the result is exactly the full sort's first n.
"""

from __future__ import annotations

from dataclasses import replace

from weave_lite.compile.planner import PCall, PNode


def top_k(node: PNode) -> PNode:
    if (
        isinstance(node, PCall)
        and node.key == "limit"
        and node.map_depth == 0
        and isinstance(node.args[0], PCall)
        and node.args[0].key == "sort"
        and node.args[0].map_depth == 0
    ):
        inner = node.args[0]
        sort_args = inner.args if len(inner.args) == 3 else (*inner.args, None)
        return replace(node, key="limit:sorted", args=(*sort_args, node.args[1]))
    return node
