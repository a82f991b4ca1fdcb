"""Scan-bound queries against memory bandwidth: Q1 and Q4 of benchmarks/queries.py next to a
numpy sum over the same columns (the bytes they read), on 1 and on every thread.

    python benchmarks/scan_bandwidth.py [--rows 10000000] [--data benchmarks/.data] [--repeat 15]

"Bandwidth" is what a plain numpy sum reads per second here (one thread; the columns are the
table's memory-mapped segments, as the engine reads them); the issue's target is a scan-bound
query within 2x of the time that takes.  Uses the table benchmarks/queries.py builds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from weave_lite import evaluate
from weave_lite.storage import open_table
from weave_lite.threads import default_threads

TABLE = "bench/queries/predictions"
QUERIES = {
    "Q1 filter+count": ('.filter(row => row["latency"] > 100).count', ["latency"]),
    "Q4 arithmetic sum": ('.map(row => row["latency"] * 2 + row["tokens"] / 10).sum', ["latency", "tokens"]),
}


def best(fn, repeat: int) -> tuple[float, float]:
    """(min, median) wall seconds of ``repeat`` runs after a warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--data", default=str(Path(__file__).parent / ".data"))
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    root = Path(args.data) / f"rows-{args.rows}"
    if not (root / f".built-{args.rows}").exists():
        raise SystemExit(f"no table under {root}: run benchmarks/queries.py --rows {args.rows} --data {args.data}")
    table = open_table(TABLE, root).snapshot().to_arrow()
    print(f"{'query':20s} {'threads':>7s} {'MB read':>8s} {'numpy sum':>10s} {'weave_lite':>11s} {'x bandwidth':>12s}")
    for name, (tail, columns) in QUERIES.items():
        arrays = [
            np.frombuffer(c.buffers()[1], c.type.to_pandas_dtype(), len(c), c.offset * 8)
            for col in columns
            for c in table[col].chunks
        ]
        megabytes = sum(a.nbytes for a in arrays) / 1e6
        floor, _ = best(lambda: [a.sum() for a in arrays], args.repeat)
        for threads in sorted({1, default_threads()}):
            text = f'stream_table("{TABLE}").rows{tail}'
            fastest, median = best(lambda: evaluate(text, root=root, threads=threads), args.repeat)
            print(
                f"{name:20s} {threads:7d} {megabytes:8.0f} {floor * 1e3:8.2f}ms {fastest * 1e3:9.2f}ms"
                f" {fastest / floor:11.2f}x  (median {median * 1e3:.2f} ms; {megabytes / 1e3 / floor:.1f} GB/s)"
            )


if __name__ == "__main__":
    main()
