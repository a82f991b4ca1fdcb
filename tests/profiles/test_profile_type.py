"""The statically declared row type of ``rows.profile`` matches what a profile produces."""

from __future__ import annotations

import pyarrow as pa
import pytest

from weave_lite.graph.ops.profiles import PROFILE_ROW_TYPE
from weave_lite.graph.types import row_type
from weave_lite.profiles import profile_table


@pytest.mark.parametrize(
    "table",
    [
        pa.table({"x": [1.0]}),
        pa.table({"i": [1, 2, None], "s": ["a", "b", "a"], "b": [True, False, None]}),
        pa.table({"empty": pa.array([], pa.float64())}),
    ],
    ids=["float", "mixed", "empty"],
)
def test_static_profile_row_type_matches_a_real_profile(table):
    assert row_type(profile_table(table).to_arrow().schema) == PROFILE_ROW_TYPE


def test_static_drift_row_type_matches_drift_schema():
    from weave_lite.graph.ops.profiles import DRIFT_ROW_TYPE
    from weave_lite.profiles.drift import SCHEMA

    assert row_type(SCHEMA) == DRIFT_ROW_TYPE


def test_drift_as_an_expression_op():
    """`current.profile.drift(reference.profile)` in a panel: a shifted column drifts, an
    unchanged one does not."""
    import numpy as np

    import weave_lite

    rng = np.random.default_rng(3)
    n = 20_000
    table = pa.table(
        {
            "week": ["last"] * n + ["this"] * n,
            "lat": np.concatenate([rng.normal(100, 10, n), rng.normal(130, 10, n)]),
            "tokens": np.concatenate([rng.normal(50, 5, n), rng.normal(50, 5, n)]),
            "model": ["a", "b"] * n,
        }
    )
    expr = (
        'table("t").rows.filter(r => r["week"] == "this").profile'
        '.drift(table("t").rows.filter(r => r["week"] == "last").profile)'
    )
    result = {r["column"]: r for r in weave_lite.evaluate(expr, tables={"t": table}).to_pylist()}
    assert result["lat"]["drifted"] is True
    assert result["tokens"]["drifted"] is False
    assert result["model"]["drifted"] is False
