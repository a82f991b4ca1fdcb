"""Spec of the internal ``fused:arith`` overload: a chain of float arithmetic as one program
(made by :mod:`weave_lite.compile.rewrites.fuse_arithmetic`, run by one Numba pass)."""

from __future__ import annotations

from weave_lite.graph.registry import ELEMENT, define_internal

AREA = __name__  # the area is this module's name

define_internal("fused:arith", AREA, "fused", evaluation=ELEMENT, doc="a fused chain of float arithmetic")
