"""Common-subexpression elimination: structurally equal subplans become one shared node.

``{n: g["lat"].count, avg: g["lat"].sum / g["lat"].count}`` plans ``g["lat"]`` and
``g["lat"].count`` once each; the executor keeps each shared node's value per frame (a frame
is one evaluation of a function body), so the duplicate is computed once.  Sharing never
crosses frames, so equal text in different functions is never confused.
"""

from __future__ import annotations

from dataclasses import replace

from weave_lite.compile.planner import PCall, PConst, PLambda, PNode, PVar


def common_subexpressions(plan: PNode) -> PNode:
    """Hash-cons the whole plan (this rule runs once on the root, not per node)."""
    table: dict[tuple, PNode] = {}
    return _intern(plan, table)


def _intern(node: PNode, table: dict) -> PNode:
    if isinstance(node, PLambda):
        body = _intern(node.body, table)
        return node if body is node.body else replace(node, body=body)
    if isinstance(node, PCall):
        args = tuple(None if a is None else _intern(a, table) for a in node.args)
        if any(a is not b for a, b in zip(args, node.args)):
            node = replace(node, args=args)
    key = _key(node)
    if key is None:
        return node
    return table.setdefault(key, node)


def _key(node: PNode):
    if isinstance(node, PConst):
        value = node.value
        if isinstance(value, float):
            value = repr(value)  # -0.0 == 0.0 and NaN != NaN: tell floats apart by their text
        try:
            hash(value)
        except TypeError:
            return None
        return ("const", type(node.value).__name__, value, str(node.type))
    if isinstance(node, PVar):
        return ("var", node.name)
    if isinstance(node, PCall):
        if any(isinstance(a, PLambda) for a in node.args):
            return None  # a call taking a function: keep (its function is interned inside)
        return ("call", node.key, node.map_depth, node.hints, tuple(id(a) for a in node.args))
    return None
