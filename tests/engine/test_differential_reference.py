"""The engine against the reference interpreter, on generated tables and expressions.

Hypothesis draws small tables (nulls, NaN, inf, unicode, empty tables, a mixed-type column, a
nested dict column) and well-typed expressions from the whole op catalog; the engine's
``to_python(evaluate(...))`` must equal the reference's result (floats within 1e-9 relative),
with the plan rewrites on and off, on the whole table at once and split into morsels of a few
rows run on 1 and on 2 threads (those two results must be identical, bit for bit).
"""

from __future__ import annotations

from hypothesis import given, note, settings

from tests.reference.interpreter import evaluate_reference, to_plain, values_equal
from tests.reference.strategies import render, tables_and_expressions, to_arrow
from weave_lite.api import evaluate, to_python

NOW = __import__("datetime").datetime(2024, 5, 1, 12, 0, tzinfo=__import__("datetime").timezone.utc)


@given(tables_and_expressions())
@settings(max_examples=300)
def test_engine_equals_reference(case):
    schema, rows, node = case
    note(f"expression: {render(node)}")
    note(f"rows: {rows!r}")
    expected = to_plain(evaluate_reference(node, {"t": rows}, vars={"now": NOW}))
    table = to_arrow(schema, rows)
    chunked = _rechunked(table)
    for optimize in (True, False):
        got = to_python(evaluate(node, tables={"t": table}, vars={"now": NOW}, optimize=optimize))
        assert values_equal(got, expected), f"optimize={optimize}\nengine {got!r}\nreference {expected!r}"
        by_threads = []
        for threads in (1, 2):
            result = evaluate(node, tables={"t": chunked}, vars={"now": NOW}, optimize=optimize, threads=threads, morsel_rows=4)
            got = to_python(result)
            assert values_equal(got, expected), f"optimize={optimize} threads={threads}\nengine {got!r}\nreference {expected!r}"
            by_threads.append(repr(got))
        assert by_threads[0] == by_threads[1], f"1 thread: {by_threads[0]}\n2 threads: {by_threads[1]}"


def _rechunked(table):
    """The same rows in record batches of 1, 2, 3, 5, 8... rows (morsels gather whole batches)."""
    import pyarrow as pa

    batches, start, size = [], 0, 1
    for batch in table.to_batches():
        while start < batch.num_rows:
            batches.append(batch.slice(start, size))
            start, size = start + size, (size * 3) // 2 + 1
        start = 0
    return pa.Table.from_batches(batches, schema=table.schema) if batches else table
