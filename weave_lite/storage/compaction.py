"""Compaction (merge small segments) and vacuum (delete files nothing needs any more).

Compaction picks runs of *contiguous* small live segments, writes each run as one segment
(conformed to the run's unified schema, rows in the same order) and commits a replace entry.
Because the run is contiguous and appends only add at the end, the table's row order, and so
every query's result, is unchanged.  Writers are never blocked (appends do not conflict with a
replace) and neither are readers (a snapshot keeps naming the old files, which vacuum deletes
only after ``retention_seconds``).  A kill -9 at any point leaves either the old segments live
or the new one, never both; an unfinished merged file is an orphan that vacuum removes.

The same code runs on an object store: the merged segment is a plain PUT, the replace entry a
conditional PUT (read back on 412, so that a lost answer is never taken for a conflict), and
vacuum deletes a file no commit names only once it is older than the store's grace period
(``fs.orphan_grace_seconds``: 1 h on an object store, far longer than the slowest commit).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from weave_lite.errors import ConflictError, StorageError
from weave_lite.storage.dataset import EXPORT_DIR
from weave_lite.storage.log import LOG_DIR, SEGMENT_DIR, LogState
from weave_lite.storage.segments import ZONE_ROWS, SegmentInfo, compute_segment_stats
from weave_lite.storage.table import TableLog, conform_table
from weave_lite.storage.values import unify_schemas

DEFAULT_TARGET_BYTES = 128 * 1024 * 1024
DEFAULT_RETENTION_SECONDS = 3600.0
# A segment file no commit names may belong to a writer about to commit it: never delete one
# younger than this, whatever the retention asked for.
ORPHAN_MIN_AGE_SECONDS = 300.0


@dataclass
class CompactionResult:
    """What one ``compact`` call did."""

    runs_merged: int = 0
    segments_before: int = 0
    segments_after: int = 0
    files_deleted: int = 0


def plan_runs(segments: list[SegmentInfo], target_bytes: int) -> list[list[SegmentInfo]]:
    """Contiguous runs of small segments, each of at most ``target_bytes`` and >= 2 segments."""
    runs: list[list[SegmentInfo]] = []
    current: list[SegmentInfo] = []
    size = 0
    for seg in segments:
        small = seg.bytes < target_bytes // 2
        if small and size + seg.bytes <= target_bytes:
            current.append(seg)
            size += seg.bytes
            continue
        if len(current) >= 2:
            runs.append(current)
        current, size = ([seg], seg.bytes) if small else ([], 0)
    if len(current) >= 2:
        runs.append(current)
    return runs


def compact(
    table: TableLog,
    *,
    target_bytes: int = DEFAULT_TARGET_BYTES,
    retention_seconds: float = DEFAULT_RETENTION_SECONDS,
    progress: Callable[[int, int], None] | None = None,
) -> CompactionResult:
    """Merge small segments of ``table``; then vacuum files older than the retention period.

    A failure (a full disk, an I/O error) raises :class:`StorageError`; the table is unchanged
    or compacted in part, never damaged, and a later call carries on.
    """
    try:
        return _compact(table, target_bytes, retention_seconds, progress)
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(f"could not compact `{table.name}`: {exc}") from exc


def _compact(table: TableLog, target_bytes: int, retention_seconds: float, progress) -> CompactionResult:
    state = table.refresh()
    result = CompactionResult(segments_before=len(state.segments))
    runs = plan_runs(state.segments, target_bytes)
    for i, run in enumerate(runs):
        if _merge_run(table, run):
            result.runs_merged += 1
        if progress is not None:
            progress(i + 1, len(runs))
    result.files_deleted = vacuum(table, retention_seconds)
    result.segments_after = len(table.refresh().segments)
    return result


def _merge_run(table: TableLog, run: list[SegmentInfo]) -> bool:
    schema = unify_schemas(s.schema for s in run)
    parts = [conform_table(table.read_segment(s), schema) for s in run]
    merged = pa.concat_tables(parts).combine_chunks()
    batches = merged.to_batches(max_chunksize=65_536)
    rel = f"{SEGMENT_DIR}/{uuid.uuid4().hex}.arrow"
    size, checksum = table.fs.write_segment(rel, batches, schema)
    stats, zones = compute_segment_stats(merged)
    info = SegmentInfo(
        rel,
        merged.num_rows,
        size,
        schema,
        stats,
        compacted=True,
        checksum=checksum,
        batch_rows=tuple(b.num_rows for b in batches),
        zone_rows=ZONE_ROWS if zones else None,
        zone_stats=zones,
    )
    removed = [s.path for s in run]
    entry = {"op": "compact", "add": [info.to_json()], "remove": removed}

    def check(before: LogState) -> None:
        live = [s.path for s in before.segments]
        try:
            start = live.index(removed[0])
        except ValueError:
            raise ConflictError("segments already compacted") from None
        if live[start : start + len(removed)] != removed:
            raise ConflictError("segments already compacted")

    try:
        state = table.refresh()
        table.log.commit(entry, known=state.version, check=check, base=state)
    except ConflictError:
        table.fs.delete(rel)  # never named by a commit
        return False
    # On any other failure the merged file stays: the commit may have landed. If it did not,
    # the file is an orphan that vacuum removes; a retry re-plans from the log either way.
    return True


def vacuum(table: TableLog, retention_seconds: float = DEFAULT_RETENTION_SECONDS) -> int:
    """Delete segment files removed (or never committed) more than ``retention_seconds`` ago."""
    try:
        return _vacuum(table, retention_seconds)
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(f"could not vacuum `{table.name}`: {exc}") from exc


def _vacuum(table: TableLog, retention_seconds: float) -> int:
    state = table.refresh()
    now = time.time()
    cutoff = now - retention_seconds
    grace = max(ORPHAN_MIN_AGE_SECONDS, getattr(table.fs, "orphan_grace_seconds", ORPHAN_MIN_AGE_SECONDS))
    orphan_cutoff = now - max(retention_seconds, grace)
    live = state.live_paths()
    deleted = 0
    for name in table.fs.list_dir(SEGMENT_DIR):
        rel = f"{SEGMENT_DIR}/{name}"
        if rel in live:
            continue
        removed_at = state.tombstones.get(rel)
        try:
            if removed_at is not None:
                old = removed_at / 1e6 < cutoff
            else:
                old = table.fs.mtime(rel) < orphan_cutoff
        except FileNotFoundError:
            continue
        if old:
            table.fs.delete(rel)
            deleted += 1
    # Export files (storage/dataset.py) of segments no longer live.
    live_names = {p.rsplit("/", 1)[-1][:-6] for p in live}
    for name in table.fs.list_dir(EXPORT_DIR):
        if name.split("-", 1)[0] in live_names:
            continue
        rel = f"{EXPORT_DIR}/{name}"
        try:
            if table.fs.mtime(rel) < cutoff:
                table.fs.delete(rel)
        except FileNotFoundError:
            pass
    # Temp files of commits whose writer died between write and link (local disks only: an
    # object store has none, and listing its log would cost a LIST per 1,000 commits).
    for name in table.fs.list_dir(LOG_DIR) if getattr(table.fs, "is_local", True) else ():
        if name.startswith(".tmp-"):
            rel = f"{LOG_DIR}/{name}"
            try:
                if table.fs.mtime(rel) < orphan_cutoff:
                    table.fs.delete(rel)
            except FileNotFoundError:
                pass
    return deleted
