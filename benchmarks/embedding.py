"""Embedding benchmark: DuckDB and Polars scanning a stream table's dataset vs an in-memory table.

    python benchmarks/embedding.py [--rows 10000000] [--segments 100] [--repeat 5] [--data benchmarks/.data]

The data and queries are those of benchmarks/queries.py (Q1 filter+count, Q2 group-by model,
Q8 1% time range).  For each engine it times the query over ``weave_lite.dataset(...)`` (the
segment files, with projection and filter pushdown through the per-segment guarantees) and
over the same rows loaded as one in-memory Arrow table, and prints the ratio dataset/in-memory.
Goal (issue 12): Q8 through DuckDB reads about 1% of the segments and is faster than DuckDB on
the in-memory table.

Segment layout: a bulk ``StreamTable.log(batch)`` + ``flush()`` commits one segment per flush
(the writer turns what is queued at each wake-up into one segment, capped at 256 MB), so the
segment size is the logging cadence.  benchmarks/queries.py logs 1M-row batches: 10 segments
at 10M rows, where a 1% time range can only skip 90%.  Here the table is logged in
``rows / --segments`` row flushes (100k rows, about 6 MB, per segment at 10M rows), so 1% of
the time is 1% of the segments.  (Compacting merges segments up to 128 MB and would coarsen
this again.)

How many segments Q8 reads is shown two ways: the fragments whose guarantees its filter keeps,
and a *trap* dataset where every other fragment points at a missing file: DuckDB and Polars
answer Q8 over it, so they opened no other segment.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds

import weave_lite

sys.path.insert(0, str(Path(__file__).parent))
from queries import TABLE, build, duckdb_queries, q8_bounds

QUERIES = ("Q1 filter+count", "Q2 groupby model", "Q8 1% time range")


def polars_lazy_queries() -> dict:
    lo, hi = q8_bounds()
    return {
        "Q1 filter+count": lambda lf: lf.filter(pl.col("latency") > 100).select(pl.len()).collect(),
        "Q2 groupby model": lambda lf: (
            lf.group_by("model")
            .agg(pl.len(), pl.col("latency").mean().alias("avg"), pl.col("latency").max().alias("max"))
            .collect()
        ),
        "Q8 1% time range": lambda lf: (
            lf.filter((pl.col("timestamp") >= lo) & (pl.col("timestamp") < hi)).select(pl.len()).collect()
        ),
    }


def trap_dataset(dataset: ds.FileSystemDataset, keep: set[str]) -> ds.FileSystemDataset:
    """``dataset`` with every fragment outside ``keep`` pointing at a missing file."""
    fragments = list(dataset.get_fragments())
    return ds.FileSystemDataset.from_paths(
        [f.path if f.path in keep else f"{f.path}.missing" for f in fragments],
        schema=dataset.schema,
        format=dataset.format,
        filesystem=dataset.filesystem,
        partitions=[f.partition_expression for f in fragments],
    )


def con_sql(con, dataset: ds.Dataset, sql: str) -> int:
    con.register("t_trap", dataset)
    return con.sql(sql.replace("FROM t", "FROM t_trap")).fetchall()[0][0]


def timed(fn, repeat: int) -> float:
    fn()  # warm
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--segments", type=int, default=100, help="segments to log the rows in")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path(__file__).with_name(".data"))
    args = parser.parse_args()
    root = args.data / f"rows-{args.rows}-segments-{args.segments}"
    build(root, args.rows, chunk=max(1, args.rows // args.segments))

    dataset = weave_lite.dataset(TABLE, root=root)
    memory = dataset.to_table()  # the same rows, in memory
    lo, hi = q8_bounds()
    q8_filter = (ds.field("timestamp") >= pa.scalar(lo)) & (ds.field("timestamp") < pa.scalar(hi))
    fragments = list(dataset.get_fragments())
    kept = list(dataset.get_fragments(filter=q8_filter))
    share = 100 * len(kept) / len(fragments)
    print(f"{args.rows:,} rows in {len(fragments)} segments; Q8's filter keeps {len(kept)} ({share:.1f}%)")
    trap = trap_dataset(dataset, {f.path for f in kept})
    q8_sql = duckdb_queries()["Q8 1% time range"]
    expected = con_sql(duckdb.connect(), dataset, q8_sql)
    for engine, run in (
        ("duckdb", lambda d: con_sql(duckdb.connect(), d, q8_sql)),
        ("polars", lambda d: polars_lazy_queries()["Q8 1% time range"](pl.scan_pyarrow_dataset(d)).item()),
    ):
        got = run(trap)  # raises if the engine opens a segment the filter excludes
        assert got == expected, (engine, got, expected)
        print(f"Q8 through {engine}: reads at most {len(kept)} of {len(fragments)} segments ({share:.1f}%)")

    sql = duckdb_queries()
    pq = polars_lazy_queries()
    con = duckdb.connect()
    con.register("t_dataset", dataset)
    con.register("t_memory", memory)
    lazy_dataset = pl.scan_pyarrow_dataset(dataset)
    frame = pl.from_arrow(memory).lazy()
    print(f"{'query':24} {'engine':8} {'dataset ms':>11} {'memory ms':>10} {'ratio':>7}")
    for name in QUERIES:
        q = sql[name]
        d_ms = timed(lambda: con.sql(q.replace("FROM t", "FROM t_dataset")).fetchall(), args.repeat) * 1e3
        m_ms = timed(lambda: con.sql(q.replace("FROM t", "FROM t_memory")).fetchall(), args.repeat) * 1e3
        print(f"{name:24} {'duckdb':8} {d_ms:11.1f} {m_ms:10.1f} {d_ms / m_ms:6.2f}x")
        fn = pq[name]
        d_ms = timed(lambda: fn(lazy_dataset), args.repeat) * 1e3
        m_ms = timed(lambda: fn(frame), args.repeat) * 1e3
        print(f"{name:24} {'polars':8} {d_ms:11.1f} {m_ms:10.1f} {d_ms / m_ms:6.2f}x")


if __name__ == "__main__":
    main()
