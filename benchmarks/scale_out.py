"""Scale-out benchmark: rows/s into an ``s3://`` table on moto's S3 server, and Q1-Q7 on a
Dask cluster against local threads.

    python benchmarks/scale_out.py [--rows 200000] [--writers 4] [--commits 40]
                                   [--query-rows 10000000] [--no-logging] [--no-queries]

Starts moto's server on a free loopback port (the ``dev`` extra installs it), creates a bucket
and measures, on the same 6-column rows as ``benchmarks/ingest.py``:

  * single-row ``st.log(row)`` calls, rows/s until durable (``finish()`` included);
  * bulk logging: lists of 1,000 rows, and 1,000-row Arrow tables;
  * ``--writers`` processes logging single rows at once to one table (aggregate rows/s), and
    the same processes flushing after every row (commits/s: the commit rate of one table under
    contention, every conflict a 412 and a read-back);
  * the request cost of one commit (PUTs, HEADs, GETs) and of a poll.

moto is a Python server doing every request in tens of milliseconds, so the figures are a floor:
on S3 a request takes ~10-30 ms, and the writer batches whatever arrives during a commit, so
rows/s grows with the rate rows are logged while commits/s stays bounded by round trips.

Queries: the table of ``benchmarks/queries.py`` (``--query-rows`` rows, 1M-row segments) on a
local root, Q1-Q7 run with 2 local threads and on a 2-worker ``LocalCluster`` (one thread each,
worker processes reading the segments themselves), best of 3 each, and the overhead ratio
(cluster time / local time).  Results are checked equal.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter
from pathlib import Path

import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


sys.path.insert(0, str(Path(__file__).parent))
from ingest import make_rows  # noqa: E402  (the same rows as the local ingestion benchmark)


def start_moto() -> tuple[object, str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def timed(label: str, n: int, fn) -> float:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    rate = n / elapsed
    print(f"{label:<44} {n:>9,} rows  {elapsed:7.2f} s  {rate:>12,.0f} rows/s")
    return rate


CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {repo!r})
    from weave_lite import StreamTable
    root, table, tag, n, flush_each = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
    st = StreamTable(table, root=root)
    st.log({{"writer": tag, "seq": -1, "latency_ms": 0.0}})
    st.flush()  # the table exists and the clients are warm before the clock starts
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    for i in range(n):
        st.log({{"writer": tag, "seq": i, "latency_ms": i * 0.5}})
        if flush_each:
            st.flush()  # every row its own commit: measures the commit rate of one table
    st.flush()
    print(time.perf_counter() - start, flush=True)
    st.finish()
    """
)


def many_writers(root: str, table: str, writers: int, rows_each: int, flush_each: bool) -> None:
    from weave_lite.storage import open_table

    code = CHILD.format(repo=str(REPO))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, root, table, f"w{i}", str(rows_each), "1" if flush_each else "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        for i in range(writers)
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    before = open_table(table, root).snapshot().version
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    elapsed = max(float(p.communicate()[0].split()[0]) for p in procs)  # the slowest writer, to durable
    snap = open_table(table, root).snapshot()
    total = writers * rows_each
    assert snap.num_rows == total + writers, snap.num_rows
    commits = snap.version - before
    label = f"{writers} writer processes, {'a flush per row' if flush_each else 'single rows'}"
    print(
        f"{label:<44} {total:>9,} rows  {elapsed:7.2f} s  {total / elapsed:>12,.0f} rows/s"
        f"  ({commits / elapsed:,.1f} commits/s, {commits} commits)"
    )


def request_costs(root: str) -> None:
    """Requests made by one steady-state commit and by one poll (counted on the client)."""
    from weave_lite.storage import TableLog

    log = TableLog("bench/scale/requests", root)
    log.append(pa.table({"x": [0]}))
    log.append(pa.table({"x": [1]}))
    counts: Counter = Counter()
    client = log.fs.objects.client

    def count(name):
        def hook(**kwargs):
            counts[name] += 1

        return hook

    for op in ("PutObject", "HeadObject", "GetObject", "ListObjectsV2", "DeleteObject"):
        client.meta.events.register(f"before-call.s3.{op}", count(op))
    log.append(pa.table({"x": [2]}))
    commit = dict(counts)
    snap = log.snapshot()
    counts.clear()
    log.poll(snap)
    print(f"requests of one append (segment + commit): {commit}; of a poll with nothing new: {dict(counts)}")


def dask_queries(rows: int, morsel_rows: int | None = None, repeat: int = 3) -> None:
    """Q1-Q7 on a 2-worker LocalCluster against 2 local threads (see the module docstring)."""
    import tempfile

    from distributed import Client, LocalCluster
    from queries import build, weave_queries

    import weave_lite

    root = Path(tempfile.mkdtemp(prefix="weave-scale-out-")) / "data"
    start = time.perf_counter()
    build(root, rows)
    print(f"\nQ1-Q7 on {rows:,} rows, morsel_rows={morsel_rows or 'default'} (built in {time.perf_counter() - start:.1f} s), 2 local threads vs a 2-worker LocalCluster")
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        print(f"{'query':28} {'local s':>9} {'dask s':>9} {'ratio':>7}")
        for name, expr in list(weave_queries().items())[:7]:
            local, local_s = best(lambda e=expr: weave_lite.evaluate(e, root=root, threads=2, morsel_rows=morsel_rows), repeat)
            remote, remote_s = best(lambda e=expr: weave_lite.evaluate(e, root=root, client=client, morsel_rows=morsel_rows), repeat)
            same = repr(local) == repr(remote) if not hasattr(local, "equals") else local.equals(remote)
            print(f"{name:28} {local_s:9.3f} {remote_s:9.3f} {remote_s / local_s:7.2f}{'' if same else '  RESULTS DIFFER'}")
    finally:
        client.close()
        cluster.close()


def best(fn, repeat: int):
    """``fn()``'s result and its best time of ``repeat`` runs (after one warm-up run)."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return result, min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--commits", type=int, default=40, help="flush-per-row commits per writer")
    parser.add_argument("--query-rows", type=int, default=10_000_000, help="rows of the Q1-Q7 table")
    parser.add_argument("--morsel-rows", type=int, default=None, help="rows per morsel of Q1-Q7 (default: the engine's)")
    parser.add_argument("--no-logging", action="store_true", help="skip the logging part")
    parser.add_argument("--no-queries", action="store_true", help="skip Q1-Q7 on Dask")
    args = parser.parse_args()
    if not args.no_logging:
        logging_benchmarks(args)
    if not args.no_queries:
        dask_queries(args.query_rows, args.morsel_rows)


def logging_benchmarks(args) -> None:

    server, endpoint = start_moto()
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    import boto3

    bucket = f"bench-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    root = f"s3://{bucket}/data"
    from weave_lite import StreamTable

    rows = make_rows(args.rows)
    print(f"moto S3 at {endpoint}, root {root}")

    def single():
        st = StreamTable("bench/scale/single", root=root)
        for row in rows:
            st.log(row)
        st.finish()

    def lists():
        st = StreamTable("bench/scale/lists", root=root)
        for i in range(0, len(rows), 1000):
            st.log(rows[i : i + 1000])
        st.finish()

    tables = [pa.Table.from_pylist(rows[i : i + 1000]) for i in range(0, len(rows), 1000)]

    def arrow():
        st = StreamTable("bench/scale/arrow", root=root)
        for t in tables:
            st.log(t)
        st.finish()

    timed("single-row log() calls, to durable", len(rows), single)
    timed("lists of 1,000 rows, to durable", len(rows), lists)
    timed("1,000-row Arrow tables, to durable", len(rows), arrow)
    many_writers(root, "bench/scale/many", args.writers, max(1000, args.rows // args.writers), False)
    many_writers(root, "bench/scale/commits", args.writers, args.commits, True)
    request_costs(root)
    server.stop()


if __name__ == "__main__":
    main()
