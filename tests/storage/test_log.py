"""The log itself: snapshots, polling, statistics, checkpoints, compaction, vacuum."""

from __future__ import annotations

import datetime as dt
import json
import os

import pyarrow as pa
import pytest

from weave_lite.errors import TableNotFoundError
from weave_lite.storage import TableLog, compact, list_tables, open_table, vacuum
from weave_lite.storage.log import CHECKPOINT_EVERY, LOG_DIR, SEGMENT_DIR
from weave_lite.storage.names import TableName
from weave_lite.storage.values import rows_to_batch


def make(root, name="e/p/t") -> TableLog:
    return TableLog(TableName.parse(name), root)


def append_rows(table: TableLog, rows: list[dict]) -> int:
    return table.append(rows_to_batch(rows))


def test_open_missing_table(root):
    with pytest.raises(TableNotFoundError):
        open_table("e/p/missing", root)


def test_snapshot_is_pinned(root):
    table = make(root)
    append_rows(table, [{"x": 1}])
    snap = table.snapshot()
    append_rows(table, [{"x": 2}])
    assert snap.to_arrow().column("x").to_pylist() == [1]
    assert table.snapshot().to_arrow().column("x").to_pylist() == [1, 2]
    assert table.snapshot(version=1).to_arrow().column("x").to_pylist() == [1]


def test_poll_and_changes_since(root):
    table = make(root)
    append_rows(table, [{"x": 1}])
    snap = table.snapshot()
    assert table.poll(snap) is None
    reader = open_table("e/p/t", root)  # another reader, as another process would
    append_rows(reader, [{"x": 2}])
    append_rows(reader, [{"x": 3}, {"x": 4}])
    newer = table.poll(snap)
    assert newer is not None and newer.version == snap.version + 2
    latest, appended = table.changes_since(snap.version)
    assert [s.rows for s in appended] == [1, 2]
    assert [s.path for s in table.since(snap.version)] == [s.path for s in appended]
    got = pa.concat_tables(latest.read(s) for s in appended)
    assert got.column("x").to_pylist() == [2, 3, 4]


def test_schema_evolution_across_segments(root):
    table = make(root)
    append_rows(table, [{"a": 1, "b": "x"}])
    append_rows(table, [{"a": 2.5, "c": [1]}])
    append_rows(table, [{"b": 7, "n": {"k": 1}}])
    snap = table.snapshot()
    assert snap.schema.field("a").type == pa.float64()
    assert pa.types.is_union(snap.schema.field("b").type)
    assert snap.to_arrow().to_pylist() == [
        {"a": 1.0, "b": "x", "c": None, "n": None},
        {"a": 2.5, "b": None, "c": [1], "n": None},
        {"a": None, "b": 7, "c": None, "n": {"k": 1}},
    ]
    assert snap.to_arrow(columns=["c"]).column_names == ["c"]


def test_statistics_recorded_per_segment(root):
    table = make(root)
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    append_rows(table, [{"v": 3, "s": "b", "t": t0, "f": float("nan")}, {"v": None, "s": "a", "t": t0, "f": 1.0}])
    seg = table.snapshot().segments[0]
    assert seg.rows == 2
    assert (seg.stats["v"].min, seg.stats["v"].max, seg.stats["v"].null_count) == (3, 3, 1)
    assert (seg.stats["s"].min, seg.stats["s"].max) == ("a", "b")
    assert seg.stats["t"].min == t0
    assert seg.stats["f"].max == 1.0  # NaN ignored
    # Statistics live in the commit: readable without opening the segment.
    entry = json.loads((table.path / LOG_DIR / "00000000000000000001.json").read_text())
    assert entry["add"][0]["stats"]["v"] == {"nulls": 1, "min": 3, "max": 3}


def test_checkpoints_bound_replay(root):
    table = make(root)
    for i in range(CHECKPOINT_EVERY + 5):
        append_rows(table, [{"i": i}])
    hint = json.loads((table.path / LOG_DIR / "_last_checkpoint").read_text())
    assert hint["version"] == CHECKPOINT_EVERY
    fresh = open_table("e/p/t", root)
    assert fresh.log.checkpoint_hint() == CHECKPOINT_EVERY
    assert fresh.snapshot().to_arrow().column("i").to_pylist() == list(range(CHECKPOINT_EVERY + 5))
    # Replay from the checkpoint must not need the old entries.
    os.unlink(table.path / LOG_DIR / "00000000000000000001.json")
    assert open_table("e/p/t", root).snapshot().num_rows == CHECKPOINT_EVERY + 5


def test_latest_version_gallops(root):
    table = make(root)
    for i in range(37):
        append_rows(table, [{"i": i}])
    assert table.log.latest_version(0) == 37
    assert table.log.latest_version(20) == 37
    assert table.log.latest_version(37) == 37


def test_compaction_keeps_results_and_order(root):
    table = make(root)
    expected = []
    for i in range(30):
        rows = [{"i": i * 10 + j, "v": (i * j) % 7 if i % 3 else str(j)} for j in range(10)]
        expected.extend(rows)
        append_rows(table, rows)
    before = table.snapshot()
    result = compact(table, target_bytes=1 << 20)
    after = table.snapshot()
    assert result.runs_merged >= 1 and len(after.segments) < len(before.segments)
    assert after.to_arrow().to_pylist() == before.to_arrow().to_pylist()
    assert [r["i"] for r in after.to_arrow().to_pylist()] == [r["i"] for r in expected]
    # The old snapshot still reads (files kept for the retention period).
    assert before.to_arrow().num_rows == 300
    # Appends after compaction land after the merged rows.
    append_rows(table, [{"i": 999}])
    assert table.snapshot().to_arrow().column("i").to_pylist()[-1] == 999
    # A second compaction merges the tail; vacuum with zero retention deletes removed files.
    compact(table, target_bytes=1 << 20, retention_seconds=0)
    live = {s.path for s in table.snapshot().segments}
    on_disk = {f"{SEGMENT_DIR}/{n}" for n in os.listdir(table.path / SEGMENT_DIR)}
    assert on_disk == live
    assert table.snapshot().num_rows == 301


def test_concurrent_compactions_do_not_duplicate(root):
    a, b = make(root), make(root)
    for i in range(10):
        append_rows(a, [{"i": i}])
    compact(a, target_bytes=1 << 20)
    compact(b, target_bytes=1 << 20)  # finds nothing left to merge, or its run is gone
    assert b.snapshot().to_arrow().column("i").to_pylist() == list(range(10))


def test_vacuum_removes_orphans_only_after_retention(root):
    table = make(root)
    append_rows(table, [{"i": 1}])
    orphan = table.path / SEGMENT_DIR / "orphan.arrow"
    orphan.write_bytes(b"partial")
    assert vacuum(table, retention_seconds=3600) == 0 and orphan.exists()
    os.utime(orphan, (0, 0))
    assert vacuum(table, retention_seconds=3600) == 1 and not orphan.exists()
    assert table.snapshot().num_rows == 1


def test_list_tables(root):
    append_rows(make(root, "e/p/one"), [{"i": 1}])
    append_rows(make(root, "e/q/two"), [{"i": 1}])
    (root / "_profiles").mkdir()
    assert [str(n) for n in list_tables(root)] == ["e/p/one", "e/q/two"]


def test_segments_are_memory_mapped(root):
    table = make(root)
    append_rows(table, [{"s": "x" * 1000} for _ in range(1000)])
    snap = table.snapshot()
    seg = table.read_segment(snap.segments[0])
    # Zero-copy: the buffers point into the mapped file, not into freshly allocated memory.
    before = pa.total_allocated_bytes()
    table._segment_cache.clear()
    seg = table.read_segment(snap.segments[0])
    assert pa.total_allocated_bytes() - before < 10_000
    assert seg.num_rows == 1000
