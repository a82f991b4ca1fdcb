"""How fast the expression language is: compile time, and evaluation against DuckDB.

Run:  .venv/bin/python benchmarks/language.py                # both parts, 1M rows
      .venv/bin/python benchmarks/language.py --rows 100000 --repeat 5 --only groupby

The corpus is the differential test's (``tests/engine/duckdb_corpus.py``): each weave expression
comes with the DuckDB SQL computing the same result, so both engines do the same work on the same
Arrow data in the same process.

(a) Compile: per expression, the median time of the uncached path, ``parse(text)`` and then
    ``CompiledExpression(node, text).plan(tables=...)`` (type inference against a small table of
    the same schema), in microseconds; and the time of a cache hit of ``weave_lite.api.compile``.
(b) Evaluate: a table of ``--rows`` rows (same schema, generated with numpy); per expression the
    median of ``--repeat`` runs of ``weave_lite.api.evaluate`` (result left as Arrow, not converted
    to Python) and of the DuckDB query materialized as an Arrow table, the ratio weave/DuckDB,
    and the geometric mean of the ratios. A final ``ORDER BY idx`` on a plain scan of ``t`` is
    dropped from the SQL (DuckDB keeps scan order anyway; the test checks both forms agree), so
    DuckDB is not charged for a sort weave does not do; ``--keep-order-by`` keeps it. Expressions whose kernel is missing are listed as such
    and left out of the mean.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.engine import duckdb_corpus as corpus
from weave_lite import api
from weave_lite.api import CompiledExpression
from weave_lite.lang import parser as parser_module
from weave_lite.lang.parser import parse


def _per_call_us(fn, *, repeat: int, budget_s: float = 0.05) -> float:
    """Median over ``repeat`` batches of the time per call, in microseconds.

    The batch size is chosen so that one batch takes about ``budget_s``. CPU time of this process
    (``time.process_time``), so that other work on a shared machine inflates the figure less.
    """
    clock = time.process_time
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(1, min(20_000, int(budget_s / once)))
    samples = []
    for _ in range(repeat):
        t0 = clock()
        for _ in range(number):
            fn()
        samples.append((clock() - t0) / number * 1e6)
    return statistics.median(samples)


def _median_runs(fn, repeat: int, max_seconds: float) -> tuple[float, int]:
    """Median wall time of ``repeat`` runs in seconds (fewer runs if one run exceeds max_seconds)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if times[-1] > max_seconds:
            break
    return statistics.median(times), len(times)


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def _select(only: str | None) -> list[corpus.Case]:
    cases = corpus.CASES
    if only:
        cases = [c for c in cases if any(s in c.id for s in only.split(","))]
    if not cases:
        raise SystemExit(f"no corpus case id contains {only!r}")
    return cases


def bench_compile(cases: list[corpus.Case], repeat: int) -> None:
    t0 = time.perf_counter()
    parser_module.get_parser()
    build_ms = (time.perf_counter() - t0) * 1e3
    small = corpus.make_tables(n=64)

    rows = []
    for case in cases:
        node = parse(case.weave)
        CompiledExpression(node, case.weave).plan(tables=small)  # must plan
        parse_us = _per_call_us(lambda: parse(case.weave), repeat=repeat)
        plan_us = _per_call_us(lambda: CompiledExpression(node, case.weave).plan(tables=small), repeat=repeat)
        total_us = _per_call_us(
            lambda: CompiledExpression(parse(case.weave), case.weave).plan(tables=small), repeat=repeat
        )
        api.compile(case.weave)
        hit_us = _per_call_us(lambda: api.compile(case.weave), repeat=repeat)
        rows.append((case.id, len(case.weave), parse_us, plan_us, total_us, hit_us))

    print(f"== (a) parse + plan, uncached (median of {repeat} batches per expression) ==")
    print(f"parser build (once per process): {build_ms:.1f} ms; planning against a 64-row table of the same schema; "
          "CPU time")
    print(f"{'expression':34} {'chars':>5} {'parse us':>10} {'plan us':>10} {'total us':>10} {'cache hit us':>13}")
    for name, chars, p, pl, tot, hit in rows:
        print(f"{name:34} {chars:5d} {p:10.1f} {pl:10.1f} {tot:10.1f} {hit:13.2f}")
    col = list(zip(*rows))
    print(
        f"{'MEDIAN over ' + str(len(rows)) + ' expressions':34} {statistics.median(col[1]):5.0f} "
        f"{statistics.median(col[2]):10.1f} {statistics.median(col[3]):10.1f} {statistics.median(col[4]):10.1f} "
        f"{statistics.median(col[5]):13.2f}"
    )
    print(f"(total: min {min(col[4]):.1f} us, max {max(col[4]):.1f} us)\n")


def bench_eval(
    cases: list[corpus.Case], n_rows: int, repeat: int, threads: int, max_seconds: float, keep_order_by: bool
) -> None:
    t0 = time.perf_counter()
    tables = corpus.make_tables(n=n_rows)
    gen_s = time.perf_counter() - t0
    con = corpus.duckdb_connection(tables, threads=threads)
    ((threads_used,),) = con.execute("SELECT current_setting('threads')").fetchall()

    print(f"== (b) evaluation on {n_rows:,} rows (table built with numpy in {gen_s:.2f} s) ==")
    print(f"median of up to {repeat} runs each; DuckDB threads = {threads_used}; weave result kept as Arrow; "
          + ("SQL as in the test" if keep_order_by else "redundant final ORDER BY idx dropped from plain scans"))
    print(f"{'expression':34} {'weave ms':>10} {'duckdb ms':>10} {'weave/duckdb':>13}")
    ratios: list[float] = []
    missing: list[str] = []
    failed: list[tuple[str, str]] = []
    weave_total = duck_total = 0.0
    for case in cases:
        try:
            sql = case.sql if keep_order_by else corpus.bench_sql(case.sql)
            duck_s, _ = _median_runs(lambda: corpus.run_sql(con, sql), repeat, max_seconds)
        except Exception as exc:  # report and go on
            failed.append((case.id, f"duckdb: {exc}".splitlines()[0]))
            continue
        try:
            weave_s, runs = _median_runs(lambda: api.evaluate(case.weave, tables=tables), repeat, max_seconds)
        except Exception as exc:
            message = str(exc).splitlines()[0]
            if "has no kernel" in message:
                missing.append(case.id)
                print(f"{case.id:34} {'no kernel':>10} {duck_s * 1e3:10.2f} {'-':>13}")
            else:
                failed.append((case.id, f"weave: {type(exc).__name__}: {message}"))
                print(f"{case.id:34} {'error':>10} {duck_s * 1e3:10.2f} {'-':>13}")
            continue
        ratio = weave_s / duck_s
        ratios.append(ratio)
        weave_total += weave_s
        duck_total += duck_s
        note = "" if runs == repeat else f"  ({runs} run{'s' if runs > 1 else ''}: over {max_seconds:g} s)"
        print(f"{case.id:34} {weave_s * 1e3:10.2f} {duck_s * 1e3:10.2f} {ratio:12.2f}x{note}")

    print()
    print(f"measured: {len(ratios)} expressions; missing kernels: {len(missing)}; errors: {len(failed)}")
    if ratios:
        print(f"geometric mean weave/DuckDB: {_geomean(ratios):.2f}x "
              f"(median {statistics.median(ratios):.2f}x, best {min(ratios):.2f}x, worst {max(ratios):.2f}x)")
        print(f"sum of medians: weave {weave_total:.2f} s, DuckDB {duck_total:.2f} s")
    if missing:
        print("missing kernels: " + ", ".join(missing))
    for name, message in failed:
        print(f"error in {name}: {message}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the evaluation table (default 1,000,000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per expression and engine (default 3)")
    ap.add_argument("--compile-repeat", type=int, default=7, help="timed batches per expression for (a)")
    ap.add_argument("--duckdb-threads", type=int, default=1,
                    help="DuckDB threads (default 1, like weave's single thread; 0 = DuckDB's default)")
    ap.add_argument("--max-seconds", type=float, default=30.0,
                    help="stop repeating an expression after a run longer than this")
    ap.add_argument("--keep-order-by", action="store_true",
                    help="run the SQL exactly as in the test, with its final ORDER BY idx on plain scans")
    ap.add_argument("--only", help="comma-separated substrings of case ids to run")
    ap.add_argument("--skip-compile", action="store_true", help="skip part (a)")
    ap.add_argument("--skip-eval", action="store_true", help="skip part (b)")
    args = ap.parse_args()

    cases = _select(args.only)
    if not args.skip_compile:
        bench_compile(cases, args.compile_repeat)
    if not args.skip_eval:
        bench_eval(cases, args.rows, args.repeat, args.duckdb_threads, args.max_seconds, args.keep_order_by)


if __name__ == "__main__":
    main()
