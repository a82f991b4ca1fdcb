"""Embedding benchmark: DuckDB and Polars scanning a stream table's dataset vs an in-memory table.

    python benchmarks/embedding.py [--rows 10000000] [--repeat 5] [--data benchmarks/.data]

The data and queries are those of benchmarks/queries.py (Q1 filter+count, Q2 group-by model,
Q8 1% time range).  For each engine it times the query over ``weave_lite.dataset(...)`` (the
segment files, with projection and filter pushdown through the per-segment guarantees) and
over the same rows loaded as one in-memory Arrow table, and prints the ratio dataset/in-memory.
It also prints how many segments Q8's filter leaves to read.  Goal (issue 12): Q8 through
DuckDB reads about 1% of the segments and is faster than DuckDB on the in-memory table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.dataset as ds

import weave_lite

sys.path.insert(0, str(Path(__file__).parent))
from queries import TABLE, build, duckdb_queries, q8_bounds

QUERIES = ("Q1 filter+count", "Q2 groupby model", "Q8 1% time range")


def polars_lazy_queries() -> dict:
    lo, hi = q8_bounds()
    return {
        "Q1 filter+count": lambda lf: lf.filter(pl.col("latency") > 100).select(pl.len()).collect(),
        "Q2 groupby model": lambda lf: lf.group_by("model")
        .agg(pl.len(), pl.col("latency").mean().alias("avg"), pl.col("latency").max().alias("max"))
        .collect(),
        "Q8 1% time range": lambda lf: lf.filter((pl.col("timestamp") >= lo) & (pl.col("timestamp") < hi))
        .select(pl.len())
        .collect(),
    }


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
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path(__file__).with_name(".data"))
    args = parser.parse_args()
    root = args.data / f"rows-{args.rows}"
    build(root, args.rows)

    dataset = weave_lite.dataset(TABLE, root=root)
    memory = dataset.to_table()  # the same rows, in memory
    lo, hi = q8_bounds()
    import pyarrow as pa

    q8_filter = (ds.field("timestamp") >= pa.scalar(lo)) & (ds.field("timestamp") < pa.scalar(hi))
    fragments = list(dataset.get_fragments())
    kept = list(dataset.get_fragments(filter=q8_filter))
    print(f"{args.rows:,} rows in {len(fragments)} segments; Q8's filter keeps {len(kept)} ({100 * len(kept) / len(fragments):.1f}%)")

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
