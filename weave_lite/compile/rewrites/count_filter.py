"""``xs.filter(f).count`` -> count where ``f`` holds, from the predicate's mask alone.

Counting a mask costs one pass over one boolean column; filtering first would gather the
list's elements only to count them.
"""

from __future__ import annotations

from dataclasses import replace

from weave_lite.compile.planner import PCall, PNode


def count_filter(node: PNode) -> PNode:
    if (
        isinstance(node, PCall)
        and node.key == "count"
        and node.map_depth == 0
        and isinstance(node.args[0], PCall)
        and node.args[0].key == "filter"
        and node.args[0].map_depth == 0
    ):
        inner = node.args[0]
        return replace(node, key="count:where", args=inner.args, arg_types=inner.arg_types)
    return node
