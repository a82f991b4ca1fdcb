"""How long the expression parser takes per expression.

Run:  .venv/bin/python benchmarks/parse_speed.py

Parses a corpus of realistic panel expressions many times each and prints the
median over the corpus of each expression's best time per parse (the parser is
built once beforehand; its build time is printed separately), plus the time
for one ~200-character expression.
"""

from __future__ import annotations

import statistics
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from weave_lite.lang import parse
from weave_lite.lang import parser as parser_module

CORPUS = [
    'stream_table("e/p/t").rows',
    'stream_table("e/p/t").rows.count',
    'rows.filter(row => row["x"] > 5).count',
    'rows["latency"].avg',
    'rows["latency"].quantile(0.95)',
    'rows.filter(row => row["status"] == "error" && row["latency"] > 250).count',
    'rows.map(row => row["prompt"].len).max',
    'rows.sort(row => [row["timestamp"]], ["desc"]).limit(10)',
    'rows.groupby(row => row["model"]).map(g => {model: g.groupkey, n: g.count})',
    'rows.groupby(row => row["model"]).map(g => {model: g.groupkey, n: g.count, '
    'p95: g["lat"].quantile(0.95)})',
    'rows["timestamp"].floor("5m")',
    'rows.filter(row => row["timestamp"] >= Date("2024-05-01T00:00:00Z")).count',
    'rows.filter((row, index) => index % 10 == 0)',
    'rows["tags"].flatten.unique.count',
    'rows["score"].dropna.count / rows.count',
    'rows["name"].lower.startsWith("gpt")',
    'rows.map(row => row["a"] ?? row["b"] ?? 0).sum',
    'rows.map(row => row["ok"] ? 1 : 0).avg',
    'rows["latency"].rolling(w => w.avg, 5)',
    'rows.join(table("other").rows, r => r["id"], o => o["id"], "r", "o", true, false)',
    'rows["x"].bin(binsfixed(10))',
    'rows["timestamp"].bin(timestampBinsNice(50))',
    'rows.profile',
    'now() - rows["timestamp"].max',
    '{a: 1, "b c": [1, 2, 3], d: {e: null, f: true}}',
    '(rows["x"] - rows["x"].avg) ** 2',
    '-rows["x"].min + rows["x"].max * 2 / 3',
    'rows["text"].findAll("[a-z]+").flatten.count',
    'rows.filter(row => !row["name"].isNone && row["name"].len > 3).map(row => row["name"].upper)',
    'rows["cost"].sum.round(2).toString + " USD"',
]

LONG = (
    'rows.groupby(row => row["model"]).map(g => {model: g.groupkey, n: g.count, '
    'p95: g["lat"].quantile(0.95), ok: g["status"] == "ok" && g["lat"].avg < 250.5})'
    '.sort(r => [r["n"]], ["desc"]).limit(20)'
)


def best_us(text: str, number: int = 200, repeat: int = 9) -> float:
    """The best of ``repeat`` runs of ``number`` parses, in microseconds per parse.

    CPU time of this process (``time.process_time``), so that other work on a
    shared machine inflates the figure less than wall-clock time would.
    """
    runs = timeit.repeat(lambda: parse(text), number=number, repeat=repeat, timer=time.process_time)
    return min(runs) / number * 1e6


def main() -> None:
    t0 = time.perf_counter()
    parser_module.get_parser()
    build_ms = (time.perf_counter() - t0) * 1e3
    for text in CORPUS:
        parse(text)  # every entry must parse

    times = [best_us(text) for text in CORPUS]
    chars = statistics.median(len(t) for t in CORPUS)
    print(f"parser build (once per process): {build_ms:.1f} ms")
    print(f"corpus: {len(CORPUS)} expressions, median length {chars:.0f} characters")
    print(f"median parse time: {statistics.median(times):.1f} us per expression "
          f"(min {min(times):.1f}, max {max(times):.1f})")
    print(f"{len(LONG)}-character expression: {best_us(LONG):.1f} us")


if __name__ == "__main__":
    main()
