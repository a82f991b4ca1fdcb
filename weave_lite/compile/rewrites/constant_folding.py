"""Constant folding: an op whose arguments are all literals is computed once, while planning.

``lat > 60 * 1000`` plans as ``lat > 60000``; ``Date("2024-05-01T00:00:00Z").toNumber`` as
its number. Only scalar results are folded (lists and dicts stay calls), ops that read tables
or the clock (their specs say ``foldable=False``) are never folded, and an op that fails on its
literals is left for run time so the error keeps its place in the expression.  The kernels
that compute a fold live in the execute layer, so the caller hands their evaluator over
(``fold``: weave_lite.execute.folding.evaluate_constant).

Folding runs before any budget of the evaluation applies, so it keeps to a small one of its
own: literals longer than :data:`MAX_FOLDED_BYTES` are neither folded further nor produced
(``"ab".replace("a", "aa")`` sixty times over would otherwise double a string sixty times while
planning), and each fold gets :data:`FOLD_BUDGET` of memory and time; what does not fit is left
for run time, where the evaluation's own budget decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from weave_lite.budgets import Budget
from weave_lite.compile.planner import PCall, PConst, PNode
from weave_lite.graph import registry

# (a call whose arguments are all literals, the budget of the fold) -> its Python value.
Fold = Callable[[PCall, Budget], Any]
_SCALARS = (type(None), bool, int, float, str, bytes, dt.datetime, dt.date)
MAX_FOLDED_BYTES = 64 * 1024
# (max_memory, timeout) of one fold.
FOLD_BUDGET = (64 * 1024 * 1024, 0.25)


def constant_folding(node: PNode, fold: Fold | None = None) -> PNode:
    if fold is None or not (isinstance(node, PCall) and node.args and registry.spec(node.key).foldable):
        return node
    consts = [a for a in node.args if isinstance(a, PConst)]
    if len(consts) != len(node.args):
        return node
    if any(_too_long(a.value) for a in consts):
        return node
    try:
        value = fold(node, Budget(*FOLD_BUDGET))
    except Exception:  # let the run report it, at its place in the expression
        return node
    if not isinstance(value, _SCALARS) or _too_long(value):
        return node
    return PConst(value, node.type, node.source)


def _too_long(value: object) -> bool:
    return isinstance(value, (str, bytes)) and len(value) > MAX_FOLDED_BYTES
