"""Helpers over a :class:`~weave_lite.execute.executor.KernelCall` shared by the kernels of
several areas (strings, timestamps, bins): typed null results and constant folding at run
time (``"a".upper`` computed once, not once per row)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from weave_lite.execute.columns import arrow_type_for, is_null_type
from weave_lite.execute.estimates import repeat_bytes
from weave_lite.execute.executor import KernelCall
from weave_lite.execute.vectors import ArrayVec, ConstVec, ListVec, StructVec, Vec


def null_result(call: KernelCall) -> Vec:
    """Nulls of the call's result type, one per element."""
    return ConstVec(None, arrow_type_for(call.out_type), call.length)


def has_null_type(call: KernelCall) -> bool:
    """Whether a value argument is null-typed (the ``null`` literal): the result is null."""
    return any(isinstance(a, Vec) and is_null_type(a) for a in call.args)


def broadcast(vec: Vec, n: int) -> Vec:
    """A Vec computed for one element, repeated ``n`` times."""
    if isinstance(vec, ConstVec):
        return ConstVec(vec.value, vec.arrow_type, n)
    if isinstance(vec, ArrayVec):
        t = vec.array.type
        if not (pa.types.is_nested(t) or pa.types.is_union(t)):
            return ConstVec(vec.array[0].as_py(), t, n)
    return vec.take(np.zeros(n, dtype=np.int64))


def folding(compute: Callable[[KernelCall, list, int], Vec]) -> Callable[[KernelCall], Vec]:
    """Run ``compute(call, args, n)``; when every value argument is a constant, run it once on
    one element and broadcast the result (``"a".upper`` in a frame of a million rows)."""

    @functools.wraps(compute)  # registered under the kernel's own name and module
    def run(call: KernelCall) -> Vec:
        if has_null_type(call):
            return null_result(call)
        values = [a for a in call.args if isinstance(a, Vec)]
        if values and call.length != 1 and all(isinstance(a, ConstVec) for a in values):
            small = [ConstVec(a.value, a.arrow_type, 1) if isinstance(a, ConstVec) else a for a in call.args]
            one = compute(call, small, 1)
            if isinstance(one, (ListVec, StructVec)):  # copied once per element (`"a,b".split(",")`)
                call.admit(repeat_bytes(one, call.length), f"`{call.op}` repeated for {call.length:,} elements")
            return broadcast(one, call.length)
        return compute(call, list(call.args), call.length)

    run.__name__ = compute.__name__
    return run
