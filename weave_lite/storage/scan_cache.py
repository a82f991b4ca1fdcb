"""The rows a scan of a snapshot reads, kept from one query to the next.

A query's scan of a stream table checks every segment's statistics and zone maps against the
pruning predicates, conforms the segments to the table's schema and joins the zero-copy pieces
into one Arrow table.  Segments are immutable and their files never reused (uuid names), so
the same segments, schema, predicates and columns always give the same rows: a repeated query
on an unchanged table reuses them.  A commit or a compaction changes the snapshot's segments,
hence the key, so a stale entry is never served (it just ages out).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import pyarrow as pa

# Entries kept per table (each a zero-copy view of memory-mapped segments: a few KB of
# Python objects, no row data of its own).
MAX_ENTRIES = 16


def scan_key(paths: tuple[str, ...], predicates: tuple, columns: Sequence[str] | None) -> tuple | None:
    """The cache key of a scan, or None when a predicate's value cannot be a key (unhashable).
    Values are keyed with their type: ``1``, ``1.0`` and ``True`` compare equal in Python but
    are different literals to the pruning rewrite."""
    try:
        key = (
            paths,
            tuple((column, op, type(value), value) for column, op, value in predicates),
            None if columns is None else tuple(columns),
        )
        hash(key)
    except TypeError:
        return None
    return key


class ScanCache:
    """An LRU of scans' tables by :func:`scan_key`, each kept with the schema it was conformed
    to (a hit needs the same schema)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[tuple, tuple[pa.Schema, pa.Table]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()
        self.hits = self.misses = 0  # read by tests

    def get_or_read(self, key: tuple | None, schema: pa.Schema, read: Callable[[], pa.Table]) -> pa.Table:
        """The table kept under ``key`` for ``schema``, else ``read()`` (kept)."""
        if key is None:
            return read()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and (hit[0] is schema or hit[0].equals(schema)):
                self._entries.move_to_end(key)
                self.hits += 1
                return hit[1]
        table = read()
        with self._lock:
            self.misses += 1
            self._entries[key] = (schema, table)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return table

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
