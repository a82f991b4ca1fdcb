"""Type rule of ``rows.profile``: a per-column statistical summary of a list of rows."""

from __future__ import annotations

from weave_lite.graph.ops.rules import base, elem, is_any
from weave_lite.graph.registry import NOT_MERGEABLE, define
from weave_lite.graph.types import FLOAT, INT, STRING, DictT, ListT

AREA = __name__  # the area is this module's name

# The row type of a profile table (one row per profiled column), written out so that planning
# never runs a profile. tests/profiles/test_profile_type.py checks it against a real profile.
PROFILE_ROW_TYPE = DictT(
    (
        ("column", STRING),
        *((name, INT) for name in (
            "count", "null_count", "nan_count", "inf_count", "type_integral",
            "type_fractional", "type_boolean", "type_string", "type_object",
        )),
        *((name, FLOAT) for name in (
            "min", "max", "mean", "stddev",
            "q_01", "q_05", "q_10", "q_25", "median", "q_75", "q_90", "q_95", "q_99",
            "distinct_est", "distinct_lower", "distinct_upper",
        )),
        ("frequent_items", ListT(DictT((("value", STRING), ("est", INT))))),
    )
)


def profile_row_type() -> DictT:
    """The row type of a profile table (one row per column)."""
    return PROFILE_ROW_TYPE


define(
    "profile",
    AREA,
    ("list",),
    lambda types, consts: ListT(PROFILE_ROW_TYPE),
    accepts=lambda types: isinstance(base(elem(types[0])), DictT) or is_any(elem(types[0])),
    partial=NOT_MERGEABLE,
    foldable=False,
    doc="rows.profile",
)
