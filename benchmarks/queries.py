"""Query benchmark: weave_lite vs DuckDB vs Polars vs pyarrow on a 10M-row stream table.

    python benchmarks/queries.py [--rows 10000000] [--repeat 5] [--data benchmarks/.data]

Builds (once, cached under --data) a stream table on disk through the StreamTable bulk path:
timestamp, model (20 values), latency (lognormal), tokens (int), ok (bool), user (100k values),
score (float, 5% nulls). Then runs Q1..Q8 in one process, one run, and prints the median of
--repeat runs per engine and the ratio of weave_lite to the best peer.

Peers, all in memory (weave_lite reads its own log from disk):
- DuckDB on an Arrow scan of the committed segments (memory-mapped, zero-copy),
- DuckDB on its native table (``CREATE TABLE AS`` from that Arrow table: its own format),
- Polars lazy (``LazyFrame ... .collect()``, the API that optimises the whole query),
- Polars eager and pyarrow.compute, printed for reference but not counted as "best".
For Q8 DuckDB also scans the segment files themselves through a pyarrow dataset (filter
pushdown), which is "DuckDB reading the same files".
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from weave_lite import StreamTable, compile, evaluate, to_python
from weave_lite.storage import open_table

TABLE = "bench/queries/predictions"
START = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
SPAN_S = 3 * 24 * 3600  # three days of traffic


def build(root: Path, rows: int, chunk: int = 1_000_000) -> None:
    """Log ``rows`` rows in 1M-row Arrow batches (skipped when already built)."""
    marker = root / f".built-{rows}"
    if marker.exists():
        return
    rng = np.random.default_rng(42)
    st = StreamTable(TABLE, root=root)
    models = np.array([f"model-{i:02d}" for i in range(20)])
    users = np.array([f"user-{i:06d}" for i in range(100_000)])
    start_us = int(START.timestamp() * 1e6)
    for lo in range(0, rows, chunk):
        n = min(chunk, rows - lo)
        ts = start_us + (np.arange(lo, lo + n, dtype=np.int64) * (SPAN_S * 1_000_000 // rows))
        score = rng.random(n)
        batch = pa.table(
            {
                "timestamp": pa.array(ts).cast(pa.timestamp("us", tz="UTC")),
                "model": pa.array(models[rng.integers(0, 20, n)]),
                "latency": pa.array(rng.lognormal(3.0, 1.0, n)),
                "tokens": pa.array(rng.integers(1, 4000, n)),
                "ok": pa.array(rng.random(n) > 0.03),
                "user": pa.array(users[rng.integers(0, 100_000, n)]),
                "score": pa.array(score, mask=rng.random(n) < 0.05),
            }
        )
        st.log(batch)
        st.flush()
    st.finish()
    marker.touch()


def q8_bounds() -> tuple[dt.datetime, dt.datetime]:
    lo = START + dt.timedelta(seconds=SPAN_S * 0.50)
    return lo, lo + dt.timedelta(seconds=SPAN_S * 0.01)


def weave_queries() -> dict[str, str]:
    rows = f'stream_table("{TABLE}").rows'
    lo, hi = (t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in q8_bounds())
    return {
        "Q1 filter+count": f'{rows}.filter(row => row["latency"] > 100).count',
        "Q2 groupby model": f'{rows}.groupby(row => row["model"]).map(g => {{model: g.groupkey, n: g.count, avg: g["latency"].avg, max: g["latency"].max}})',
        "Q3 top 100 by latency": f'{rows}.sort(row => [row["latency"]], ["desc"]).limit(100)',
        "Q4 arithmetic sum": f'{rows}.map(row => row["latency"] * 2 + row["tokens"] / 10).sum',
        "Q5 1-min buckets p95": f'{rows}.groupby(row => row["timestamp"].floor("m")).map(g => {{minute: g.groupkey, n: g.count, p95: g["latency"].quantile(0.95)}})',
        "Q6 distinct users": f'{rows}["user"].countDistinct',
        "Q7 filter, top users": f'{rows}.filter(row => row["ok"]).groupby(row => row["user"]).map(g => {{user: g.groupkey, n: g.count}}).sort(r => [r["n"]], ["desc"]).limit(10)',
        "Q8 1% time range": f'{rows}.filter(row => row["timestamp"] >= Date("{lo}") && row["timestamp"] < Date("{hi}")).count',
    }


def duckdb_queries() -> dict[str, str]:
    lo, hi = q8_bounds()
    return {
        "Q1 filter+count": "SELECT count(*) FROM t WHERE latency > 100",
        "Q2 groupby model": "SELECT model, count(*), avg(latency), max(latency) FROM t GROUP BY model",
        "Q3 top 100 by latency": "SELECT * FROM t ORDER BY latency DESC LIMIT 100",
        "Q4 arithmetic sum": "SELECT sum(latency * 2 + tokens / 10) FROM t",
        "Q5 1-min buckets p95": "SELECT time_bucket(INTERVAL 1 minute, timestamp) AS m, count(*), quantile_cont(latency, 0.95) FROM t GROUP BY m",
        "Q6 distinct users": "SELECT count(DISTINCT user) FROM t",
        "Q7 filter, top users": "SELECT user, count(*) AS n FROM t WHERE ok GROUP BY user ORDER BY n DESC LIMIT 10",
        "Q8 1% time range": f"SELECT count(*) FROM t WHERE timestamp >= '{lo.isoformat()}' AND timestamp < '{hi.isoformat()}'",
    }


def polars_queries(pl):
    lo, hi = q8_bounds()
    return {
        "Q1 filter+count": lambda df: df.filter(pl.col("latency") > 100).height,
        "Q2 groupby model": lambda df: df.group_by("model").agg(
            pl.len(), pl.col("latency").mean().alias("avg"), pl.col("latency").max().alias("max")
        ),
        "Q3 top 100 by latency": lambda df: df.top_k(100, by="latency"),
        "Q4 arithmetic sum": lambda df: df.select((pl.col("latency") * 2 + pl.col("tokens") / 10).sum()).item(),
        "Q5 1-min buckets p95": lambda df: df.group_by(pl.col("timestamp").dt.truncate("1m")).agg(
            pl.len(), pl.col("latency").quantile(0.95, "linear")
        ),
        "Q6 distinct users": lambda df: df.select(pl.col("user").n_unique()).item(),
        "Q7 filter, top users": lambda df: (
            df.filter(pl.col("ok")).group_by("user").agg(pl.len().alias("n")).top_k(10, by="n")
        ),
        "Q8 1% time range": lambda df: df.filter((pl.col("timestamp") >= lo) & (pl.col("timestamp") < hi)).height,
    }


def polars_lazy_queries(pl):
    lo, hi = q8_bounds()
    return {
        "Q1 filter+count": lambda lf: lf.filter(pl.col("latency") > 100).select(pl.len()).collect().item(),
        "Q2 groupby model": lambda lf: (
            lf.group_by("model")
            .agg(pl.len(), pl.col("latency").mean().alias("avg"), pl.col("latency").max().alias("max"))
            .collect()
        ),
        "Q3 top 100 by latency": lambda lf: lf.top_k(100, by="latency").collect(),
        "Q4 arithmetic sum": lambda lf: (
            lf.select((pl.col("latency") * 2 + pl.col("tokens") / 10).sum()).collect().item()
        ),
        "Q5 1-min buckets p95": lambda lf: (
            lf.group_by(pl.col("timestamp").dt.truncate("1m"))
            .agg(pl.len(), pl.col("latency").quantile(0.95, "linear"))
            .collect()
        ),
        "Q6 distinct users": lambda lf: lf.select(pl.col("user").n_unique()).collect().item(),
        "Q7 filter, top users": lambda lf: (
            lf.filter(pl.col("ok")).group_by("user").agg(pl.len().alias("n")).top_k(10, by="n").collect()
        ),
        "Q8 1% time range": lambda lf: (
            lf.filter((pl.col("timestamp") >= lo) & (pl.col("timestamp") < hi)).select(pl.len()).collect().item()
        ),
    }


def pyarrow_queries():
    lo, hi = q8_bounds()
    return {
        "Q1 filter+count": lambda t: pc.sum(pc.greater(t["latency"], 100)).as_py(),
        "Q2 groupby model": lambda t: t.group_by("model").aggregate(
            [("latency", "count"), ("latency", "mean"), ("latency", "max")]
        ),
        "Q3 top 100 by latency": lambda t: t.take(pc.select_k_unstable(t, 100, [("latency", "descending")])),
        "Q4 arithmetic sum": lambda t: pc.sum(
            pc.add(pc.multiply(t["latency"], 2), pc.divide(t["tokens"].cast(pa.float64()), 10))
        ).as_py(),
        "Q5 1-min buckets p95": lambda t: (
            t.append_column("m", pc.floor_temporal(t["timestamp"], unit="minute"))
            .group_by("m")
            .aggregate([("latency", "count"), ("latency", "tdigest", pc.TDigestOptions(q=0.95))])
        ),
        "Q6 distinct users": lambda t: pc.count_distinct(t["user"]).as_py(),
        "Q7 filter, top users": lambda t: (
            t.filter(t["ok"])
            .group_by("user")
            .aggregate([("user", "count")])
            .sort_by([("user_count", "descending")])
            .slice(0, 10)
        ),
        "Q8 1% time range": lambda t: pc.sum(
            pc.and_(pc.greater_equal(t["timestamp"], pa.scalar(lo)), pc.less(t["timestamp"], pa.scalar(hi)))
        ).as_py(),
    }


def live_benchmark(root: Path, queries: dict[str, str], repeat: int) -> None:
    """Cost of a live query's update after 1% more rows, against a cold run (on a hard-linked
    copy of the table, so the cached benchmark data is not changed); benchmarks/live.py
    measures every query, with the path each update took."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(dir=root.parent) as tmp:
        copy = Path(tmp) / "live"
        shutil.copytree(root, copy, copy_function=os.link)
        snap = open_table(TABLE, copy).snapshot()
        extra = snap.read(snap.segments[-1]).slice(0, max(1, snap.num_rows // 100))
        rows = f'stream_table("{TABLE}").rows'
        live_queries = {
            "Q1 filter+count": queries["Q1 filter+count"],
            "slow requests (rows)": f'{rows}.filter(row => row["latency"] > 2000)',
            "ok requests (rows)": f'{rows}.filter(row => row["ok"]).map(row => {{m: row["model"], l: row["latency"]}})',
            "Q2 groupby model": queries["Q2 groupby model"],
            "Q5 1-min buckets p95": queries["Q5 1-min buckets p95"],
        }
        for name, expr in live_queries.items():
            live = compile(expr).watch(root=copy)
            cold = timed(lambda: evaluate(expr, root=copy), repeat)
            st = StreamTable(TABLE, root=copy)
            st.log(extra)
            st.finish()
            start = time.perf_counter()
            updated = live.poll()
            live_s = time.perf_counter() - start
            from live import _close  # benchmarks/live.py: floats to 1e-9 (live sums add in another order)

            assert _close(to_python(updated), to_python(evaluate(expr, root=copy)))
            print(
                f"live {name:19s} cold {cold * 1e3:7.1f}ms  update after +1% rows {live_s * 1e3:7.1f}ms  ({live_s / cold * 100:.1f}% of cold)"
            )


def rss_benchmark(root: Path, expr: str, table: pa.Table) -> None:
    """Peak RSS of Q2 in a fresh process, against the bytes of the columns it reads.

    Two baselines: an idle process that imported weave_lite, and one that also ran Q2 on a
    2,000-row table (so Numba's compiled kernels, about 85 MiB of LLVM code and data, are
    loaded: a fixed cost, the same for any table size).
    """
    import json
    import subprocess
    import sys

    # VmHWM (this process's peak RSS) rather than ru_maxrss, which a child inherits from the
    # (large) benchmark process across fork and exec.
    hwm = "int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]) * 1024"
    small = expr.replace(f'stream_table("{TABLE}")', 'table("t")')
    warm = (
        "import pyarrow as pa; "
        f"evaluate({small!r}, tables={{'t': pa.table({{'model': ['a', 'b'] * 1000, 'latency': [1.0] * 2000}})}}, morsel_rows=500); "
    )
    code = f"import json; from weave_lite import evaluate; {warm}evaluate({expr!r}, root={str(root)!r}); print(json.dumps({hwm}))"
    base = f"import json, weave_lite, pyarrow, numba; from weave_lite import evaluate; print(json.dumps({hwm}))"
    loaded = f"import json; from weave_lite import evaluate; {warm}print(json.dumps({hwm}))"
    peak, idle, with_kernels = (
        json.loads(subprocess.run([sys.executable, "-c", c], capture_output=True, text=True, check=True).stdout)
        for c in (code, base, loaded)
    )
    columns = table.select(["model", "latency"]).nbytes
    print(
        f"Q2 peak RSS {peak / 2**20:.0f} MiB; columns read {columns / 2**20:.0f} MiB; "
        f"above an idle process {(peak - idle) / 2**20:.0f} MiB ({(peak - idle) / columns:.2f}x); "
        f"above a process with the kernels loaded {(peak - with_kernels) / 2**20:.0f} MiB ({(peak - with_kernels) / columns:.2f}x)"
    )


def timed(fn, repeat: int) -> float:
    """Median wall time of ``repeat`` runs after one warm-up run (page cache, JIT cache)."""
    fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", default=str(Path(__file__).parent / ".data"))
    parser.add_argument("--only", default="", help="comma-separated query prefixes, e.g. Q1,Q5")
    parser.add_argument("--queries-only", action="store_true", help="skip the live, memory and parse sections")
    args = parser.parse_args()
    root = Path(args.data) / f"rows-{args.rows}"
    t0 = time.perf_counter()
    build(root, args.rows)
    print(f"data: {args.rows:,} rows under {root} (ready in {time.perf_counter() - t0:.1f} s)")

    import duckdb
    import polars as pl
    import pyarrow.dataset as ds

    log = open_table(TABLE, root)
    snap = log.snapshot()
    table = snap.to_arrow()  # memory-mapped segments, shared by the peers
    files = [str(log.path / s.path) for s in snap.segments]
    con = duckdb.connect()
    con.register("t", table)
    con.register("t_files", ds.dataset(files, format="ipc"))
    native = duckdb.connect()
    native.register("arrow_t", table)
    native.execute("CREATE TABLE t AS SELECT * FROM arrow_t")
    native.unregister("arrow_t")
    df = pl.from_arrow(table)
    lazy = df.lazy()
    wq, dq, plq, pzq, paq = (
        weave_queries(),
        duckdb_queries(),
        polars_queries(pl),
        polars_lazy_queries(pl),
        pyarrow_queries(),
    )
    selected = [k for k in wq if not args.only or any(k.startswith(p) for p in args.only.split(","))]

    header = ("weave_lite", "duck arrow", "duck native", "polars lazy", "polars", "pyarrow")
    print(f"{'query':24s} " + " ".join(f"{h:>11s}" for h in header) + f" {'best peer':>12s} {'ratio':>6s}")
    ratios = []
    for name in selected:
        expr = wq[name]
        weave_s = timed(lambda: evaluate(expr, root=root), args.repeat)
        peers = {
            "duckdb arrow": timed(lambda: con.sql(dq[name]).to_arrow_table(), args.repeat),
            "duckdb native": timed(lambda: native.sql(dq[name]).to_arrow_table(), args.repeat),
            "polars lazy": timed(lambda: pzq[name](lazy), args.repeat),
        }
        pol_s = timed(lambda: plq[name](df), args.repeat)
        pa_s = timed(lambda: paq[name](table), args.repeat)
        best = min(peers, key=peers.__getitem__)
        ratio = weave_s / peers[best]
        ratios.append(ratio)
        cells = [weave_s, *peers.values(), pol_s, pa_s]
        print(f"{name:24s} " + " ".join(f"{c * 1e3:9.1f}ms" for c in cells) + f" {best:>12s} {ratio:5.2f}x")
        if name.startswith("Q8"):
            files_s = timed(lambda: con.sql(dq[name].replace("FROM t ", "FROM t_files ")).to_arrow_table(), args.repeat)
            print(
                f"{'  duckdb on the files':24s} {'':11s} {files_s * 1e3:9.1f}ms {'':>36s} ratio {weave_s / files_s:5.2f}x"
            )
    if ratios:
        print(f"worst ratio to the best peer: {max(ratios):.2f}x (target <= 1.00x)")

    if args.queries_only:
        return
    live_benchmark(root, wq, args.repeat)
    rss_benchmark(root, wq["Q2 groupby model"], table)

    text = wq["Q2 groupby model"]
    from weave_lite.api import CompiledExpression
    from weave_lite.lang.parser import parse

    parse_compile = timed(lambda: CompiledExpression(parse(text), text).plan(root=root), 20)
    cache_hit = timed(lambda: compile(text), 1000)
    print(f"parse+plan (Q2, uncached): {parse_compile * 1e6:.0f} us; compile() cache hit: {cache_hit * 1e6:.1f} us")
    print(
        f"check: Q1 = {to_python(evaluate(wq['Q1 filter+count'], root=root))}, duckdb = {con.execute(dq['Q1 filter+count']).fetchone()[0]}"
    )
    print(
        f"machine: {os.cpu_count()} cores, pyarrow {pa.__version__}, duckdb {duckdb.__version__}, polars {pl.__version__}"
    )


if __name__ == "__main__":
    main()
