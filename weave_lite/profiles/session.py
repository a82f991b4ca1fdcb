"""The whylogs-v0-style session and logger API.

```python
from weave_lite.profiles import get_or_create_session
session = get_or_create_session()            # writes under the data root, or path=...
with session.logger(dataset_name="dataset", with_rotation_time="h") as logger:
    for record in stream:                    # a dict, a list of dicts, a pyarrow/pandas batch
        logger.log(record)
```

Files go to ``<root>/_profiles/<dataset_name>/`` where ``root`` is the ``root=`` argument, else
``$WEAVE_LITE_ROOT``, else ``~/.weave_lite``; with ``path=`` they go to that folder instead.
Windows, file names, the clock and durability are described in :mod:`.rotation`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from .dataset import DatasetProfile
from .rotation import RotatingProfileWriter, validate_dataset_name


def resolve_root(root=None) -> Path:
    """The data root: ``root``, else ``$WEAVE_LITE_ROOT``, else ``~/.weave_lite``."""
    if root is None:
        root = os.environ.get("WEAVE_LITE_ROOT") or "~/.weave_lite"
    return Path(root).expanduser()


class Logger:
    """Logs records into rotating profiles; use as a context manager or call :meth:`close`.

    ``log(record)`` takes a dict (one record), a list of dicts, a pyarrow Table/RecordBatch or a
    pandas DataFrame. whylogs v0 spellings also work: ``log(features={...})``,
    ``log(feature_name="x", value=1)`` and ``log_dataframe(df)``.
    """

    def __init__(self, writer: RotatingProfileWriter, session: Session | None = None) -> None:
        self._writer = writer
        self._session = session

    @property
    def dataset_name(self) -> str:
        return self._writer.dataset_name

    @property
    def folder(self) -> Path:
        return self._writer.folder

    @property
    def writer(self) -> RotatingProfileWriter:
        return self._writer

    @property
    def written_files(self) -> list[Path]:
        """Profile files written so far, oldest first."""
        return list(self._writer.written)

    @property
    def closed(self) -> bool:
        return self._writer.closed

    def is_active(self) -> bool:
        return not self._writer.closed

    def log(self, record=None, *, features=None, feature_name=None, value=None) -> None:
        if type(record) is dict:
            self._writer.log_row(record)
            return
        if _is_pandas_series(record):  # one row of `df.iterrows()`: a record, not a column
            self._writer.log_row({str(k): _plain(v) for k, v in record.items()})
            return
        if record is None:
            if features is not None:
                record = features
            elif feature_name is not None:
                record = {feature_name: value}
            else:
                msg = "nothing to log: pass a record (a dict, a list of dicts, or a batch)"
                raise TypeError(msg)
        self._writer.log(record)

    def log_dataframe(self, df) -> None:
        self._writer.log(df)

    def flush(self) -> None:
        """Profile the buffered dict records (nothing is written until the window closes)."""
        self._writer.flush()

    def profile(self) -> DatasetProfile:
        """A copy of the open window's profile."""
        return self._writer.profile()

    def close(self) -> list[Path]:
        """Write the open window and stop (idempotent); returns every file written."""
        try:
            return self._writer.close()
        finally:
            if self._session is not None:
                self._session._forget(self)

    def __enter__(self) -> Logger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        rot = self._writer.rotation.spec if self._writer.rotation else None
        return f"Logger({self.dataset_name!r}, with_rotation_time={rot!r}, folder='{self.folder}')"


def _is_pandas_series(record) -> bool:
    return type(record).__name__ == "Series" and type(record).__module__.startswith("pandas")


def _plain(value):
    """A numpy scalar (what a pandas row holds) as the Python value."""
    item = getattr(value, "item", None)
    return item() if callable(item) and getattr(value, "shape", None) == () else value


class Session:
    """Where profiles are written, and a factory of loggers."""

    def __init__(self, path=None, root=None, *, clock: Callable[[], object] | None = None) -> None:
        self.path = None if path is None else Path(path).expanduser()
        self.root = resolve_root(root)
        self.clock = clock
        self._loggers: set[Logger] = set()
        self._lock = threading.Lock()
        self.closed = False

    def folder(self, dataset_name: str) -> Path:
        """The folder a dataset's profiles go to."""
        validate_dataset_name(dataset_name)
        if self.path is not None:
            return self.path
        return self.root / "_profiles" / dataset_name

    def logger(
        self,
        dataset_name: str = "dataset",
        *,
        with_rotation_time: str | None = None,
        clock: Callable[[], object] | None = None,
        batch_rows: int = 8192,
        tick: float | None = None,
        constraints=None,
        on_violation: Callable[[object], None] | None = None,
        dataset_timestamp=None,
    ) -> Logger:
        """A logger writing ``<dataset_name>_profile.<window start>.bin`` files.

        ``with_rotation_time``: ``"s"``, ``"m"``, ``"h"``, ``"d"`` with an optional multiplier
        (``"30s"``, ``"24h"``), or ``None`` for one profile written on close. ``clock``: a
        callable returning epoch seconds or a datetime (default: the session's clock, else
        ``time.time()``). ``batch_rows``:
        how many single-dict records are buffered before being profiled. ``tick``: how often
        (seconds) the background thread checks for a finished window. ``constraints``: checked
        on each window's profile when it closes (report written beside the profile, see
        :mod:`.constraints`); ``on_violation(report)`` is called when one fails.
        ``dataset_timestamp`` (whylogs' name; epoch seconds or a datetime): the time the profile
        is for, instead of the clock's (not with ``with_rotation_time``, whose windows follow
        the clock).
        """
        if dataset_timestamp is not None:
            if with_rotation_time is not None:
                raise ValueError(
                    "dataset_timestamp fixes the profile's time: it cannot be combined with with_rotation_time"
                )
            if clock is not None:
                raise ValueError("give either dataset_timestamp or clock, not both")
            clock = lambda: dataset_timestamp  # noqa: E731
        folder = self.folder(dataset_name)
        writer = RotatingProfileWriter(
            folder,
            dataset_name,
            with_rotation_time,
            clock=clock or self.clock,
            batch_rows=batch_rows,
            tick=tick,
            constraints=constraints,
            on_violation=on_violation,
        )
        lg = Logger(writer, self)
        with self._lock:
            self._loggers.add(lg)
        return lg

    def _forget(self, lg: Logger) -> None:
        with self._lock:
            self._loggers.discard(lg)

    def profile(self, data, dataset_name: str = "dataset") -> DatasetProfile:
        """Profile data in memory (nothing is written)."""
        return DatasetProfile(dataset_name).update(data)

    profile_dataframe = profile

    def log_dataframe(self, df, dataset_name: str = "dataset") -> DatasetProfile:
        """Profile a DataFrame (or any batch) and write it as one profile; returns the profile."""
        with self.logger(dataset_name) as lg:
            lg.log(df)
            prof = lg.profile()
        return prof

    def close(self) -> None:
        """Close every logger of this session (idempotent)."""
        with self._lock:
            loggers = list(self._loggers)
        for lg in loggers:
            lg.close()
        self.closed = True
        with _SESSIONS_LOCK:
            for k, v in list(_SESSIONS.items()):
                if v is self:
                    del _SESSIONS[k]

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.path if self.path is not None else self.root / "_profiles"
        return f"Session('{where}')"


_SESSIONS: dict[tuple, Session] = {}
_SESSIONS_LOCK = threading.Lock()


def get_or_create_session(path=None, root=None, *, clock: Callable[[], object] | None = None) -> Session:
    """The session writing under ``path`` (or the data root); one per location per process.

    ``clock`` (optional) is the default clock of the session's loggers (see :mod:`.rotation`);
    giving one replaces the clock of an existing session for the loggers made after.
    """
    s = Session(path, root, clock=clock)
    key = (None if s.path is None else str(s.path.resolve()), str(s.root.resolve()))
    with _SESSIONS_LOCK:
        cur = _SESSIONS.get(key)
        if cur is not None and not cur.closed:
            if clock is not None:
                cur.clock = clock
            return cur
        _SESSIONS[key] = s
        return s
