"""`tables=` takes other engines' data: Arrow, anything with __arrow_c_stream__ (Polars, DuckDB
relations), pandas, and pyarrow datasets (Parquet files, a stream table's own dataset), whose
fragments a filter excludes are never read."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import weave_lite
from weave_lite import StreamTable, to_python

ROWS = [
    {"day": d, "model": m, "lat": float(d * 10 + i) if i % 3 else None, "ts": dt.datetime(2024, 5, d, i, tzinfo=dt.UTC)}
    for d in range(1, 5)
    for i, m in enumerate(["a", "b", "c", "a", "b"])
]
EXPRS = [
    'table("t").rows.filter(r => r["day"] >= 3).count',
    'table("t").rows.filter(r => r["day"] == 2)["lat"].sum',
    'table("t").rows.filter(r => r["day"] < 3 && r["lat"] > 12).map(r => r["model"])',
    'table("t").rows.groupby(r => r["model"]).map(g => {m: g.groupkey, n: g.count, a: g["lat"].avg})',
    'table("t").rows.filter(r => r["ts"] > Date("2024-05-03T02:00:00Z")).count',
]


def _answers(tables) -> list:
    return [to_python(weave_lite.evaluate(e, tables={"t": tables})) for e in EXPRS]


@pytest.fixture(scope="module")
def expected():
    return _answers(pa.Table.from_pylist(ROWS))


def _parquet_by_day(path: Path) -> Path:
    table = pa.Table.from_pylist(ROWS)
    pq.write_to_dataset(table, path, partition_cols=["day"])
    return path


def test_each_input_kind_gives_the_same_answers(expected, tmp_path):
    import pandas as pd
    import polars as pl

    table = pa.Table.from_pylist(ROWS)
    kinds = {
        "arrow": table,
        "record batch": table.to_batches()[0] if table.num_rows else table,
        "polars": pl.from_arrow(table),
        "pandas": table.to_pandas(),
        "c stream": table.__arrow_c_stream__ and _CStream(table),
        "dataset": ds.dataset(table),
        "parquet": ds.dataset(_parquet_by_day(tmp_path / "pq"), partitioning="hive"),
    }
    assert isinstance(kinds["pandas"], pd.DataFrame)
    for kind, value in kinds.items():
        got = _answers(value)
        if kind == "parquet":  # hive partitions come back as int32 and last: compare values
            got = [_without_order(g) for g in got]
            assert got == [_without_order(e) for e in expected], kind
        else:
            assert got == expected, kind


class _CStream:
    """Only the Arrow C stream protocol, as another engine's object would offer it."""

    def __init__(self, table: pa.Table):
        self._table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self._table.__arrow_c_stream__(requested_schema)


def _without_order(value):
    if isinstance(value, list):
        return sorted((_without_order(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {k: _without_order(v) for k, v in sorted(value.items())}
    return value


def test_a_filter_prunes_parquet_files_it_excludes(tmp_path):
    path = _parquet_by_day(tmp_path / "pq")
    dataset = ds.dataset(path, partitioning="hive")
    full = weave_lite.evaluate('table("t").rows.filter(r => r["day"] >= 3).count', tables={"t": dataset})
    # Remove the files of days 1 and 2: a scan that still opened them would fail.
    for day in (1, 2):
        shutil.rmtree(path / f"day={day}")
    assert weave_lite.evaluate('table("t").rows.filter(r => r["day"] >= 3).count', tables={"t": dataset}) == full == 10
    with pytest.raises(weave_lite.errors.WeaveError):
        weave_lite.evaluate('table("t").rows.count', tables={"t": dataset})


def test_a_stream_tables_own_dataset_as_input_prunes_segments(tmp_path):
    st = StreamTable("e/p/t", root=tmp_path)
    for day in range(1, 5):
        st.log([r for r in ROWS if r["day"] == day])
        st.flush()
    st.finish()
    dataset = weave_lite.dataset("e/p/t", root=tmp_path)
    expr = 'table("t").rows.filter(r => r["day"] == 4).map(r => r["lat"])'
    before = to_python(weave_lite.evaluate(expr, tables={"t": dataset}))
    snapshot = st.snapshot()
    removed = 0
    for segment in snapshot.segments:
        if segment.stats["day"].max < 4:
            (Path(snapshot.table.path) / segment.path).unlink()  # a scan opening it would fail
            removed += 1
    assert removed == 3
    after = to_python(weave_lite.evaluate(expr, tables={"t": weave_lite.dataset("e/p/t", root=tmp_path)}))
    assert before == after == [None, 41.0, 42.0, None, 44.0]


def test_nulls_never_lose_rows_through_the_filter():
    table = pa.table({"x": [1, None, 5, None, 7], "y": [None, 2.0, None, 4.0, 5.0]})
    dataset = ds.dataset(table)
    for expr in ('table("t").rows.filter(r => r["x"] > 2).count', 'table("t").rows.filter(r => r["y"] <= 4).count'):
        assert weave_lite.evaluate(expr, tables={"t": dataset}) == weave_lite.evaluate(expr, tables={"t": table})


def _parquet_with_metadata(path: Path) -> ds.Dataset:
    """Four Parquet files (one per day, no partitioning) and a ``_metadata`` file holding
    their row-group statistics, so a scan can prune files without opening them."""
    path.mkdir()
    table = pa.Table.from_pylist(ROWS)
    collected = []
    for day in range(1, 5):
        part = table.filter(pa.compute.equal(table["day"], day))
        pq.write_table(part, path / f"day-{day}.parquet", metadata_collector=collected)
        collected[-1].set_file_path(f"day-{day}.parquet")
    pq.write_metadata(table.schema, path / "_metadata", metadata_collector=collected)
    return ds.parquet_dataset(path / "_metadata")


def test_a_filter_prunes_parquet_files_by_their_statistics(expected, tmp_path):
    path = tmp_path / "pq"
    dataset = _parquet_with_metadata(path)
    assert _answers(dataset) == expected
    expr = 'table("t").rows.filter(r => r["day"] >= 3)["lat"].sum'
    full = weave_lite.evaluate(expr, tables={"t": dataset})
    # Days 1 and 2 are excluded by their files' min/max: a scan that opened them would fail.
    for day in (1, 2):
        (path / f"day-{day}.parquet").unlink()
    assert weave_lite.evaluate(expr, tables={"t": dataset}) == full == (31 + 32 + 34) + (41 + 42 + 44)
    with pytest.raises(weave_lite.errors.WeaveError):
        weave_lite.evaluate('table("t").rows["lat"].sum', tables={"t": dataset})


def _parquet_with_a_broken_column(path: Path) -> ds.Dataset:
    """Two Parquet files whose ``junk`` column is int64 in one and text in the other, under a
    schema saying int64: reading ``junk`` fails, reading only the other columns works."""
    path.mkdir()
    table = pa.Table.from_pylist(ROWS)
    half = table.num_rows // 2
    pq.write_table(table.slice(0, half).append_column("junk", pa.array(range(half))), path / "a.parquet")
    rest = table.slice(half)
    pq.write_table(rest.append_column("junk", pa.array(["not a number"] * rest.num_rows)), path / "b.parquet")
    return ds.dataset(path, schema=table.schema.append(pa.field("junk", pa.int64())))


def test_only_the_columns_an_expression_uses_are_read(expected, tmp_path):
    dataset = _parquet_with_a_broken_column(tmp_path / "pq")
    with pytest.raises(pa.ArrowInvalid):
        dataset.to_table()  # the column is really unreadable
    assert _answers(dataset) == expected
    # A plan that returns whole rows must read every column, junk included.
    with pytest.raises(weave_lite.errors.WeaveError):
        weave_lite.evaluate('table("t").rows.filter(r => r["day"] == 4)', tables={"t": dataset})
    explained = weave_lite.compile(EXPRS[1]).explain(tables={"t": dataset})
    assert "columns=['day', 'lat']" in explained


def test_projected_rows_equal_full_reads(tmp_path):
    """Shapes the projection must see through (or give up on): same answers as an Arrow table."""
    table = pa.Table.from_pylist(ROWS)
    dataset = ds.dataset(table)
    exprs = [
        'table("t").rows.count',
        'table("t").rows.map(r => r["lat"] * 2).sum',
        'table("t").rows.sort(r => [r["lat"]], ["desc"]).limit(3)["model"]',
        'table("t").rows.filter(r => r["day"] > 1).limit(2)',
        'table("t").rows.map(r => {m: r["model"], r: r})',
        'table("t").rows[2]["model"]',
        'table("t").rows.groupby(r => r["model"]).map(g => g.count)',
        'table("t").rows["ts"].max',
    ]
    for expr in exprs:
        got = to_python(weave_lite.evaluate(expr, tables={"t": dataset}))
        assert got == to_python(weave_lite.evaluate(expr, tables={"t": table})), expr
