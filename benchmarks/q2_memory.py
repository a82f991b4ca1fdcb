"""Peak memory of Q2 (group by model: count, avg and max latency) against the bytes of the
columns it reads, each figure measured in a fresh process.

    python benchmarks/q2_memory.py [--rows 10000000] [--data benchmarks/.data]

The table is built as in ``benchmarks/queries.py`` (same data, same cache folder).  Printed:

* peak RSS (``VmHWM``) of a process that ran Q2, minus the peak of one that ran Q2 on a
  2,000-row table first (imports, Numba's kernels and Arrow's pools: a fixed cost);
* Arrow's own peak (``pyarrow.default_memory_pool().max_memory()``) in the Q2 process;
* the bytes of the ``model`` and ``latency`` columns as stored (what the query must read);
* the same peak for DuckDB (a peer) reading the same segments as a dataset, when installed.
Target (issue 15): weave_lite's peak above the warmed baseline <= 1.5x the column bytes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from queries import TABLE, build, weave_queries

HWM = "int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]) * 1024"


def column_bytes(root: Path, columns: list[str]) -> int:
    """The bytes of ``columns`` in the table's segments (Arrow buffers, as stored)."""
    from weave_lite.storage import open_table

    snap = open_table(TABLE, root=root).snapshot()
    return sum(snap.read(s, columns).nbytes for s in snap.segments)


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--data", default=str(Path(__file__).parent / ".data"))
    args = parser.parse_args()
    root = Path(args.data) / f"rows-{args.rows}"
    root.mkdir(parents=True, exist_ok=True)
    build(root, args.rows)
    expr = weave_queries()["Q2 groupby model"]
    small = expr.replace(f'stream_table("{TABLE}")', 'table("t")')
    warm = (
        "import pyarrow as pa; from weave_lite import evaluate; "
        f"evaluate({small!r}, tables={{'t': pa.table({{'model': ['a', 'b'] * 1000, 'latency': [1.0] * 2000}})}}, "
        "morsel_rows=500); "
    )
    pool = "pa.default_memory_pool().max_memory()"
    q2 = run(f"import json; {warm}evaluate({expr!r}, root={str(root)!r}); print(json.dumps([{HWM}, {pool}]))")
    base = run(f"import json; {warm}print(json.dumps([{HWM}, {pool}]))")
    cols = column_bytes(root, ["model", "latency"])
    mib = 2**20
    above = q2[0] - base[0]
    print(f"Q2 memory at {args.rows:,} rows; columns read (model, latency): {cols / mib:.0f} MiB")
    print(f"  weave_lite peak RSS {q2[0] / mib:.0f} MiB, warmed baseline {base[0] / mib:.0f} MiB")
    print(f"  weave_lite above baseline {above / mib:.0f} MiB = {above / cols:.2f}x the columns (target <= 1.5x)")
    print(f"  weave_lite Arrow pool peak {q2[1] / mib:.0f} MiB = {q2[1] / cols:.2f}x the columns")
    duck = (
        "import json, duckdb, pyarrow as pa; from weave_lite import StreamTable; "
        f"st = StreamTable({TABLE!r}, root={str(root)!r}); ds = st.to_dataset(); "
        f"base = {HWM}; "
        "duckdb.sql('SELECT model, count(*), avg(latency), max(latency) FROM ds GROUP BY model').fetchall(); "
        f"print(json.dumps([{HWM}, base]))"
    )
    try:
        peer = run(duck)
    except subprocess.CalledProcessError:
        print("  DuckDB peer: not available")
        return
    print(
        f"  peer DuckDB (dataset scan) above its own baseline {(peer[0] - peer[1]) / mib:.0f} MiB = {(peer[0] - peer[1]) / cols:.2f}x"
    )


if __name__ == "__main__":
    main()
