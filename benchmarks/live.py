"""Live queries: the cost of a watched query's update after 1% more rows, against a cold run.

    python benchmarks/live.py [--rows 2000000] [--appends 3] [--repeat 5] [--only Q1,Q5]
    python benchmarks/live.py --served [--rows 1000000] [--seconds 30] [--plot none,rerun,live]

For each of Q1..Q8 (benchmarks/queries.py), on a hard-linked copy of the cached table: the
median cold ``evaluate`` time, then ``--appends`` times "log 1% more rows, ``poll()``", printing
the median update time, its ratio to the cold run (target <= 5%), the best update's ratio (the
machine is shared: noise), the cold run timed as an update is (the first work after a commit:
``cold@commit``) and the update's ratio to it, the path the update took and the rows it read.  Each update is checked against a cold run on the same snapshot.

``--served`` measures the CPU a served page costs: a ``weave-lite serve`` process with one
subscribed panel (a 1M-row table sorted by latency, first page) while 36 rows/s arrive; it
prints the server's CPU time (its process and its evaluation workers) over ``--seconds`` as a
share of one core (target < 10%).  ``--plot`` adds a time-binned plot panel of the same table
(``groupby(timestamp.floor("h")).map(avg latency)``, what the page derives for it), as the page
ran it before plots were live (``rerun``: on each commit the head, the time span and the derived
expression are evaluated again) and now (``live``: the derived expression subscribed to
``/api/live``); each listed mode runs on its own server, one after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import queries
from queries import TABLE, timed

from weave_lite import StreamTable, compile, evaluate, to_python
from weave_lite.storage import open_table


def _close(a, b) -> bool:
    """Equal results, floats to 1e-9 relative (sums add in a different order when live)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return a == b


def live_queries(root: Path, rows: int, appends: int, repeat: int, only: str) -> None:
    with tempfile.TemporaryDirectory(dir=root.parent) as tmp:
        copy = Path(tmp) / "live"
        shutil.copytree(root, copy, copy_function=os.link)
        snap = open_table(TABLE, copy).snapshot()
        extra = snap.read(snap.segments[-1]).slice(0, max(1, rows // 100))
        st = StreamTable(TABLE, root=copy)
        print(
            f"{'query':24s} {'cold':>9s} {'update':>9s} {'ratio':>7s} {'best':>8s} {'cold@commit':>10s}"
            f" {'ratio@':>7s}  path (rows read by the update)"
        )
        for name, expr in queries.weave_queries().items():
            if only and not any(name.startswith(p) for p in only.split(",")):
                continue
            cold = timed(lambda: evaluate(expr, root=copy), repeat)
            live = compile(expr).watch(root=copy)
            times = []
            for _ in range(appends):
                st.log(extra)
                st.flush()
                start = time.perf_counter()
                updated = live.poll()
                times.append(time.perf_counter() - start)
                expected = evaluate(expr, root=copy)
                assert _close(to_python(updated), to_python(expected)), name
            update = statistics.median(times)
            stats = getattr(live, "last_update", None)
            path = f"{stats.path} ({stats.rows_read:,} rows)" if stats is not None else "?"
            best = min(times) / cold * 100
            # The cold run again, timed like an update: first thing after a commit (on a VM an
            # idle wait such as a commit's fsync leaves the next work ~2x slower than a loop).
            after = []
            for _ in range(appends):
                st.log(extra)
                st.flush()
                after.append(timed(lambda: evaluate(expr, root=copy), 1))
                assert _close(to_python(live.poll()), to_python(evaluate(expr, root=copy))), name
            cold_after = statistics.median(after)
            print(
                f"{name:24s} {cold * 1e3:7.1f}ms {update * 1e3:7.2f}ms {update / cold * 100:6.1f}% {best:7.1f}%"
                f" {cold_after * 1e3:8.1f}ms {update / cold_after * 100:7.1f}%  {path}"
            )
        st.finish()


PLOT_SRC = f'stream_table("{TABLE}").rows'
PLOT_EXPR = PLOT_SRC + '.groupby(row => row["timestamp"].floor("h")).map(g => {"x": g.groupkey, "y": g["latency"].avg})'


def served_cpu(root: Path, seconds: float, plot: str = "none") -> None:
    """CPU of a served page with one live sorted panel (and a plot panel) while 36 rows/s arrive."""
    with tempfile.TemporaryDirectory(dir=root.parent) as tmp:
        copy = Path(tmp) / "served"
        shutil.copytree(root, copy, copy_function=os.link)
        port = 8765 + os.getpid() % 1000
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
        server = subprocess.Popen(
            [sys.executable, "-m", "weave_lite.cli", "serve", "--root", str(copy), "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    urllib.request.urlopen(base + "/api/tables", timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.1)
            expr = f'stream_table("{TABLE}").rows.sort(row => [row["latency"]], ["desc"])'
            events = _subscribe(base, expr)
            stop = threading.Event()
            plot_events = _subscribe(base, PLOT_EXPR, limit=20000) if plot == "live" else None
            if plot == "rerun":
                threading.Thread(target=_rerun_plot, args=(base, stop), daemon=True).start()
            writer = threading.Thread(target=_arrive, args=(copy, stop), daemon=True)
            writer.start()
            time.sleep(3)  # the first commits and pushes, then measure
            before = _tree_cpu_seconds(server.pid)
            pushed_before = events["pushes"]
            plot_before = plot_events["pushes"] if plot_events else 0
            time.sleep(seconds)
            cpu = _tree_cpu_seconds(server.pid) - before
            pushes = events["pushes"] - pushed_before
            plot_note = ""
            if plot_events:
                plot_note = (
                    f"; plot: {plot_events['pushes'] - plot_before} pushes, paths {sorted(plot_events['paths'])}"
                )
            elif plot == "rerun":
                plot_note = "; plot re-run on each commit"
            stop.set()
            writer.join()
            print(
                f"served page, sorted 1M-row panel + plot {plot}, 36 rows/s arriving: server CPU {cpu:.2f} s "
                f"over {seconds:.0f} s = {cpu / seconds * 100:.1f}% of a core; {pushes} pushes, "
                f"paths {sorted(events['paths'])}{plot_note}"
            )
        finally:
            server.terminate()
            server.wait(10)


def _subscribe(base: str, expr: str, limit: int = 50) -> dict:
    """Subscribe a panel expression and count the pushed results (in a thread)."""
    state: dict = {"pushes": 0, "paths": set()}
    query = urllib.parse.urlencode({"expr": expr, "limit": limit})
    stream = urllib.request.urlopen(f"{base}/api/live?{query}", timeout=600)

    def read() -> None:
        for line in stream:
            if line.startswith(b"data:") and b'"live":true' in line.replace(b" ", b""):
                message = json.loads(line[5:])
                state["pushes"] += 1
                state["paths"].add(message.get("path"))

    threading.Thread(target=read, daemon=True).start()
    return state


def _rerun_plot(base: str, stop: threading.Event) -> None:
    """The plot panel before it was live: on each commit event, what loadPlot evaluated."""
    stream = urllib.request.urlopen(f"{base}/api/events", timeout=600)
    col = f'{PLOT_SRC}["timestamp"]'
    for line in stream:
        if stop.is_set():
            break
        if line.startswith(b"event: commit"):
            for expr, limit in ((PLOT_SRC, 0), (f'{{"lo": {col}.min, "hi": {col}.max}}', 1), (PLOT_EXPR, 20000)):
                body = json.dumps({"expr": expr, "offset": 0, "limit": limit}).encode()
                req = urllib.request.Request(f"{base}/api/evaluate", data=body, method="POST")
                req.add_header("Content-Type", "application/json")
                urllib.request.urlopen(req, timeout=60).read()


def _arrive(root: Path, stop: threading.Event) -> None:
    """36 rows a second, one row a log call, flushed every second (like a served model)."""
    snap = open_table(TABLE, root).snapshot()
    row = snap.read(snap.segments[-1]).slice(0, 1).to_pylist()[0]
    st = StreamTable(TABLE, root=root)
    while not stop.is_set():
        for _ in range(36):
            st.log(row)
        st.flush()
        stop.wait(1.0)
    st.finish()


def _tree_cpu_seconds(pid: int) -> float:
    """CPU of ``pid`` and its live descendants (the server's evaluation workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
    tree, frontier = {pid}, [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier and child not in tree]
        tree.update(frontier)
    total = 0.0
    for member in tree:
        try:
            total += _cpu_seconds(member)
        except OSError:
            continue
    return total


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--appends", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", default=str(Path(__file__).parent / ".data"))
    parser.add_argument("--only", default="", help="comma-separated query prefixes, e.g. Q1,Q5")
    parser.add_argument("--served", action="store_true", help="measure a served page's CPU instead")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--plot", default="none", help="served: comma-separated plot modes: none, rerun, live")
    args = parser.parse_args()
    root = Path(args.data) / f"rows-{args.rows}"
    queries.build(root, args.rows)
    print(f"data: {args.rows:,} rows under {root}; machine: {os.cpu_count()} cores")
    if args.served:
        for mode in args.plot.split(","):
            served_cpu(root, args.seconds, mode)
    else:
        live_queries(root, args.rows, args.appends, args.repeat, args.only)


if __name__ == "__main__":
    main()
