"""Q1-Q8 of benchmarks/queries.py timed through weave_lite alone, one line per run.

For comparing two commits side by side: build each commit's table in its own data folder and
alternate the runs, e.g.

    git worktree add /tmp/base <commit>
    for round in 1 2; do
      (cd /tmp/base && PYTHONPATH=. python benchmarks/engine_times.py --data /tmp/bench_base)
      PYTHONPATH=. python benchmarks/engine_times.py --data /tmp/bench_main
    done

Each figure is the best of ``--repeat`` evaluations, in milliseconds, after one warm-up.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import queries

from weave_lite import evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--data", required=True, help="a folder of this commit's own (built on first use)")
    args = parser.parse_args()
    root = Path(args.data) / f"rows-{args.rows}"
    queries.build(root, args.rows)
    figures = []
    for name, expr in queries.weave_queries().items():
        evaluate(expr, root=root)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            evaluate(expr, root=root)
            best = min(best, time.perf_counter() - start)
        figures.append(f"{name.split()[0]} {best * 1e3:7.1f}")
    print(" | ".join(figures))


if __name__ == "__main__":
    main()
