"""SQL over stream tables through DuckDB (the optional ``sql`` extra).

Each stream table under the data root that the query names is registered as a DuckDB view
of its dataset (:func:`weave_lite.dataset`), named ``"entity/project/table"``, so DuckDB
pushes projections and filters down to the segments.
"""

from __future__ import annotations

import os

import pyarrow as pa

from weave_lite.errors import SqlError, WeaveError


def run_sql(query: str, *, root: str | os.PathLike | None = None) -> pa.Table:
    """Run DuckDB ``query`` with the stream tables it names registered as views."""
    try:
        import duckdb
    except ImportError:  # pragma: no cover - depends on the install
        raise WeaveError("`weave-lite sql` needs DuckDB: pip install 'weave_lite[sql]'") from None
    from weave_lite.storage.dataset import snapshot_dataset
    from weave_lite.storage.table import TableLog, list_tables

    con = duckdb.connect()
    try:
        for name in list_tables(root):
            if str(name) in query:
                con.register(str(name), snapshot_dataset(TableLog.open(name, root).snapshot()))
        try:
            relation = con.sql(query)
            return pa.table({}) if relation is None else relation.to_arrow_table()
        except duckdb.Error as exc:
            raise SqlError(str(exc).strip()) from None
    finally:
        con.close()
