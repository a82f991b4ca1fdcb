"""``xs.rolling(w => w.avg, n)`` -> ``rolling:avg``: the window function recognised while planning.

``rolling`` runs any window function over windows it builds (one list per element); for the
four functions of docs/semantics.md (``w => w.avg``, ``.sum``, ``.min``, ``.max``) the
``rolling:<function>`` kernels compute every window in one pass without building any.  Other
window functions are refused here, with the error docs/semantics.md promises.
"""

from __future__ import annotations

from dataclasses import replace

from weave_lite.compile.planner import PCall, PLambda, PNode, PVar
from weave_lite.errors import ExecutionError

FUNCTIONS = ("avg", "sum", "min", "max")


def window_function(fn: PNode) -> str | None:
    """Which of :data:`FUNCTIONS` the window lambda ``fn`` applies to its parameter, if any."""
    if not isinstance(fn, PLambda) or not fn.params:
        return None
    body = fn.body
    if (
        isinstance(body, PCall)
        and body.op in FUNCTIONS
        and body.map_depth == 0
        and len(body.args) == 1
        and isinstance(body.args[0], PVar)
        and body.args[0].name == fn.params[0]
    ):
        return body.op
    return None


def window_functions(node: PNode) -> PNode:
    if not (isinstance(node, PCall) and node.key == "rolling" and len(node.args) > 1):
        return node
    return replace(node, key=f"rolling:{_known_function(node)}")


def refuse_other_window_functions(node: PNode) -> PNode:
    """Raise for a ``rolling`` whose window function is not one of :data:`FUNCTIONS` (this
    check runs with or without optimisation; the generic kernel would run any function)."""
    if isinstance(node, PCall) and node.key == "rolling" and len(node.args) > 1:
        _known_function(node)
    return node


def _known_function(node: PCall) -> str:
    function = window_function(node.args[1])
    if function is None:
        raise ExecutionError(
            "`rolling` takes one of `w => w.avg`, `w => w.sum`, `w => w.min` or `w => w.max` as its window function",
            span=node.source.span,
        )
    return function
