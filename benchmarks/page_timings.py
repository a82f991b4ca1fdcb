"""Page timings of the panel page on a large table, in headless chromium (Playwright).

Logs N rows (default 1,000,000) to a fresh root, starts ``weave-lite serve``, then times in the
browser: opening the table (first page of rows shown), grouping by a column (the group-by menu
until the grouped page shows), expanding a group's rows, and opening the table with the grid
board's two default panels. Each step runs ``--repeat`` times; the best and median are printed.
The ratio column compares each step against opening the table, measured in the same run.

    PYTHONPATH=$PWD python benchmarks/page_timings.py --rows 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TABLE = "bench/page/preds"


def log_rows(root: Path, n: int) -> None:
    import pyarrow as pa

    from weave_lite import StreamTable

    st = StreamTable(TABLE, root=root)
    t0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    batch = 100_000
    for start in range(0, n, batch):
        k = min(batch, n - start)
        ids = list(range(start, start + k))
        st.log(
            pa.table(
                {
                    "model": [f"m{i % 5}" for i in ids],
                    "lat": [float((i * 37) % 1000) / 10 for i in ids],
                    "n": ids,
                    "timestamp": pa.array(
                        [int(t0.timestamp() * 1e6) + 86_400_000_000 * i // n for i in ids], pa.int64()
                    ).cast(pa.timestamp("us", tz="UTC")),
                }
            )
        )
    st.finish()


def serve(root: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "weave_lite.cli", "serve", "--root", str(root), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, WEAVE_LITE_ROOT=str(root)),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/tables", timeout=2).read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        log_rows(root, args.rows)
        print(f"logged {args.rows:,} rows in {time.perf_counter() - t:.1f} s")
        proc = serve(root, args.port)
        base = f"http://127.0.0.1:{args.port}"
        times: dict[str, list[float]] = {"open table": [], "group by model": [], "expand a group": []}
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--disable-gpu"]
                )
                for _ in range(args.repeat):
                    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                    page.set_default_timeout(120_000)
                    panel = page.locator(".panel-table").first
                    t = time.perf_counter()
                    page.goto(f"{base}/#/table/{TABLE}")
                    expect(panel.locator(".page-info")).to_have_text(f"rows 1–50 of {args.rows:,}", timeout=120_000)
                    times["open table"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    panel.locator("select.group-by").select_option("model")
                    expect(panel.locator(".page-info")).to_have_text("rows 1–5 of 5", timeout=120_000)
                    times["group by model"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    panel.locator("tbody td[data-column='count'] button.group-toggle").first.click()
                    try:
                        expect(panel.locator("tr.drill-row table.drill-table tbody tr")).to_have_count(
                            20, timeout=120_000
                        )
                    except AssertionError:
                        print("expanding a group failed:", panel.locator("tr.drill-row").first.inner_text()[:500])
                        times["expand a group"].append(float("nan"))
                    else:
                        times["expand a group"].append(time.perf_counter() - t)
                    print({k: round(v[-1], 3) for k, v in times.items()}, flush=True)
                    page.context.close()
                browser.close()
        finally:
            proc.kill()
            proc.wait()
    ref = min(times["open table"])
    print(f"{'step':<18} {'best s':>8} {'median s':>9} {'vs open':>8}   ({args.rows:,} rows, {args.repeat} runs)")
    for name, xs in times.items():
        print(f"{name:<18} {min(xs):8.3f} {statistics.median(xs):9.3f} {min(xs) / ref:8.2f}")


if __name__ == "__main__":
    main()
