"""Kernels of the roots area: ``stream_table(name)`` / ``table(name)`` (a table's rows, read
through the runtime with the scan predicates a rewrite pushed down) and ``rows``."""

from __future__ import annotations

import numpy as np

from weave_lite.execute.estimates import repeat_bytes
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.vectors import ListVec, StructVec, Vec


@kernel("stream_table")
def stream_table(call: KernelCall) -> Vec:
    return _root(call, "stream_table")


@kernel("table")
def table(call: KernelCall) -> Vec:
    return _root(call, "table")


def _root(call: KernelCall, op: str) -> Vec:
    predicates = call.params.get("predicates", ())
    columns = call.params.get("columns")
    rows = ListVec.single(StructVec.from_table(call.runtime.load_arrow(op, call.const(0), predicates, columns)))
    if call.length == 1:
        return rows
    # Inside a function (`T.map(a => T["lat"])`): the whole table once per element.
    call.admit(repeat_bytes(rows, call.length), f"`{op}` read again for each of {call.length:,} elements")
    return rows.take(np.zeros(call.length, dtype=np.int64))


@kernel("rows")
def rows(call: KernelCall) -> Vec:
    return call.args[0]
