"""Cold start, as a user feels it: fresh processes only.

    python benchmarks/cold_start.py [--rows 1000000] [--runs 5]

1. ``import weave_lite`` in a fresh process (median of ``--runs``), beside ``import pyarrow``
   (its floor: weave_lite needs pyarrow) and which heavy modules it loaded;
2. a fresh ``weave-lite query`` process (``python -m weave_lite.cli query``) for a count and a
   per-group p95 over the table in weave_lite's own log, against a fresh ``python -c 'import
   duckdb; ...'`` process running the same query on the same rows, in a DuckDB database file
   (its native table) and in a Parquet file; the ratio is to the faster of the two (medians);
3. the first query after installing: the count and the per-group p95 with an empty
   ``NUMBA_CACHE_DIR`` (every kernel they use compiles), then with that cache filled;
4. (``--kernels``) every kernel family Numba compiles (grouping, moments, extremes,
   quantiles, fused arithmetic, rolling windows), cold and warm cache, as before.

Every child writes and reads bytecode (``.pyc``) under one temporary ``PYTHONPYCACHEPREFIX``, as
an installed package does (pip compiles it on install), even where ``PYTHONDONTWRITEBYTECODE``
is set: without it each fresh process compiles weave_lite's ~150 modules from source (~0.15 s),
a cost no installed copy pays (and DuckDB, compiled C++, never has).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
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


PYCACHE = tempfile.mkdtemp(prefix="weave-lite-cold-start-pyc-")


def child_env(**extra: str) -> dict:
    """The environment of a child: bytecode written and read (see the module docstring)."""
    env = dict(os.environ, PYTHONPYCACHEPREFIX=PYCACHE, **extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_child(cache_dir: str) -> dict:
    env = child_env(NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(QUERIES)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def kernel_families() -> None:
    with tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter()
        cold = run_child(cache_dir)
        cold_wall = time.perf_counter() - start
        start = time.perf_counter()
        warm = run_child(cache_dir)
        warm_wall = time.perf_counter() - start
    print(f"{'':34s} {'import':>8s} {'first run':>10s} {'second run':>11s} {'process':>9s}")
    print(
        f"{'empty Numba cache (compiles)':34s} {cold['import']:7.2f}s {cold['first']:9.2f}s {cold['second'] * 1e3:9.1f}ms {cold_wall:8.2f}s"
    )
    print(
        f"{'filled Numba cache (loads)':34s} {warm['import']:7.2f}s {warm['first']:9.2f}s {warm['second'] * 1e3:9.1f}ms {warm_wall:8.2f}s"
    )


TABLE = "bench/cold/t"
WEAVE = {
    "count": f'stream_table("{TABLE}").rows.count',
    "p95 by group": f'stream_table("{TABLE}").rows.groupby(r => r["m"]).map(g => {{m: g.groupkey, p: g["x"].quantile(0.95)}})',
}
SQL = {"count": "SELECT count(*) FROM {t}", "p95 by group": "SELECT m, quantile_cont(x, 0.95) AS p FROM {t} GROUP BY m"}
HEAVY = ("numba", "pandas", "pyarrow.dataset", "weave_lite.kernels.", "weave_lite.execute.ops", "lark")

IMPORT_CHILD = r"""
import sys, time, json
t = time.perf_counter()
import {module}
took = time.perf_counter() - t
heavy = sorted({{h.rstrip(".") for m in sys.modules for h in {heavy!r}
                if m == h.rstrip(".") or m.startswith(h if h.endswith(".") else h + ".")}})
print(json.dumps({{"s": took, "heavy": heavy}}))
"""

DUCK_CHILD = "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); con.sql(sys.argv[2]).fetchall()"
DUCK_PARQUET_CHILD = "import duckdb, sys; duckdb.sql(sys.argv[2].replace('{t}', repr(sys.argv[1]))).fetchall()"


def _wall(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env or child_env(), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _median(fn, runs: int) -> float:
    return statistics.median(fn() for _ in range(runs))


def _make_data(folder: str, rows: int) -> tuple[str, str, str]:
    """The same rows in weave_lite's log, a DuckDB database file and a Parquet file."""
    import duckdb
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from weave_lite import StreamTable

    rng = np.random.default_rng(0)
    models = pa.array([f"model-{i}" for i in range(8)]).take(pa.array(rng.integers(0, 8, rows)))
    table = pa.table({"m": models, "x": rng.gamma(2.0, 50.0, rows)})
    root = os.path.join(folder, "log")
    with StreamTable(TABLE, root=root) as st:
        st.log(table)
    parquet = os.path.join(folder, "t.parquet")
    pq.write_table(table, parquet)
    db = os.path.join(folder, "t.duckdb")
    con = duckdb.connect(db)
    con.register("src", table)
    con.execute("CREATE TABLE t AS SELECT * FROM src")
    con.close()
    return root, db, parquet


def import_times(runs: int) -> None:
    print(f"{'fresh import (median of ' + str(runs) + ')':34s} {'seconds':>8s}  heavy modules loaded")
    for module in ("pyarrow", "weave_lite", "duckdb"):
        code = IMPORT_CHILD.format(module=module, heavy=HEAVY)
        results = [
            json.loads(
                subprocess.run(
                    [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(runs + 1)
        ][1:]  # the first run writes the bytecode
        took = statistics.median(r["s"] for r in results)
        print(f"{'import ' + module:34s} {took:7.3f}s  {', '.join(results[0]['heavy']) or '-'}")


def cli_vs_duckdb(root: str, db: str, parquet: str, runs: int) -> None:
    env = child_env(WEAVE_LITE_ROOT=root)
    print(
        f"\n{'fresh process (median of ' + str(runs) + ')':34s} {'weave-lite':>10s} {'duckdb db':>10s} {'duckdb pq':>10s} {'ratio':>6s}"
    )
    for name, expr in WEAVE.items():
        cli = [sys.executable, "-m", "weave_lite.cli", "query", expr, "--root", root, "--timeout", "3600"]
        _wall(cli, env)  # Numba's cache and the parser's filled, files in the page cache
        ours = _median(lambda cli=cli: _wall(cli, env), runs)
        sql = SQL[name]
        native = _median(lambda sql=sql: _wall([sys.executable, "-c", DUCK_CHILD, db, sql.format(t="t")]), runs)
        pq_ = _median(lambda sql=sql: _wall([sys.executable, "-c", DUCK_PARQUET_CHILD, parquet, sql]), runs)
        print(f"{name:34s} {ours:9.3f}s {native:9.3f}s {pq_:9.3f}s {ours / min(native, pq_):5.2f}x")


def first_query(root: str, runs: int) -> None:
    print(f"\n{'first query, fresh process':34s} {'empty Numba cache':>18s} {'filled cache':>13s}")
    for name, expr in WEAVE.items():
        # No deadline: compiling on a loaded machine can take longer than the default 30 s.
        cli = [sys.executable, "-m", "weave_lite.cli", "query", expr, "--root", root, "--timeout", "3600"]
        cold, warm = [], []
        for _ in range(max(1, runs // 2)):
            with tempfile.TemporaryDirectory() as cache_dir:
                env = child_env(NUMBA_CACHE_DIR=cache_dir)
                cold.append(_wall(cli, env))
                warm.append(_wall(cli, env))
        print(f"{name:34s} {statistics.median(cold):17.2f}s {statistics.median(warm):12.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--kernels", action="store_true", help="also time every kernel family, cold and warm")
    args = parser.parse_args()
    import_times(args.runs)
    with tempfile.TemporaryDirectory() as folder:
        root, db, parquet = _make_data(folder, args.rows)
        cli_vs_duckdb(root, db, parquet, args.runs)
        first_query(root, args.runs)
    if args.kernels:
        print()
        kernel_families()
    shutil.rmtree(PYCACHE, ignore_errors=True)


if __name__ == "__main__":
    main()
