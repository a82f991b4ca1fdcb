"""Fuzz the parser, planner and executor with many seeded cases (tests/lang/fuzzing.py).

Run:  .venv/bin/python benchmarks/fuzz.py [--cases 100000] [--seed 1] [--slowest 10]

Each case is evaluated with the fuzzer's budgets (``timeout``, ``max_memory``) over small
``tables=`` tables and a stream table in a temporary data root.  Prints how many cases gave a
result, each WeaveError class, each exception that is not a WeaveError (``crash:...``; an
``InternalError`` is counted as a bug too), how many took over a second (and how many of those
did again when run a second time: a busy machine stalls any case now and then), and the
slowest cases.  Exits with status 1 when any case crashed or was slow twice.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.lang import fuzzing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000, help="number of cases (default 100000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the cases (default 1)")
    parser.add_argument("--slowest", type=int, default=10, help="how many of the slowest cases to show")
    parser.add_argument("--show", type=int, default=5, help="crashes shown in full, per exception class")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        fuzzing.make_stream_table(root)
        tables = fuzzing.fuzz_tables()
        began = time.perf_counter()
        fuzzing.warm_up(tables, root)
        warm = time.perf_counter() - began
        texts = fuzzing.corpus()
        exprs = fuzzing.cases(args.seed, args.cases, texts)

        def progress(i: int, outcome: fuzzing.Outcome) -> None:
            if (i + 1) % 5000 == 0:
                print(f"  {i + 1:,} cases, {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)

        began = time.perf_counter()
        outcomes = fuzzing.run_cases(exprs, tables, root, progress)
        elapsed = time.perf_counter() - began
        slow = [o for o in outcomes if o.seconds > fuzzing.MAX_CASE_SECONDS]
        # A busy machine (or a garbage collection) can stall any case: a slow case is run
        # again, and counts as slow only if it is slow twice.
        slow_again = [o for o in slow if fuzzing.run_case(o.expr, tables, root).seconds > fuzzing.MAX_CASE_SECONDS]

    counts = fuzzing.summary(outcomes)
    crashes = [o for o in outcomes if o.crashed]
    print(f"fuzz: {args.cases:,} cases, seed {args.seed}, corpus of {len(texts)} expressions")
    print(f"  budgets per case: timeout {fuzzing.CASE_TIMEOUT} s, max_memory {fuzzing.CASE_MAX_MEMORY // 2**20} MiB")
    print(f"  {elapsed:.1f} s ({1000 * elapsed / max(1, args.cases):.2f} ms a case), warm-up {warm:.1f} s")
    print(f"  results:                {counts.get('result', 0):>8,}")
    for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        if kind != "result" and not kind.startswith("crash:") and kind != "InternalError (bug)":
            print(f"  {kind + ':':<24}{n:>8,}")
    non_weave = sum(n for kind, n in counts.items() if kind.startswith("crash:"))
    print(f"  non-WeaveError:         {non_weave:>8,}")
    for kind, n in sorted(counts.items()):
        if kind.startswith("crash:"):
            print(f"    {kind[6:] + ':':<22}{n:>8,}")
    print(f"  InternalError (bugs):   {counts.get('InternalError (bug)', 0):>8,}")
    print(f"  over {fuzzing.MAX_CASE_SECONDS:g} s:               {len(slow):>8,}")
    print(f"  over {fuzzing.MAX_CASE_SECONDS:g} s, run again too:  {len(slow_again):>5,}")
    print(f"slowest {args.slowest}:")
    for o in sorted(outcomes, key=lambda o: -o.seconds)[: args.slowest]:
        print(f"  {o.seconds:7.3f} s  {o.kind:<22} {o.expr[:110]!r}")
    shown: dict[str, int] = {}
    for o in crashes:
        if shown.get(o.kind, 0) >= args.show:
            continue
        shown[o.kind] = shown.get(o.kind, 0) + 1
        print(f"\ncrash {o.kind}: {o.expr!r}")
        error = o.error.__cause__ if o.error.__cause__ is not None else o.error
        traceback.print_exception(type(error), error, error.__traceback__, limit=-6, file=sys.stdout)
    return 1 if crashes or slow_again else 0


if __name__ == "__main__":
    sys.exit(main())
