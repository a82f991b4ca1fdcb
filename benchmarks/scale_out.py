"""Scale-out benchmark, logging part: rows/s into an ``s3://`` table on moto's S3 server.

    python benchmarks/scale_out.py [--rows 200000] [--writers 4]

Starts moto's server on a free loopback port (the ``dev`` extra installs it), creates a bucket
and measures, on the same 6-column rows as ``benchmarks/ingest.py``:

  * single-row ``st.log(row)`` calls, rows/s until durable (``finish()`` included);
  * bulk logging: lists of 1,000 rows, and 1,000-row Arrow tables;
  * ``--writers`` processes logging single rows at once to one table (aggregate rows/s and
    commits/s: the commit rate one table sustains);
  * the request cost of one commit (PUTs, HEADs, GETs) and of a poll.

moto is a Python server doing every request in tens of milliseconds, so the figures are a floor:
on S3 a request takes ~10-30 ms, and the writer batches whatever arrives during a commit, so
rows/s grows with the rate rows are logged while commits/s stays bounded by round trips.
(Q1-Q7 on a Dask cluster belong to the distributed-execution half of issue 13.)
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


def make_rows(n: int) -> list[dict]:
    import numpy as np

    rng = np.random.default_rng(0)
    lat = rng.lognormal(3, 1, n).tolist()
    tokens = rng.integers(1, 2000, n).tolist()
    return [
        {
            "model": f"m{i % 20}",
            "latency_ms": lat[i],
            "tokens": tokens[i],
            "ok": i % 17 != 0,
            "user": f"user-{i % 100_000}",
            "score": None if i % 20 == 0 else lat[i] / 100.0,
        }
        for i in range(n)
    ]


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
    root, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    st = StreamTable("bench/scale/many", root=root)
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    for i in range(n):
        st.log({{"writer": tag, "seq": i, "latency_ms": i * 0.5}})
    st.finish()
    print(time.perf_counter() - start, flush=True)
    """
)


def many_writers(root: str, writers: int, rows_each: int) -> None:
    from weave_lite.storage import open_table

    code = CHILD.format(repo=str(REPO))
    procs = [
        subprocess.Popen([sys.executable, "-c", code, root, f"w{i}", str(rows_each)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for i in range(writers)
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    start = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        p.communicate()
    elapsed = time.perf_counter() - start
    log = open_table("bench/scale/many", root)
    snap = log.snapshot()
    assert snap.num_rows == writers * rows_each, snap.num_rows
    total = writers * rows_each
    print(
        f"{f'{writers} writer processes, single rows':<44} {total:>9,} rows  {elapsed:7.2f} s  "
        f"{total / elapsed:>12,.0f} rows/s  ({snap.version / elapsed:,.1f} commits/s, {snap.version} commits)"
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
    counts.clear()
    snap = log.snapshot()
    log.poll(snap)
    print(f"requests of one append (segment + commit): {commit}; of a poll with nothing new: {dict(counts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()

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
    many_writers(root, args.writers, max(1000, args.rows // (4 * args.writers)))
    request_costs(root)
    server.stop()


if __name__ == "__main__":
    main()
