"""A child process for crash and concurrency tests (run as a script by the tests).

    crash_child.py log ROOT TABLE TAG [--compact]   log forever, print "flushed N" after flushes
    crash_child.py many ROOT TABLE TAG THREADS ROWS  THREADS threads log ROWS rows each, then finish
    crash_child.py create ROOT PREFIX TAG            create tables PREFIX0, PREFIX1, ... (one row each)
"""

from __future__ import annotations

import random
import sys
import threading

from weave_lite import StreamTable
from weave_lite.storage import TableLog, compact
from weave_lite.storage.names import TableName


def log_forever(root: str, table: str, tag: str, with_compaction: bool) -> None:
    st = StreamTable(table, root=root, batch_interval=0.005, batch_rows=500)
    if with_compaction:
        threading.Thread(target=compact_forever, args=(root, table), daemon=True).start()
    rng = random.Random(tag)
    # One flushed row before "ready": the first log and flush load pyarrow and start the writer,
    # which on a loaded machine can outlast the parent's random sleep; the kill must land while logging.
    st.log({"writer": tag, "seq": 0, "payload": "", "v": 0.0})
    st.flush()
    seq = 1
    print("ready", flush=True)
    print(f"flushed {seq}", flush=True)
    while True:
        n = rng.choice([1, 1, 1, 7, 50, 300])
        rows = [{"writer": tag, "seq": seq + k, "payload": "x" * rng.randint(0, 40), "v": rng.random()} for k in range(n)]
        st.log(rows if n > 1 else rows[0])
        seq += n
        if rng.random() < 0.05:
            st.flush()
            print(f"flushed {seq}", flush=True)


def compact_forever(root: str, table: str) -> None:
    log = TableLog(TableName.parse(table), root)
    while True:
        if log.exists():
            compact(log, target_bytes=256 * 1024, retention_seconds=1)


def log_many(root: str, table: str, tag: str, threads: int, rows: int) -> None:
    st = StreamTable(table, root=root)

    def work(t: int) -> None:
        rng = random.Random(f"{tag}-{t}")
        seq = 0
        while seq < rows:
            n = min(rows - seq, rng.choice([1, 1, 10, 100]))
            batch = [{"proc": tag, "thread": t, "seq": seq + k} for k in range(n)]
            st.log(batch if n > 1 else batch[0])
            seq += n

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    st.finish()
    print("done", flush=True)


def create_forever(root: str, prefix: str, tag: str) -> None:
    print("ready", flush=True)
    i = 0
    while True:
        with StreamTable(f"{prefix}{tag}x{i}", root=root, batch_interval=0.001) as st:
            st.log({"writer": tag, "seq": 0})
        print(f"created {i}", flush=True)
        i += 1


if __name__ == "__main__":
    mode, root, table, tag, *rest = sys.argv[1:]
    if mode == "log":
        log_forever(root, table, tag, "--compact" in rest)
    elif mode == "create":
        create_forever(root, table, tag)
    else:
        log_many(root, table, tag, int(rest[0]), int(rest[1]))
