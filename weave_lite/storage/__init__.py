"""The append-only columnar log: Arrow IPC segments, atomic commits, snapshots, compaction;
on a local disk or an object store (``s3://bucket/prefix``, ``gs://bucket/prefix``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from weave_lite.storage.names import ObjectRoot, TableName, data_root, object_root
from weave_lite.storage.table import Snapshot, TableLog, list_tables, open_table

__all__ = [
    "TableLog",
    "Snapshot",
    "TableName",
    "data_root",
    "ObjectRoot",
    "object_root",
    "open_table",
    "list_tables",
    "compact",
    "vacuum",
    "CompactionResult",
]


if TYPE_CHECKING:
    from weave_lite.storage.compaction import CompactionResult, compact, vacuum

_LAZY = {"compact", "vacuum", "CompactionResult"}  # weave_lite.storage.compaction, on first use


def __getattr__(name: str) -> Any:
    """Compaction loads on first use (``weave_lite.storage.compact``), not with every import of
    the storage package: a process that only logs or queries never needs it."""
    if name in _LAZY:
        from weave_lite.storage import compaction

        return getattr(compaction, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
