"""Kernels of every op, one module per area (importing registers them)."""

from weave_lite.execute.ops import arith, lists, reducers  # noqa: F401
