"""The profile of a dataset: one :class:`ColumnProfile` per column, plus its time window.

``DatasetProfile.update`` takes a pyarrow ``Table`` / ``RecordBatch`` (or anything with
``__arrow_c_stream__``), a pandas ``DataFrame``, one dict or a list of dicts. Columns of a large
batch are profiled on a small thread pool: the Numba kernels release the GIL.
"""

from __future__ import annotations

import itertools
import operator
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from .column import METRICS, ColumnProfile
from .fileformat import decode_profile, profile_to_bytes, write_profile
from .sketches.hll import DEFAULT_LG_K
from .sketches.kll import DEFAULT_K

#: threads used to profile the columns of one large batch (1 disables the pool)
PROFILE_THREADS = min(4, os.cpu_count() or 1)
#: batches with fewer values (rows x columns) than this are profiled on the calling thread
PARALLEL_MIN_VALUES = 200_000

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=PROFILE_THREADS, thread_name_prefix="weave-profile")
        return _pool


def _epoch(t) -> float | None:
    if t is None:
        return None
    if isinstance(t, datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        return t.timestamp()
    return float(t)


def _dt(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, tz=UTC)


_FREQ_TYPE = pa.list_(pa.struct([("value", pa.string()), ("est", pa.int64())]))


def arrow_schema() -> pa.Schema:
    """The schema of :meth:`DatasetProfile.to_arrow`."""
    fields = [pa.field("column", pa.string())]
    for name in METRICS:
        if name == "frequent_items":
            fields.append(pa.field(name, _FREQ_TYPE))
        elif name.startswith(("count", "null_", "nan_", "inf_", "type_")):
            fields.append(pa.field(name, pa.int64()))
        else:
            fields.append(pa.field(name, pa.float64()))
    return pa.schema(fields)


def _series_to_arrow(s):
    """A pandas Series as an Arrow array, float NaN kept as NaN (not turned into null)."""
    kind = s.dtype.kind
    if kind in "iuf" and isinstance(s.dtype, np.dtype):
        return pa.array(s.to_numpy(), from_pandas=False)
    if kind == "b" and isinstance(s.dtype, np.dtype):
        return pa.array(s.to_numpy())
    return pa.array(s, from_pandas=True)


def check_records(rows) -> None:
    """Raise ``TypeError`` unless every item of ``rows`` is a dict (a Mapping)."""
    for tp in set(map(type, rows)):
        if tp is not dict and not issubclass(tp, Mapping):
            i = next(i for i, r in enumerate(rows) if type(r) is tp)
            msg = f"record {i} is a `{tp.__name__}`, not a dict"
            raise TypeError(msg)


class DatasetProfile:
    """Column profiles of a dataset (or of one time window of a stream).

    ``start`` / ``end`` are the window's bounds (UTC ``datetime``, or ``None``), ``rows`` the
    number of records profiled, ``columns`` a dict of :class:`ColumnProfile` in first-seen order.
    """

    def __init__(
        self, name: str = "dataset", *, start=None, end=None, kll_k: int = DEFAULT_K, hll_lg_k: int = DEFAULT_LG_K
    ) -> None:
        self.name = name
        self.start_epoch = _epoch(start)
        self.end_epoch = _epoch(end)
        self.created_epoch = time.time()
        self.rows = 0
        self.columns: dict[str, ColumnProfile] = {}
        self._kll_k = kll_k
        self._hll_lg_k = hll_lg_k

    # ------------------------------------------------------------------ basics
    @property
    def start(self) -> datetime | None:
        return _dt(self.start_epoch)

    @property
    def end(self) -> datetime | None:
        return _dt(self.end_epoch)

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)

    def __getitem__(self, column: str) -> ColumnProfile:
        try:
            return self.columns[column]
        except KeyError:
            msg = f"no column `{column}` in the profile (columns: {', '.join(self.columns) or 'none'})"
            raise KeyError(msg) from None

    def __contains__(self, column: object) -> bool:
        return column in self.columns

    def __len__(self) -> int:
        return len(self.columns)

    def is_empty(self) -> bool:
        return self.rows == 0 and not self.columns

    def __repr__(self) -> str:
        return (
            f"DatasetProfile({self.name!r}, rows={self.rows}, columns={len(self.columns)}, "
            f"start={self.start}, end={self.end})"
        )

    def _column(self, name: str) -> ColumnProfile:
        col = self.columns.get(name)
        if col is None:
            col = self.columns[name] = ColumnProfile(name, kll_k=self._kll_k, hll_lg_k=self._hll_lg_k)
        return col

    # ------------------------------------------------------------------ updates
    def update(self, data) -> DatasetProfile:
        """Profile more data (see the module docstring for what is accepted); returns ``self``."""
        if isinstance(data, (pa.Table, pa.RecordBatch)):
            return self.update_arrow(data)
        if isinstance(data, Mapping):
            return self.update_rows([data])
        if isinstance(data, (list, tuple)):
            return self.update_rows(data)
        if type(data).__module__.startswith("pandas") and hasattr(data, "columns"):
            return self.update_pandas(data)
        if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
            return self.update_arrow(pa.table(data))
        msg = (
            f"cannot profile a `{type(data).__name__}`: expected a dict, a list of dicts, "
            "a pyarrow Table/RecordBatch or a pandas DataFrame"
        )
        raise TypeError(msg)

    def update_arrow(self, data: pa.Table | pa.RecordBatch) -> DatasetProfile:
        names = [str(n) for n in data.schema.names]
        self.rows += data.num_rows
        groups: dict[str, list] = {}
        for name, arr in zip(names, data.columns):
            groups.setdefault(name, []).append(arr)
        self._run(groups, data.num_rows)
        return self

    def update_pandas(self, df) -> DatasetProfile:
        names = [str(c) for c in df.columns]
        self.rows += len(df)
        groups: dict[str, list] = {}
        for i, name in enumerate(names):
            groups.setdefault(name, []).append(df.iloc[:, i])
        self._run(groups, len(df), pandas=True)
        return self

    def _run(self, groups: dict[str, list], nrows: int, pandas: bool = False) -> None:
        cols = {name: self._column(name) for name in groups}

        def work(name: str) -> None:
            col = cols[name]
            for item in groups[name]:
                if pandas:
                    try:
                        arr = _series_to_arrow(item)
                    except (
                        pa.ArrowInvalid,
                        pa.ArrowTypeError,
                        pa.ArrowNotImplementedError,
                        OverflowError,
                        TypeError,
                        ValueError,
                    ):
                        col.update_values(item.tolist())
                        continue
                    col.update_array(arr)
                else:
                    col.update_array(item)

        if PROFILE_THREADS > 1 and len(groups) > 1 and nrows * len(groups) >= PARALLEL_MIN_VALUES:
            try:
                futures = [_get_pool().submit(work, name) for name in groups]
            except RuntimeError:  # interpreter shutting down (a logger closed at exit)
                futures = None
            if futures is not None:
                for f in futures:
                    f.result()
                return
        for name in groups:
            work(name)

    def update_rows(self, rows, *, validate: bool = True) -> DatasetProfile:
        """Profile a list of dict records, column by column (a missing key is not a null)."""
        if validate:
            check_records(rows)
        if not rows:
            return self
        columns = None
        first = rows[0]
        if len(set(map(len, rows))) == 1:
            # common case: every record has the first one's keys (checked by itemgetter)
            try:
                columns = [(k, list(map(operator.itemgetter(k), rows))) for k in first]
            except KeyError:
                columns = None
        if columns is None:
            keys = dict.fromkeys(itertools.chain.from_iterable(rows))
            columns = [(k, [r[k] for r in rows if k in r]) for k in keys]
        self.rows += len(rows)
        for k, vals in columns:
            self._column(k if isinstance(k, str) else str(k)).update_values(vals)
        return self

    # ------------------------------------------------------------------ merge
    def merge(self, other: DatasetProfile) -> DatasetProfile:
        """A new profile of both inputs' data (neither input changes).

        The window becomes the union of both windows; the name is this profile's.
        """
        if not isinstance(other, DatasetProfile):
            msg = f"can only merge a DatasetProfile, not a `{type(other).__name__}`"
            raise TypeError(msg)
        out = self.copy()
        out.merge_in(other)
        return out

    def merge_in(self, other: DatasetProfile) -> DatasetProfile:
        for name, col in other.columns.items():
            mine = self.columns.get(name)
            if mine is None:
                self.columns[name] = col.copy()
            else:
                mine.merge_in(col)
        self.rows += other.rows
        starts = [t for t in (self.start_epoch, other.start_epoch) if t is not None]
        ends = [t for t in (self.end_epoch, other.end_epoch) if t is not None]
        self.start_epoch = min(starts) if starts else None
        self.end_epoch = max(ends) if ends else None
        return self

    def copy(self) -> DatasetProfile:
        out = DatasetProfile(
            self.name, start=self.start_epoch, end=self.end_epoch, kll_k=self._kll_k, hll_lg_k=self._hll_lg_k
        )
        out.created_epoch = self.created_epoch
        out.rows = self.rows
        out.columns = {n: c.copy() for n, c in self.columns.items()}
        return out

    # ------------------------------------------------------------------ queries
    def quantile(self, column: str, q):
        """Quantile(s) of a numeric column at fraction(s) ``q`` in [0, 1] (``None`` if empty)."""
        return self[column].quantile(q)

    def distinct(self, column: str) -> float | None:
        """Estimated number of distinct values of a column."""
        return self[column].distinct()

    distinct_count = distinct

    def frequent_items(self, column: str) -> list[dict] | None:
        return self[column].frequent_items()

    def summary(self) -> dict[str, dict]:
        """``{column: {metric: value}}``."""
        return {name: col.summary() for name, col in self.columns.items()}

    to_dict = summary

    def to_arrow(self) -> pa.Table:
        """One row per column; columns ``column`` then :data:`~.column.METRICS` in order."""
        schema = arrow_schema()
        rows = [{"column": name, **col.summary()} for name, col in self.columns.items()]
        meta = {
            "dataset_name": self.name,
            "start": "" if self.start is None else self.start.isoformat(),
            "end": "" if self.end is None else self.end.isoformat(),
            "rows": str(self.rows),
        }
        return pa.Table.from_pylist(rows, schema=schema).replace_schema_metadata(meta)

    def _repr_html_(self) -> str:
        """Per column: counts, nulls, distinct, mean, quantiles and frequent items."""
        from weave_lite.display.stats import profile_html

        return profile_html(self.to_arrow(), title=f"profile {self.name}")

    def to_pandas(self):
        """:meth:`to_arrow` as a pandas DataFrame (``frequent_items`` as lists of dicts)."""
        import pandas as pd

        rows = [{"column": name, **col.summary()} for name, col in self.columns.items()]
        df = pd.DataFrame.from_records(rows, columns=["column", *METRICS])
        for name in METRICS:
            if name.startswith(("count", "null_", "nan_", "inf_", "type_")):
                df[name] = df[name].astype("int64")
            elif name != "frequent_items":
                df[name] = df[name].astype("float64")
        return df

    # ------------------------------------------------------------------ I/O
    def to_bytes(self) -> bytes:
        return profile_to_bytes(self)

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "profile data") -> DatasetProfile:
        """The profile encoded in ``data``; ``source`` names the bytes in format errors."""
        decoded = decode_profile(data, source=source)
        prof = cls(decoded.name, start=decoded.start_epoch, end=decoded.end_epoch)
        prof.rows = decoded.rows
        prof.created_epoch = decoded.created_epoch
        for col in decoded.columns:
            prof.columns[col.name] = col
        return prof

    def write(self, path) -> os.PathLike:
        """Write the profile to ``path`` atomically (see :mod:`.fileformat`); returns the path."""
        return write_profile(self, path)


def read(path: str | os.PathLike) -> DatasetProfile:
    """Load a profile written by :meth:`DatasetProfile.write` or a logger."""
    p = Path(path)
    return DatasetProfile.from_bytes(p.read_bytes(), source=f"`{p}`")


def profile_table(table, name: str = "dataset") -> DatasetProfile:
    """Profile a pyarrow ``Table`` / ``RecordBatch`` (or pandas DataFrame, dicts) in one go.

    This is what the ``rows.profile`` op and the StreamTable option call.
    """
    return DatasetProfile(name).update(table)
