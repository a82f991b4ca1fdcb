"""``sort(f, dirs).limit(k)`` by a sampled threshold (weave_lite.execute.top_k): the same rows
in the same order as the full stable sort (nulls and NaN last), checked against Arrow's sort,
the op-by-op path (``optimize=False``) and DuckDB; ties, nulls, NaN, both directions, k = 0,
k past the rows, empty tables, many chunks and morsels, int/float/timestamp/string keys."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weave_lite import evaluate, to_python
from weave_lite.execute import top_k
from weave_lite.execute.top_k import top_k_order, top_k_rows

START = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def reference(column: pa.ChunkedArray, k: int, descending: bool, in_row_order: bool = True) -> list[int]:
    """The first k row indices of the full stable sort (Arrow's, nulls and NaN last), in row order."""
    arr = column.combine_chunks()
    if pa.types.is_floating(arr.type):
        arr = pc.if_else(pc.equal(arr, 0), pa.scalar(0.0, arr.type), arr)  # -0.0 ties with 0.0
    order = pc.sort_indices(
        pa.table({"x": arr}), sort_keys=[("x", "descending" if descending else "ascending", "at_end")]
    )
    first = order.to_pylist()[:k]
    return sorted(first) if in_row_order else first


def usable(column: pa.ChunkedArray) -> int:
    arr = column.combine_chunks()
    valid = pc.is_valid(arr)
    if pa.types.is_floating(arr.type):
        valid = pc.and_(valid, pc.invert(pc.is_nan(arr)))
    return int(pc.sum(valid).as_py() or 0)


def chunked(values: list, t: pa.DataType, cuts: list[int]) -> pa.ChunkedArray:
    arr = pa.array(values, type=t)
    bounds = sorted({0, len(values), *(c % (len(values) + 1) for c in cuts)})
    return pa.chunked_array([arr.slice(a, b - a) for a, b in itertools.pairwise(bounds)] or [arr], type=t)


def check(column: pa.ChunkedArray, k: int, descending: bool) -> None:
    got = top_k_rows(column, k, descending, keep_ties=False)
    ordered = top_k_order(column, k, descending)
    if got is None:  # only when nulls or NaN would be among the first k
        assert usable(column) < k and ordered is None
        return
    want = reference(column, k, descending)
    assert got.tolist() == want
    assert ordered is not None and ordered.tolist() == reference(column, k, descending, in_row_order=False)
    tied = top_k_rows(column, k, descending, keep_ties=True)
    assert tied is not None and set(want) <= set(tied.tolist())
    if want:
        values = column.combine_chunks().to_pylist()
        kth = max(values[i] for i in want) if not descending else min(values[i] for i in want)
        expected = [
            i for i, v in enumerate(values) if v is not None and v == v and (v >= kth if descending else v <= kth)
        ]
        assert tied.tolist() == expected


floats = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64), st.sampled_from([0.0, -0.0, 1.5])
)
ints = st.one_of(st.none(), st.integers(-5, 5), st.integers(-(2**63), 2**63 - 1))
strings = st.one_of(st.none(), st.text(max_size=4), st.sampled_from(["a", "b", "é", ""]))


@given(
    st.one_of(
        st.tuples(st.just(pa.float64()), st.lists(floats, max_size=80)),
        st.tuples(st.just(pa.int64()), st.lists(ints, max_size=80)),
        st.tuples(st.just(pa.string()), st.lists(strings, max_size=80)),
    ),
    st.one_of(st.integers(0, 6), st.integers(0, 90)),  # mostly fewer than the usable values
    st.booleans(),
    st.lists(st.integers(0, 100), max_size=5),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_top_k_rows_is_the_stable_sorts_first_k(typed, k, descending, cuts):
    t, values = typed
    check(chunked(values, t, cuts), k, descending)


@pytest.mark.parametrize("sample", [3, 16, 1 << 15])
@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize(
    "kind", ["float", "float nulls", "int ties", "int few", "timestamp", "string", "float32", "uint8", "sorted"]
)
def test_large_columns_with_a_sample(monkeypatch, kind, descending, sample):
    """Columns past the sample size (a small sample forces the retries with looser thresholds)."""
    monkeypatch.setattr(top_k, "SAMPLE", sample)
    rng = np.random.default_rng(hash(kind) % 1000)
    n = 20_000
    if kind == "float":
        arr = pa.array(rng.lognormal(3, 1, n))
    elif kind == "float nulls":
        values = rng.normal(size=n)
        values[rng.random(n) < 0.1] = np.nan
        arr = pa.array(values, mask=rng.random(n) < 0.3)
    elif kind == "int ties":
        arr = pa.array(rng.integers(0, 50, n))
    elif kind == "int few":
        arr = pa.array(rng.integers(0, 2, n), mask=rng.random(n) < 0.5)
    elif kind == "timestamp":
        arr = pa.array(rng.integers(0, 10**6, n)).cast(pa.timestamp("us", tz="UTC"))
    elif kind == "string":
        arr = pa.array([f"u{i:04d}" for i in rng.integers(0, 3000, n)], mask=rng.random(n) < 0.05)
    elif kind == "float32":
        arr = pa.array(rng.normal(size=n).astype(np.float32))
    elif kind == "uint8":
        arr = pa.array(rng.integers(0, 256, n).astype(np.uint8))
    else:
        arr = pa.array(np.arange(n, dtype=np.int64))
    column = pa.chunked_array([arr.slice(0, 7000), arr.slice(7000, 1), arr.slice(7001)])
    for k in (0, 1, 10, 100, 5000, n, n + 5):
        check(column, k, descending)


def test_fewer_usable_values_than_k_is_left_to_the_full_sort():
    column = pa.chunked_array([pa.array([1.0, None, math.nan, 2.0])])
    assert top_k_rows(column, 3, True, keep_ties=False) is None
    assert top_k_rows(column, 2, True, keep_ties=False).tolist() == [0, 3]
    assert top_k_rows(pa.chunked_array([], pa.float64()), 3, True, keep_ties=False).tolist() == []
    assert top_k_rows(pa.chunked_array([pa.array([True, False])]), 1, True, keep_ties=False) is None


# -- through the engine --------------------------------------------------------------------------


def table_of(n: int, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "i": pa.array(np.arange(n, dtype=np.int64)),
            "latency": pa.array(rng.lognormal(3, 1, n).round(1), mask=rng.random(n) < 0.05),
            "tokens": pa.array(rng.integers(0, 40, n)),
            "ts": pa.array(START.timestamp() * 1e6 + rng.integers(0, 500, n) * 1e6)
            .cast(pa.int64())
            .cast(pa.timestamp("us", tz="UTC")),
            "user": pa.array([f"u{i:03d}" for i in rng.integers(0, 300, n)]),
        }
    )


def run(expr: str, table: pa.Table, **kw):
    return to_python(evaluate(expr, tables={"t": table}, **kw))


@pytest.mark.parametrize("key", ["latency", "tokens", "ts", "user"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("k", [0, 1, 7, 100, 5000])
@pytest.mark.parametrize("sample", [64, top_k.SAMPLE])
def test_same_rows_as_the_full_sort_and_duckdb(monkeypatch, key, direction, k, sample):
    monkeypatch.setattr(top_k, "SAMPLE", sample)  # 64: a threshold from a sample, 3000 rows in all
    table = table_of(3000)
    batches = pa.Table.from_batches(table.to_batches(max_chunksize=170))  # many chunks
    expr = f'table("t").rows.sort(row => [row["{key}"]], ["{direction}"]).limit({k})'
    full = run(expr, table, optimize=False)
    assert run(expr, table) == full
    assert run(expr, batches, morsel_rows=400, threads=2) == full
    con = duckdb.connect()
    con.register("t", table)
    sql = f"SELECT * FROM t ORDER BY {key} {direction.upper()} NULLS LAST, i LIMIT {k}"
    assert [r["i"] for r in full] == con.sql(sql).to_arrow_table().column("i").to_pylist()


@pytest.mark.parametrize("directions", [["desc", "asc"], ["asc", "desc"]])
def test_later_keys_break_the_first_keys_ties(directions):
    table = table_of(3000)
    expr = f'table("t").rows.sort(row => [row["tokens"], row["latency"]], {directions}).limit(50)'
    full = run(expr, table, optimize=False)
    assert run(expr, table) == full
    assert run(expr, pa.Table.from_batches(table.to_batches(max_chunksize=300)), morsel_rows=600) == full


def test_empty_and_tiny_tables():
    table = table_of(3000)
    expr = 'table("t").rows.sort(row => [row["latency"]], ["desc"]).limit(3)'
    assert run(expr, table.slice(0, 0)) == []
    assert run(expr, table.slice(0, 1)) == run(expr, table.slice(0, 1), optimize=False)
    assert run(expr.replace("limit(3)", "limit(1000)"), table.slice(0, 40)) == run(
        expr.replace("limit(3)", "limit(1000)"), table.slice(0, 40), optimize=False
    )


def test_all_nulls_and_nan_go_last():
    n = 2000
    values = np.full(n, np.nan)
    values[::97] = np.arange(len(values[::97]))
    table = pa.table({"i": np.arange(n), "x": pa.array(values, mask=np.arange(n) % 5 == 0)})
    for direction in ("asc", "desc"):
        expr = f'table("t").rows.sort(row => [row["x"]], ["{direction}"]).limit(100)'
        assert repr(run(expr, table)) == repr(run(expr, table, optimize=False))  # nan != nan


@given(
    st.lists(st.one_of(st.none(), st.integers(0, 6)), min_size=0, max_size=300),
    st.integers(0, 40),
    st.sampled_from(["asc", "desc"]),
    st.integers(1, 64),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hypothesis_ties_across_morsels(values, k, direction, morsel_rows):
    table = pa.table({"i": pa.array(range(len(values)), pa.int64()), "x": pa.array(values, pa.int64())})
    expr = f'table("t").rows.sort(row => [row["x"]], ["{direction}"]).limit({k})'
    want = run(expr, table, optimize=False)
    assert run(expr, table) == want
    assert (
        run(
            expr, pa.Table.from_batches(table.to_batches(max_chunksize=9), schema=table.schema), morsel_rows=morsel_rows
        )
        == want
    )
