"""Stream tables scanned by DuckDB, Polars, DataFusion and pyarrow, with pushdown.

Pushdown is proved the hard way: the segment a filter excludes is deleted from a copy of the
table, and every engine must still answer the filtered query (it never opens that file).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

import weave_lite
from weave_lite import StreamTable, evaluate, to_python

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SEGMENTS = 4
PER_SEGMENT = 50


def rows_for(segment: int) -> list[dict]:
    out = []
    for j in range(PER_SEGMENT):
        i = segment * PER_SEGMENT + j
        out.append(
            {
                "i": i,
                "lat": None if i % 7 == 0 else float(i % 13),
                "model": f"m{i % 3}",
                "timestamp": T0 + dt.timedelta(hours=segment, seconds=j),
                "nested": {"lang": "fr" if i % 2 else "en", "n": i},
                "mixed": i if i % 2 else f"s{i}",
                "maybe": None if segment == 0 else i,  # all null in the first segment
            }
        )
    return out


@pytest.fixture
def table_root(root: Path) -> Path:
    st = StreamTable("e/p/t", root=root)
    for s in range(SEGMENTS):
        st.log(rows_for(s))
        st.flush()
    st.finish()
    return root


def expected_rows() -> list[dict]:
    return [r for s in range(SEGMENTS) for r in rows_for(s)]


def copy_without_segment(root: Path, tmp_path: Path, excluded_segment: int) -> Path:
    """A copy of the table whose segment ``excluded_segment`` (commit order) is deleted."""
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    log = copy / "e/p/t/_log"
    entry = json.loads((log / f"{excluded_segment + 1:020d}.json").read_text())
    (copy / "e/p/t" / entry["add"][0]["path"]).unlink()
    return copy


def test_dataset_schema_and_rows(table_root):
    dataset = weave_lite.dataset("e/p/t", root=table_root)
    assert isinstance(dataset, ds.Dataset)
    assert dataset.schema.field("mixed").type == pa.string()  # JSON text
    table = dataset.to_table()
    assert table.num_rows == SEGMENTS * PER_SEGMENT
    assert table.column("i").to_pylist() == [r["i"] for r in expected_rows()]
    assert table.column("mixed").to_pylist() == [json.dumps(r["mixed"]) for r in expected_rows()]
    assert table.column("lat").null_count == sum(r["lat"] is None for r in expected_rows())


def test_guarantees_never_lose_rows_with_nulls(table_root):
    dataset = weave_lite.dataset("e/p/t", root=table_root)
    got = dataset.to_table(filter=ds.field("lat") > 5).num_rows
    assert got == sum(1 for r in expected_rows() if r["lat"] is not None and r["lat"] > 5)
    assert dataset.to_table(filter=ds.field("lat").is_null()).num_rows == sum(r["lat"] is None for r in expected_rows())
    assert dataset.to_table(filter=ds.field("maybe").is_null()).num_rows == PER_SEGMENT


ENGINES = ["pyarrow", "duckdb", "polars", "datafusion"]


def scan_count_sum(engine: str, dataset: ds.Dataset, low: int) -> tuple[int, int]:
    """count(*), sum(i) where i >= low, through ``engine`` over ``dataset``."""
    if engine == "pyarrow":
        t = dataset.to_table(columns=["i"], filter=ds.field("i") >= low)
        return t.num_rows, sum(t.column("i").to_pylist())
    if engine == "duckdb":
        duckdb = pytest.importorskip("duckdb")
        return tuple(duckdb.sql(f"select count(*), sum(i) from dataset where i >= {low}").fetchall()[0])
    if engine == "polars":
        pl = pytest.importorskip("polars")
        out = pl.scan_pyarrow_dataset(dataset).filter(pl.col("i") >= low).select(pl.len(), pl.col("i").sum()).collect()
        return int(out[0, 0]), int(out[0, 1])
    datafusion = pytest.importorskip("datafusion")
    ctx = datafusion.SessionContext()
    ctx.register_dataset("t", dataset)
    out = ctx.sql(f"select count(*) as n, sum(i) as s from t where i >= {low}").to_arrow_table()
    return out.column("n")[0].as_py(), out.column("s")[0].as_py()


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_results_equal_weave_lite(table_root, engine):
    dataset = weave_lite.dataset("e/p/t", root=table_root)
    low = 120
    n, total = scan_count_sum(engine, dataset, low)
    ours = evaluate(f'stream_table("e/p/t").rows.filter(row => row["i"] >= {low})', root=table_root)
    assert n == ours.num_rows
    assert total == sum(ours.column("i").to_pylist())


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_pushdown_skips_excluded_segment(table_root, tmp_path, engine):
    copy = copy_without_segment(table_root, tmp_path, excluded_segment=0)
    dataset = weave_lite.dataset("e/p/t", root=copy)
    low = PER_SEGMENT  # excludes every row of segment 0
    n, total = scan_count_sum(engine, dataset, low)
    assert n == (SEGMENTS - 1) * PER_SEGMENT
    assert total == sum(range(PER_SEGMENT, SEGMENTS * PER_SEGMENT))
    with pytest.raises(Exception):  # noqa: B017 - any engine error will do; and the file really is gone: a full scan fails
        dataset.to_table()


def test_time_range_prunes_by_timestamp(table_root, tmp_path):
    copy = copy_without_segment(table_root, tmp_path, excluded_segment=1)
    dataset = weave_lite.dataset("e/p/t", root=copy)
    since = pa.scalar(T0 + dt.timedelta(hours=2), pa.timestamp("us", "UTC"))
    t = dataset.to_table(filter=ds.field("timestamp") >= since)
    assert t.num_rows == 2 * PER_SEGMENT


def test_arrow_c_stream(table_root):
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    st = StreamTable("e/p/t", root=table_root)
    assert pa.table(st).num_rows == SEGMENTS * PER_SEGMENT
    assert pl.DataFrame(st).height == SEGMENTS * PER_SEGMENT
    assert duckdb.sql("select count(*) from st").fetchall()[0][0] == SEGMENTS * PER_SEGMENT
    snap = st.snapshot()
    assert pa.table(snap).column("i").to_pylist() == [r["i"] for r in expected_rows()]
    assert to_python(pa.table(snap).column("nested"))[:2] == [r["nested"] for r in expected_rows()[:2]]


def test_dataset_of_an_old_version(table_root):
    dataset = weave_lite.dataset("e/p/t", root=table_root, version=2)
    assert dataset.count_rows() == 2 * PER_SEGMENT


def test_sql_command(table_root):
    from click.testing import CliRunner

    from weave_lite.cli import main

    out = CliRunner().invoke(
        main,
        [
            "sql",
            'select model, count(*) as n from "e/p/t" group by 1 order by 1',
            "--root",
            str(table_root),
            "-f",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    expected = {}
    for r in expected_rows():
        expected[r["model"]] = expected.get(r["model"], 0) + 1
    assert got == [{"model": k, "n": v} for k, v in sorted(expected.items())]
    bad = CliRunner().invoke(main, ["sql", "select nope from", "--root", str(table_root)])
    assert bad.exit_code == 1 and "error" in bad.output.lower()


def scan_all(engine: str, dataset: ds.Dataset) -> pa.Table:
    """Every row and column through ``engine``, ordered by ``i``."""
    if engine == "pyarrow":
        return dataset.to_table().sort_by("i")
    if engine == "duckdb":
        duckdb = pytest.importorskip("duckdb")
        con = duckdb.connect()
        con.register("t", dataset)
        return con.sql("select * from t order by i").to_arrow_table()
    if engine == "polars":
        pl = pytest.importorskip("polars")
        return pl.scan_pyarrow_dataset(dataset).sort("i").collect().to_arrow()
    datafusion = pytest.importorskip("datafusion")
    ctx = datafusion.SessionContext()
    ctx.register_dataset("t", dataset)
    return ctx.sql("select * from t order by i").to_arrow_table()


def count_where(engine: str, dataset: ds.Dataset, where: str) -> int:
    """``count(*)`` of the rows where the SQL condition ``where`` holds, through ``engine``
    (Polars and pyarrow get the same condition as their own expressions)."""
    if engine in ("duckdb", "datafusion"):
        if engine == "duckdb":
            duckdb = pytest.importorskip("duckdb")
            con = duckdb.connect()
            con.register("t", dataset)
            return con.sql(f"select count(*) from t where {where}").fetchall()[0][0]
        datafusion = pytest.importorskip("datafusion")
        ctx = datafusion.SessionContext()
        ctx.register_dataset("t", dataset)
        return ctx.sql(f"select count(*) as n from t where {where}").to_arrow_table().column("n")[0].as_py()
    condition = WHERE[where]
    if engine == "pyarrow":
        return dataset.count_rows(filter=condition(ds.field))
    pl = pytest.importorskip("polars")
    return pl.scan_pyarrow_dataset(dataset).filter(condition(pl.col)).select(pl.len()).collect().item()


SINCE = T0 + dt.timedelta(hours=2)
WHERE = {  # SQL text -> the same condition over a column constructor (ds.field or pl.col)
    "lat > 5": lambda c: c("lat") > 5,
    "lat is null": lambda c: c("lat").is_null(),
    "maybe is null": lambda c: c("maybe").is_null(),
    "maybe >= 60": lambda c: c("maybe") >= 60,
    f"timestamp >= '{SINCE.isoformat()}'": lambda c: (
        c("timestamp") >= pa.scalar(SINCE, pa.timestamp("us", "UTC")) if c is ds.field else c("timestamp") >= SINCE
    ),
}


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_reads_every_column_kind_as_weave_lite(table_root, engine):
    """Nulls, timestamps, strings, nested dicts and mixed kinds (as JSON text), all segments."""
    got = scan_all(engine, weave_lite.dataset("e/p/t", root=table_root))
    ours = to_python(evaluate('stream_table("e/p/t").rows', root=table_root))
    assert got.num_rows == len(ours) == SEGMENTS * PER_SEGMENT
    for name in ("i", "lat", "model", "timestamp", "nested", "maybe"):
        assert got.column(name).to_pylist() == [r[name] for r in ours], name
    assert [None if v is None else json.loads(v) for v in got.column("mixed").to_pylist()] == [r["mixed"] for r in ours]


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_never_loses_rows_of_a_column_with_nulls(table_root, engine):
    dataset = weave_lite.dataset("e/p/t", root=table_root)
    rows = expected_rows()
    assert count_where(engine, dataset, "lat > 5") == sum(1 for r in rows if r["lat"] is not None and r["lat"] > 5)
    assert count_where(engine, dataset, "lat is null") == sum(r["lat"] is None for r in rows)
    assert count_where(engine, dataset, "maybe is null") == PER_SEGMENT  # the all-null segment
    assert count_where(engine, dataset, "maybe >= 60") == sum(
        1 for r in rows if r["maybe"] is not None and r["maybe"] >= 60
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_time_range_skips_excluded_segments(table_root, tmp_path, engine):
    """A timestamp filter (as each engine writes it) prunes by the segments' time ranges."""
    copy = copy_without_segment(table_root, tmp_path, excluded_segment=1)  # hours 1..2
    dataset = weave_lite.dataset("e/p/t", root=copy)
    assert count_where(engine, dataset, f"timestamp >= '{SINCE.isoformat()}'") == 2 * PER_SEGMENT
