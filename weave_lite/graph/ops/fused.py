"""Spec of the internal ``fused:arith`` overload: a chain of float arithmetic as one program
(made by :mod:`weave_lite.compile.rewrites.fuse_arithmetic`, run by one Numba pass)."""

from __future__ import annotations

from weave_lite.graph.registry import ELEMENT, MOMENTS, NOT_MERGEABLE, define_internal, fold

AREA = __name__  # the area is this module's name

define_internal("fused:arith", AREA, "fused", evaluation=ELEMENT, doc="a fused chain of float arithmetic")

# Made by weave_lite/compile/rewrites/fuse_scan.py: `rows.filter(p).count` and
# `rows[.filter(p)].map(f).sum|avg|min|max` as one pass of weave_lite/kernels/scan.py.  Their
# arguments are the rows, the predicate (or none) and the value function (or none), so a
# morsel the kernel cannot read (another column type) runs the original ops instead.
define_internal("scan:count", AREA, "count", partial=fold("sum"), doc="rows.filter(p).count in one pass")
define_internal("scan:sum", AREA, "sum", partial=fold("sum"), doc="rows.filter(p).map(f).sum in one pass")
define_internal("scan:min", AREA, "min", partial=fold("min"), doc="rows.filter(p).map(f).min in one pass")
define_internal("scan:max", AREA, "max", partial=fold("max"), doc="rows.filter(p).map(f).max in one pass")
define_internal("scan:avg", AREA, "avg", partial=MOMENTS, doc="rows.filter(p).map(f).avg in one pass")
# The partial moments of a `scan:avg` (what one morsel keeps): never planned, run by partials.
define_internal("scan:moments", AREA, "avg", partial=NOT_MERGEABLE, doc="a scan's count and sum as partial moments")
