"""The demo: stream a few thousand prediction rows into a table and show what comes back.

    python -m weave_lite.demo [--root DIR] [--rows N]

Without ``--root`` it writes under a temporary data root, so it leaves nothing behind.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time

from weave_lite import StreamTable


def stream_predictions(st: StreamTable, rows: int, seed: int = 7) -> None:
    """Log ``rows`` fake predictions the way a model service would: one call per request."""
    rng = random.Random(seed)
    for i in range(rows):
        model = rng.choice(["m1", "m2", "m3"])
        latency = rng.lognormvariate(3.0 if model != "m3" else 3.6, 0.5)
        st.log(
            {
                "model": model,
                "latency_ms": round(latency, 3),
                "tokens": rng.randint(5, 400),
                "ok": rng.random() > (0.02 if model != "m2" else 0.08),
                "input": {"prompt_len": rng.randint(1, 100), "lang": rng.choice(["en", "fr", "de"])},
                "feedback": rng.choice([None, None, None, 1, -1]),
            }
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="weave_lite demo")
    parser.add_argument("--root", help="data root (default: a temporary folder)")
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or tmp
        st = StreamTable("acme/prod/predictions", root=root)
        start = time.perf_counter()
        stream_predictions(st, args.rows)
        st.finish()
        elapsed = time.perf_counter() - start
        print(f"logged {args.rows} rows into acme/prod/predictions under {root} in {elapsed:.2f} s (durable)")
        show_results(st, root)


def show_results(st: StreamTable, root: str) -> None:
    table = st.to_arrow()
    print(f"\nread back {table.num_rows} rows; columns: {', '.join(table.column_names)}")
    for row in table.slice(0, 3).to_pylist():
        print("  ", {k: v for k, v in row.items() if k != "_client_id"})


if __name__ == "__main__":
    main()
