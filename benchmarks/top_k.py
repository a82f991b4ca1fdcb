"""Top-k benchmark: ``rows.sort(row => [row[key]], [dir]).limit(k)`` (whole rows returned) in
weave_lite vs Polars lazy ``top_k``/``bottom_k`` and DuckDB ``ORDER BY ... LIMIT``.

    python benchmarks/top_k.py [--rows 10000000] [--repeat 5] [--data benchmarks/.data]

Uses the table of benchmarks/queries.py (built there once, cached under --data): float, int,
timestamp and string keys, both directions, k of 10, 100 and 10,000.  Prints the median of
--repeat runs per engine and the ratio of weave_lite to the best peer.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from queries import TABLE, build, timed

from weave_lite import evaluate
from weave_lite.storage import open_table

CASES = [
    ("latency", "desc", 100),
    ("latency", "asc", 100),
    ("latency", "desc", 10),
    ("latency", "desc", 10_000),
    ("tokens", "desc", 100),
    ("timestamp", "desc", 100),
    ("user", "desc", 100),
    ("model", "asc", 100),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", default=str(Path(__file__).parent / ".data"))
    args = parser.parse_args()
    root = Path(args.data) / f"rows-{args.rows}"
    t0 = time.perf_counter()
    build(root, args.rows)
    print(f"data: {args.rows:,} rows under {root} (ready in {time.perf_counter() - t0:.1f} s)")

    import duckdb
    import polars as pl

    table = open_table(TABLE, root).snapshot().to_arrow()
    con = duckdb.connect()
    con.register("t", table)
    lazy = pl.from_arrow(table).lazy()
    rows = f'stream_table("{TABLE}").rows'
    print(f"{'case':28s} {'weave_lite':>11s} {'polars lazy':>11s} {'duckdb':>11s} {'ratio':>6s}")
    ratios = []
    for key, direction, k in CASES:
        expr = f'{rows}.sort(row => [row["{key}"]], ["{direction}"]).limit({k})'
        weave_s = timed(lambda: evaluate(expr, root=root), args.repeat)
        pick = lazy.top_k if direction == "desc" else lazy.bottom_k
        polars_s = timed(lambda: pick(k, by=key).collect(), args.repeat)
        sql = f"SELECT * FROM t ORDER BY {key} {direction.upper()} NULLS LAST LIMIT {k}"
        duck_s = timed(lambda: con.sql(sql).to_arrow_table(), args.repeat)
        ratio = weave_s / min(polars_s, duck_s)
        ratios.append(ratio)
        cells = " ".join(f"{s * 1e3:9.1f}ms" for s in (weave_s, polars_s, duck_s))
        print(f"{key + ' ' + direction + ' k=' + str(k):28s} {cells} {ratio:5.2f}x")
    print(f"worst ratio to the best peer: {max(ratios):.2f}x (target <= 1.00x)")


if __name__ == "__main__":
    main()
