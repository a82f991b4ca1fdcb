"""Benchmark: weave_lite streaming profiles against whylogs 1.6.4, in the same run.

    .venv/bin/python benchmarks/profiles.py [--rows 1000000] [--dict-rows 100000] [--repeat 3]

1. a seeded 1M-row x 6-column pandas DataFrame (5 numeric columns, 1 string column of 1000
   values) profiled at once: ``profile_table(df)`` vs ``why.log(pandas=df)``;
2. 100k single-dict records logged one ``log`` call at a time through a rotating logger
   (``with_rotation_time="h"``) vs whylogs' rolling logger (``when="H"``).

whylogs runs in its own venv (``bash benchmarks/whylogs_env.sh``) as a subprocess and times
itself (``benchmarks/whylogs_profile.py``), so neither side pays for the other's start-up.
weave_lite's Numba JIT is loaded before timing (its cold-start time is reported apart).
Accuracy is checked against exact values: KLL rank error (target <= 0.5%) and HLL relative
error (target <= 2%). Targets: >= 20x whylogs on the DataFrame, >= 30x on single dicts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

VENV_PY = HERE / ".whylogs-venv" / "bin" / "python"
WHYLOGS_SCRIPT = HERE / "whylogs_profile.py"
QS = np.array([0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99])


def make_frame(n: int, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = np.array([f"label_{i:04d}" for i in range(1000)], dtype=object)
    return pd.DataFrame({
        "uniform": rng.random(n),
        "lognormal": rng.lognormal(0.0, 1.0, n),
        "normal": rng.normal(100.0, 15.0, n),
        "int_ties": rng.integers(0, 100, n),
        "int_wide": rng.integers(0, 10_000_000, n),
        "label": labels[rng.integers(0, 1000, n)],
    })


def best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run_whylogs(path: Path, mode: str, rows_limit: int | None = None) -> dict | None:
    if not VENV_PY.exists():
        return None
    cmd = [str(VENV_PY), str(WHYLOGS_SCRIPT), "--input", str(path), "--mode", mode]
    if rows_limit is not None:
        cmd += ["--rows-limit", str(rows_limit)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(out.stdout)


def accuracy(df: pd.DataFrame, prof) -> dict:
    rank_errs, hll_errs = {}, {}
    for name in df.columns:
        col = df[name]
        if col.dtype.kind in "if":
            exact = np.sort(col.to_numpy(dtype=np.float64))
            est = np.asarray(prof.quantile(name, list(QS)), dtype=np.float64)
            lo = np.searchsorted(exact, est, side="left") / exact.shape[0]
            hi = np.searchsorted(exact, est, side="right") / exact.shape[0]
            rank_errs[name] = float(np.max(np.maximum(0, np.maximum(lo - QS, QS - hi))))
            distinct = np.unique(exact).shape[0]
        else:
            distinct = col.nunique()
        hll_errs[name] = abs(prof.distinct(name) - distinct) / distinct
    return {"max_rank_error": max(rank_errs.values()), "rank_error": rank_errs,
            "max_hll_rel_error": max(hll_errs.values()), "hll_rel_error": hll_errs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dict-rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = ap.parse_args()

    t0 = time.perf_counter()
    from weave_lite.profiles import get_or_create_session, profile_table

    t_import = time.perf_counter() - t0
    df = make_frame(args.rows)
    t0 = time.perf_counter()
    profile_table(df.head(20_000))  # loads (or compiles) the Numba kernels
    t_jit = time.perf_counter() - t0

    # 1. DataFrame
    holder = {}

    def run_df():
        holder["p"] = profile_table(df)

    t_df = best_of(args.repeat, run_df)
    acc = accuracy(df, holder["p"])

    # 2. single dicts through a rotating logger
    records = pa.Table.from_pandas(df.head(args.dict_rows), preserve_index=False).to_pylist()
    with tempfile.TemporaryDirectory() as tmp:
        session = get_or_create_session(path=tmp)

        def run_dicts():
            with session.logger("bench", with_rotation_time="h") as logger:
                log = logger.log
                for r in records:
                    log(r)

        run_dicts()  # warm-up (first window file, merge on the second round)
        t_dicts = best_of(args.repeat, run_dicts)

        # whylogs in its venv, on the same data
        data_path = Path(tmp) / "data.arrow"
        feather.write_feather(pa.Table.from_pandas(df, preserve_index=False), data_path,
                              compression="uncompressed")
        why_df = run_whylogs(data_path, "dataframe")
        why_rows = run_whylogs(data_path, "rows", rows_limit=args.dict_rows)

    res = {
        "weave_lite": {
            "import_s": t_import,
            "jit_load_s": t_jit,
            "dataframe_s": t_df,
            "dataframe_rows_per_s": args.rows / t_df,
            "dicts_s": t_dicts,
            "dicts_rows_per_s": args.dict_rows / t_dicts,
        },
        "accuracy": acc,
        "whylogs": None,
    }
    if why_df and why_rows:
        res["whylogs"] = {
            "dataframe_s": why_df["seconds"],
            "dataframe_rows_per_s": why_df["rows_per_s"],
            "dicts_s": why_rows["seconds"],
            "dicts_rows_per_s": why_rows["rows_per_s"],
        }

    w = res["weave_lite"]
    print(f"weave_lite import {t_import:.2f} s, Numba kernels loaded in {t_jit:.2f} s")
    print(f"{'':32s}{'weave_lite':>14s}{'whylogs 1.6.4':>16s}{'ratio':>9s}")
    rows = [("DataFrame 1M x 6 (rows/s)", "dataframe_rows_per_s", 20),
            (f"{args.dict_rows} single dicts (rows/s)", "dicts_rows_per_s", 30)]
    for label, key, target in rows:
        ours = w[key]
        if res["whylogs"]:
            theirs = res["whylogs"][key]
            ratio = ours / theirs
            print(f"{label:32s}{ours:14,.0f}{theirs:16,.0f}{ratio:8.1f}x  (target >= {target}x)")
        else:
            print(f"{label:32s}{ours:14,.0f}{'(no venv)':>16s}")
    print(f"KLL max rank error {acc['max_rank_error']:.4%} (target <= 0.5%), "
          f"HLL max relative error {acc['max_hll_rel_error']:.4%} (target <= 2%)")
    if res["whylogs"] is None:
        print("whylogs: benchmarks/.whylogs-venv missing; run `bash benchmarks/whylogs_env.sh`")
    if args.json:
        print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
