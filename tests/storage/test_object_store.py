"""The log on an object store: s3:// roots against moto's server on loopback, and an in-process
fake S3 (tests/storage/fake_s3.py) that injects lost answers, 409s, 412s, 5xx and timeouts at
every request of a commit."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pytest

from weave_lite.errors import BackgroundWriterError, InvalidNameError, StorageError, WeaveError
from weave_lite.storage import ObjectRoot, TableLog, compact, data_root, list_tables, object_root, open_table
from weave_lite.storage.check import check_table
from weave_lite.storage.names import TableName

boto3 = pytest.importorskip("boto3")
from tests.storage.fake_s3 import KINDS, FakeS3  # noqa: E402  (needs botocore)

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_child.py")


# -- roots ------------------------------------------------------------------------------------


def test_uri_roots_parse(tmp_path):
    assert data_root("s3://bkt/a/b") == ObjectRoot("s3", "bkt", "a/b")
    assert str(data_root("gs://bkt/x/")) == "gs://bkt/x"
    assert data_root(f"file://{tmp_path}") == tmp_path
    assert data_root(f"file://localhost{tmp_path}") == tmp_path
    assert data_root(str(tmp_path)) == tmp_path  # a local root stays a Path
    assert isinstance(data_root(tmp_path), Path)
    assert str(TableName("e", "p", "t").path(data_root("s3://bkt/pre"))) == "s3://bkt/pre/e/p/t"


@pytest.mark.parametrize("bad", ["foo://x/y", "http://host/p", "https://h/p", "s3:/bkt/p", "s3://", "s3:///p", "s3://bkt/../x", "s3://bkt/p?endpoint=x", "file://otherhost/p"])
def test_unknown_or_bad_uri_raises_and_creates_nothing(bad, tmp_path, monkeypatch):
    from weave_lite import StreamTable

    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidNameError) as info:
        data_root(bad)
    assert isinstance(info.value, ValueError) and isinstance(info.value, WeaveError)
    with pytest.raises(ValueError):
        StreamTable("e/p/t", root=bad)
    with pytest.raises(ValueError):
        TableLog(TableName.parse("e/p/t"), bad)
    monkeypatch.setenv("WEAVE_LITE_ROOT", bad)
    with pytest.raises(ValueError):
        data_root()
    assert list(tmp_path.iterdir()) == []  # no folder named "foo:" or "s3:"


def test_filesystem_roots():
    import pyarrow.fs as pafs

    local = pafs.SubTreeFileSystem("/tmp/x", pafs.LocalFileSystem())
    assert data_root(local) == Path("/tmp/x")
    with pytest.raises(InvalidNameError):
        data_root(pafs.LocalFileSystem())


# -- the fake store: faults at every request of a commit --------------------------------------


def fake_log(fake: FakeS3, name: str = "e/p/t", attempts: int = 4) -> TableLog:
    log = TableLog(name, ObjectRoot("s3", fake.bucket, "pre", client=fake))
    log.fs.attempts = attempts
    return log


def rows(writer: str, start: int, n: int) -> pa.Table:
    return pa.table({"writer": [writer] * n, "seq": list(range(start, start + n))})


def by_writer(table: pa.Table) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    if table.num_rows:
        for w, s in zip(table.column("writer").to_pylist(), table.column("seq").to_pylist()):
            out[w].append(s)
    return out


def commit_until_done(log: TableLog, pending, tries: int = 50) -> int:
    for _ in range(tries):
        try:
            return log.commit_append(pending)
        except StorageError:
            continue
    raise AssertionError("the commit never landed")


@pytest.fixture
def small_checkpoints(monkeypatch):
    """A checkpoint (and hint) every 3 versions, so their PUTs are among the faulted requests."""
    import weave_lite.storage.log as log_module

    monkeypatch.setattr(log_module, "CHECKPOINT_EVERY", 3)


@pytest.mark.filterwarnings("ignore::weave_lite.errors.CorruptHintWarning")
@pytest.mark.parametrize("attempts", [1, 4], ids=["raised-to-caller", "retried-inside"])
@pytest.mark.parametrize("kind", KINDS)
def test_fault_at_every_request_of_a_commit(kind, attempts, small_checkpoints):
    fake = FakeS3()
    log = fake_log(fake, attempts=attempts)
    other = fake_log(fake)  # a concurrent writer: steals the version our commit is about to take
    other_seq = [0]

    def steal():
        other.append(rows("other", other_seq[0], 2))
        other_seq[0] += 2

    fake.stealer = steal
    seq = 0
    # Clean commits first, to count the requests one commit makes (then some margin).
    clean = 0
    for _ in range(3):
        before = fake.requests
        log.append(rows("me", seq, 3))
        seq += 3
        clean = max(clean, fake.requests - before)
    per_commit = clean + 4
    for position in range(1, per_commit + 1):
        for phase in range(3):  # each position in a commit with and without a checkpoint
            pending = log.prepare_append(rows("me", seq, 3), f"me-{position}-{phase}")
            fake.faults[fake.requests + position] = kind
            commit_until_done(log, pending)
            seq += 3
            fake.faults.clear()
            # Retrying an already committed append is a no-op.
            assert log.commit_append(pending) == pending.version
    assert fake.injected.get(kind, 0) >= clean, fake.injected
    for reader in (log, fake_log(fake)):  # the writer's view, and a fresh reader's
        got = by_writer(reader.snapshot().to_arrow())
        assert got["me"] == list(range(seq)), f"{kind}: rows of ours lost or duplicated"
        assert got.get("other", []) == list(range(other_seq[0]))
    report = check_table(fake_log(fake))
    assert report.ok, report.lines()


@pytest.mark.filterwarnings("ignore::weave_lite.errors.CorruptHintWarning")
def test_compaction_under_faults_never_deletes_a_live_segment(small_checkpoints):
    """A lost answer to a compaction's commit must not be taken for a conflict (which deletes
    the merged file): the commit is read back by its batch id."""
    fake = FakeS3()
    log = fake_log(fake)
    for i in range(6):
        log.append(rows("me", 3 * i, 3))
    compacted = 0
    for position in range(1, 40):
        for kind in ("lost", "landed-412", "timeout", "409"):
            fake.faults[fake.requests + position] = kind
            with contextlib.suppress(StorageError):
                compact(log, target_bytes=1 << 20, retention_seconds=3600)
            fake.faults.clear()
            log.append(rows("me", 18 + 3 * compacted, 3))  # keep something to compact
            compacted += 1
    fresh = fake_log(fake)
    assert by_writer(fresh.snapshot().to_arrow())["me"] == list(range(18 + 3 * compacted))
    assert check_table(fresh).ok


@pytest.mark.filterwarnings("ignore::weave_lite.errors.CorruptHintWarning")
def test_stream_table_with_random_faults_and_a_concurrent_writer(small_checkpoints):
    """StreamTable on a store that fails 30% of requests (lost answers, 409s, 412s by a
    concurrent writer, 5xx, timeouts); flushes retried until they succeed."""
    from weave_lite import StreamTable

    fake = FakeS3(seed=7)
    root = ObjectRoot("s3", fake.bucket, "pre", client=fake)
    st = StreamTable("e/p/t", root=root, batch_interval=0.002, batch_rows=50)
    st._table.fs.attempts = 1  # surface every fault to the background writer
    other = fake_log(fake)
    other_seq = [0]

    def steal():
        other.append(rows("other", other_seq[0], 1))
        other_seq[0] += 1

    fake.stealer = steal
    fake.fault_kinds = KINDS
    fake.fault_rate = 0.3

    def retry(fn, *args):
        deadline = time.monotonic() + 60
        while True:
            try:
                return fn(*args)
            except (BackgroundWriterError, StorageError):
                assert time.monotonic() < deadline, "no progress under faults"
                time.sleep(0.005)

    n = 0
    for _round in range(30):
        for _ in range(8):
            retry(st.log, {"writer": "me", "seq": n})
            n += 1
        retry(st.log, [{"writer": "me", "seq": n + k} for k in range(5)])
        n += 5
        retry(st.flush)
    fake.fault_rate = 0.0
    retry(st.finish)
    assert sum(fake.injected.values()) > 30 and len(fake.injected) == len(KINDS), fake.injected
    got = by_writer(fake_log(fake).snapshot().to_arrow())
    assert got["me"] == list(range(n))
    assert got.get("other", []) == list(range(other_seq[0]))
    assert check_table(fake_log(fake)).ok


def test_vacuum_keeps_young_orphans_and_stale_pending_segments_are_rewritten():
    fake = FakeS3()
    log = fake_log(fake)
    log.append(rows("me", 0, 2))
    assert log.fs.orphan_grace_seconds >= 3600
    young = "pre/e/p/t/_segments/" + "a" * 32 + ".arrow"
    old = "pre/e/p/t/_segments/" + "b" * 32 + ".arrow"
    fake.objects[young] = fake.objects[old] = (b"orphan", fake.objects[next(iter(fake.objects))][1])
    fake.age(old, 2 * 3600)
    compact(log, retention_seconds=0)
    assert young in fake.objects and old not in fake.objects
    # A pending append holding a segment older than the reuse limit writes it anew.
    pending = log.prepare_append(rows("me", 2, 2), "late")
    pending.segment = log._write_segment(pending.batch)
    pending.written_at = time.monotonic() - log.fs.segment_reuse_seconds - 1
    first = pending.segment.path
    log.commit_append(pending)
    assert pending.segment.path != first
    assert by_writer(log.snapshot().to_arrow())["me"] == [0, 1, 2, 3]


def test_object_listing_pages_and_list_tables():
    fake = FakeS3(page_size=2)
    for i in range(5):
        fake_log(fake, f"e{i % 2}/p/t{i}").append(rows("me", 0, 1))
    root = ObjectRoot("s3", fake.bucket, "pre", client=fake)
    assert [str(t) for t in list_tables(root)] == ["e0/p/t0", "e0/p/t2", "e0/p/t4", "e1/p/t1", "e1/p/t3"]
    log = fake_log(fake, "e0/p/t0")
    for i in range(6):
        log.append(rows("me", i + 1, 1))
    assert len(log.fs.list_dir("_segments")) == 7
    assert open_table("e0/p/t0", root).snapshot().num_rows == 7
    with pytest.raises(WeaveError):
        open_table("e9/p/none", root)


class _GCSError(Exception):
    def __init__(self, code: int):
        super().__init__(f"HTTP {code}")
        self.code = code


class _FakeBlob:
    def __init__(self, store: dict, name: str):
        self.store, self.name = store, name

    @property
    def size(self) -> int:
        return len(self.store[self.name][0])

    @property
    def updated(self):
        return self.store[self.name][1]

    def download_as_bytes(self) -> bytes:
        if self.name not in self.store:
            raise _GCSError(404)
        return self.store[self.name][0]

    def upload_from_string(self, data, content_type=None, if_generation_match=None):
        import datetime as dt

        if if_generation_match == 0 and self.name in self.store:
            raise _GCSError(412)
        self.store[self.name] = (bytes(data), dt.datetime.now(dt.UTC))

    def delete(self):
        if self.name not in self.store:
            raise _GCSError(404)
        del self.store[self.name]


class _FakeBucket:
    def __init__(self, store: dict):
        self.store = store

    def blob(self, name: str) -> _FakeBlob:
        return _FakeBlob(self.store, name)

    def get_blob(self, name: str):
        return _FakeBlob(self.store, name) if name in self.store else None


class _Listing:
    def __init__(self, blobs, prefixes):
        self._blobs, self.prefixes = blobs, prefixes

    def __iter__(self):
        return iter(self._blobs)


class FakeGCS:
    """The google-cloud-storage calls GCSObjects makes (errors carry ``code`` like
    google.api_core's)."""

    def __init__(self):
        self.store: dict = {}

    def bucket(self, name: str) -> _FakeBucket:
        return _FakeBucket(self.store)

    def list_blobs(self, bucket, prefix="", delimiter=None, max_results=None):
        blobs, prefixes = [], set()
        for name in sorted(self.store):
            if name.startswith(prefix):
                rest = name[len(prefix) :]
                if delimiter and delimiter in rest:
                    prefixes.add(prefix + rest.split(delimiter, 1)[0] + delimiter)
                else:
                    blobs.append(_FakeBlob(self.store, name))
        return _Listing(blobs[:max_results] if max_results else blobs, prefixes)


def test_gcs_roots_use_create_only_uploads():
    gcs = FakeGCS()
    root = ObjectRoot("gs", "bkt", "pre", client=gcs)
    a, b = TableLog("e/p/t", root), TableLog("e/p/t", root)
    a.append(rows("a", 0, 2))
    b.append(rows("b", 0, 2))  # a second writer of the same table
    a.append(rows("a", 2, 2))
    assert list_tables(root) == [TableName("e", "p", "t")]
    got = by_writer(open_table("e/p/t", root).snapshot().to_arrow())
    assert got == {"a": [0, 1, 2, 3], "b": [0, 1]}
    assert b.fs.put_if_absent("_log/00000000000000000001.json", b"{}") is False
    assert check_table(open_table("e/p/t", root)).ok


# -- moto's S3 server on loopback -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint():
    server_mod = pytest.importorskip("moto.server")
    import moto.s3.responses as responses

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # S3 creates objects atomically; moto checks If-None-Match and then writes without a lock.
    # Serialise its PutObject so that the server is the S3 the protocol relies on (the fake
    # store above tests the races moto cannot).
    original = responses.S3Response.put_object
    lock = threading.Lock()

    def put_object(self):
        with lock:
            return original(self)

    responses.S3Response.put_object = put_object
    port = _free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        responses.S3Response.put_object = original


@pytest.fixture
def s3_root(moto_endpoint, monkeypatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    bucket = f"wl-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=bucket)
    return f"s3://{bucket}/data"


def spawn(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_s3_log_flush_read_round_trip(s3_root, tmp_path, monkeypatch):
    import weave_lite
    from weave_lite import StreamTable, evaluate

    monkeypatch.chdir(tmp_path)
    with StreamTable("e/p/t", root=s3_root) as st:
        for i in range(30):
            st.log({"i": i, "s": f"row{i}", "f": i / 3})
        st.flush()
        st.log([{"i": 30 + k, "s": "bulk", "f": 0.5} for k in range(20)])
    assert st.to_arrow().column("i").to_pylist() == list(range(50))
    log = open_table("e/p/t", s3_root)
    assert isinstance(log.root, ObjectRoot) and str(log.path) == f"{s3_root}/e/p/t"
    assert log.snapshot().num_rows == 50
    assert list_tables(s3_root) == [TableName("e", "p", "t")]
    assert evaluate('stream_table("e/p/t").rows.count', root=s3_root) == 50
    assert evaluate('stream_table("e/p/t").rows["i"].sum', root=s3_root) == sum(range(50))
    assert weave_lite.dataset("e/p/t", root=s3_root).to_table().num_rows == 50
    # A mixed-kind column is served to other engines from an export file uploaded beside the log.
    with StreamTable("e/p/mixed", root=s3_root) as mixed:
        mixed.log({"u": 1})
        mixed.flush()
        mixed.log({"u": "a"})
    with StreamTable("e/p/mixed", root=tmp_path / "local") as local:  # the same on a local disk
        local.log({"u": 1})
        local.flush()
        local.log({"u": "a"})
    exported = weave_lite.dataset("e/p/mixed", root=s3_root).to_table()
    assert exported.num_rows == 2
    on_disk = weave_lite.dataset("e/p/mixed", root=tmp_path / "local").to_table()
    assert exported.column("u").to_pylist() == on_disk.column("u").to_pylist()
    # A live reader polls with one HEAD.
    snap = log.snapshot()
    assert log.poll(snap) is None
    TableLog("e/p/t", s3_root).append(pa.table({"i": [99]}))
    newer = log.poll(snap)
    assert newer is not None and newer.num_rows == 51
    # check and compaction work on S3 and change nothing.
    assert check_table(log).ok
    before = log.snapshot().to_arrow()
    result = compact(log, target_bytes=1 << 20)
    assert result.runs_merged >= 1 and result.segments_after == 1
    assert log.snapshot().to_arrow().equals(before)
    assert check_table(open_table("e/p/t", s3_root)).ok
    # A passed pyarrow filesystem works as well (and carries the endpoint to the commit client).
    import pyarrow.fs as pafs

    fs = pafs.S3FileSystem(endpoint_override=os.environ["AWS_ENDPOINT_URL"], access_key="testing", secret_key="testing", region="us-east-1")
    bucket_prefix = s3_root[len("s3://") :]
    for root in (object_root(s3_root, filesystem=fs), pafs.SubTreeFileSystem(bucket_prefix, fs)):
        assert open_table("e/p/t", root).snapshot().num_rows == 51
    assert [p.name for p in tmp_path.iterdir()] == ["local"]  # nothing else local


def test_several_writer_processes_on_one_s3_table(s3_root):
    procs, threads, per_thread = 4, 2, 150
    children = [spawn("many", s3_root, "e/p/many", f"p{i}", str(threads), str(per_thread)) for i in range(procs)]
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0 and "done" in out, err[-2000:]
    table = open_table("e/p/many", s3_root).snapshot().to_arrow()
    assert table.num_rows == procs * threads * per_thread
    seqs: dict = defaultdict(list)
    for p, t, s in zip(table.column("proc").to_pylist(), table.column("thread").to_pylist(), table.column("seq").to_pylist()):
        seqs[(p, t)].append(s)
    assert len(seqs) == procs * threads
    for key, got in seqs.items():
        assert got == list(range(per_thread)), f"{key}: rows out of order, lost or duplicated"


def _flushed_prefix_ok(root: str, table: str, flushed: dict[str, int]) -> pa.Table:
    data = open_table(table, root).snapshot().to_arrow()  # opens without repair
    seqs = by_writer(data)
    for writer, done in flushed.items():
        got = seqs.get(writer, [])
        assert got == list(range(len(got))), f"{writer}: rows not a gap-free prefix in order"
        assert len(got) >= done, f"{writer}: lost flushed rows ({len(got)} < {done})"
    if data.num_rows:
        assert data.column("payload").null_count == 0
    return data


def _run_and_kill(root: str, table: str, tag: str, seconds: float, *extra: str) -> int:
    child = spawn("log", root, table, tag, *extra)
    assert child.stdout.readline().strip() == "ready", child.stderr.read()[-2000:]
    time.sleep(seconds)
    os.kill(child.pid, signal.SIGKILL)
    out, err = child.communicate()
    assert child.returncode == -signal.SIGKILL, err[-2000:]
    last = [int(line.split()[1]) for line in out.splitlines() if line.startswith("flushed ")]
    return last[-1] if last else 0


def test_kill_9_of_an_s3_writer(s3_root):
    flushed: dict[str, int] = {}
    for i, seconds in enumerate((2.5, 1.0, 3.0)):
        tag = f"w{i}"
        flushed[tag] = _run_and_kill(s3_root, "e/p/crash", tag, seconds, *(["--compact"] if i == 2 else []))
        _flushed_prefix_ok(s3_root, "e/p/crash", flushed)
    assert sum(flushed.values()) > 0
    assert check_table(open_table("e/p/crash", s3_root)).ok


def test_compaction_on_s3_while_a_writer_appends(s3_root):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen(
        [sys.executable, __file__, "log", s3_root, "e/p/busy", "w", "0.05"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert child.stdout.readline().strip() == "ready", child.stderr.read()[-2000:]
    deadline = time.monotonic() + 60
    while not TableLog("e/p/busy", s3_root).exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    log = open_table("e/p/busy", s3_root)
    merged = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            time.sleep(1.0)
            merged += compact(log, target_bytes=64 * 1024, retention_seconds=0).runs_merged
    os.kill(child.pid, signal.SIGKILL)
    out, _ = child.communicate()
    last = [int(line.split()[1]) for line in out.splitlines() if line.startswith("flushed ")]
    data = _flushed_prefix_ok(s3_root, "e/p/busy", {"w": last[-1] if last else 0})
    assert merged >= 1
    fresh = open_table("e/p/busy", s3_root)
    ops = [fresh.log.read_entry(v)["op"] for v in range(1, fresh.snapshot().version + 1)]
    assert "compact" in ops and ops.count("append") >= 2
    assert fresh.snapshot().to_arrow().equals(data)
    assert check_table(fresh).ok


def _child_log(root: str, table: str, tag: str, interval: float) -> None:
    """Child process: log rows (``writer``, ``seq``, ``payload``) until killed, printing
    ``flushed N`` after each flush."""
    import random

    from weave_lite import StreamTable

    st = StreamTable(table, root=root, batch_interval=interval, batch_rows=500)
    rng = random.Random(tag)
    seq = 0
    print("ready", flush=True)
    while True:
        n = rng.choice([1, 1, 1, 7, 50])
        batch = [{"writer": tag, "seq": seq + k, "payload": "x" * rng.randint(0, 40)} for k in range(n)]
        st.log(batch if n > 1 else batch[0])
        seq += n
        time.sleep(0.001)
        if rng.random() < 0.05:
            st.flush()
            print(f"flushed {seq}", flush=True)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "log":
        _child_log(args[0], args[1], args[2], float(args[3]))
