"""Every logged value reads back as logged (SPEC section 2), over generated rows."""

from __future__ import annotations

import tempfile

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.storage.strategies import rows, values
from tests.storage.values_compare import same_logged_value
from weave_lite import StreamTable
from weave_lite.storage.values import column_to_array, conform, unify


@given(st.lists(st.lists(rows, min_size=1, max_size=6), min_size=1, max_size=4))
@settings(max_examples=40)
def test_logged_rows_read_back_exactly(calls):
    """Rows logged over several calls (so several segments) read back value for value."""
    with tempfile.TemporaryDirectory() as root:
        st_ = StreamTable("e/p/t", root=root, batch_interval=0.001)
        for call in calls:
            st_.log(call)
            st_.flush()  # one segment per call: exercises unification across segments
        st_.finish()
        got = st_.to_arrow().to_pylist()
    logged = [r for call in calls for r in call]
    assert len(got) == len(logged)
    for original, back in zip(logged, got):
        for key, value in original.items():
            assert same_logged_value(value, back[key]), (key, value, back[key])
        assert back["_client_id"] == st_.client_id
        assert back["timestamp"] is not None
        for key in set(back) - set(original) - {"timestamp", "_client_id"}:
            assert back[key] is None


@given(st.lists(values, max_size=8), st.lists(values, max_size=8))
def test_conform_to_unified_type_keeps_values(left, right):
    """Two columns built separately, conformed to their unified type, keep every value."""
    a, b = column_to_array(left), column_to_array(right)
    target = unify(a.type, b.type)
    # Order of arrival changes only the order of struct fields (first seen first), never kinds.
    assert _sorted_fields(unify(b.type, a.type)) == _sorted_fields(target)
    for logged, array in ((left, a), (right, b)):
        back = conform(array, target).to_pylist()
        assert all(same_logged_value(x, y) for x, y in zip(logged, back)), (logged, back)


def _sorted_fields(t: pa.DataType) -> str:
    if pa.types.is_struct(t):
        return "struct<" + ",".join(sorted(f"{f.name}:{_sorted_fields(f.type)}" for f in t)) + ">"
    if pa.types.is_list(t):
        return f"list<{_sorted_fields(t.value_type)}>"
    if pa.types.is_union(t):
        return "union<" + ",".join(_sorted_fields(t.field(i).type) for i in range(t.num_fields)) + ">"
    return str(t)
