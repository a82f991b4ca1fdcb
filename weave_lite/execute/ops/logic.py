"""Kernels of the logic area: ``and``, ``or``, ``not`` (Kleene logic), ``isNone``, ``coalesce``
(``??``) and ``cond``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.execute.columns import bool_mask, concat_vecs, elementwise, is_null_type
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.vectors import ArrayVec, ConstVec, Vec
from weave_lite.lazy import lazy_module

pc = lazy_module("pyarrow.compute")  # loaded by the first kernel that uses it (issue 15: start-up)


def _bool(vec: Vec) -> Vec:
    if is_null_type(vec):
        return ConstVec(None, pa.bool_(), vec.length)
    return vec


kernel("and")(lambda call: elementwise(pc.and_kleene, _bool(call.args[0]), _bool(call.args[1])))
kernel("or")(lambda call: elementwise(pc.or_kleene, _bool(call.args[0]), _bool(call.args[1])))
kernel("not")(lambda call: elementwise(pc.invert, _bool(call.args[0])))


@kernel("isNone")
def is_none(call: KernelCall) -> Vec:
    vec = call.args[0]
    if isinstance(vec, ConstVec):
        return ConstVec(vec.value is None, pa.bool_(), vec.length)
    return ArrayVec(pa.array(~vec.is_valid(), type=pa.bool_()))


@kernel("coalesce")
def coalesce(call: KernelCall) -> Vec:
    return _choose(~call.args[0].is_valid(), call.args[1], call.args[0])


@kernel("cond")
def cond(call: KernelCall) -> Vec:
    take_then = bool_mask(call.args[0], null_as=False)
    return _choose(take_then, call.args[1], call.args[2])


def _choose(pick_first: np.ndarray, first: Vec, second: Vec) -> Vec:
    """Element i from ``first`` where ``pick_first[i]`` else from ``second`` (any Vec kinds)."""
    n = len(pick_first)
    if pick_first.all():
        return first
    if not pick_first.any():
        return second
    both = concat_vecs([first, second])
    index = np.where(pick_first, np.arange(n), np.arange(n) + first.length)
    return both.take(index)
