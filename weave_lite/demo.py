"""The demo: stream a few thousand prediction rows into a table and show what comes back.

    python -m weave_lite.demo [--root DIR] [--rows N]

Without ``--root`` it writes under a temporary data root, so it leaves nothing behind.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time

from weave_lite import StreamTable, evaluate, to_python

TABLE = 'stream_table("acme/prod/predictions").rows'
EXPRESSIONS = [
    ("rows logged", f"{TABLE}.count"),
    ("slow requests (> 40 ms)", f'{TABLE}.filter(row => row["latency_ms"] > 40).count'),
    (
        "latency by model",
        f'{TABLE}.groupby(row => row["model"]).map(g => {{model: g.groupkey, n: g.count, '
        f'p50: g["latency_ms"].median, p95: g["latency_ms"].quantile(0.95), errors: g.filter(r => !r["ok"]).count}})',
    ),
    (
        "five slowest",
        f'{TABLE}.sort(row => [row["latency_ms"]], ["desc"]).limit(5).map(row => {{model: row["model"], ms: row["latency_ms"]}})',
    ),
    ("share of French prompts", f'{TABLE}.filter(row => row["input.lang"] == "fr").count / {TABLE}.count'),
]


def stream_predictions(st: StreamTable, rows: int, seed: int = 7) -> None:
    """Log ``rows`` fake predictions the way a model service would: one call per request."""
    rng = random.Random(seed)
    for _i in range(rows):
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
    """Evaluate a few panel expressions on the table and print them."""
    for title, expr in EXPRESSIONS:
        start = time.perf_counter()
        result = to_python(evaluate(expr, root=root))
        ms = (time.perf_counter() - start) * 1000
        print(f"\n{title}  ({ms:.1f} ms)\n  {expr}")
        rows = result if isinstance(result, list) else [result]
        for row in rows[:6]:
            print(f"    {_short(row)}")


def _short(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={round(v, 2) if isinstance(v, float) else v}" for k, v in value.items())
    return str(round(value, 4) if isinstance(value, float) else value)


if __name__ == "__main__":
    main()
