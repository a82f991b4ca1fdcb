"""The poll floor: what every live query's update pays in storage before any query work.

    python benchmarks/live_poll.py [--segments 100] [--rows 20000] [--polls 40] [--data benchmarks/.data]

Builds a table of ``--segments`` segments of ``--rows`` rows each (slices of the benchmark
table under ``--data`` when it exists, else generated rows), then ``--polls`` times: a writer
(its own TableLog, as a StreamTable has) commits one more segment of ``--rows`` rows (1% of a
100-segment table), and a reader (another TableLog, as ``shared_table`` gives a live query)
calls ``poll(snapshot)`` and ``read_segment`` of the new segment.  Prints the median and best
of each, in microseconds.  Run it against another checkout with ``PYTHONPATH=<checkout>``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))

from weave_lite.storage.table import TableLog

TABLE = "bench/queries/predictions"


def _rows(data: Path | None, rows: int) -> pa.Table:
    """``rows`` rows of the benchmark table (or generated ones of a similar shape)."""
    root = data / "rows-2000000" if data is not None else None
    if root is not None and (root / TABLE / "_log").is_dir():
        snap = TableLog.open(TABLE, root).snapshot()
        return snap.read(snap.segments[0]).slice(0, rows).combine_chunks()
    import numpy as np

    rng = np.random.default_rng(0)
    return pa.table(
        {
            "timestamp": pa.array(np.arange(rows) * 1000, pa.timestamp("us", tz="UTC")),
            "model": pa.array([f"model-{i % 7}" for i in range(rows)]),
            "latency": rng.random(rows),
            "tokens": rng.integers(0, 4000, rows),
            "ok": rng.random(rows) > 0.1,
            "user": pa.array([f"user-{i % 1000}" for i in range(rows)]),
            "score": rng.random(rows),
            "_client_id": pa.array(["client"] * rows),
        }
    )


def measure(base: Path, segments: int, rows: int, polls: int, data: Path | None) -> dict[str, list[float]]:
    batch = _rows(data, rows)
    writer = TableLog(TABLE, base)
    writer.create()
    for _ in range(segments):
        writer.append(batch)
    reader = TableLog(TABLE, base)
    snap = reader.snapshot()
    for segment in snap.segments:
        reader.read_segment(segment)  # the reader has mapped every older segment already
    times: dict[str, list[float]] = {"poll": [], "read": [], "poll+read": [], "idle poll": []}
    for _ in range(polls):
        writer.append(batch)
        start = time.perf_counter()
        newer = reader.poll(snap)
        polled = time.perf_counter()
        assert newer is not None and newer.version == snap.version + 1
        table = reader.read_segment(newer.segments[-1])
        done = time.perf_counter()
        assert table.num_rows == rows and len(newer.segments) == len(snap.segments) + 1
        idle = time.perf_counter()
        assert reader.poll(newer) is None
        times["idle poll"].append(time.perf_counter() - idle)
        times["poll"].append(polled - start)
        times["read"].append(done - polled)
        times["poll+read"].append(done - start)
        snap = newer
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--polls", type=int, default=40)
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / ".data")
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary table goes")
    args = parser.parse_args()
    data = args.data if args.data.is_dir() else None
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        times = measure(Path(tmp), args.segments, args.rows, args.polls, data)
    import weave_lite

    print(f"weave_lite: {Path(weave_lite.__file__).parent}")
    print(f"{args.segments} segments of {args.rows} rows, {args.polls} polls after one {args.rows}-row commit each")
    for name, values in times.items():
        us = [v * 1e6 for v in values]
        print(f"{name:10s} median {statistics.median(us):8.1f} us   best {min(us):8.1f} us")


if __name__ == "__main__":
    main()
