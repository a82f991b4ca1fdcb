"""I/O faults at every step: the caller hears a WeaveError, nothing acknowledged is lost or repeated.

Each case fails one filesystem primitive (see :mod:`tests.storage.faults`) from its Nth call on,
during logging and committing (checkpoints every two versions, so that they are hit too), table
creation, compaction and vacuum; then frees the fault and checks that the table opens and that
every acknowledged row is there exactly once, in order.  A real full disk (a small tmpfs) is
tried too when the machine allows mounting one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

import weave_lite.storage.log as log_module
from weave_lite import StreamTable, WeaveError
from weave_lite.storage import compact, open_table, vacuum
from weave_lite.storage.table import TableLog

from .faults import ERRNOS, PRIMITIVES, Fault

NTH = range(1, 11)


def fault_cases() -> list:
    return [pytest.param(p, e, n, id=f"{p}-{e}-{n}") for p in PRIMITIVES for e in ERRNOS for n in NTH]


def read_seqs(root: Path, name: str = "e/p/t") -> list[int]:
    """The ``seq`` column as read by a fresh reader (its own TableLog, no caches)."""
    table = TableLog.open(name, root).snapshot().to_arrow()
    return table.column("seq").to_pylist() if table.num_rows else []


def log_acknowledged(st: StreamTable, seqs: list[int], acknowledged: list[int]) -> None:
    """Log ``seqs`` as single rows and a list, recording those whose ``log`` call returned."""
    half = len(seqs) // 2
    for s in seqs[:half]:
        try:
            st.log({"seq": s, "payload": "x" * 50})
        except WeaveError:
            continue
        acknowledged.append(s)
    rows = [{"seq": s, "payload": "y"} for s in seqs[half:]]
    try:
        st.log(rows)
    except WeaveError:
        return
    acknowledged.extend(seqs[half:])


@pytest.fixture
def frequent_checkpoints(monkeypatch):
    monkeypatch.setattr(log_module, "CHECKPOINT_EVERY", 2)


@pytest.mark.parametrize("primitive,code,nth", fault_cases())
def test_fault_while_logging(root, frequent_checkpoints, primitive, code, nth):
    st = StreamTable("e/p/t", batch_interval=0.01, batch_rows=4)
    acknowledged: list[int] = []
    log_acknowledged(st, list(range(6)), acknowledged)
    st.flush()
    fault = Fault(primitive, nth, ERRNOS[code])
    with fault.installed():
        fault.arm()
        log_acknowledged(st, list(range(6, 20)), acknowledged)
        try:
            st.flush()
        except WeaveError:
            pass  # a clear error; the rows are kept
        except Exception as exc:  # pragma: no cover - the point of the test
            pytest.fail(f"flush raised a non-WeaveError {exc!r}")
        log_acknowledged(st, list(range(20, 24)), acknowledged)  # while failing: refused or kept
        fault.free()
        st.flush()  # the kept rows land now
        log_acknowledged(st, list(range(24, 30)), acknowledged)
        st.finish()
    assert read_seqs(root) == acknowledged, f"{fault.injected} faults injected"


@pytest.mark.parametrize("primitive,code,nth", fault_cases())
def test_fault_while_creating_a_table(root, primitive, code, nth):
    fault = Fault(primitive, nth, ERRNOS[code])
    acknowledged: list[int] = []
    with fault.installed():
        fault.arm()
        st = StreamTable("e/p/t", batch_interval=0.01)
        log_acknowledged(st, list(range(4)), acknowledged)
        with contextlib.suppress(WeaveError):
            st.flush()
        fault.free()
        log_acknowledged(st, list(range(4, 8)), acknowledged)
        st.finish()
    assert read_seqs(root) == acknowledged


def small_segments(root: Path, n: int = 8) -> None:
    for i in range(n):
        with StreamTable("e/p/t", batch_interval=0.01) as st:
            st.log([{"seq": i * 10 + j, "payload": "z"} for j in range(10)])


@pytest.mark.parametrize("primitive,code,nth", fault_cases())
def test_fault_while_compacting(root, frequent_checkpoints, primitive, code, nth):
    small_segments(root)
    before = read_seqs(root)
    fault = Fault(primitive, nth, ERRNOS[code])
    with fault.installed():
        fault.arm()
        with contextlib.suppress(WeaveError):
            compact(open_table("e/p/t", root), target_bytes=1 << 20, retention_seconds=0)
        fault.free()
    assert read_seqs(root) == before
    compact(open_table("e/p/t", root), target_bytes=1 << 20, retention_seconds=0)  # carries on
    assert read_seqs(root) == before
    with StreamTable("e/p/t") as st:  # and the table stays writable
        st.log({"seq": 999, "payload": "after"})
    assert read_seqs(root) == [*before, 999]


@pytest.mark.parametrize("primitive,code,nth", [c for c in fault_cases() if c.values[2] <= 4])
def test_fault_while_vacuuming(root, primitive, code, nth):
    small_segments(root, 4)
    compact(open_table("e/p/t", root), target_bytes=1 << 20, retention_seconds=3600)
    before = read_seqs(root)
    fault = Fault(primitive, nth, ERRNOS[code])
    with fault.installed():
        fault.arm()
        with contextlib.suppress(WeaveError):
            vacuum(open_table("e/p/t", root), retention_seconds=0)
        fault.free()
    assert read_seqs(root) == before
    vacuum(open_table("e/p/t", root), retention_seconds=0)
    assert read_seqs(root) == before


def test_outage_leaves_a_bounded_number_of_orphans(root):
    """A writer retrying through a long outage reuses its segment instead of littering."""
    st = StreamTable("e/p/t", batch_interval=0.005)
    st.log({"seq": 0, "payload": "a"})
    st.flush()
    fault = Fault("link", 1, errno.ENOSPC)  # every commit fails after its segment is written
    with fault.installed():
        fault.arm()
        st.log({"seq": 1, "payload": "b"})
        for _ in range(20):
            with pytest.raises(WeaveError):
                st.flush()
        fault.free()
        st.finish()
    segments = os.listdir(root / "e/p/t/_segments")
    assert len(segments) == 2, segments  # the committed one and the reused retry
    assert read_seqs(root) == [0, 1]


def test_finish_never_returns_with_rows_missing(root):
    """The reported failure: after finish() raised, a second finish() returned and rows were gone."""
    st = StreamTable("e/p/t", batch_interval=0.01)
    fault = Fault("write", 1, errno.ENOSPC)
    with fault.installed():
        st.log({"seq": 0, "payload": "a"})
        st.flush()
        fault.arm()
        st.log([{"seq": i, "payload": "b"} for i in range(1, 51)])
        with pytest.raises(WeaveError):
            st.finish()
        with pytest.raises(WeaveError):
            st.finish()  # still failing: still raises, never a silent return
        fault.free()
        st.finish()
        st.finish()  # idempotent once done
    assert read_seqs(root) == list(range(51))


def test_failure_after_link_does_not_repeat_the_commit(root):
    """A folder fsync failing after the commit file is linked: the retry finds its batch id."""
    st = StreamTable("e/p/t", batch_interval=0.01)
    st.log({"seq": 0, "payload": "a"})
    st.flush()
    original_fsync = os.fsync
    failed = []

    def fsync_failing_on_folders(fd):
        import stat

        if stat.S_ISDIR(os.fstat(fd).st_mode) and not failed:
            failed.append(fd)
            raise OSError(errno.EIO, "injected EIO on a folder fsync")
        return original_fsync(fd)

    os.fsync = fsync_failing_on_folders
    try:
        st.log({"seq": 1, "payload": "b"})
        with pytest.raises(WeaveError):
            st.flush()
    finally:
        os.fsync = original_fsync
    st.finish()
    assert failed
    assert read_seqs(root) == [0, 1]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 3 MiB tmpfs: a real disk that fills up (skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command on this machine")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(folder: Path) -> Path:
    filler = folder / f"filler-{uuid.uuid4().hex}"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_real_full_disk(tiny_disk):
    root = tiny_disk / "data"
    st = StreamTable("e/p/t", root=root, batch_interval=0.01)
    acknowledged: list[int] = []
    log_acknowledged(st, list(range(10)), acknowledged)
    st.flush()
    try:
        filler = fill(tiny_disk)
    except OSError:
        pytest.skip("could not fill the disk")
    log_acknowledged(st, list(range(10, 400)), acknowledged)
    with pytest.raises(WeaveError, match=r"No space|ENOSPC|space"):
        st.flush()
    with pytest.raises(WeaveError):
        st.finish()
    filler.unlink()
    st.finish()
    assert read_seqs(root) == acknowledged
    assert len(acknowledged) > 10


@pytest.mark.parametrize("layout", [(), ("_log",), ("_segments",), ("_log", "_segments"), ("_log", "_log/.tmp-x")])
def test_every_partial_layout_opens_and_is_writable(root, layout):
    """What a kill -9 during creation can leave behind (the reported wedge: `_log/` without
    `_segments/`, after which every flush failed)."""
    folder = root / "e/p/t"
    folder.mkdir(parents=True)
    for part in layout:
        if part.endswith("-x"):
            (folder / part).write_bytes(b"partial")
        else:
            (folder / part).mkdir()
    if "_log" in layout:
        assert read_seqs(root) == []  # opens, empty
    with StreamTable("e/p/t") as st:
        st.log({"seq": 1, "payload": "a"})
    assert read_seqs(root) == [1]
