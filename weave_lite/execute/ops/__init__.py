"""Kernels of every op, one module per area (importing registers them)."""

from weave_lite.execute.ops import arith, bins, dicts, fused, join, lists, profiles, reducers, strings, timestamps, windows  # noqa: F401
