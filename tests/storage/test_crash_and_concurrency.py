"""Real processes: kill -9 at random instants, and many writers at once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pyarrow as pa

from weave_lite.storage import compact, open_table

CHILD = Path(__file__).with_name("crash_child.py")
REPO = Path(__file__).resolve().parents[2]


def spawn(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def rows_by_writer(table: pa.Table, writer_col: str) -> dict:
    seqs: dict = defaultdict(list)
    if table.num_rows == 0:  # killed before its first commit
        return seqs
    for w, s in zip(table.column(writer_col).to_pylist(), table.column("seq").to_pylist()):
        seqs[w].append(s)
    return seqs


def test_kill_9_at_random_instants_loses_nothing_flushed(root):
    """>= 20 kills, some during compaction; after each the table opens and is consistent."""
    rng = random.Random(1234)
    flushed: dict[str, int] = {}
    kills = 24
    for i in range(kills):
        tag = f"w{i}"
        child = spawn("log", str(root), "e/p/crash", tag, *(["--compact"] if i % 2 else []))
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.8))
        os.kill(child.pid, signal.SIGKILL)
        out, err = child.communicate()
        assert child.returncode == -signal.SIGKILL, err
        last = [int(line.split()[1]) for line in out.splitlines() if line.startswith("flushed ")]
        flushed[tag] = last[-1] if last else 0

        table = open_table("e/p/crash", root).snapshot().to_arrow()  # opens without repair
        seqs = rows_by_writer(table, "writer")
        for writer, done in flushed.items():
            got = seqs.get(writer, [])
            assert got == list(range(len(got))), f"{writer}: rows not a gap-free prefix in order"
            assert len(got) >= done, f"{writer}: lost flushed rows ({len(got)} < {done})"
        if table.num_rows:
            assert table.column("payload").null_count == 0  # nothing torn
    assert sum(flushed.values()) > 0
    log_dir = root / "e" / "p" / "crash" / "_log"
    ops = [json.loads(p.read_text()).get("op") for p in log_dir.glob("0*[0-9].json")]
    assert "compact" in ops, "the kills must also hit a table being compacted"
    # After all the kills, compaction still works and changes nothing.
    log = open_table("e/p/crash", root)
    before = log.snapshot().to_arrow()
    compact(log, target_bytes=1 << 22)
    assert log.snapshot().to_arrow().equals(before)


def test_four_processes_four_threads_200k_rows(root):
    procs = [spawn("many", str(root), "e/p/many", f"p{i}", "4", "12500") for i in range(4)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "done" in out
    table = open_table("e/p/many", root).snapshot().to_arrow()
    assert table.num_rows == 200_000
    seqs: dict = defaultdict(list)
    for proc, thread, seq in zip(
        table.column("proc").to_pylist(), table.column("thread").to_pylist(), table.column("seq").to_pylist()
    ):
        seqs[(proc, thread)].append(seq)
    assert len(seqs) == 16
    for writer, got in seqs.items():
        assert got == list(range(12_500)), f"{writer} out of order or incomplete"
