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
    assert PROFILE_ROW_TYPE == row_type(profile_table(table).to_arrow().schema)
