"""A snapshot as a ``pyarrow.dataset.Dataset`` that other engines scan with pushdown.

Each live segment is one IPC file fragment whose *guarantee* (partition expression) comes from
the commit statistics, null-aware in the manner of delta-rs, so DuckDB, Polars, DataFusion and
pyarrow skip segments a filter excludes and read only the columns they use:

* no nulls:    ``is_valid(c) & (c >= min) & (c <= max)``
* some nulls:  ``((c >= min) | is_null(c)) & ((c <= max) | is_null(c))``
* all nulls:   ``is_null(c)``

**Mixed-kind (union) columns** are exposed as JSON text (``string``): ``1`` is ``'1'``, ``"a"``
is ``'"a"'``, a dict is its JSON object, null stays null.  Peers cannot read Arrow unions, and
JSON keeps every kind apart.  A segment whose physical types differ from the dataset's (such a
column, or one widened from int to float, or a struct that gained fields) is served from an
*export file*: the segment conformed to the dataset's schema, written once beside the log under
``_export/`` (immutable like the segment, removed by vacuum when the segment is).

On an object store root the fragments are read through the store's ``pyarrow.fs`` filesystem
(``S3FileSystem``/``GcsFileSystem``) and export files are uploaded beside the log.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import tempfile
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from weave_lite.lazy import lazy_module
from weave_lite.storage.filesystem import replace_durably
from weave_lite.storage.segments import SegmentInfo, orderable

pc = lazy_module("pyarrow.compute")  # loaded by the first query, not at import weave_lite
pafs = lazy_module("pyarrow.fs")  # loaded by the first query, not at import weave_lite

if TYPE_CHECKING:  # pyarrow.dataset (with pandas, ~0.2 s) is imported where a dataset is made
    import pyarrow.dataset as ds


class SnapshotView(Protocol):
    """What this module reads of a :class:`weave_lite.storage.table.Snapshot` (which imports
    this module, so it is described here rather than imported)."""

    @property
    def table(self) -> Any: ...

    @property
    def segments(self) -> tuple[SegmentInfo, ...]: ...

    @property
    def schema(self) -> pa.Schema: ...

    def read(self, segment: SegmentInfo) -> pa.Table: ...


EXPORT_DIR = "_export"


def export_type(t: pa.DataType) -> pa.DataType:
    """The type a column has in the dataset: unions (anywhere inside) become JSON text."""
    if _contains_union(t):
        return pa.string()
    return t


def export_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, export_type(f.type), nullable=True) for f in schema])


def snapshot_batches(snapshot: SnapshotView) -> pa.RecordBatchReader:
    """The snapshot's rows, oldest first, streamed segment by segment in the dataset's
    representation (what ``__arrow_c_stream__`` exports)."""
    schema = export_schema(snapshot.schema)

    def batches():
        for segment in snapshot.segments:
            yield from to_export(snapshot.read(segment), snapshot.schema).to_batches()

    return pa.RecordBatchReader.from_batches(schema, batches())


def snapshot_dataset(snapshot: SnapshotView) -> ds.FileSystemDataset:
    """The snapshot's live segments as a dataset with per-fragment guarantees."""
    schema = export_schema(snapshot.schema)
    paths, guarantees = [], []
    for segment in snapshot.segments:
        paths.append(_fragment_path(snapshot, segment, schema))
        guarantees.append(segment_guarantee(segment, schema))
    fs = snapshot.table.fs
    filesystem = pafs.LocalFileSystem(use_mmap=True) if getattr(fs, "is_local", True) else fs.arrow_filesystem()
    import pyarrow.dataset as ds  # here, not at import: it loads pandas (~0.2 s)

    return ds.FileSystemDataset.from_paths(
        paths,
        schema=schema,
        format=ds.IpcFileFormat(),
        filesystem=filesystem,
        partitions=guarantees,
    )


def to_export(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A table conformed to the snapshot schema, in the dataset's representation."""
    arrays = []
    for _f, column in zip(schema, table.columns):
        if _contains_union(column.type):
            arrays.append(_json_column(column))
        else:
            arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=export_schema(schema))


# -- fragments ---------------------------------------------------------------------------------


def _fragment_path(snapshot: SnapshotView, segment: SegmentInfo, schema: pa.Schema) -> str:
    fs = snapshot.table.fs
    if not getattr(fs, "is_local", True):
        return _object_fragment_path(snapshot, segment, schema)
    if _readable_as_is(segment.schema, schema) or not fs.exists(segment.path):
        # A missing file is left for the scan to report: a filter may prune it unopened.
        return fs.full(segment.path)
    key = hashlib.sha1(schema.serialize().to_pybytes()).hexdigest()[:16]
    name = f"{os.path.basename(segment.path)[:-6]}-{key}.arrow"
    for folder in (os.path.join(str(fs.base), EXPORT_DIR), _private_export_dir()):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
        try:
            os.makedirs(folder, exist_ok=True)
            _write_export(snapshot, segment, path)
            return path
        except OSError:  # a read-only table folder: use a private temporary folder instead
            continue
    raise OSError(f"could not write an export file for {segment.path}")


def _object_fragment_path(snapshot: SnapshotView, segment: SegmentInfo, schema: pa.Schema) -> str:
    """The fragment of ``segment`` on an object store (an export file uploaded when needed)."""
    fs = snapshot.table.fs
    if _readable_as_is(segment.schema, schema):
        return fs.arrow_path(segment.path)
    key = hashlib.sha1(schema.serialize().to_pybytes()).hexdigest()[:16]
    rel = f"{EXPORT_DIR}/{os.path.basename(segment.path)[:-6]}-{key}.arrow"
    if not fs.exists(rel):
        fs.replace(rel, _export_bytes(snapshot, segment))
    return fs.arrow_path(rel)


def _export_bytes(snapshot: SnapshotView, segment: SegmentInfo) -> bytes:
    table = to_export(snapshot.read(segment), snapshot.schema)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=65_536):
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _write_export(snapshot: SnapshotView, segment: SegmentInfo, path: str) -> None:
    replace_durably(path, _export_bytes(snapshot, segment))


def _private_export_dir() -> str:
    return os.path.join(tempfile.gettempdir(), f"weave_lite-export-{os.getuid()}")


def _readable_as_is(segment_schema: pa.Schema, schema: pa.Schema) -> bool:
    """True when every column the segment has is already of the dataset's type (missing
    columns read as nulls)."""
    for f in segment_schema:
        i = schema.get_field_index(f.name)
        if i < 0 or not schema.field(i).type.equals(f.type):
            return False
    return True


# -- guarantees --------------------------------------------------------------------------------


def segment_guarantee(segment: SegmentInfo, schema: pa.Schema) -> ds.Expression:
    """What every row of ``segment`` satisfies, from its commit statistics (null-aware)."""
    terms = []
    for name, stats in segment.stats.items():
        i = schema.get_field_index(name)
        if i < 0:
            continue
        t = schema.field(i).type
        column = pc.field(name)
        if stats.null_count >= segment.rows and segment.rows > 0:
            terms.append(column.is_null())
            continue
        if stats.min is None or stats.max is None or not orderable(t):
            continue
        lo, hi = _scalar(stats.min, t), _scalar(stats.max, t)
        if lo is None or hi is None:
            continue
        if stats.null_count == 0:
            terms.append(column.is_valid() & (column >= lo) & (column <= hi))
        else:
            terms.append(((column >= lo) | column.is_null()) & ((column <= hi) | column.is_null()))
    for name in schema.names:  # a column the segment lacks is all null there
        if segment.schema.get_field_index(name) < 0 and segment.rows > 0:
            terms.append(pc.field(name).is_null())
    if not terms:
        return pc.scalar(True)
    out = terms[0]
    for term in terms[1:]:
        out = out & term
    return out


def _scalar(value: Any, t: pa.DataType) -> pa.Scalar | None:
    try:
        if pa.types.is_floating(t) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # statistics of an int segment in a widened float column
        return pa.scalar(value, type=t)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return None


# -- JSON representation of mixed columns -------------------------------------------------------


def _contains_union(t: pa.DataType) -> bool:
    if pa.types.is_union(t):
        return True
    if pa.types.is_struct(t):
        return any(_contains_union(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _contains_union(t.value_type)
    if pa.types.is_map(t):
        return _contains_union(t.key_type) or _contains_union(t.item_type)
    return False


def _json_column(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return pa.array(
        [None if v is None else json.dumps(_jsonable(v), separators=(",", ":")) for v in column.to_pylist()],
        pa.string(),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value
