"""Page timings of the plot panels on a large table, in headless chromium.

    python benchmarks/page_plots.py [--rows 1000000] [--repeat 3]

Logs a day of predictions (timestamp, model with 5 values, latency) through the StreamTable bulk
path, starts ``weave-lite serve``, and times in the page: opening the table (first rows shown),
the time-binned line plot of the route (drawn), series per model, p95 per model, a histogram
per model, and a range preset (last 1 h). The peer for each plot is the same derived expression
sent straight to /api/evaluate (the server alone, no page), measured in the same run; the ratio
says what the page adds (planning queries, JSON, Vega-Lite rendering).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server.conftest import ServerProcess
from tests.server.test_browser import CHROMIUM_ARGS, chromium_path
from weave_lite import StreamTable

TABLE = "bench/page/preds"


def build(root: Path, rows: int) -> None:
    rng = np.random.default_rng(7)
    end_us = int(dt.datetime.now(dt.UTC).timestamp() * 1e6)
    ts = end_us - 86_400_000_000 + np.arange(rows, dtype=np.int64) * (86_400_000_000 // rows)
    models = np.array([f"model-{i}" for i in range(5)])
    st = StreamTable(TABLE, root=root)
    st.log(
        pa.table(
            {
                "timestamp": pa.array(ts).cast(pa.timestamp("us", tz="UTC")),
                "model": pa.array(models[rng.integers(0, 5, rows)]),
                "latency": pa.array(rng.lognormal(3.0, 1.0, rows)),
            }
        )
    )
    st.finish()


def server_time(server: ServerProcess, expr: str) -> float:
    t = time.perf_counter()
    status, body = server.request("POST", "/api/evaluate", {"expr": expr, "offset": 0, "limit": 20000})
    assert status == 200, body
    return time.perf_counter() - t


RECORD = """
window.__evals = [];
const orig = window.fetch;
window.fetch = async (url, opts) => {
  if (String(url).includes('/api/evaluate')) {
    const rec = {expr: JSON.parse(opts.body).expr, limit: JSON.parse(opts.body).limit, t0: performance.now(), t1: null};
    window.__evals.push(rec);
    try { return await orig(url, opts); } finally { rec.t1 = performance.now(); }
  }
  return orig(url, opts);
};
"""


def plot_rounds(evals: list[dict]) -> tuple[int, int]:
    """(requests, sequential rounds) of the plot panel's evaluations up to its first drawing."""
    plot_at = next(i for i, e in enumerate(evals) if ".floor(" in e["expr"])
    mine = [e for e in evals[: plot_at + 1] if e["limit"] != 50]  # the table panel pages by 50
    rounds, end = 0, -1.0
    for e in sorted(mine, key=lambda e: e["t0"]):
        if e["t0"] >= end:
            rounds += 1
        end = max(end, e["t1"] or 0)
    return len(mine), rounds


def start_server(root: Path, pythonpath: str | None) -> ServerProcess:
    """A server running the package found on `pythonpath` (None: this checkout)."""
    import os

    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = pythonpath or str(Path(__file__).resolve().parents[1])
    try:
        return ServerProcess(root, root / f"serve-{abs(hash(pythonpath))}.log")
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old


def run_steps(browser, server: ServerProcess, label: str, results: dict, rounds: dict) -> None:
    """One run of the page steps against `server`; timings go into `results` under `label`."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(120_000)
    page.add_init_script(RECORD)
    plot = page.locator(".panel-plot").first
    canvas = plot.locator(".plot")

    def drawn(part: str) -> str:
        plot.locator(".plot-expr:not(.plot-top-expr)").filter(has_text=part).wait_for()
        page.wait_for_function("el => el.dataset.rendered === '1'", arg=canvas.element_handle())
        return plot.locator(".plot-expr:not(.plot-top-expr)").inner_text()

    def step(name: str, action, part: str) -> None:
        t0 = time.perf_counter()
        action()
        expr = drawn(part)
        page_s = time.perf_counter() - t0
        results.setdefault(f"{label}: {name}", []).append((page_s, server_time(server, expr)))

    t0 = time.perf_counter()
    page.goto(f"{server.base}/#/table/{TABLE}")
    page.locator(".panel-table .page-info").filter(has_text="rows 1–50").wait_for()
    open_s = time.perf_counter() - t0
    results.setdefault(f"{label}: open (table rows shown)", []).append(
        (open_s, server_time(server, f'stream_table("{TABLE}").rows'))
    )
    expr = drawn(".floor(")
    rounds.setdefault(label, []).append(plot_rounds(page.evaluate("window.__evals")))
    line_s = time.perf_counter() - t0  # from navigation, as the user sees it
    results.setdefault(f"{label}: open -> time-binned line drawn", []).append((line_s, server_time(server, expr)))
    step("series per model", lambda: plot.locator("select.plot-color").select_option("model"), '"series"')
    step("p95 per model", lambda: plot.locator("select.plot-agg").select_option("p95"), "quantile(0.95)")
    step(
        "histogram per model",
        lambda: plot.locator("select.plot-type").select_option("histogram"),
        "binsfixed(",
    )
    if label == "this":
        step(
            "scatter (sampled)",
            lambda: plot.locator("select.plot-type").select_option("scatter"),
            "randomlyDownsample(",
        )
    step(
        "range: last 1 h (both panels)",
        lambda: page.locator("select.time-preset").select_option("1h"),
        "now() - 3600000",
    )
    page.context.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", help="another checkout (e.g. /work/main) to time in the same run, as a peer")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        build(root, args.rows)
        print(f"built {args.rows:,} rows in {time.perf_counter() - t:.1f} s")
        servers = {"this": start_server(root, None)}
        if args.baseline:
            servers["baseline"] = start_server(root, args.baseline)
        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        results: dict[str, list[tuple[float, float]]] = {}
        rounds: dict[str, list[tuple[int, int]]] = {}
        try:
            for _run in range(args.repeat):
                for label, srv in servers.items():
                    run_steps(browser, srv, label, results, rounds)
        finally:
            browser.close()
            pw.stop()
            for srv in servers.values():
                srv.stop()
        print(f"{'step':44} {'page s (median)':>16} {'server alone s':>15} {'page/server':>12}")
        for name, pairs in results.items():
            page_m = statistics.median(p for p, _ in pairs)
            srv_m = statistics.median(s for _, s in pairs)
            print(f"{name:44} {page_m:16.3f} {srv_m:15.3f} {page_m / srv_m:12.1f}")
        print(json.dumps({k: [round(p, 3) for p, _ in v] for k, v in results.items()}))
        for label, rs in rounds.items():
            print(f"{label}: plot requests / sequential rounds before the first line: {rs}")


if __name__ == "__main__":
    main()
