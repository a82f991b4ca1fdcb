"""The engine against the reference interpreter, on generated tables and expressions.

Hypothesis draws small tables (nulls, NaN, inf, unicode, empty tables, a mixed-type column, a
nested dict column) and well-typed expressions from the whole op catalog; the engine's
``to_python(evaluate(...))`` must equal the reference's result (floats within 1e-9 relative),
with the plan rewrites on and off.
"""

from __future__ import annotations

from hypothesis import given, note, settings

from weave_lite.api import evaluate, to_python
from tests.reference.interpreter import evaluate_reference, to_plain, values_equal
from tests.reference.strategies import render, tables_and_expressions, to_arrow

NOW = __import__("datetime").datetime(2024, 5, 1, 12, 0, tzinfo=__import__("datetime").timezone.utc)


@given(tables_and_expressions())
@settings(max_examples=300)
def test_engine_equals_reference(case):
    schema, rows, node = case
    note(f"expression: {render(node)}")
    note(f"rows: {rows!r}")
    expected = to_plain(evaluate_reference(node, {"t": rows}, vars={"now": NOW}))
    table = to_arrow(schema, rows)
    for optimize in (True, False):
        got = to_python(evaluate(node, tables={"t": table}, vars={"now": NOW}, optimize=optimize))
        assert values_equal(got, expected), f"optimize={optimize}\nengine {got!r}\nreference {expected!r}"
