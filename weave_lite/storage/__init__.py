"""The append-only columnar log: Arrow IPC segments, atomic commits, snapshots, compaction."""

from weave_lite.storage.compaction import CompactionResult, compact, vacuum
from weave_lite.storage.names import TableName, data_root
from weave_lite.storage.table import Snapshot, TableLog, list_tables, open_table

__all__ = [
    "TableLog",
    "Snapshot",
    "TableName",
    "data_root",
    "open_table",
    "list_tables",
    "compact",
    "vacuum",
    "CompactionResult",
]
