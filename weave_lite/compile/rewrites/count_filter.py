"""``xs.filter(f).count`` -> count where ``f`` holds, from the predicate's mask alone.

Counting a mask costs one pass over one boolean column; filtering first would gather the
list's elements only to count them.
"""

from __future__ import annotations

from dataclasses import replace

from weave_lite.compile.planner import PCall, PNode
from weave_lite.compile.rewrites.chain import outer_over


def count_filter(node: PNode) -> PNode:
    inner = outer_over(node, "count", "filter")
    if inner is None or not isinstance(node, PCall):  # a match means ``node`` is a call
        return node
    return replace(node, key="count:where", args=inner.args, arg_types=inner.arg_types)
