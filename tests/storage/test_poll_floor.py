"""The poll floor: ``TableLog.poll`` reads forward from the version it holds and builds the newer
snapshot from the new commits alone; what it returns must be exactly what opening the table
afresh gives, after appends, compaction, repair and schema changes, whoever committed them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from weave_lite.errors import CorruptTableError
from weave_lite.storage.check import check_table, repair
from weave_lite.storage.compaction import compact
from weave_lite.storage.log import CHECKPOINT_EVERY
from weave_lite.storage.segments import LazyStats, SegmentInfo
from weave_lite.storage.table import Snapshot, TableLog

NAME = "e/p/poll"
REPO = Path(__file__).resolve().parents[2]


def _batch(start: int, n: int, extra: bool = False) -> pa.Table:
    data: dict = {
        "seq": pa.array(range(start, start + n), pa.int64()),
        "ts": pa.array([1_700_000_000_000_000 + i for i in range(start, start + n)], pa.timestamp("us", tz="UTC")),
        "name": pa.array([f"n{i % 5}" for i in range(start, start + n)]),
    }
    if extra:
        data["score"] = pa.array([i / 2 for i in range(start, start + n)])
    return pa.table(data)


def _norm(stats) -> dict:
    return {k: (s.null_count, s.min, s.max) for k, s in stats.items()}


def _assert_same(polled: Snapshot, root: Path) -> None:
    """``polled`` equals the newest snapshot of a TableLog opened afresh, in every field."""
    fresh = TableLog.open(NAME, root).snapshot()
    assert polled.version == fresh.version
    assert polled.segments == fresh.segments  # paths, rows, bytes, versions, compacted
    assert polled.num_rows == fresh.num_rows
    assert polled.schema.equals(fresh.schema)
    for a, b in zip(polled.segments, fresh.segments):
        assert a.schema.equals(b.schema)
        assert (a.checksum, a.batch_rows, a.zone_rows) == (b.checksum, b.batch_rows, b.zone_rows)
        assert _norm(a.stats) == _norm(b.stats)
        assert (a.zone_stats is None) == (b.zone_stats is None)
        if a.zone_stats is not None and b.zone_stats is not None:
            assert [_norm(z) for z in a.zone_stats] == [_norm(z) for z in b.zone_stats]
    assert polled.to_arrow().equals(fresh.to_arrow())
    # The reader's cached state (tombstones too) equals a full replay of the log.
    replayed = polled.table.log.load()
    assert polled.table._state.tombstones == replayed.tombstones
    assert polled.table._state.segments == replayed.segments


@pytest.fixture
def logs(root: Path) -> tuple[TableLog, TableLog]:
    writer = TableLog(NAME, root)
    writer.create()
    for i in range(5):
        writer.append(_batch(10 * i, 10))
    reader = TableLog(NAME, root)
    return writer, reader


def test_poll_returns_exactly_the_appended_segments(root, logs):
    writer, reader = logs
    snap = reader.snapshot()
    assert reader.poll(snap) is None
    writer.append(_batch(50, 7))
    newer = reader.poll(snap)
    assert newer is not None and newer.version == snap.version + 1
    assert newer.segments[: len(snap.segments)] == snap.segments
    assert [s.rows for s in newer.segments[len(snap.segments) :]] == [7]
    assert reader.read_segment(newer.segments[-1]).column("seq").to_pylist() == list(range(50, 57))
    _assert_same(newer, root)
    for i in range(3):  # several commits between two polls
        writer.append(_batch(57 + i, 1))
    newest = reader.poll(newer)
    assert newest is not None and newest.version == newer.version + 3
    _assert_same(newest, root)
    assert reader.poll(newest) is None


def test_poll_after_compaction_and_repair(root, logs):
    writer, reader = logs
    snap = reader.snapshot()
    compact(writer, retention_seconds=3600)
    compacted = reader.poll(snap)
    assert compacted is not None and len(compacted.segments) < len(snap.segments)
    assert any(s.compacted for s in compacted.segments)
    _assert_same(compacted, root)
    assert reader._state.tombstones.keys() == {s.path for s in snap.segments} - {s.path for s in compacted.segments}

    writer.append(_batch(100, 10))
    writer.append(_batch(110, 10))
    before = reader.poll(compacted)
    assert before is not None
    damaged = before.segments[-2]
    path = writer.fs.full(damaged.path)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    checker = TableLog(NAME, root)
    repair(checker, check_table(checker))
    repaired = reader.poll(before)
    assert repaired is not None and damaged not in repaired.segments
    assert repaired.num_rows == before.num_rows - damaged.rows
    _assert_same(repaired, root)


def test_poll_after_a_schema_change(root, logs):
    writer, reader = logs
    snap = reader.snapshot()
    assert "score" not in snap.schema.names
    writer.append(_batch(50, 5, extra=True))
    newer = reader.poll(snap)
    assert newer is not None
    assert "score" in newer.schema.names and newer.schema_version != snap.schema_version
    _assert_same(newer, root)
    writer.append(_batch(55, 5, extra=True))
    same_schema = reader.poll(newer)
    assert same_schema is not None and same_schema.schema_version == newer.schema_version
    _assert_same(same_schema, root)


def test_poll_sees_commits_of_another_process(root, logs):
    _, reader = logs
    snap = reader.snapshot()
    code = (
        "import sys, pyarrow as pa\n"
        "from weave_lite.storage.table import TableLog\n"
        "log = TableLog(sys.argv[1], sys.argv[2])\n"
        "for i in range(3):\n"
        "    log.append(pa.table({'seq': pa.array(range(1000 + 10 * i, 1010 + 10 * i), pa.int64())}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", code, NAME, str(root)], check=True, env=env, timeout=120)
    newer = reader.poll(snap)
    assert newer is not None and newer.version == snap.version + 3
    assert newer.to_arrow().column("seq").to_pylist()[-30:] == list(range(1000, 1030))
    _assert_same(newer, root)


def test_polls_across_a_checkpoint_equal_a_fresh_open(root, logs):
    """Many commits, polled a few at a time and across a checkpoint, with compactions between:
    the incrementally built snapshot equals the one a fresh TableLog builds."""
    writer, reader = logs
    snap = reader.snapshot()
    seq = 1000
    while snap.version <= CHECKPOINT_EVERY + 5:
        for _ in range(7):
            writer.append(_batch(seq, 3))
            seq += 3
        if snap.version % 3 == 0:
            compact(writer, retention_seconds=3600)
        newer = reader.poll(snap)
        assert newer is not None
        snap = newer
    _assert_same(snap, root)


def test_a_poll_reads_forward_without_probing(root, logs, monkeypatch):
    """One new commit: two reads (the commit, and the next version found missing) and no
    ``stat``; nothing new: one read that finds no file."""
    writer, reader = logs
    snap = reader.snapshot()
    calls: list[tuple[str, str]] = []
    fs = reader.fs
    real_read, real_exists = fs.read_bytes, fs.exists
    monkeypatch.setattr(fs, "read_bytes", lambda rel: calls.append(("read", rel)) or real_read(rel))
    monkeypatch.setattr(fs, "exists", lambda rel: calls.append(("exists", rel)) or real_exists(rel))
    assert reader.poll(snap) is None
    assert [c[0] for c in calls] == ["read"]
    calls.clear()
    writer.append(_batch(50, 1))
    newer = reader.poll(snap)
    assert newer is not None
    assert [c[0] for c in calls] == ["read", "read"]
    assert calls[0][1].endswith(f"{snap.version + 1:020d}.json")


def test_statistics_from_the_log_decode_lazily_and_report_damage():
    schema = pa.schema([("ts", pa.timestamp("us", tz="UTC")), ("n", pa.int64())])
    info = SegmentInfo(
        "_segments/" + "a" * 32 + ".arrow",
        2,
        10,
        schema,
        {"ts": _stats_of(0, 5), "n": _stats_of(1, 9)},
    )
    record = info.to_json()
    decoded = SegmentInfo.from_json(record, 3)
    assert isinstance(decoded.stats, LazyStats) and decoded.stats._decoded is None
    assert decoded.to_json() == record  # re-encoded without decoding
    assert _norm(decoded.stats) == _norm(info.stats)
    bad = dict(record, stats={"ts": {"nulls": 0, "min": "not a number", "max": 1}})
    with pytest.raises(CorruptTableError, match="statistics"):
        SegmentInfo.from_json(bad, 3).stats.get("ts")
    with pytest.raises(ValueError):  # the record's shape is checked when the commit is read
        SegmentInfo.from_json(dict(record, stats={"ts": {"nulls": 0}}), 3)


def _stats_of(lo: int, hi: int):
    import datetime as dt

    from weave_lite.storage.segments import ColumnStats

    if lo == 0:
        base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        return ColumnStats(0, base, base + dt.timedelta(seconds=hi))
    return ColumnStats(0, lo, hi)
