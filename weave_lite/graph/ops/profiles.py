"""Type rule of ``rows.profile``: a per-column statistical summary of a list of rows."""

from __future__ import annotations

import functools

from weave_lite.graph.ops.rules import base, elem, is_any
from weave_lite.graph.registry import NOT_MERGEABLE, define

AREA = __name__  # the area is this module's name
from weave_lite.graph.types import DictT, ListT, row_type


@functools.lru_cache(maxsize=1)
def profile_row_type() -> DictT:
    """The row type of a profile table (one row per column), read off a real profile."""
    import pyarrow as pa

    from weave_lite.profiles import profile_table

    return row_type(profile_table(pa.table({"x": [1.0]})).to_arrow().schema)


define(
    "profile",
    AREA,
    ("list",),
    lambda types, consts: ListT(profile_row_type()),
    accepts=lambda types: isinstance(base(elem(types[0])), DictT) or is_any(elem(types[0])),
    partial=NOT_MERGEABLE,
    foldable=False,
    doc="rows.profile",
)
