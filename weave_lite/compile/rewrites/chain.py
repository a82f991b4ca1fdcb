"""Matching ``inner(...).outer(...)`` in a plan, for the rules that fuse two calls."""

from __future__ import annotations

from weave_lite.compile.planner import PCall, PNode


def outer_over(node: PNode, outer: str, inner: str) -> PCall | None:
    """The inner call when ``node`` is ``outer`` applied (unmapped) to an unmapped ``inner``."""
    if (
        isinstance(node, PCall)
        and node.key == outer
        and node.map_depth == 0
        and isinstance(node.args[0], PCall)
        and node.args[0].key == inner
        and node.args[0].map_depth == 0
    ):
        return node.args[0]
    return None
