"""Ingestion benchmark: the caller's cost of ``StreamTable.log`` and sustained rows/s to durable.

    python benchmarks/ingest.py [--rows 300000]

Measured in one run, on the same 6-column rows:
  * per-call cost of ``st.log(row)`` in the caller (median, p99);
  * sustained rows/s until durable (log everything, then ``finish()``) for single-row calls,
    lists of 1000 rows and the Arrow bulk path (1000-row Arrow tables, and one large table);
  * peers: ``pyarrow.Table.from_pylist`` + an IPC file write + fsync, and JSON lines appended to
    a file + fsync (the floor any log must beat), for the rows; for the 1M-row table, the same
    table written as one Arrow IPC file + fsync (the disk-bandwidth reference: no validation,
    no statistics, no commit).
Targets (issues 2, 15): caller cost <= 2 us median; >= 300k rows/s single-row (durable: every
row fsync'd and committed when ``finish()`` returns); >= 5M rows/s for a 1M-row Arrow table.
Q2's peak memory against the bytes of the columns it reads: ``benchmarks/q2_memory.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from weave_lite import StreamTable


def make_rows(n: int) -> list[dict]:
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


def per_call_cost(rows: list[dict], root: str) -> tuple[float, float, float]:
    """Median and p99 of one ``log(row)`` call in microseconds, and rows/s to durable."""
    st = StreamTable("bench/ingest/single", root=root)
    st.log(rows[0])
    st.flush()
    samples = np.empty(len(rows), dtype=np.int64)
    clock = time.perf_counter_ns
    log = st.log
    start = time.perf_counter()
    for i, row in enumerate(rows):
        t0 = clock()
        log(row)
        samples[i] = clock() - t0
    st.finish()
    elapsed = time.perf_counter() - start
    return float(np.median(samples)) / 1e3, float(np.percentile(samples, 99)) / 1e3, len(rows) / elapsed


def sustained_single(rows: list[dict], root: str) -> float:
    st = StreamTable("bench/ingest/single2", root=root)
    start = time.perf_counter()
    for row in rows:
        st.log(row)
    st.finish()
    return len(rows) / (time.perf_counter() - start)


def sustained_lists(rows: list[dict], root: str, size: int = 1000) -> float:
    st = StreamTable("bench/ingest/lists", root=root)
    start = time.perf_counter()
    for i in range(0, len(rows), size):
        st.log(rows[i : i + size])
    st.finish()
    return len(rows) / (time.perf_counter() - start)


def sustained_arrow(table: pa.Table, root: str, chunk: int | None) -> float:
    st = StreamTable(f"bench/ingest/arrow{chunk or 'all'}", root=root)
    pieces = [table] if chunk is None else [table.slice(i, chunk) for i in range(0, table.num_rows, chunk)]
    start = time.perf_counter()
    for piece in pieces:
        st.log(piece)
    st.finish()
    return table.num_rows / (time.perf_counter() - start)


def peer_from_pylist_ipc(rows: list[dict], root: str) -> float:
    path = os.path.join(root, "peer.arrow")
    start = time.perf_counter()
    table = pa.Table.from_pylist(rows)
    with pa.OSFile(path, "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    _fsync(path)
    return len(rows) / (time.perf_counter() - start)


def peer_json_lines(rows: list[dict], root: str) -> float:
    path = os.path.join(root, "peer.jsonl")
    start = time.perf_counter()
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return len(rows) / (time.perf_counter() - start)


def peer_ipc_table(table: pa.Table, root: str) -> float:
    """The 1M-row table (with the two columns weave_lite adds) as one IPC file, fsync'd."""
    n = table.num_rows
    table = table.append_column("timestamp", pa.array(np.zeros(n, dtype="datetime64[us]")))
    table = table.append_column("_client_id", pa.array(["0123456789abcdef"] * n))
    path = os.path.join(root, "peer-table.arrow")
    start = time.perf_counter()
    with pa.OSFile(path, "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    _fsync(path)
    return n / (time.perf_counter() - start)


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = make_rows(args.rows)
    bulk = pa.Table.from_pylist(make_rows(1_000_000))
    results: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as root:
            med, p99, _rate = per_call_cost(rows, root)
            record("log(row) median us", med)
            record("log(row) p99 us", p99)
            record("single-row calls rows/s", sustained_single(rows, root))
            record("lists of 1000 rows/s", sustained_lists(rows, root))
            record("arrow 1000-row tables rows/s", sustained_arrow(bulk, root, 1000))
            record("arrow 1M-row table rows/s", sustained_arrow(bulk, root, None))
            record("peer from_pylist+IPC rows/s", peer_from_pylist_ipc(rows, root))
            record("peer JSON lines rows/s", peer_json_lines(rows, root))
            record("peer 1M-row table IPC rows/s", peer_ipc_table(bulk, root))

    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"weave_lite ingest benchmark, {args.rows:,} rows x 6 columns, median of {args.repeat} runs")
    print(f"  {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, pyarrow {pa.__version__}, {os.cpu_count()} cores")
    for name, value in med.items():
        print(f"  {name:34s} {value:>14,.2f}")
    jsonl = med["peer JSON lines rows/s"]
    pylist = med["peer from_pylist+IPC rows/s"]
    print("ratios (weave_lite / peer):")
    for name in ("single-row calls rows/s", "lists of 1000 rows/s", "arrow 1M-row table rows/s"):
        print(f"  {name:34s} vs JSON lines {med[name] / jsonl:6.2f}x   vs from_pylist+IPC {med[name] / pylist:6.2f}x")
    ipc_peer = med["peer 1M-row table IPC rows/s"]
    print(
        f"  {'arrow 1M-row table rows/s':34s} vs raw IPC file write + fsync {med['arrow 1M-row table rows/s'] / ipc_peer:6.2f}x"
    )
    print("targets: median <= 2 us; single-row >= 300k rows/s; bulk >= 5M rows/s")


if __name__ == "__main__":
    main()
