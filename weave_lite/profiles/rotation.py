"""Time windows and the rotating profile writer.

``with_rotation_time`` is an optional positive integer followed by a unit, ``s``, ``m``, ``h``
or ``d`` (case-insensitive, as in whylogs v0): ``"s"``, ``"30s"``, ``"m"``, ``"h"``, ``"24h"``,
``"d"``, ``"7d"``. Windows are aligned to the Unix epoch in UTC (``"30s"`` windows start at
:00 and :30, ``"d"`` windows at midnight UTC), and each non-empty window is written as
``<dataset_name>_profile.<UTC window start>.bin`` with the start formatted to the unit's
precision: ``%Y-%m-%d_%H-%M-%S`` (s), ``%Y-%m-%d_%H-%M`` (m), ``%Y-%m-%d_%H`` (h),
``%Y-%m-%d`` (d).

Without rotation there is a single window from the moment the writer is created to its close;
its file is named with the creation time at second precision (``%Y-%m-%d_%H-%M-%S``).

When is a window written?

- as soon as the writer sees the clock past the window's end: on the next ``log`` call, or
  from the writer's background ticker thread (every ``tick`` seconds, default
  ``min(1, interval / 4)``), so an idle stream still gets its finished window on disk;
- on ``close()``, and at interpreter exit for writers never closed.

Files are written atomically (tmp + fsync + rename); a window whose file already exists (a
logger reopened within the same window) is merged into it. A ``kill -9`` therefore loses at
most the open window. A clock going backwards keeps logging into the open window.

A window is written once: its profile is dropped from memory as it is written, and a write
retried after a failure first checks whether the earlier try landed (the folder's fsync can
fail after the rename), so its rows are never merged in twice.

Constraints (``constraints=[...]``, see :mod:`.constraints`) are checked on each window's
profile as it is written; the report goes beside it (``<name>_profile.<start>.report.json``)
and ``on_violation(report)`` is called (on the thread that closed the window) when a constraint
failed. Errors of the check or the callback are printed, never raised into logging. A kill -9
between a window's profile and its report leaves at most the newest window unreported; a writer
with constraints started on the same folder checks it then (the profile itself is not touched).

The clock is injectable: ``clock`` is a callable returning either epoch seconds (``int`` /
``float``) or a ``datetime`` (an aware one; a naive one is taken as UTC). The default calls
``time.time()`` (looked up at each call, so a patched ``time.time`` is honoured).
"""

from __future__ import annotations

import atexit
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from ..errors import InvalidNameError
from ._binio import FormatError
from .dataset import DatasetProfile, check_records, read
from .fileformat import write_atomic

_UNITS = {
    "s": (1, "%Y-%m-%d_%H-%M-%S"),
    "m": (60, "%Y-%m-%d_%H-%M"),
    "h": (3600, "%Y-%m-%d_%H"),
    "d": (86400, "%Y-%m-%d"),
}
_SPEC_RE = re.compile(r"([0-9]*)([smhdSMHD])")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
SECOND_FORMAT = _UNITS["s"][1]


@dataclass(frozen=True)
class Rotation:
    """A parsed ``with_rotation_time``: ``seconds`` per window and the file-name ``fmt``."""

    spec: str
    unit: str
    multiplier: int
    seconds: int
    fmt: str

    def window_start(self, t: float) -> int:
        """Start (epoch seconds) of the epoch-aligned window holding time ``t``."""
        return (int(t // 1) // self.seconds) * self.seconds

    def suffix(self, start: float) -> str:
        return datetime.fromtimestamp(start, tz=UTC).strftime(self.fmt)


def parse_rotation(spec) -> Rotation:
    """Parse ``"30s"``, ``"m"``, ``"24h"``, ``"d"``...; anything else raises ``ValueError``."""
    expected = (
        'expected an optional positive integer followed by one of "s", "m", "h", "d" (e.g. "30s", "m", "24h", "d")'
    )
    if not isinstance(spec, str):
        msg = f"invalid with_rotation_time {spec!r} (a {type(spec).__name__}): {expected}"
        raise ValueError(msg)
    m = _SPEC_RE.fullmatch(spec)
    if m is None:
        msg = f"invalid with_rotation_time {spec!r}: {expected}"
        raise ValueError(msg)
    mult = int(m.group(1)) if m.group(1) else 1
    if mult <= 0:
        msg = f"invalid with_rotation_time {spec!r}: the multiplier must be positive; {expected}"
        raise ValueError(msg)
    unit = m.group(2).lower()
    base, fmt = _UNITS[unit]
    return Rotation(spec=spec, unit=unit, multiplier=mult, seconds=base * mult, fmt=fmt)


def validate_dataset_name(name) -> str:
    if not isinstance(name, str) or _NAME_RE.fullmatch(name) is None:
        msg = (
            f"invalid dataset_name {name!r}: use 1-128 characters from A-Z a-z 0-9 _ . -, "
            "starting with a letter or digit"
        )
        raise InvalidNameError(msg)
    return name


def to_epoch(t) -> float:
    """Epoch seconds from a clock reading (number, or datetime; naive means UTC)."""
    if isinstance(t, datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        return t.timestamp()
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        return float(t)
    msg = f"the clock returned a `{type(t).__name__}`; it must return epoch seconds or a datetime"
    raise TypeError(msg)


def profile_file_name(dataset_name: str, start: float, fmt: str) -> str:
    suffix = datetime.fromtimestamp(start, tz=UTC).strftime(fmt)
    return f"{dataset_name}_profile.{suffix}.bin"


def _system_clock() -> float:
    # looked up at each call, so a test's monkeypatched (or freezegun's) time.time is seen
    return time.time()


# writers not yet closed; closed at interpreter exit (strong references on purpose: a
# logger dropped without close() still gets its open window written)
_OPEN: set[RotatingProfileWriter] = set()
_OPEN_LOCK = threading.Lock()


def _close_all_at_exit() -> None:
    with _OPEN_LOCK:
        writers = list(_OPEN)
    for w in writers:
        try:
            w.close()
        except Exception as e:  # report, keep closing the others
            print(
                f"weave_lite.profiles: could not write the profile of `{w.dataset_name}` at exit: {e}", file=sys.stderr
            )


atexit.register(_close_all_at_exit)


class _Pending:
    """A closed window waiting to be written; ``data``: the bytes of the last try."""

    __slots__ = ("profile", "out", "data")

    def __init__(self, profile: DatasetProfile) -> None:
        self.profile = profile
        self.out: DatasetProfile | None = None
        self.data: bytes | None = None


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


class RotatingProfileWriter:
    """Profiles data as it arrives and writes one profile file per (non-empty) time window.

    Thread-safe: ``log_*`` may be called from any thread (e.g. a StreamTable's background
    writer hands it ``pyarrow.RecordBatch`` objects with :meth:`log_arrow`). Single dict
    records are buffered and profiled ``batch_rows`` at a time, column by column.

    ``rotation`` is a ``with_rotation_time`` string or ``None`` (one profile, written on close).
    ``constraints`` (a list of constraints, or a built ``Constraints``) are checked on each
    window as it is written, ``on_violation(report)`` called when one fails.
    See the module docstring for windows, file names, the clock, durability and constraints.
    """

    def __init__(
        self,
        folder,
        dataset_name: str,
        rotation: str | None = None,
        *,
        clock: Callable[[], object] | None = None,
        batch_rows: int = 8192,
        tick: float | None = None,
        background: bool = True,
        constraints=None,
        on_violation: Callable[[object], None] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.dataset_name = validate_dataset_name(dataset_name)
        self.rotation = None if rotation is None else parse_rotation(rotation)
        self._clock = clock or _system_clock
        self._batch_rows = max(1, int(batch_rows))
        self._lock = threading.RLock()
        self._profile: DatasetProfile | None = None
        self._win_end = float("-inf")
        self._rows: list = []
        self._closed = False
        self._unwritten: list[_Pending] = []
        self._bg_error: BaseException | None = None
        self.written: list[Path] = []
        self._constraints: list = []
        self._reference = None
        self.on_violation = on_violation
        if constraints is not None:
            from .constraints import as_constraint_list

            self._constraints, self._reference = as_constraint_list(constraints)
            self._check_unreported()
        self.opened_at = self._now()
        if self.rotation is None:
            self._open_window(int(self.opened_at // 1), float("inf"))
        with _OPEN_LOCK:
            _OPEN.add(self)
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if background and self.rotation is not None:
            self._tick = tick if tick is not None else min(1.0, self.rotation.seconds / 4)
            self._ticker = threading.Thread(
                target=self._tick_loop, name=f"weave-profile-rotate-{dataset_name}", daemon=True
            )
            self._ticker.start()

    # ------------------------------------------------------------------ time and windows
    def _now(self) -> float:
        t = self._clock()
        return t if type(t) is float else to_epoch(t)

    def _open_window(self, start: float, end: float) -> None:
        self._profile = DatasetProfile(self.dataset_name, start=start, end=None if end == float("inf") else end)
        self._win_end = end

    def path_for(self, start: float) -> Path:
        fmt = self.rotation.fmt if self.rotation is not None else SECOND_FORMAT
        return self.folder / profile_file_name(self.dataset_name, start, fmt)

    def _roll(self, t: float) -> None:
        """Make the window holding ``t`` the open one (called with the lock held)."""
        if self._closed:
            msg = f"the profile logger of `{self.dataset_name}` is closed"
            raise ValueError(msg)
        if self._bg_error is not None:
            err, self._bg_error = self._bg_error, None
            msg = f"writing a profile of `{self.dataset_name}` failed in the background"
            raise RuntimeError(msg) from err
        if self._profile is not None and t >= self._win_end:
            self._close_window()
        if self._profile is None:
            rotation = self.rotation
            assert rotation is not None  # without rotation the one window stays open until close()
            start = rotation.window_start(t)
            self._open_window(start, start + rotation.seconds)

    def _open_profile(self) -> DatasetProfile:
        """The profile of the open window (``_roll`` leaves one open)."""
        profile = self._profile
        assert profile is not None
        return profile

    def _close_window(self) -> None:
        self._flush_rows()
        prof, self._profile = self._profile, None
        self._win_end = float("-inf")
        if prof is not None and self.rotation is None:
            prof.end_epoch = max(self._now(), _window_start(prof))
        if prof is not None and prof.rows > 0:
            self._unwritten.append(_Pending(prof))
        self._write_pending()

    def _write_pending(self) -> None:
        while self._unwritten:
            entry = self._unwritten[0]
            prof = entry.profile
            path = self.path_for(_window_start(prof))
            if entry.data is None or not _holds(path, entry.data):
                # (else an earlier try landed: its rows must not be merged in again)
                out = prof
                if path.exists():
                    try:
                        out = read(path).merge(prof)
                    except (FormatError, OSError):
                        out = prof
                entry.out, entry.data = out, out.to_bytes()
                write_atomic(entry.data, path)
            self._unwritten.pop(0)
            self.written.append(path)
            if self._constraints:
                self._check(entry.out or prof, path)

    def _check(self, prof: DatasetProfile, path: Path) -> None:
        """Check a written window's profile: report beside it, callback on a violation."""
        try:
            from .constraints import check_window, report_path_for

            rpath = report_path_for(path)
            report = check_window(prof, self._constraints, self._reference, profile_path=path, report_path=rpath)
            write_atomic(report.to_json().encode(), rpath)
        except Exception as e:
            print(
                f"weave_lite.profiles: checking the constraints of {path.name} failed: {type(e).__name__}: {e}",
                file=sys.stderr,
            )
            return
        if not report.passed and self.on_violation is not None:
            try:
                self.on_violation(report)
            except Exception as e:
                print(
                    f"weave_lite.profiles: on_violation raised for {path.name}: {type(e).__name__}: {e}",
                    file=sys.stderr,
                )

    def _check_unreported(self) -> None:
        """The newest window file of this dataset without a report (a kill between writing
        the two) gets its report now; the profile file is only read."""
        try:
            files = sorted(self.folder.glob(f"{self.dataset_name}_profile.*.bin"))
        except OSError:
            return
        if not files:
            return
        from .constraints import report_path_for

        newest = files[-1]
        if report_path_for(newest).exists():
            return
        try:
            prof = read(newest)
        except (FormatError, OSError):
            return
        self._check(prof, newest)

    def _flush_rows(self) -> None:
        if self._rows:
            rows, self._rows = self._rows, []
            self._open_profile().update_rows(rows, validate=False)

    def _tick_loop(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                self.rotate_if_due()
            except BaseException as e:  # surfaced on the next call
                self._bg_error = e

    # ------------------------------------------------------------------ logging
    def log_row(self, row: dict) -> None:
        """Log one dict record (buffered; profiled with the others of its window)."""
        t = self._clock()
        if type(t) is not float:
            t = to_epoch(t)
        with self._lock:
            if t >= self._win_end:  # (also true when closed or no window is open: -inf)
                self._roll(t)
            rows = self._rows
            rows.append(row)
            if len(rows) >= self._batch_rows:
                self._flush_rows()

    def log_rows(self, rows) -> None:
        """Log a list of dict records."""
        check_records(rows)
        t = self._now()
        with self._lock:
            if t >= self._win_end or self._profile is None:
                self._roll(t)
            self._rows.extend(rows)
            if len(self._rows) >= self._batch_rows:
                self._flush_rows()

    def log_arrow(self, data: pa.Table | pa.RecordBatch) -> None:
        """Log a pyarrow Table or RecordBatch (profiled at once, column by column)."""
        t = self._now()
        with self._lock:
            if t >= self._win_end or self._profile is None:
                self._roll(t)
            self._open_profile().update_arrow(data)

    def log_pandas(self, df) -> None:
        t = self._now()
        with self._lock:
            if t >= self._win_end or self._profile is None:
                self._roll(t)
            self._open_profile().update_pandas(df)

    def log(self, record) -> None:
        """Log a dict, a list of dicts, a pyarrow Table/RecordBatch or a pandas DataFrame."""
        if type(record) is dict:
            self.log_row(record)
        elif isinstance(record, (pa.RecordBatch, pa.Table)):
            self.log_arrow(record)
        elif isinstance(record, Mapping):
            self.log_row(dict(record))
        elif isinstance(record, (list, tuple)):
            self.log_rows(record)
        elif type(record).__module__.startswith("pandas") and hasattr(record, "columns"):
            self.log_pandas(record)
        elif hasattr(record, "__arrow_c_stream__") or hasattr(record, "__arrow_c_array__"):
            self.log_arrow(pa.table(record))
        else:
            msg = (
                f"cannot log a `{type(record).__name__}`: expected a dict, a list of dicts, "
                "a pyarrow Table/RecordBatch or a pandas DataFrame"
            )
            raise TypeError(msg)

    # ------------------------------------------------------------------ control
    def rotate_if_due(self) -> bool:
        """Write the open window if the clock has passed its end; True if one was written."""
        t = self._now()
        with self._lock:
            if self._closed or self._profile is None or t < self._win_end:
                return False
            self._close_window()
            return True

    def flush(self) -> None:
        """Profile the buffered dict records into the open window (nothing is written)."""
        with self._lock:
            if self._profile is not None:
                self._flush_rows()

    def profile(self) -> DatasetProfile:
        """A copy of the open window's profile, buffered records included."""
        with self._lock:
            if self._profile is None:
                return DatasetProfile(self.dataset_name)
            self._flush_rows()
            return self._profile.copy()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> list[Path]:
        """Write the open window (if not empty) and stop; idempotent. Returns the files written."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._stop.set()
                with _OPEN_LOCK:
                    _OPEN.discard(self)
                try:
                    self._close_window()
                finally:
                    self._profile = None
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join(timeout=5)
        if self._unwritten:
            msg = f"{len(self._unwritten)} profile window(s) of `{self.dataset_name}` could not be written"
            raise RuntimeError(msg)
        return list(self.written)

    def __enter__(self) -> RotatingProfileWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _window_start(profile: DatasetProfile) -> float:
    """A window's profile always has its start (``_open_window`` gives it one)."""
    start = profile.start_epoch
    assert start is not None
    return start
