"""Type rule of ``rows.profile``: a per-column statistical summary of a list of rows."""

from __future__ import annotations

from weave_lite.graph.ops.rules import base, elem, is_any, is_list
from weave_lite.graph.registry import NOT_MERGEABLE, define
from weave_lite.graph.types import BOOL, FLOAT, INT, STRING, DictT, ListT

AREA = __name__  # the area is this module's name

# The row type of a profile table (one row per profiled column), written out so that planning
# never runs a profile. tests/profiles/test_profile_type.py checks it against a real profile.
PROFILE_ROW_TYPE = DictT(
    (
        ("column", STRING),
        *(
            (name, INT)
            for name in (
                "count",
                "null_count",
                "nan_count",
                "inf_count",
                "type_integral",
                "type_fractional",
                "type_boolean",
                "type_string",
                "type_object",
            )
        ),
        *(
            (name, FLOAT)
            for name in (
                "min",
                "max",
                "mean",
                "stddev",
                "q_01",
                "q_05",
                "q_10",
                "q_25",
                "median",
                "q_75",
                "q_90",
                "q_95",
                "q_99",
                "distinct_est",
                "distinct_lower",
                "distinct_upper",
            )
        ),
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


# The row type of `current.drift(reference)` (one row per column both profiles share), written
# out like PROFILE_ROW_TYPE; tests/profiles/test_profile_type.py checks it against drift.SCHEMA.
DRIFT_ROW_TYPE = DictT(
    (
        ("column", STRING),
        ("kind", STRING),
        ("method", STRING),
        ("statistic", FLOAT),
        ("threshold", FLOAT),
        ("drifted", BOOL),
        ("n_reference", INT),
        ("n_current", INT),
        *((name, FLOAT) for name in (
            "ks_statistic", "ks_error", "wasserstein", "wasserstein_iqr", "jensen_shannon", "unseen_share",
            "null_rate_reference", "null_rate_current", "null_rate_change", "type_mix_change",
        )),
        *((name, ListT(DictT((("label", STRING), ("x", FLOAT), ("p", FLOAT)))))
          for name in ("reference_distribution", "current_distribution")),
    )
)  # fmt: skip


def _is_profile(t) -> bool:
    return is_any(t) or (is_list(t) and base(elem(t)) == PROFILE_ROW_TYPE)


define(
    "drift",
    AREA,
    ("list", "list"),
    lambda types, consts: ListT(DRIFT_ROW_TYPE),
    accepts=lambda types: _is_profile(types[0]) and _is_profile(types[1]),
    partial=NOT_MERGEABLE,
    foldable=False,
    doc="current_profile.drift(reference_profile)",
)
