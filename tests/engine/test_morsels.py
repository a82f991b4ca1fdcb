"""Morsel-parallel execution: how tables are cut, and that results never depend on threads."""

from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reference.interpreter import values_equal
from weave_lite import StreamTable, WeaveError, evaluate, to_python
from weave_lite.execute.morsels import split_morsels
from weave_lite.storage.values import column_to_array

START = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


@given(st.lists(st.integers(0, 30), max_size=12), st.integers(1, 25))
@settings(max_examples=200)
def test_morsels_are_the_table_cut_in_order(batch_sizes, size):
    batches, start = [], 0
    for n in batch_sizes:
        batches.append(pa.record_batch({"i": pa.array(range(start, start + n), pa.int64())}))
        start += n
    table = pa.Table.from_batches(batches, schema=pa.schema([("i", pa.int64())]))
    pieces = split_morsels(table, size)
    assert [v for p in pieces for v in p.column("i").to_pylist()] == list(range(start))
    assert all(p.num_rows > 0 for p in pieces)
    for p in pieces:
        # A morsel is whole batches up to `size` rows, or one piece of a longer batch.
        assert p.num_rows <= size or p.column("i").num_chunks == 1
        assert p.num_rows <= max(size, max(batch_sizes, default=0))


@pytest.fixture(scope="module")
def segmented_table(tmp_path_factory):
    """A stream table of 12 segments (one flush each), 3,000 rows in all."""
    root = tmp_path_factory.mktemp("morsels")
    rng = np.random.default_rng(7)
    table = StreamTable("e/p/t", root=root)
    for segment in range(12):
        rows = []
        for i in range(250):
            k = segment * 250 + i
            rows.append(
                {
                    "timestamp": START + dt.timedelta(seconds=k),
                    "model": f"m{rng.integers(0, 7)}",
                    "latency": float(rng.lognormal(3, 1)) if k % 17 else None,
                    "tokens": int(rng.integers(-50, 4000)),
                    "user": f"u{rng.integers(0, 400)}",
                }
            )
        table.log(rows)
        table.flush()
    table.finish()
    return root


ROWS = 'stream_table("e/p/t").rows'
QUERIES = [
    f'{ROWS}.filter(row => row["latency"] > 30).count',
    f'{ROWS}["latency"].sum',
    f'{ROWS}["latency"].stddev',
    f'{ROWS}["latency"].quantile(0.95)',
    f'{ROWS}["user"].countDistinct',
    f'{ROWS}.map(row => row["latency"] * 2 + row["tokens"] / 10).sum',
    f'{ROWS}.filter(row => row["tokens"] < 100).map(row => {{u: row["user"], t: row["tokens"]}})',
    f'{ROWS}.sort(row => [row["latency"]], ["desc"]).limit(20)',
    f'{ROWS}.filter(row => row["tokens"] > 3000).limit(5)',
    f'{ROWS}.groupby(row => row["model"]).map(g => {{model: g.groupkey, n: g.count, avg: g["latency"].avg, '
    'max: g["latency"].max, p95: g["latency"].quantile(0.95), users: g["user"].countDistinct})',
    f'{ROWS}.groupby(row => row["timestamp"].floor("5m")).map(g => {{m: g.groupkey, n: g.count, v: g["tokens"].variance}})',
    f'{ROWS}.filter(row => row["timestamp"] >= Date("2024-05-01T00:20:00Z") && row["timestamp"] < Date("2024-05-01T00:30:00Z"))'
    '.groupby(row => row["user"]).map(g => {u: g.groupkey, n: g.count}).sort(r => [r["n"]], ["desc"]).limit(5)',
]


@pytest.mark.parametrize("expr", QUERIES)
def test_results_do_not_depend_on_threads(segmented_table, expr):
    whole = to_python(evaluate(expr, root=segmented_table, morsel_rows=10**9))
    results = [repr(to_python(evaluate(expr, root=segmented_table, threads=t, morsel_rows=600))) for t in (1, 2, 4)]
    assert results[0] == results[1] == results[2]
    assert values_equal(to_python(evaluate(expr, root=segmented_table, threads=2, morsel_rows=600)), whole)


def test_an_error_in_a_morsel_reaches_the_caller(segmented_table):
    with pytest.raises(WeaveError, match="between 0 and 1"):
        evaluate(f'{ROWS}.groupby(r => r["model"]).map(g => g["latency"].quantile(2))', root=segmented_table, threads=2, morsel_rows=300)


def test_concurrent_queries_share_the_pool(segmented_table):
    expr = QUERIES[9]
    expected = repr(to_python(evaluate(expr, root=segmented_table, threads=1, morsel_rows=500)))
    seen: list[str] = []

    def query() -> None:
        for _ in range(5):
            seen.append(repr(to_python(evaluate(expr, root=segmented_table, threads=2, morsel_rows=500))))

    workers = [threading.Thread(target=query) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert seen == [expected] * 20


def test_threads_from_the_environment(segmented_table, monkeypatch):
    monkeypatch.setenv("WEAVE_LITE_THREADS", "2")
    from weave_lite.threads import default_threads

    assert default_threads() == 2
    assert evaluate(f"{ROWS}.count", root=segmented_table, morsel_rows=100) == 3000


def test_limit_reads_only_the_morsels_it_needs(segmented_table, monkeypatch):
    import weave_lite.execute.morsels as morsels

    runs: list[str] = []
    real_run = morsels.run

    def counting_run(node, frame, runtime):
        runs.append(getattr(node, "key", None))
        return real_run(node, frame, runtime)

    monkeypatch.setattr(morsels, "run", counting_run)
    expr = f'{ROWS}.filter(row => row["tokens"] > 0).map(row => row["user"]).limit(3)'
    expected = to_python(evaluate(expr, root=segmented_table, morsel_rows=10**9))
    runs.clear()
    assert to_python(evaluate(expr, root=segmented_table, threads=2, morsel_rows=250)) == expected
    # 12 morsels of 250 rows: the first wave (2 threads) has the 3 rows, so 2 morsel runs and
    # one final limit over their candidates.
    assert runs.count("limit") == 3


def test_group_keys_of_a_mixed_column_in_sliced_morsels():
    # A dense union sliced by a morsel: pyarrow's type_codes/offsets ignore the slice offset.
    values = [-2, -3, -3, -2, -3, -3, -3, -2, -3, -2, -2, -2, -2, -2, -3, "a", -2, -2, -2]
    table = pa.table({"m": column_to_array(values)})
    assert pa.types.is_union(table.schema.field("m").type)
    expr = 'table("t").rows.groupby(row => row["m"]).map(g => {k: g.groupkey, n: g.count})'
    expected = [{"k": -2, "n": 11}, {"k": -3, "n": 7}, {"k": "a", "n": 1}]
    for threads in (1, 2):
        assert to_python(evaluate(expr, tables={"t": table}, threads=threads, morsel_rows=4)) == expected


def test_every_nan_is_one_key():
    # NaN with the sign bit set, and NaN with another payload: hash kernels see other bits.
    other_nans = np.array([0xFFF8000000000000, 0x7FF8000000000001], dtype=np.uint64).view(np.float64)
    table = pa.table({"x": pa.array([0.0, np.nan, *other_nans, None, -0.0])})
    rows = 'table("t").rows["x"]'
    got = to_python(evaluate(f"{rows}.unique", tables={"t": table}))
    assert len(got) == 3 and got[0] == 0.0 and got[1] != got[1] and got[2] is None
    assert evaluate(f"{rows}.countDistinct", tables={"t": table}) == 2
    assert to_python(evaluate('table("t").rows.groupby(r => r["x"]).map(g => g.count)', tables={"t": table})) == [2, 3, 1]
