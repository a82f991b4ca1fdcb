"""Segment metadata: what a commit records about each immutable Arrow IPC segment.

For every segment the log keeps its row count, size, schema and per-column statistics
(min, max, null count) so that a reader knows the table's schema without opening files and a
scan can skip segments that a filter excludes (for example a time range on ``timestamp``).
"""

from __future__ import annotations

import base64
import datetime as _dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import xxhash

from weave_lite.errors import CorruptTableError
from weave_lite.lazy import lazy_module

pc = lazy_module("pyarrow.compute")  # loaded by the first query, not at import weave_lite

# Strings longer than this get no min/max statistics (a truncated max would be wrong).
_MAX_STAT_STRING = 256


@dataclass(frozen=True)
class ColumnStats:
    """Statistics of one column of one segment; ``min``/``max`` are ``None`` when unknown."""

    null_count: int
    min: Any = None
    max: Any = None


@dataclass(frozen=True)
class SegmentInfo:
    """One committed segment: where it is and what is in it."""

    path: str
    rows: int
    bytes: int
    schema: pa.Schema = field(compare=False)
    # A dict when computed by a writer, a :class:`LazyStats` when read from the log.
    stats: Mapping[str, ColumnStats] = field(compare=False, default_factory=dict)
    # The commit version that added the segment (by append or by compaction).
    version: int = 0
    # True when the segment was written by compaction (its rows were already visible).
    compacted: bool = False
    # XXH3-64 of the file's bytes (hex); verified by ``weave-lite check``.
    checksum: str | None = field(compare=False, default=None)
    # The row count of each record batch of the file, in order (None: not recorded, a segment
    # written before they were); distributed queries cut morsels from it without reading files.
    batch_rows: tuple[int, ...] | None = field(compare=False, default=None)
    # Zone maps: the statistics of each run of ``zone_rows`` rows (the last one shorter), so a
    # scan reads only the zones a filter may match (a 1% time range reads about 1% of a large
    # segment, as zero-copy slices). None: a small segment, or one written before zones.
    zone_rows: int | None = field(compare=False, default=None)
    zone_stats: tuple[Mapping[str, ColumnStats], ...] | None = field(compare=False, default=None)

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "rows": self.rows,
            "bytes": self.bytes,
            "schema": base64.b64encode(self.schema.serialize().to_pybytes()).decode("ascii"),
            "stats": _stats_json(self.stats),
            "compacted": self.compacted,
            **({"checksum": self.checksum} if self.checksum else {}),
            **({"batches": list(self.batch_rows)} if self.batch_rows is not None else {}),
            **(
                {"zones": {"rows": self.zone_rows, "stats": [_stats_json(z) for z in self.zone_stats]}}
                if self.zone_rows and self.zone_stats
                else {}
            ),
        }

    @classmethod
    def from_json(cls, data: dict, version: int) -> SegmentInfo:
        schema = _decoded_schema(data["schema"])
        batch_rows = _batch_rows(data.get("batches"), data["rows"])
        zone_rows, zone_stats = _zones(data.get("zones"), data["rows"], schema)
        return cls(
            path=data["path"],
            rows=data["rows"],
            bytes=data["bytes"],
            schema=schema,
            stats=LazyStats(data["stats"], schema, data["path"]),
            version=data.get("version", version),
            compacted=bool(data.get("compacted", False)),
            checksum=data.get("checksum"),
            batch_rows=batch_rows,
            zone_rows=zone_rows,
            zone_stats=zone_stats,
        )

    def matching_ranges(self, predicates: tuple) -> list[tuple[int, int]] | None:
        """The ``(first row, rows)`` ranges of the zones whose statistics leave room for a row
        satisfying every predicate, adjacent zones joined (None: no zones, read it all)."""
        if not predicates or not self.zone_rows or not self.zone_stats:
            return None
        size = self.zone_rows
        ranges: list[tuple[int, int]] = []
        for i, stats in enumerate(self.zone_stats):
            lo = i * size
            n = min(size, self.rows - lo)
            if not stats_may_match(stats, n, predicates):
                continue
            if ranges and ranges[-1][0] + ranges[-1][1] == lo:
                ranges[-1] = (ranges[-1][0], ranges[-1][1] + n)
            else:
                ranges.append((lo, n))
        return ranges


ZONE_ROWS = 65_536  # rows per zone: a zone map costs about 1/65k of a scan to check


def compute_zone_stats(
    batch: pa.RecordBatch | pa.Table, zone_rows: int = ZONE_ROWS
) -> tuple[dict[str, ColumnStats], ...] | None:
    """The statistics of each ``zone_rows`` rows of a segment of more than one zone."""
    if batch.num_rows <= zone_rows:
        return None
    return tuple(compute_stats(batch.slice(lo, zone_rows)) for lo in range(0, batch.num_rows, zone_rows))


def compute_segment_stats(
    batch: pa.RecordBatch | pa.Table,
    zone_rows: int = ZONE_ROWS,
    constants: Mapping[str, Any] | None = None,
) -> tuple[dict[str, ColumnStats], tuple[dict[str, ColumnStats], ...] | None]:
    """``(compute_stats(batch), compute_zone_stats(batch, zone_rows))``, in one pass.

    A segment of several zones takes its statistics from its zones' raw minima and maxima
    (each value is read once, not twice: string min/max is most of a large append's
    statistics).  ``constants`` names columns the caller knows hold one non-null value in
    every row (a writer's ``_client_id``), whose statistics need no pass at all.
    """
    n = batch.num_rows
    constants = constants if constants and n else {}
    if n <= zone_rows:
        return _stats(batch, constants), None
    starts = range(0, n, zone_rows)
    stats: dict[str, ColumnStats] = {}
    zones: list[dict[str, ColumnStats]] = [{} for _ in starts]
    for name, column in zip(batch.schema.names, batch.columns):
        if name in constants:
            value = constants[name]
            stats[name] = ColumnStats(0, value, value)
            for zone in zones:
                zone[name] = stats[name]
            continue
        raw = [_raw_min_max(column.slice(lo, zone_rows)) for lo in starts]
        for zone, (nulls, lo, hi) in zip(zones, raw):
            zone[name] = _column_stats(nulls, lo, hi)
        los = [lo for _, lo, _ in raw if lo is not None]
        his = [hi for _, _, hi in raw if hi is not None]
        stats[name] = _column_stats(sum(r[0] for r in raw), min(los) if los else None, max(his) if his else None)
    return stats, tuple(zones)


def _stats(batch: pa.RecordBatch | pa.Table, constants: Mapping[str, Any]) -> dict[str, ColumnStats]:
    if not constants:
        return compute_stats(batch)
    return {
        name: ColumnStats(0, constants[name], constants[name]) if name in constants else _column_stats(*_raw_min_max(c))
        for name, c in zip(batch.schema.names, batch.columns)
    }


def _zones(value: Any, rows: int, schema: pa.Schema) -> tuple[int | None, tuple[Mapping[str, ColumnStats], ...] | None]:
    """A record's ``zones``, if well formed (one per ``rows`` rows), else no zones."""
    if not isinstance(value, dict):
        return None, None
    size, stats = value.get("rows"), value.get("stats")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0 or not isinstance(stats, list):
        return None, None
    if len(stats) != -(-rows // size):
        return None, None
    if not all(isinstance(z, dict) for z in stats):
        return None, None
    return size, tuple(LazyStats(z, schema) for z in stats)  # (zones: a 65k-row run each)


# Decoded segment schemas by their base64 text: a table's segments share a few schemas, and
# a poll then decodes none (and compares the one object with itself).
_SCHEMAS: dict[str, pa.Schema] = {}


def _decoded_schema(text: str) -> pa.Schema:
    schema = _SCHEMAS.get(text)
    if schema is None:
        schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))
        if len(_SCHEMAS) >= 256:
            _SCHEMAS.clear()
        _SCHEMAS[text] = schema
    return schema


def _stats_json(stats: Mapping[str, ColumnStats]) -> dict:
    if isinstance(stats, LazyStats) and stats._decoded is None:
        return stats._raw  # as read from the log: no decode and re-encode
    return {name: {"nulls": s.null_count, "min": _encode(s.min), "max": _encode(s.max)} for name, s in stats.items()}


class LazyStats(Mapping[str, ColumnStats]):
    """A segment's statistics as its commit recorded them, decoded on first use.

    A poll decodes every new commit, and most queries never look at most columns' statistics
    (typed decoding of 8 columns' min/max was ~20% of a poll).  The record's shape (a dict per
    column with ``nulls``/``min``/``max``) is checked when the commit is read, so that damage
    is still reported there; only the per-type conversion (timestamps, dates) waits.
    """

    __slots__ = ("_raw", "_schema", "_decoded", "_where")

    def __init__(self, raw: dict, schema: pa.Schema, where: str = ""):
        for s in raw.values():
            if not isinstance(s, dict) or not {"nulls", "min", "max"} <= s.keys():
                raise ValueError("a column's statistics lack nulls/min/max")
        self._raw = raw
        self._schema = schema
        self._decoded: dict[str, ColumnStats] | None = None
        self._where = where

    def _stats(self) -> dict[str, ColumnStats]:
        decoded = self._decoded
        if decoded is None:
            try:
                decoded = self._decoded = _stats_from_json(self._raw, self._schema)
            except (ValueError, TypeError, OverflowError) as exc:  # a value of the wrong kind
                raise CorruptTableError(self._where, f"statistics cannot be decoded ({exc})") from None
        return decoded

    def __getitem__(self, name: str) -> ColumnStats:
        return self._stats()[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self._stats().get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __repr__(self) -> str:
        return repr(self._stats())


def _stats_from_json(data: dict, schema: pa.Schema) -> dict[str, ColumnStats]:
    stats = {}
    for name, s in data.items():
        t = schema.field(name).type if schema.get_field_index(name) >= 0 else pa.null()
        stats[name] = ColumnStats(s["nulls"], _decode(s["min"], t), _decode(s["max"], t))
    return stats


def _batch_rows(value: Any, rows: int) -> tuple[int, ...] | None:
    """A record's ``batches``, if well formed (they add up to its rows), else None."""
    if not isinstance(value, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value):
        return None
    return tuple(value) if sum(value) == rows else None


def compute_stats(batch: pa.RecordBatch | pa.Table) -> dict[str, ColumnStats]:
    """Per-column null counts, and min/max for orderable scalar columns (NaN ignored)."""
    return {name: _column_stats(*_raw_min_max(column)) for name, column in zip(batch.schema.names, batch.columns)}


def _raw_min_max(column: Any) -> tuple[int, Any, Any]:
    """A column's null count, minimum and maximum (NaN ignored; None: no value, or not
    orderable), before the length limit on strings."""
    lo: Any = None
    hi: Any = None
    if orderable(column.type) and len(column) > column.null_count:
        mm = pc.min_max(column)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        if isinstance(lo, float) and (lo != lo or hi != hi):  # all NaN
            lo = hi = None
    return column.null_count, lo, hi


def _column_stats(nulls: int, lo: Any, hi: Any) -> ColumnStats:
    if isinstance(lo, str) and (len(lo) > _MAX_STAT_STRING or len(hi) > _MAX_STAT_STRING):
        lo = hi = None  # a truncated max would be wrong, and a long one costs every commit
    return ColumnStats(nulls, lo, hi)


def orderable(t: pa.DataType) -> bool:
    """Types whose segments record min/max statistics."""
    return (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_string(t)
        or pa.types.is_boolean(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_date(t)
    )


def _encode(value: Any) -> Any:
    """Statistics as JSON: timestamps as epoch microseconds, dates as epoch days."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        delta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if isinstance(value, _dt.date):
        return (value - _EPOCH.date()).days
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return value


def _decode(value: Any, t: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_timestamp(t):
        ts = _EPOCH + _dt.timedelta(microseconds=value)
        return ts if t.tz is not None else ts.replace(tzinfo=None)
    if pa.types.is_date(t):
        return _EPOCH.date() + _dt.timedelta(days=value)
    if value in ("inf", "-inf") and pa.types.is_floating(t):
        return float(value)
    return value


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def may_match(segment: SegmentInfo, predicates: tuple) -> bool:
    """False only when the segment's statistics prove no row satisfies every predicate.

    ``predicates`` are ``(column, op, value)`` tuples, ``op`` one of ``gt ge lt le eq`` (as the
    pruning rewrite, weave_lite.compile.rewrites.prune_segments, builds them)."""
    return stats_may_match(segment.stats, segment.rows, predicates)


def stats_may_match(column_stats: Mapping[str, ColumnStats], rows: int, predicates: tuple) -> bool:
    """:func:`may_match` for the statistics of ``rows`` rows (a segment or one of its batches)."""
    for column, op, value in predicates:
        stats = column_stats.get(column)
        if stats is None:
            continue  # not recorded (or the column is absent): cannot tell
        if stats.null_count == rows:
            # Every value is null: `<`... with null are null and `null == value` is false, so no
            # row matches. (`== null` is true there, but a null literal is never a predicate.)
            return False
        lo, hi = stats.min, stats.max
        if lo is None or hi is None:
            continue
        try:
            if op == "gt" and not hi > value:
                return False
            if op == "ge" and not hi >= value:
                return False
            if op == "lt" and not lo < value:
                return False
            if op == "le" and not lo <= value:
                return False
            if op == "eq" and not lo <= value <= hi:
                return False
        except TypeError:  # values of other kinds (an int column compared with a string)
            continue
    return True


def segment_checksum(data: pa.Buffer | bytes) -> str:
    """The checksum recorded for a segment: XXH3-64 of its bytes, as hex."""
    return xxhash.xxh3_64_hexdigest(memoryview(data))
