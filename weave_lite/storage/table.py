"""A table on disk: appends, snapshots, polling.

This is the storage layer's whole surface for the rest of weave_lite:

* :meth:`TableLog.append` writes one immutable segment and commits it;
* :meth:`TableLog.snapshot` pins a version; a :class:`Snapshot` lists its segments (with
  statistics), knows the table's unified schema, and reads segments as memory-mapped Arrow;
* :meth:`TableLog.poll` / :meth:`TableLog.changes_since` tell a live reader, with one ``stat``
  when nothing changed, which segments were appended after the version it holds.

The root is a local folder or an object store URI (``s3://bucket/prefix``, ``gs://...``; see
:mod:`weave_lite.storage.names`): :func:`~weave_lite.storage.filesystem.open_filesystem` picks
the I/O implementation, and everything above it is the same code.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from weave_lite.errors import StorageError, TableNotFoundError
from weave_lite.storage.dataset import snapshot_batches, snapshot_dataset
from weave_lite.storage.filesystem import open_filesystem
from weave_lite.storage.log import LOG_DIR, SEGMENT_DIR, CommitLog, LogState
from weave_lite.storage.names import NAME_PART, ObjectRoot, TableName, data_root
from weave_lite.storage.scan_cache import ScanCache, scan_key
from weave_lite.storage.segments import ZONE_ROWS, SegmentInfo, compute_segment_stats, may_match
from weave_lite.storage.values import conform, unify_schemas
from weave_lite.threads import map_in_order

# Segments of at least this many rows compute their statistics while they are written.
PARALLEL_STATS_ROWS = 200_000

if TYPE_CHECKING:  # pyarrow.dataset (with pandas, ~0.2 s) is imported where a dataset is made
    import pyarrow.dataset as ds


class TableLog:
    """One table's append-only columnar log under ``<root>/<entity>/<project>/<table>/``.

    ``root`` is a local folder or an object store URI (``s3://bucket/prefix``); ``name`` a
    :class:`TableName` or its text (``"e/p/t"``).  Safe to share between threads; any number
    of processes (on any number of machines, for an object store) may open the same table.
    """

    def __init__(self, name: TableName | str, root: str | os.PathLike | ObjectRoot | None = None):
        self.name = name if isinstance(name, TableName) else TableName.parse(name)
        self.root = data_root(root)
        self.path = self.name.path(self.root)
        self.fs = open_filesystem(self.path)
        self.log = CommitLog(self.fs)
        # Refreshes read the commits after the cached version until one is missing (a failed
        # open costs what a stat does locally; on an object store the gallop of HEADs and
        # parallel GETs is cheaper far behind).
        self._read_forward = bool(getattr(self.fs, "is_local", True))
        self._lock = threading.Lock()
        self._state = LogState()
        self._segment_cache: OrderedDict[str, pa.Table] = OrderedDict()
        # Bytes held by the caches, bounded when segments are held in memory (object stores).
        self._cache_limit: int | None = getattr(self.fs, "segment_cache_bytes", None)
        self._cache_sizes: dict[str, int] = {}
        self._conformed_sizes: dict[str, int] = {}
        # Segments already conformed to a schema: path -> (schema, table).  Live queries and
        # dashboards read the same segments again and again under the same schema.
        self._conformed: OrderedDict[str, tuple[pa.Schema, pa.Table]] = OrderedDict()
        # The unified schema of the cached state, and a counter bumped whenever it changes
        # (plans are cached per schema version, not per commit).
        self._schema: pa.Schema = pa.schema([])
        self.schema_version = 0
        # Scans' tables (zones checked, segments joined) by segments, predicates and columns;
        # only over memory-mapped local segments (an object store's are bounded by bytes).
        self.scans = ScanCache()

    @classmethod
    def open(cls, name: str | TableName, root: str | os.PathLike | None = None) -> TableLog:
        """Open an existing table; :class:`TableNotFoundError` when there is none."""
        table_name = name if isinstance(name, TableName) else TableName.parse(name)
        log = cls(table_name, root)
        if not log.exists():
            raise TableNotFoundError(f"no table `{table_name}` under {log.root}")
        log.refresh()  # reads (and so validates) the log: damage is reported here, by name
        return log

    def exists(self) -> bool:
        return self.log.exists()

    def create(self) -> None:
        """Create the table's folders (idempotent, and completes an interrupted creation);
        an empty table is a valid table."""
        try:
            self.log.create()
        except OSError as exc:
            raise StorageError(f"could not create table `{self.name}` in {self.path}: {exc}") from exc

    # -- writing -------------------------------------------------------------------------------

    def append(self, batch: pa.RecordBatch | pa.Table, batch_id: str | None = None) -> int:
        """Write ``batch`` as one new segment and commit it; return the commit version.

        One try; to retry after a failure without ever committing the rows twice, use
        :meth:`prepare_append` and call :meth:`commit_append` again with the same object.
        """
        return self.commit_append(self.prepare_append(batch, batch_id or uuid.uuid4().hex))

    def prepare_append(
        self, batch: pa.RecordBatch | pa.Table, batch_id: str, constants: dict[str, Any] | None = None
    ) -> PendingAppend:
        """An append of ``batch`` under ``batch_id`` (unique per writer and batch), not yet done.

        ``constants``: columns the caller guarantees hold one non-null value in every row (a
        writer's own ``_client_id``); their statistics are taken from it, not computed."""
        return PendingAppend(batch, batch_id, constants=constants)

    def commit_append(self, pending: PendingAppend) -> int:
        """Make ``pending`` durable and committed exactly once; safe to call again after any
        failure (the segment already written is reused, and a commit that landed although
        the call failed is found by its batch id)."""
        try:
            if pending.version is not None:
                return pending.version
            if pending.segment is not None and time.monotonic() - pending.written_at > self.fs.segment_reuse_seconds:
                # Too old to commit: vacuum may soon take it for an orphan. Write it anew (a
                # try that named the old file and landed is still found by its batch id).
                pending.segment = None
            if pending.segment is None or not self.fs.exists(pending.segment.path):
                pending.segment = self._write_segment(pending.batch, pending.constants)
                pending.written_at = time.monotonic()
            if pending.attempted_after is not None:
                landed = self.log.find_batch(pending.batch_id, pending.attempted_after)
                if landed is not None:
                    self.fs.fsync_folder(LOG_DIR)  # its first try may have failed before this
                    pending.version = landed
                    return landed
            # Refreshing validates every commit since the last one this object read: a writer
            # never commits on top of a log it cannot read.
            state = self.refresh()
            if pending.attempted_after is None:
                pending.attempted_after = state.version
            entry = {"op": "append", "add": [pending.segment.to_json()]}
            pending.version = self.log.commit(
                entry, known=state.version, batch_id=pending.batch_id, base=state, assume_latest=True
            )
            self._advance(state, pending.version, pending.segment)
            return pending.version
        except OSError as exc:
            raise StorageError(f"could not commit {pending.batch.num_rows} rows to `{self.name}`: {exc}") from exc

    def _advance(self, state: LogState, version: int, segment: SegmentInfo) -> None:
        """Our own commit landed right after ``state``: take it into the cached state without
        reading it back (a writer's next refresh then costs one probe)."""
        with self._lock:
            if self._state is not state or version != state.version + 1:
                return
            new = state.copy()
            # Exactly what a reader decodes from the commit (statistics round-tripped).
            new.segments.append(SegmentInfo.from_json(segment.to_json(), version))
            new.version = version
            self._state = new
            self._update_schema(state, new)

    def _write_segment(self, batch: pa.RecordBatch | pa.Table, constants: dict[str, Any] | None = None) -> SegmentInfo:
        """Write ``batch`` as a segment, durably, with its statistics; ``constants`` names
        columns known to hold one non-null value in every row (see ``compute_segment_stats``)."""
        if not self.exists() or not self.fs.is_dir(SEGMENT_DIR):
            self.create()
        batches = batch.to_batches() if isinstance(batch, pa.Table) else [batch]
        rel = f"{SEGMENT_DIR}/{uuid.uuid4().hex}.arrow"
        if batch.num_rows >= PARALLEL_STATS_ROWS:
            # Statistics on a second thread while this one writes and fsyncs: both release
            # the GIL, and for a large segment each takes tens of milliseconds.
            (stats, zones), (size, checksum) = map_in_order(
                lambda task: task(),
                [
                    lambda: compute_segment_stats(batch, constants=constants),
                    lambda: self.fs.write_segment(rel, batches, batch.schema),
                ],
                2,
            )
        else:
            size, checksum = self.fs.write_segment(rel, batches, batch.schema)
            stats, zones = compute_segment_stats(batch, constants=constants)
        batch_rows = tuple(b.num_rows for b in batches)
        return SegmentInfo(
            rel,
            batch.num_rows,
            size,
            batch.schema,
            stats,
            checksum=checksum,
            batch_rows=batch_rows,
            zone_rows=ZONE_ROWS if zones else None,
            zone_stats=zones,
        )

    # -- reading -------------------------------------------------------------------------------

    def refresh(self, latest: int | None = None) -> LogState:
        """Bring the cached state up to the newest commit (or to ``latest``, a version just
        found to exist, when it is newer than the state) and return it."""
        with self._lock:
            try:
                previous = self._state
                if previous.version and self._read_forward:
                    # A local log: read the new commits themselves, no stat probes first.
                    self._state = self.log.load_forward(previous)
                else:
                    if latest is None or latest <= previous.version:
                        latest = self.log.latest_version(previous.version)
                    if latest != previous.version:
                        base = previous if previous.version else None  # None: start at the checkpoint
                        self._state = self.log.load(upto=latest, base=base)
                if self._state is not previous:
                    self._update_schema(previous, self._state)
            except OSError as exc:
                raise StorageError(f"could not read the log of `{self.name}`: {exc}") from exc
            return self._state

    def _update_schema(self, previous: LogState, state: LogState) -> None:
        kept = len(previous.segments)
        appended_only = previous.version and state.segments[:kept] == previous.segments
        if appended_only:
            added = [s.schema for s in state.segments[kept:]]
            if all(a is self._schema or a.equals(self._schema) for a in added):
                return  # the usual append: the schema it had (no re-unification per poll)
            schema = unify_schemas([self._schema, *added])
        else:
            schema = unify_schemas(s.schema for s in state.segments)
        if not schema.equals(self._schema):
            self._schema = schema
            self.schema_version += 1

    def snapshot(self, version: int | None = None, *, latest: int | None = None) -> Snapshot:
        """A consistent view of the table at ``version`` (default: the newest; ``latest``, a
        version just found to exist, spares probing for it again)."""
        if version is None:
            return self._snapshot_of(self.refresh(latest))
        state = self.log.load(upto=version)
        return Snapshot(self, state.version, tuple(state.segments))

    def _snapshot_of(self, state: LogState) -> Snapshot:
        """The snapshot of ``state`` (a state this object just cached)."""
        snap = Snapshot(self, state.version, tuple(state.segments))
        with self._lock:
            if self._state is state:
                snap.__dict__["schema"] = self._schema  # known already: no re-unification
                snap.__dict__["schema_version"] = self.schema_version
        return snap

    def poll(self, snapshot: Snapshot) -> Snapshot | None:
        """A newer snapshot if anything was committed after ``snapshot``, else ``None``.

        Costs one ``stat`` when nothing changed.
        """
        if self._read_forward and snapshot.version:
            state = self.refresh()  # reads what is new (nothing: one failed open)
            return None if state.version == snapshot.version else self._snapshot_of(state)
        latest = self.log.latest_version(snapshot.version)
        if latest == snapshot.version:
            return None
        return self.snapshot(latest=latest)  # no second probe for the version just found

    def changes_since(self, version: int) -> tuple[Snapshot, list[SegmentInfo]]:
        """The newest snapshot and the segments *appended* after ``version``, in commit order.

        Segments written by compaction are not listed (their rows were visible already); an
        appended segment that a later compaction merged is still listed, and stays readable
        for the retention period of vacuum.
        """
        snap = self.snapshot()
        appended: list[SegmentInfo] = []
        for v, entry in self.log.read_entries(range(version + 1, snap.version + 1)):
            if entry.get("op") == "append":
                appended.extend(SegmentInfo.from_json(s, v) for s in entry["add"])
        return snap, appended

    def since(self, version: int) -> list[SegmentInfo]:
        """The segments appended after commit ``version`` (see :meth:`changes_since`)."""
        return self.changes_since(version)[1]

    def conformed_segment(self, segment: SegmentInfo, schema: pa.Schema) -> pa.Table:
        """The segment conformed to ``schema`` (cached while the schema stays the same)."""
        with self._lock:
            hit = self._conformed.get(segment.path)
        if hit is not None and (hit[0] is schema or hit[0].equals(schema)):
            return hit[1]
        table = conform_table(self.read_segment(segment), schema)
        with self._lock:
            self._conformed[segment.path] = (schema, table)
            if self._cache_limit is not None:
                self._conformed_sizes[segment.path] = table.nbytes
            _trim(self._conformed, self._conformed_sizes, self._cache_limit)
        return table

    def read_segment(self, segment: SegmentInfo) -> pa.Table:
        """The segment's rows as a memory-mapped table (cached; segments are immutable)."""
        with self._lock:
            table = self._segment_cache.get(segment.path)
            if table is not None:
                self._segment_cache.move_to_end(segment.path)
                return table
        table = self.fs.read_segment(segment.path, segment.bytes)
        with self._lock:
            self._segment_cache[segment.path] = table
            if self._cache_limit is not None:
                self._cache_sizes[segment.path] = segment.bytes
            _trim(self._segment_cache, self._cache_sizes, self._cache_limit)
        return table


def _trim(cache: OrderedDict, sizes: dict[str, int], limit: int | None) -> None:
    """Drop the oldest entries past 1024 of them, or (``limit``) past ``limit`` bytes."""
    while len(cache) > 1024:
        sizes.pop(cache.popitem(last=False)[0], None)
    if limit is not None:
        total = sum(sizes.values())
        while total > limit and len(cache) > 1:
            total -= sizes.pop(cache.popitem(last=False)[0], 0)


@dataclass
class PendingAppend:
    """One batch on its way into the log, kept by a writer across failed tries."""

    batch: pa.RecordBatch | pa.Table
    batch_id: str
    segment: SegmentInfo | None = None  # written and fsync'd (reused by a retry)
    written_at: float = 0.0  # time.monotonic() when ``segment`` was written
    # The newest version seen before the first commit try: a retry looks after it for the
    # batch id (the try may have landed although it failed).
    attempted_after: int | None = None
    version: int | None = None  # set once committed
    # Columns holding one known value in every row (their statistics need no pass).
    constants: dict[str, Any] | None = None


@dataclass(frozen=True)
class Snapshot:
    """The table at one committed version. Immutable: later commits never change it."""

    table: TableLog
    version: int
    segments: tuple[SegmentInfo, ...]

    @cached_property
    def schema(self) -> pa.Schema:
        """The unified schema of every live segment (SPEC section 2)."""
        return unify_schemas(s.schema for s in self.segments)

    @cached_property
    def schema_version(self) -> tuple:
        """Identifies the schema for plan caching (equal schemas, equal keys)."""
        return ("schema", self.schema.to_string())

    @property
    def num_rows(self) -> int:
        return sum(s.rows for s in self.segments)

    def read(self, segment: SegmentInfo, columns: Sequence[str] | None = None) -> pa.Table:
        """One segment conformed to the snapshot's schema, optionally projected."""
        if columns is not None:
            return conform_table(self.table.read_segment(segment), self.schema, columns)
        return self.table.conformed_segment(segment, self.schema)

    def with_segments(self, segments: Iterator[SegmentInfo] | Sequence[SegmentInfo]) -> Snapshot:
        """The table at this version read through ``segments`` alone (some of its segments, or
        segments appended since a live reader's last look); the schema stays this snapshot's."""
        restricted = Snapshot(self.table, self.version, tuple(segments))
        restricted.__dict__["schema"] = self.schema  # prefill the cached_property
        return restricted

    def select(self, keep) -> Snapshot:
        """The same snapshot restricted to the segments for which ``keep(segment)`` holds
        (segment pruning); the schema stays the whole table's."""
        return self.with_segments(s for s in self.segments if keep(s))

    def prune(self, predicates: tuple) -> Snapshot:
        """The snapshot of the segments that may hold a row satisfying every predicate
        (``(column, op, value)`` tuples; see :func:`~weave_lite.storage.segments.may_match`);
        the schema stays the whole table's."""
        if not predicates:
            return self
        return self.select(lambda segment: may_match(segment, predicates))

    def scan(self, predicates: tuple = (), columns: Sequence[str] | None = None) -> pa.Table:
        """``prune(predicates).to_arrow(columns, predicates)``: the rows a scan reads, reused
        while the segments, schema, predicates and columns stay the same (see
        :mod:`weave_lite.storage.scan_cache`)."""
        read = lambda: self.prune(predicates).to_arrow(columns, predicates)  # noqa: E731
        if self.table._cache_limit is not None:
            return read()
        key = scan_key(tuple(s.path for s in self.segments), predicates, columns)
        return self.table.scans.get_or_read(key, self.schema, read)

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        for segment in self.segments:
            yield from self.read(segment, columns).to_batches()

    def to_dataset(self):
        """The snapshot as a ``pyarrow.dataset.Dataset`` with per-segment guarantees (see
        :mod:`weave_lite.storage.dataset`): DuckDB, Polars and DataFusion scan it with pushdown."""
        return snapshot_dataset(self)

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """The Arrow C stream interface: ``pa.table(snap)``, ``pl.DataFrame(snap)``, DuckDB.
        Streams segment by segment; mixed-kind columns arrive as JSON text."""
        return snapshot_batches(self).__arrow_c_stream__(requested_schema)

    def to_arrow(self, columns: Sequence[str] | None = None, predicates: tuple = ()) -> pa.Table:
        """All rows, oldest first, as one Arrow table.  With ``predicates`` (see :meth:`prune`)
        a segment's zones that cannot hold a matching row are left out (zero-copy slices of
        the rest): the rows that remain still need the filter."""
        schema = _project(self.schema, columns)
        parts = []
        for s in self.segments:
            ranges = s.matching_ranges(predicates)
            if ranges == []:
                continue
            table = self.read(s, columns)
            if ranges is None or ranges == [(0, s.rows)] or table.num_rows != s.rows:
                parts.append(table)
            else:
                parts.extend(table.slice(lo, n) for lo, n in ranges)
        if not parts:
            return schema.empty_table()
        return parts[0] if len(parts) == 1 else pa.concat_tables(parts)  # (a live poll's one segment)

    def to_pandas(self, columns: Sequence[str] | None = None) -> Any:
        """All rows as a pandas DataFrame; mixed-kind columns are object columns of Python
        values (``to_arrow().to_pandas()`` cannot convert their Arrow unions)."""
        return to_pandas(self.to_arrow(columns))


def to_pandas(table: pa.Table) -> Any:
    """``table`` as a pandas DataFrame; a column holding values of mixed kinds (an Arrow union,
    which pandas cannot convert) becomes an object column of Python values."""
    import pandas as pd

    data = {}
    for name, column in zip(table.column_names, table.columns):
        if _has_union(column.type):
            data[name] = pd.Series(column.to_pylist(), dtype=object)
        else:
            data[name] = column.to_pandas()
    return pd.DataFrame(data, columns=table.column_names, index=pd.RangeIndex(table.num_rows))


def _has_union(t: pa.DataType) -> bool:
    if pa.types.is_union(t):
        return True
    return any(_has_union(t.field(i).type) for i in range(t.num_fields)) if pa.types.is_nested(t) else False


def _project(schema: pa.Schema, columns: Sequence[str] | None) -> pa.Schema:
    if columns is None:
        return schema
    return pa.schema([schema.field(c) for c in columns])


def conform_table(table: pa.Table, schema: pa.Schema, columns: Sequence[str] | None = None) -> pa.Table:
    """Conform a segment's table to ``schema`` (projected to ``columns``)."""
    target = _project(schema, columns)
    if table.schema.equals(target):
        # Already conformed (the usual case): no new table, whose construction would validate
        # every column again and so map in the offsets of string columns no query reads.
        return table
    arrays = []
    for f in target:
        idx = table.schema.get_field_index(f.name)
        col = table.column(idx) if idx >= 0 else pa.nulls(table.num_rows, type=f.type)
        arrays.append(conform(col, f.type))
    return pa.Table.from_arrays(arrays, schema=target)


def open_table(name: str, root: str | os.PathLike | None = None) -> TableLog:
    """Open the existing table ``"e/p/t"`` under the data root."""
    return TableLog.open(name, root)


def open_dataset(
    name: str, *, root: str | os.PathLike | None = None, version: int | None = None
) -> ds.FileSystemDataset:
    """The table ``name`` (``"e/p/t"``) at ``version`` (default: the newest) as a
    ``pyarrow.dataset.Dataset``: scan it from DuckDB, Polars, DataFusion or pyarrow with
    projection and filter pushdown (segments a filter excludes are never opened)."""
    return open_table(name, root).snapshot(version).to_dataset()


_SHARED: dict[tuple[str, str], TableLog] = {}
_SHARED_LOCK = threading.Lock()


def shared_table(name: TableName, root: str | Path | None = None) -> TableLog:
    """A process-wide TableLog per table, so that readers refresh incrementally (one ``stat``
    when nothing changed) and share the cache of memory-mapped segments."""
    key = (str(data_root(root)), str(name))
    with _SHARED_LOCK:
        log = _SHARED.get(key)
        if log is None:
            log = _SHARED[key] = TableLog(name, root)
        return log


def list_tables(root: str | os.PathLike | ObjectRoot | None = None) -> list[TableName]:
    """Every table under the data root (local or on an object store)."""
    base = data_root(root)
    if isinstance(base, ObjectRoot):
        return _list_object_tables(base)
    found: list[TableName] = []
    if not base.is_dir():
        return found
    for entity in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("_")):
        for project in sorted(p for p in entity.iterdir() if p.is_dir()):
            for table in sorted(p for p in project.iterdir() if p.is_dir()):
                if (table / "_log").is_dir():
                    found.append(TableName(entity.name, project.name, table.name))
    return found


def _list_object_tables(base: ObjectRoot) -> list[TableName]:
    """Tables under an object store root: one LIST per entity, per project and per table."""
    fs = open_filesystem(base)
    found = []

    def folders(rel: str) -> list[str]:
        return sorted(n for n in fs.list_dirs(rel) if NAME_PART.fullmatch(n) and n not in (".", ".."))

    for entity in folders(""):
        for project in folders(entity):
            for table in folders(f"{entity}/{project}"):
                if LOG_DIR in fs.list_dirs(f"{entity}/{project}/{table}"):
                    found.append(TableName(entity, project, table))
    return found
