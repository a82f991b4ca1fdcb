"""Cold start: what a fresh process pays for Numba's compiled kernels.

    python benchmarks/cold_start.py

Runs the same queries (every engine kernel family that Numba compiles: grouping, moments,
extremes, quantiles, fused arithmetic, rolling windows) in three fresh processes:

1. with an empty Numba cache (``NUMBA_CACHE_DIR`` pointed at a new folder): every kernel is
   compiled, as on the very first run after installing;
2. with that cache filled: kernels load from disk (``cache=True``), as every later process;
3. the same process running the queries a second time: the steady state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

QUERIES = [
    't.groupby(r => r["m"]).map(g => {m: g.groupkey, n: g.count, a: g["x"].avg, hi: g["x"].max, lo: g["k"].min, s: g["k"].sum})',
    't.groupby(r => r["m"]).map(g => {m: g.groupkey, p: g["x"].quantile(0.95), v: g["x"].stddev})',
    't.map(r => r["x"] * 2 + r["k"] / 10).sum',
    't.sort(r => [r["k"]]).map(r => r["x"]).rolling(w => w.avg, 5).count',
]

CHILD = r"""
import json, sys, time
start = time.perf_counter()
import numpy as np, pyarrow as pa
from weave_lite import evaluate
imported = time.perf_counter()
rng = np.random.default_rng(0)
n = 10_000
table = pa.table({"m": pa.array([f"m{i % 7}" for i in range(n)]), "x": rng.random(n), "k": rng.integers(0, 100, n)})
queries = json.loads(sys.argv[1])
def run_all():
    for q in queries:
        evaluate(q.replace("t.", 'table("t").rows.', 1), tables={"t": table}, morsel_rows=4_000)
run_all()
first = time.perf_counter()
run_all()
second = time.perf_counter()
print(json.dumps({"import": imported - start, "first": first - imported, "second": second - first}))
"""


def run_child(cache_dir: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(QUERIES)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter()
        cold = run_child(cache_dir)
        cold_wall = time.perf_counter() - start
        start = time.perf_counter()
        warm = run_child(cache_dir)
        warm_wall = time.perf_counter() - start
    print(f"{'':34s} {'import':>8s} {'first run':>10s} {'second run':>11s} {'process':>9s}")
    print(f"{'empty Numba cache (compiles)':34s} {cold['import']:7.2f}s {cold['first']:9.2f}s {cold['second'] * 1e3:9.1f}ms {cold_wall:8.2f}s")
    print(f"{'filled Numba cache (loads)':34s} {warm['import']:7.2f}s {warm['first']:9.2f}s {warm['second'] * 1e3:9.1f}ms {warm_wall:8.2f}s")


if __name__ == "__main__":
    main()
