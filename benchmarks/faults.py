"""Long fault-injection and kill -9 loops for the log (CI runs short versions of each).

    python benchmarks/faults.py [--cases 2000] [--kills 100] [--seed 0]

* random I/O faults: a random scenario (logging with checkpoints, table creation, compaction,
  vacuum), a random primitive (os.open/write/fsync/link/replace/unlink/mkdir, small-file reads),
  ENOSPC or EIO, failing from a random Nth call on; then the fault is freed and the table must
  open with every acknowledged row exactly once, in order (the checks of
  tests/storage/test_faults.py);
* kill -9 of real writer processes (with a compactor thread) at random instants, then the
  gap-free-prefix and flushed-rows checks;
* the corruption matrix of tests/storage/test_corruption.py.
Prints cases run, faults injected, cases survived, and any failure with its parameters.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import weave_lite.storage.log as log_module  # noqa: E402
from tests.storage import test_faults as faults_tests  # noqa: E402
from tests.storage.faults import ERRNOS, PRIMITIVES, Fault  # noqa: E402

SCENARIOS = {
    "logging": faults_tests.test_fault_while_logging,
    "creation": faults_tests.test_fault_while_creating_a_table,
    "compaction": faults_tests.test_fault_while_compacting,
    "vacuum": faults_tests.test_fault_while_vacuuming,
}


def run_fault_case(scenario: str, primitive: str, code: str, nth: int) -> int:
    """Run one case in a fresh root; return the number of faults injected."""
    injected = 0
    original_init = Fault.__init__

    def counting_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        counting.append(self)

    counting: list[Fault] = []
    Fault.__init__ = counting_init
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "data"
            os.environ["WEAVE_LITE_ROOT"] = str(root)
            log_module.CHECKPOINT_EVERY = 2
            fn = SCENARIOS[scenario]
            if scenario == "logging" or scenario == "compaction":
                fn(root, None, primitive, code, nth)
            else:
                fn(root, primitive, code, nth)
    finally:
        Fault.__init__ = original_init
        log_module.CHECKPOINT_EVERY = 100
    injected = sum(f.injected for f in counting)
    return injected


def fault_loop(cases: int, rng: random.Random) -> None:
    injected = survived = 0
    failures = []
    start = time.perf_counter()
    for _ in range(cases):
        params = (rng.choice(list(SCENARIOS)), rng.choice(PRIMITIVES), rng.choice(list(ERRNOS)), rng.randint(1, 16))
        try:
            injected += run_fault_case(*params)
            survived += 1
        except BaseException as exc:  # report and go on
            failures.append((params, "".join(traceback.format_exception_only(exc)).strip()))
    elapsed = time.perf_counter() - start
    print(f"fault cases: {cases}, faults injected: {injected}, survived: {survived}, failed: {len(failures)} ({elapsed:.0f} s)")
    for params, msg in failures[:20]:
        print(f"  FAILED {params}: {msg}")


def kill_loop(kills: int, rng: random.Random) -> None:
    import signal

    from tests.storage.test_crash_and_concurrency import rows_by_writer, spawn
    from weave_lite.storage import open_table

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        flushed: dict[str, int] = {}
        bad = 0
        for i in range(kills):
            tag = f"w{i}"
            child = spawn("log", str(root), "e/p/crash", tag, *(["--compact"] if i % 2 else []))
            child.stdout.readline()
            time.sleep(rng.uniform(0.05, 0.8))
            os.kill(child.pid, signal.SIGKILL)
            out, _ = child.communicate()
            last = [int(line.split()[1]) for line in out.splitlines() if line.startswith("flushed ")]
            flushed[tag] = last[-1] if last else 0
            seqs = rows_by_writer(open_table("e/p/crash", root).snapshot().to_arrow(), "writer")
            for writer, done in flushed.items():
                got = seqs.get(writer, [])
                if got != list(range(len(got))) or len(got) < done:
                    bad += 1
                    print(f"  kill {i}: writer {writer} has {len(got)} rows, flushed {done}, prefix ok={got == list(range(len(got)))}")
        print(f"kill -9: {kills} kills, {sum(flushed.values())} flushed rows checked, violations: {bad}")


def corruption_matrix() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(REPO / "tests/storage/test_corruption.py")],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    print(f"corruption matrix (damaged file x operation): {summary}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    warnings.simplefilter("ignore")  # skipped checkpoints warn by design
    fault_loop(args.cases, rng)
    kill_loop(args.kills, rng)
    corruption_matrix()


if __name__ == "__main__":
    main()
