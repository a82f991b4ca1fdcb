"""Benchmark: the cost of ``@mon.trace()`` in the caller, and drift on 1M-row profiles.

    .venv/bin/python benchmarks/monitoring.py [--calls 200000] [--burst 1000] [--rows 1000000]

1. Trace overhead: a trivial function called untraced and traced. ``burst``: calls in bursts
   of ``--burst`` with pauses between them, so the monitor's thread turns the calls into rows
   while the caller is idle (what a service sees: its calls take milliseconds) -- this is the
   cost in the caller, goal <= 5 us a call. ``sustained``: calls back to back, so the
   caller shares the GIL with the monitor's thread and pays for the rows too (the whole
   process's cost per call). Medians over the bursts / repeats.
2. Drift: two 1M-row profiles (a numeric and a string column) compared with
   ``weave_lite.profiles.drift`` (from the sketches) and ``drift_tables`` (from summaries).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import weave_lite
from weave_lite.profiles import drift, drift_tables, profile_table


def plain(a, b=2):
    return a + b


def bench_trace(calls: int, burst: int) -> dict:
    root = tempfile.mkdtemp(prefix="weave-bench-monitor-")
    mon = weave_lite.init_monitor("bench/monitor/calls", root=root)
    traced = mon.trace()(plain)
    traced(0)
    mon.flush()
    perf = time.perf_counter_ns

    def run(fn, n):
        t0 = perf()
        for i in range(n):
            fn(i)
        return (perf() - t0) / n / 1000

    untraced_b, traced_b = [], []
    for _ in range(max(1, calls // burst)):
        untraced_b.append(run(plain, burst))
        traced_b.append(run(traced, burst))
        time.sleep(burst * 20e-6)  # let the monitor's thread drain (about 20 us a call)
    mon.flush()
    untraced_s, traced_s = [], []
    for _ in range(3):
        untraced_s.append(run(plain, calls))
        traced_s.append(run(traced, calls))
        mon.flush()
    logged = mon.streamtable.to_arrow().num_rows
    mon.finish()
    return {
        "untraced_us": statistics.median(untraced_b),
        "burst_traced_us": statistics.median(traced_b),
        "burst_overhead_us": statistics.median(traced_b) - statistics.median(untraced_b),
        "sustained_traced_us": statistics.median(traced_s),
        "sustained_overhead_us": statistics.median(traced_s) - statistics.median(untraced_s),
        "rows_logged": logged,
        "dropped": mon.dropped,
    }


def bench_drift(rows: int) -> dict:
    rng = np.random.default_rng(0)
    cats = np.array([f"c{i}" for i in range(200)])
    a = profile_table(pa.table({"x": rng.normal(0, 1, rows), "c": cats[rng.integers(0, 200, rows)]}))
    b = profile_table(pa.table({"x": rng.normal(0.2, 1, rows), "c": cats[rng.integers(0, 220, rows) % 200]}))
    ta, tb = a.to_arrow(), b.to_arrow()
    drift(a, b)  # warm-up
    t_sk, t_sum = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        drift(a, b)
        t_sk.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        drift_tables(ta, tb)
        t_sum.append(time.perf_counter() - t0)
    return {"drift_sketches_ms": statistics.median(t_sk) * 1e3,
            "drift_summaries_ms": statistics.median(t_sum) * 1e3}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--burst", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    t = bench_trace(args.calls, args.burst)
    print(f"untraced call:              {t['untraced_us']:.2f} us")
    print(f"traced, in bursts (caller): {t['burst_traced_us']:.2f} us  "
          f"(overhead {t['burst_overhead_us']:.2f} us; goal <= 5 us)")
    print(f"traced, back to back:       {t['sustained_traced_us']:.2f} us  "
          f"(overhead {t['sustained_overhead_us']:.2f} us, the monitor thread's rows included)")
    print(f"rows logged: {t['rows_logged']:,}  dropped: {t['dropped']}")
    d = bench_drift(args.rows)
    print(f"drift of two {args.rows:,}-row profiles: {d['drift_sketches_ms']:.1f} ms from the sketches, "
          f"{d['drift_summaries_ms']:.1f} ms from the summary tables")


if __name__ == "__main__":
    main()
