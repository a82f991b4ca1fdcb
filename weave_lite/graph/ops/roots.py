"""Specs of the table roots: ``stream_table("e/p/t")``, ``table("name")`` and ``.rows``."""

from __future__ import annotations

from weave_lite.graph.ops.rules import base, fixed, is_list
from weave_lite.graph.registry import define
from weave_lite.graph.types import ANY, ListT, TableT

AREA = __name__  # the area is this module's name

# The planner resolves the roots itself (a table name gives the table's type); reading a
# table is never folded.
define("stream_table", AREA, ("scalar",), fixed(ANY), foldable=False, doc='stream_table("entity/project/table")')
define("table", AREA, ("scalar",), fixed(ANY), foldable=False, doc='table("name") (from tables=)')
define(
    "rows",
    AREA,
    ("any",),
    lambda types, consts: ListT(base(types[0]).row) if isinstance(base(types[0]), TableT) else types[0],
    accepts=lambda types: isinstance(base(types[0]), TableT) or is_list(types[0]),
    doc="table.rows",
)
