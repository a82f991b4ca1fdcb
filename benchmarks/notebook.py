"""Notebook costs on a large table: the HTML repr of a StreamTable (newest rows, reading only
the segments that hold them) against rendering the whole table read (what the repr did
before), a live view's poll when nothing changed, and serve(background=True) start-up.

    python benchmarks/notebook.py --rows 1000000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np
import pyarrow as pa

import weave_lite
from weave_lite import StreamTable
from weave_lite.display import table_html


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    root = tempfile.mkdtemp()
    st = StreamTable("bench/notebook/preds", root=root, batch_rows=100_000)
    rng = np.random.default_rng(0)
    for start in range(0, args.rows, 100_000):
        n = min(100_000, args.rows - start)
        st.log(pa.table({"latency": rng.random(n), "model": rng.choice(["m1", "m2", "m3"], n)}))
    st.flush()
    name = str(st.name)
    # A fresh StreamTable object each time: its table log has no segment cache yet (the
    # first `st` of a notebook session); the OS page cache is warm for both.
    repr_s = best_of(lambda: StreamTable(name, root=root)._repr_html_(), args.repeat)
    whole_s = best_of(lambda: table_html(StreamTable(name, root=root).to_arrow(), title=name), args.repeat)
    view = st.panel(".count")
    idle = [best_of(view.refresh, 20)]
    t0 = time.perf_counter()
    server = weave_lite.serve(root, background=True, port=0, eval_workers=1)
    started_s = time.perf_counter() - t0
    server.stop()
    print(f"rows={args.rows:,}")
    print(f"repr_html (newest 50 rows)      {repr_s * 1e3:8.1f} ms   1.00x")
    print(f"whole table read + table_html   {whole_s * 1e3:8.1f} ms   {whole_s / repr_s:5.1f}x")
    print(f"live view poll, nothing new     {statistics.median(idle) * 1e3:8.2f} ms")
    print(f"serve(background=True) start    {started_s:8.2f} s")
    st.finish()


if __name__ == "__main__":
    main()
