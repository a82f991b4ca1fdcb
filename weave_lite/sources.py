"""The tables an evaluation reads: ``stream_table``/``table`` names resolved once each.

A :class:`TableSources` belongs to one evaluation (or one run of a live query). It pins one
snapshot per stream table (so every read sees the same version), converts the in-memory
tables passed as ``tables=`` to Arrow once, tells the planner each table's row type, and gives
the executor the rows of a table with the pruning rewrite's predicates applied
(:meth:`Snapshot.prune <weave_lite.storage.table.Snapshot.prune>`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from weave_lite.errors import (
    InvalidNameError,
    ResourceLimitError,
    TableNotFoundError,
    WeaveTypeError,
    caret_snippet,
)
from weave_lite.graph.nodes import Node
from weave_lite.graph.types import TableT, row_type, type_depth
from weave_lite.lazy import lazy_module
from weave_lite.storage.bulk_input import normalize_batch
from weave_lite.storage.names import TableName
from weave_lite.storage.table import Snapshot, shared_table

pc = lazy_module("pyarrow.compute")  # loaded by the first query, not at import weave_lite

if TYPE_CHECKING:
    import pyarrow.dataset as ds

# Columns nested deeper are refused (Arrow's IPC format itself stops at 64 levels).
MAX_TABLE_DEPTH = 64


@dataclass
class TableSources:
    """Resolves ``stream_table``/``table`` names once per evaluation (one snapshot each).

    ``snapshots`` maps a stream table's name (as written) to the snapshot read; a caller may
    put a snapshot there before running (a live query restricts a table to its new segments).
    """

    root: Any
    tables: Mapping[str, Any] | None
    source: str | None
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    # tables= values as Arrow tables, or as datasets (read when run, with the predicates).
    memory: dict[str, pa.Table | _DatasetInput] = field(default_factory=dict)
    loaded: dict[tuple, pa.Table] = field(default_factory=dict)

    def table_type(self, op: str, name: str, node: Node) -> TableT:
        """The type of ``op(name)`` (``op`` is ``stream_table`` or ``table``)."""
        row = row_type(self._arrow(op, name, node).schema)
        if type_depth(row) > MAX_TABLE_DEPTH:
            raise ResourceLimitError(
                self._with_caret(
                    f"table `{name}` has columns nested more than {MAX_TABLE_DEPTH} levels deep",
                    node,
                )
            )
        return TableT(row)

    def _arrow(self, op: str, name: str, node: Node):
        if op == "table":
            return self.memory_table(name, node)
        return self.snapshot(name, node)

    def memory_table(self, name: str, node: Node | None) -> pa.Table | _DatasetInput:
        """The table ``name`` of ``tables=`` as an Arrow table, or a dataset read when the
        expression runs (``node`` places errors)."""
        if name not in self.memory:
            if not self.tables or name not in self.tables:
                known = ", ".join(sorted(self.tables or {})) or "none"
                raise self._not_found(f"no table `{name}` was passed in tables= (passed: {known})", node)
            try:
                self.memory[name] = _to_arrow_table(self.tables[name])
            except (
                TypeError,
                ValueError,
                pa.ArrowException,
            ) as exc:  # the caller's value, not a bug
                raise WeaveTypeError(self._with_caret(f"tables[{name!r}]: {exc}", node)) from exc
        return self.memory[name]

    def snapshot(self, name: str, node: Node | None) -> Snapshot:
        """The snapshot of stream table ``name`` this evaluation reads (pinned on first use)."""
        if name not in self.snapshots:
            try:
                table_name = TableName.parse(name)
            except InvalidNameError as exc:
                raise InvalidNameError(self._with_caret(str(exc), node)) from None
            log = shared_table(table_name, self.root)
            if not log.exists():
                raise self._not_found(f"no table `{table_name}` under {log.root}", node)
            self.snapshots[name] = log.snapshot()
        return self.snapshots[name]

    def _not_found(self, message: str, node: Node | None) -> TableNotFoundError:
        return TableNotFoundError(self._with_caret(message, node))

    def _with_caret(self, message: str, node: Node | None) -> str:
        snippet = caret_snippet(self.source, node.span) if self.source and node is not None else ""
        return f"{message}\n{snippet}" if snippet else message

    def load_arrow(
        self, op: str, name: str, predicates: tuple = (), columns: tuple[str, ...] | None = None
    ) -> pa.Table:
        """The rows of a table; ``predicates`` (from the pruning rewrite) skip segments whose
        statistics show they hold no matching row; ``columns`` (from the projection rewrite,
        None for all) are the only columns a dataset passed in ``tables=`` has read."""
        key = (op, name, predicates, columns)
        table = self.loaded.get(key)
        if table is None:
            if op == "table":
                found = self.memory[name]
                table = found if isinstance(found, pa.Table) else _read_dataset(found, predicates, columns)
            else:
                table = self.snapshots[name].scan(predicates)
            self.loaded[key] = table
        return table


def _to_arrow_table(obj: Any) -> pa.Table | _DatasetInput:
    # Not imported here (it loads pandas, ~0.2 s): a dataset passed in means it is already loaded.
    ds = sys.modules.get("pyarrow.dataset")
    if ds is not None and isinstance(obj, ds.Dataset):
        return _DatasetInput(obj)
    if isinstance(obj, pa.RecordBatch):
        obj = pa.Table.from_batches([obj])
    if not isinstance(obj, pa.Table):
        if hasattr(obj, "__arrow_c_stream__"):
            obj = pa.table(obj)
        elif type(obj).__name__ == "DataFrame":
            obj = pa.Table.from_pandas(obj, preserve_index=False)
        else:
            raise TypeError(
                f"tables= values must be Arrow tables (or expose __arrow_c_stream__), not {type(obj).__name__}"
            )
    return pa.Table.from_batches([normalize_batch(obj)]) if obj.num_rows else obj


class _DatasetInput:
    """A ``pyarrow.dataset.Dataset`` passed in ``tables=`` (Parquet, Lance, Delta, a stream
    table's own :func:`~weave_lite.storage.table.open_dataset`): typed from its schema, read
    only when the expression runs, with the pruning rewrite's predicates as the scan's filter
    so fragments whose statistics or partitions exclude them are never read."""

    def __init__(self, dataset: ds.Dataset):
        self.dataset = dataset
        # The schema the engine sees: the dataset's, normalised as rows read from it will be.
        self.schema = normalize_batch(dataset.schema.empty_table()).schema


def _read_dataset(found: _DatasetInput, predicates: tuple, columns: tuple[str, ...] | None) -> pa.Table:
    """The dataset's rows: only ``columns`` read (projection pushdown), the predicates as the
    scan's filter (fragments they exclude are never opened), normalised batch by batch as the
    scan streams them (never the whole read at once)."""
    dataset = found.dataset
    names = None if columns is None else [c for c in columns if c in dataset.schema.names]
    schema = found.schema if names is None else pa.schema([found.schema.field(c) for c in names])
    condition = _filter(predicates, dataset.schema)
    try:
        return _scan(dataset, names, condition, schema)
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError, pa.ArrowInvalid):
        if condition is None:
            raise
        return _scan(dataset, names, None, schema)  # a predicate Arrow cannot compare: the filter still runs


def _scan(dataset: ds.Dataset, names: list[str] | None, condition: ds.Expression | None, schema: pa.Schema) -> pa.Table:
    batches = []
    for batch in dataset.to_batches(columns=names, filter=condition):
        if batch.num_rows:
            batch = normalize_batch(batch)
            if not batch.schema.equals(schema):
                batch = pa.Table.from_batches([batch]).cast(schema).combine_chunks().to_batches()[0]
            batches.append(batch)
    return pa.Table.from_batches(batches, schema=schema)


_COMPARISONS = {"lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal", "eq": "equal"}


def _filter(predicates: tuple, schema: pa.Schema) -> ds.Expression | None:
    """``(column, op, value)`` conjuncts as a dataset filter (only on top-level columns).

    Rows it drops are rows the expression's own filter drops too (a comparison with null is
    never true there), so the filter is exact, and it lets the scan skip whole fragments."""
    terms = []
    for column, op, value in predicates:
        if column in schema.names and op in _COMPARISONS and value is not None:
            terms.append(getattr(pc, _COMPARISONS[op])(pc.field(column), pc.scalar(value)))
    if not terms:
        return None
    condition = terms[0]
    for term in terms[1:]:
        condition = condition & term
    return condition
