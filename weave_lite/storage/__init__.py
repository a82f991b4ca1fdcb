"""The append-only columnar log: Arrow IPC segments, atomic commits, snapshots, compaction;
on a local disk or an object store (``s3://bucket/prefix``, ``gs://bucket/prefix``)."""

from weave_lite.storage.compaction import CompactionResult, compact, vacuum
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
