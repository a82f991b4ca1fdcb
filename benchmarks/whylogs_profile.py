"""Profile data with whylogs 1.6.4 and print JSON metrics (runs INSIDE benchmarks/.whylogs-venv).

Used by tests/profiles/test_whylogs_differential.py and benchmarks/profiles.py; it imports
nothing from weave_lite. The data comes as an Arrow IPC file (written by the caller with the
project's pyarrow) and is read with the venv's own pyarrow.

    benchmarks/.whylogs-venv/bin/python benchmarks/whylogs_profile.py --input data.arrow \\
        [--mode dataframe|rows] [--rows-limit N]

- ``dataframe``: ``why.log(pandas=df)`` on the whole table (converted to pandas first, not timed).
- ``rows``: a rolling logger (``why.logger(mode="rolling", when="H")`` with a local writer) fed
  one dict per ``log`` call, as whylogs users log single records; closed at the end (timed).

Output (stdout, one JSON object): ``whylogs_version``, ``mode``, ``rows``, ``seconds`` (the
profiling only, timed inside this process), ``rows_per_s`` and ``columns``: for each column
the whylogs summary metrics (``counts/n``, ``counts/null``, ``distribution/mean``,
``cardinality/est``, ``frequent_items/frequent_strings``...).
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
import tempfile
import time
import warnings


def _jsonable(v):
    if v is None:
        return None
    if isinstance(v, float):
        return None if math.isnan(v) else v
    if hasattr(v, "item") and not isinstance(v, (list, tuple, dict)):
        try:
            return _jsonable(v.item())
        except (ValueError, TypeError):
            pass
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if hasattr(v, "value") and hasattr(v, "est"):  # FrequentItem
        return {"value": v.value, "est": int(v.est), "lower": int(v.lower), "upper": int(v.upper)}
    if isinstance(v, (int, str, bool)):
        return v
    return str(v)


def summary(view) -> dict:
    df = view.to_pandas()
    out = {}
    for col, row in df.iterrows():
        out[str(col)] = {str(k): _jsonable(v) for k, v in row.items()}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", required=True, help="Arrow IPC file")
    ap.add_argument("--mode", choices=["dataframe", "rows"], default="dataframe")
    ap.add_argument("--rows-limit", type=int, default=None)
    args = ap.parse_args()

    warnings.filterwarnings("ignore")
    os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")
    import pyarrow as pa
    import whylogs as why

    with pa.memory_map(args.input) as src:
        table = pa.ipc.open_file(src).read_all()
    if args.rows_limit is not None:
        table = table.slice(0, args.rows_limit)

    if args.mode == "dataframe":
        df = table.to_pandas()
        t0 = time.perf_counter()
        results = why.log(pandas=df)
        view = results.view()
        seconds = time.perf_counter() - t0
        columns = summary(view)
    else:
        rows = table.to_pylist()
        with tempfile.TemporaryDirectory() as tmp:
            logger = why.logger(mode="rolling", interval=1, when="H", base_name="bench",
                                skip_empty=True)
            logger.append_writer("local", base_dir=tmp)
            t0 = time.perf_counter()
            for row in rows:
                logger.log(row)
            logger.close()
            seconds = time.perf_counter() - t0
            files = sorted(glob.glob(os.path.join(tmp, "**", "*.bin"), recursive=True))
            columns = {}
            if files:
                merged = None
                for f in files:
                    v = why.read(f).view()
                    merged = v if merged is None else merged.merge(v)
                columns = summary(merged)
    json.dump(
        {
            "whylogs_version": why.__version__,
            "mode": args.mode,
            "rows": table.num_rows,
            "seconds": seconds,
            "rows_per_s": table.num_rows / seconds if seconds > 0 else None,
            "columns": columns,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
