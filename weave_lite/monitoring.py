"""Monitors of function calls, modelled on Weave's ``weave.monitoring``.

```python
import weave_lite
mon = weave_lite.init_monitor("acme/prod/predict")     # a StreamTable "acme/prod/predict"

@mon.trace()
def predict(prompt: str, temperature: float = 0.7) -> str:
    ...

predict("hi", monitor_attributes={"user": "u1"})       # logged as one row
with mon.attributes({"release": "v2"}):                # attributes of every call inside
    predict("hi")
mon.rows()                                             # a lazy node over the calls' table
```

Each call is one row: ``name`` (module.qualname), ``span_id``, ``parent_id`` (the traced call
this one ran inside, or null), ``status_code`` (``SUCCESS`` / ``ERROR``, as OpenTelemetry and
Weave), ``inputs`` (every parameter by name, defaults applied), ``output``, ``exception``
(``"Type: message"`` as Weave, plus ``exception_type`` and ``exception_message``),
``start_time`` and ``end_time`` (UTC), ``latency_ms`` and ``attributes`` (``static_attributes``
of the decorator, then ``mon.attributes(...)`` blocks, then the call's ``monitor_attributes=``
keyword, which is taken out of the call). A value the table cannot hold (an object, a set, a
non-str dict key ...) is logged as its ``repr``.

The cost in the caller is a few clock reads and a deque append: the arguments are bound, made
loggable and logged on the monitor's own thread, which hands the rows to the StreamTable's
background writer. So a monitor never raises into the traced function (its exceptions are
re-raised unchanged; a value that cannot be logged, or a failing table, is reported on stderr)
and ``benchmarks/monitoring.py`` measures its overhead (goal: at most 5 us a call). The values
are read on that thread a moment after the call returns: an argument mutated right after the
call may be logged mutated. ``flush()`` waits until every finished call is durable;
``finish()`` also stops the threads (they are daemons, flushed at exit).
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import datetime as _dt
import functools
import inspect
import itertools
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from weave_lite.row_validation import RowError, normalize_row


class StatusCode:
    """Span status, as OpenTelemetry (and Weave)."""

    UNSET = "UNSET"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"


# (never mutated: ``attributes`` sets a new dict)
_attributes: contextvars.ContextVar[dict] = contextvars.ContextVar("weave_lite_monitor_attributes", default={})  # noqa: B039
_parent: contextvars.ContextVar[int | None] = contextvars.ContextVar("weave_lite_monitor_parent", default=None)
_span_ids = itertools.count(1)
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_NO_OUTPUT = object()
_MAX_DEPTH = 8

#: finished calls are turned into rows and logged this often (seconds), or at once past
#: :data:`BATCH_CALLS` waiting
INTERVAL = 0.05
BATCH_CALLS = 5000
#: calls waiting past this many are dropped (counted in ``Monitor.dropped``) rather than let
#: a caller outpacing the monitor's thread grow memory without bound
MAX_WAITING = 1_000_000


def get_function_name(fn: Callable) -> str:
    return f"{getattr(fn, '__module__', None) or '?'}.{getattr(fn, '__qualname__', getattr(fn, '__name__', '?'))}"


def _loggable(value: Any, depth: int = 0) -> Any:
    """``value`` if the table can hold it (containers made so recursively), else its repr."""
    t = type(value)
    if value is None or t is bool or t is float:
        return value
    if t is str:
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not storable
            return ascii(value)
        return value
    if t is int:
        return value if -(2**63) <= value < 2**63 else repr(value)
    if depth < _MAX_DEPTH:
        if t is list or t is tuple:
            return [_loggable(v, depth + 1) for v in value]
        if t is dict:
            if all(type(k) is str for k in value):
                return {k: _loggable(v, depth + 1) for k, v in value.items()}
            return _repr(value)
    try:
        return normalize_row({"v": value})["v"]
    except (RowError, TypeError, ValueError, RecursionError):
        return _repr(value)


def _repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as e:
        return f"<{type(value).__name__} object (repr raised {type(e).__name__})>"


class _Binder:
    """Arguments by parameter name, defaults applied (``Signature.bind``, with a fast path for
    plain positional-or-keyword parameters)."""

    __slots__ = ("defaults", "names", "sig")

    def __init__(self, fn: Callable) -> None:
        self.sig = _safe_signature(fn)
        self.names: tuple | None = None
        self.defaults: dict = {}
        if self.sig is not None:
            params = list(self.sig.parameters.values())
            if all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params):
                self.names = tuple(p.name for p in params)
                self.defaults = {p.name: p.default for p in params if p.default is not p.empty}

    def __call__(self, args: tuple, kwargs: dict) -> dict:
        names = self.names
        if names is not None and not kwargs and len(args) <= len(names):
            out = dict(zip(names, args))
            if len(args) < len(names):
                defaults = self.defaults
                for n in names[len(args) :]:
                    if n not in defaults:
                        return _bind(self.sig, args, kwargs)
                    out[n] = defaults[n]
            return out
        return _bind(self.sig, args, kwargs)


def _bind(sig: inspect.Signature | None, args: tuple, kwargs: dict) -> dict:
    if sig is not None:
        try:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            return dict(bound.arguments)
        except TypeError:
            pass
    out = {f"arg{i}": a for i, a in enumerate(args)}
    out.update(kwargs)
    return out


class Monitor:
    """Traces calls into a :class:`~weave_lite.StreamTable` (see the module docstring)."""

    def __init__(self, streamtable) -> None:
        self._streamtable = streamtable
        self._calls: deque = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._busy = 0
        self._stop = False
        self._thread: threading.Thread | None = None
        self._sigs: dict[Any, _Binder] = {}
        self.dropped = 0
        _MONITORS.add(self)

    @property
    def streamtable(self):
        return self._streamtable

    # -- the caller's side ---------------------------------------------------------------------
    @contextlib.contextmanager
    def attributes(self, attributes: dict[str, Any]) -> Iterator[None]:
        """Attributes of every call traced inside the block (nested blocks add theirs)."""
        token = _attributes.set({**_attributes.get(), **attributes})
        try:
            yield
        finally:
            _attributes.reset(token)

    def _record(self, call: tuple) -> None:
        calls = self._calls
        if len(calls) >= MAX_WAITING:
            self.dropped += 1
            return
        calls.append(call)
        if self._thread is None:
            self._start()
        elif len(calls) >= BATCH_CALLS:
            self._wake.set()

    def trace(self, *, static_attributes: dict[str, Any] | None = None) -> Callable[[Callable], Callable]:
        """A decorator logging every call of a sync or async function."""
        static = dict(static_attributes or {})

        def decorator(fn: Callable) -> Callable:
            name = get_function_name(fn)
            record = self._record
            perf = time.perf_counter_ns
            wall = time.time_ns
            attrs_var = _attributes
            parent_var = _parent
            ids = _span_ids

            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                    extra = kwargs.pop("monitor_attributes", None)
                    span = next(ids)
                    parent = parent_var.get()
                    token = parent_var.set(span)
                    attrs = attrs_var.get()
                    t_wall = wall()
                    t0 = perf()
                    try:
                        out = await fn(*args, **kwargs)
                    except BaseException as e:
                        t1 = perf()
                        parent_var.reset(token)
                        record(
                            (fn, name, span, parent, args, kwargs, _NO_OUTPUT, e, t_wall, t1 - t0, static, attrs, extra)
                        )
                        raise
                    t1 = perf()
                    parent_var.reset(token)
                    record((fn, name, span, parent, args, kwargs, out, None, t_wall, t1 - t0, static, attrs, extra))
                    return out

                return async_wrapper

            @functools.wraps(fn)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                extra = kwargs.pop("monitor_attributes", None) if kwargs else None
                span = next(ids)
                parent = parent_var.get()
                token = parent_var.set(span)
                attrs = attrs_var.get()
                t_wall = wall()
                t0 = perf()
                try:
                    out = fn(*args, **kwargs)
                except BaseException as e:
                    t1 = perf()
                    parent_var.reset(token)
                    record((fn, name, span, parent, args, kwargs, _NO_OUTPUT, e, t_wall, t1 - t0, static, attrs, extra))
                    raise
                t1 = perf()
                parent_var.reset(token)
                record((fn, name, span, parent, args, kwargs, out, None, t_wall, t1 - t0, static, attrs, extra))
                return out

            return sync_wrapper

        return decorator

    # -- the monitor's thread ------------------------------------------------------------------
    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop:
                self._thread = threading.Thread(target=self._run, name="weave_lite-monitor", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(INTERVAL)
            self._wake.clear()
            self._drain()
            if self._stop and not self._calls:
                return

    def _drain(self) -> None:
        calls = self._calls
        while calls:
            batch: list = []
            with self._lock:
                self._busy += 1
            try:
                while calls and len(batch) < BATCH_CALLS:
                    batch.append(calls.popleft())
                rows = []
                for call in batch:
                    try:
                        rows.append(self._row(call))
                    except Exception as e:
                        self.dropped += 1
                        print(f"weave_lite.monitoring: could not log a call of {call[1]}: {e}", file=sys.stderr)
                self._log(rows)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._idle.notify_all()

    def _log(self, rows: list[dict]) -> None:
        """Log rows whose values :func:`_loggable` made storable: as one Arrow batch (the bulk
        path, validated by Arrow type), else row by row through the validating path."""
        st = self._streamtable
        if st is None or not rows:
            return
        try:
            st.log(_calls_batch(rows))
            return
        except Exception:
            pass
        for row in rows:
            try:
                st.log([_with_datetimes(row)])
            except Exception as e:
                self.dropped += 1
                print(f"weave_lite.monitoring: could not log a call of {row.get('name')}: {e}", file=sys.stderr)

    def _binder(self, fn: Callable) -> _Binder:
        try:
            return self._sigs[fn]
        except KeyError:
            pass
        except TypeError:  # unhashable callable
            return _Binder(fn)
        b = self._sigs[fn] = _Binder(fn)
        return b

    def _row(self, call: tuple) -> dict:
        (fn, name, span, parent, args, kwargs, out, exc, t_wall, dt_ns, static, attrs, extra) = call
        inputs = self._binder(fn)(args, kwargs)
        attributes = {**static, **attrs, **(extra or {})} if (attrs or extra) else static
        start_us = t_wall // 1000
        row = {
            "name": name,
            "span_id": span,
            "parent_id": parent,
            "status_code": StatusCode.ERROR if exc is not None else StatusCode.SUCCESS,
            "inputs": {str(k): _loggable(v) for k, v in inputs.items()},
            "output": None if out is _NO_OUTPUT else _loggable(out),
            "exception": None if exc is None else f"{type(exc).__name__}: {_str(exc)}",
            "exception_type": None if exc is None else type(exc).__name__,
            "exception_message": None if exc is None else _str(exc),
            "start_time": start_us,
            "end_time": start_us + dt_ns // 1000,
            "latency_ms": dt_ns / 1e6,
            "attributes": {str(k): _loggable(v) for k, v in attributes.items()},
        }
        return row

    # -- control -------------------------------------------------------------------------------
    def _wait_drained(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        self._wake.set()
        with self._lock:
            while self._calls or self._busy:
                if self._thread is None or not self._thread.is_alive():
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._wake.set()
                self._idle.wait(0.01 if left is None else min(0.01, left))
        if self._calls:  # no thread (stopped): drain here
            self._drain()
        return True

    def flush(self, timeout: float | None = None) -> None:
        """Block until every call finished so far is logged and durable."""
        self._wait_drained(timeout)
        if self._streamtable is not None:
            self._streamtable.flush()

    def finish(self) -> None:
        """Flush, then stop the monitor's thread and the table's writer (idempotent)."""
        self._wait_drained(None)
        with self._lock:
            self._stop = True
        self._wake.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=10)
        self._thread = None
        self._stop = False
        if self._streamtable is not None:
            self._streamtable.finish()
        _MONITORS.discard(self)

    def rows(self):
        """A lazy node over the table of calls (``.evaluate()`` it, or chain ops)."""
        return None if self._streamtable is None else self._streamtable.rows()

    def __repr__(self) -> str:
        return f"Monitor({self._streamtable!r})"


def _calls_batch(rows: list[dict]):
    from weave_lite.storage.values import rows_to_batch
    from weave_lite.writer import timestamp_column

    times = {}
    for key in ("start_time", "end_time"):
        times[key] = timestamp_column(np.fromiter((r[key] for r in rows), dtype=np.int64, count=len(rows)))
    batch = rows_to_batch(rows, times)
    order = [n for n in _COLUMNS if n in batch.schema.names]
    return batch.select(order)


def _with_datetimes(row: dict) -> dict:
    out = dict(row)
    for key in ("start_time", "end_time"):
        out[key] = _EPOCH + _dt.timedelta(microseconds=row[key])
    return out


_COLUMNS = (
    "name",
    "span_id",
    "parent_id",
    "status_code",
    "inputs",
    "output",
    "exception",
    "exception_type",
    "exception_message",
    "start_time",
    "end_time",
    "latency_ms",
    "attributes",
)


def _str(e: BaseException) -> str:
    try:
        return str(e)
    except Exception:
        return _repr(e)


def _safe_signature(fn: Callable) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


_MONITORS: set[Monitor] = set()
_global_monitor: Monitor | None = None


def _finish_all() -> None:
    for m in list(_MONITORS):
        try:
            m.finish()
        except Exception as e:
            print(f"weave_lite.monitoring: could not flush a monitor at exit: {e}", file=sys.stderr)


atexit.register(_finish_all)


def new_monitor(stream_key: str, *, root=None, **stream_table_options: Any) -> Monitor:
    """A new Monitor logging into the StreamTable ``stream_key`` (``"e/p/t"`` or ``"p/t"``)."""
    from weave_lite.stream_table import StreamTable

    tokens = stream_key.split("/")
    if len(tokens) not in (2, 3) or not all(tokens):
        msg = "stream_key must be of the form 'entity/project/stream_name' or 'project/stream_name'"
        raise ValueError(msg)
    return Monitor(StreamTable(stream_key, root=root, **stream_table_options))


def init_monitor(stream_key: str, *, root=None, **stream_table_options: Any) -> Monitor:
    """Initialise the global monitor on the table ``stream_key`` and return it.

    ``root`` and the other keywords go to :class:`~weave_lite.StreamTable`
    (``batch_rows``, ``batch_interval``, ``profile_rotation``, ``constraints``...).
    """
    global _global_monitor
    mon = new_monitor(stream_key, root=root, **stream_table_options)
    if _global_monitor is None:
        _global_monitor = mon
        return mon
    # as Weave: the global monitor is kept (functions traced with ``trace()`` log into it)
    # and pointed at the new table
    _global_monitor.flush()
    _MONITORS.discard(mon)
    _global_monitor._streamtable = mon.streamtable
    return _global_monitor


def default_monitor() -> Monitor:
    """The global monitor (one logging nowhere until :func:`init_monitor`)."""
    global _global_monitor
    if _global_monitor is None:
        _global_monitor = Monitor(None)
    return _global_monitor


def deinit_monitor() -> None:
    global _global_monitor
    if _global_monitor is not None:
        _global_monitor.finish()
    _global_monitor = None


def trace(*, static_attributes: dict[str, Any] | None = None) -> Callable[[Callable], Callable]:
    """``@trace()``: trace into the global monitor (as ``weave.monitoring.trace``)."""
    return default_monitor().trace(static_attributes=static_attributes)


__all__ = ["Monitor", "StatusCode", "default_monitor", "deinit_monitor", "init_monitor", "new_monitor", "trace"]
