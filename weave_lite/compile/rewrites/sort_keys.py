"""``xs.sort(r => [a, b], dirs)``: the key list's items as separate sort keys, never built into lists.

``sort`` reads a key function returning a list of the same length for every element as its
positional keys; building that list costs a copy of every key (and widens an int key next to a
float one to float).  Here a key function whose body is a list literal gets ``sort:keys`` for
that literal: its value is the items as they are, each its own column and type.  Also for
``limit:sorted`` (``sort(...).limit(n)``, see :mod:`weave_lite.compile.rewrites.top_k`).
"""

from __future__ import annotations

from dataclasses import replace

from weave_lite.compile.planner import PCall, PLambda, PNode

SORTS = ("sort", "limit:sorted")


def sort_keys(node: PNode) -> PNode:
    if not (isinstance(node, PCall) and node.key in SORTS and len(node.args) > 1):
        return node
    fn = node.args[1]
    if not isinstance(fn, PLambda):
        return node
    body = fn.body
    if not (isinstance(body, PCall) and body.key == "list" and body.map_depth == 0):
        return node
    keys = replace(body, key="sort:keys")
    return replace(node, args=(node.args[0], replace(fn, body=keys), *node.args[2:]))
