"""Kernel of fused float arithmetic (see weave_lite.compile.rewrites.fuse_arithmetic)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from weave_lite.execute.columns import to_numpy
from weave_lite.execute.executor import KernelCall, kernel
from weave_lite.execute.vectors import ArrayVec, Vec
from weave_lite.lazy import lazy_module

fused = lazy_module("weave_lite.kernels.fused")  # Numba: loaded by the first fused program

_ALL_VALID = np.ones(0, dtype=np.bool_)
_ALL_VALID.setflags(write=False)


def _read_only(array: np.ndarray) -> np.ndarray:
    # Numba types a tuple of arrays as one type only if all are alike; Arrow's zero-copy
    # arrays are read-only, so every input is passed read-only.
    array.setflags(write=False)
    return array


@kernel("fused:arith")
def fused_arith(call: KernelCall) -> Vec:
    codes, constants, depth = call.params["program"]
    n = call.length
    values, masks, masked = [], [], []
    for vec in call.args:
        data, valid = to_numpy(vec, n, np.float64)
        values.append(_read_only(data))
        masks.append(_ALL_VALID if valid is None else _read_only(valid))
        masked.append(valid is not None)
    out, ok = fused.run_program(
        np.array([c for c, _ in codes], dtype=np.int64),
        np.array([o for _, o in codes], dtype=np.int64),
        np.array(constants, dtype=np.float64),
        tuple(values),
        tuple(masks),
        np.array(masked, dtype=np.bool_),
        n,
        depth,
    )
    return ArrayVec(pa.array(out, mask=None if ok.all() else ~ok))
