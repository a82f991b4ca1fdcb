"""Budgets of one evaluation: how much memory it may take and how long it may run.

A :class:`Budget` travels with an evaluation (on the executor's ``Runtime``, never in a global)
and the engine consults it at three kinds of place:

* ``check()`` - between kernels, between morsels and inside long Python loops (one profile per
  group): raises :class:`~weave_lite.errors.TimeLimitError` past the deadline and
  :class:`~weave_lite.errors.EvaluationCancelled` once another thread called ``cancel()``.
* ``admit(nbytes, what)`` - before a kernel allocates a result whose size it estimated first (a
  join's output from its key counts, a table scanned again for every row of a ``map``, a list
  broadcast to every element of a frame): raises :class:`~weave_lite.errors.MemoryLimitError`
  when the estimate does not fit in what is left, so the allocation never happens.
* ``charge(nbytes, what)`` - after a kernel produced a result: the second line of defence,
  which compares the memory actually in use with the budget.

*Memory in use* is the growth of the process's anonymous resident memory since the evaluation
began (``/proc/self/statm`` on Linux; elsewhere the growth of Arrow's memory pool): what Arrow,
numpy and Python really took, not a model of it. It is process-wide, so work that other threads
do meanwhile counts too; for a server that is the point (the budget protects the machine).

Once a budget has stopped an evaluation every later ``check`` raises the same error again, so the
morsels still queued on other threads stop at once.

The Python API has no budget unless asked; the command line and the server take theirs from
:func:`service_defaults` (``$WEAVE_LITE_MAX_MEMORY``, ``$WEAVE_LITE_TIMEOUT``).
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Mapping
from typing import Any, TypedDict

import pyarrow as pa

from weave_lite.errors import EvaluationCancelled, MemoryLimitError, ResourceLimitError, TimeLimitError

__all__ = [
    "Budget",
    "DEFAULT_MAX_MEMORY",
    "DEFAULT_TIMEOUT",
    "Limits",
    "format_bytes",
    "memory_in_use",
    "parse_bytes",
    "parse_seconds",
    "service_defaults",
]

#: Service defaults (command line and server) when the environment says nothing.
DEFAULT_MAX_MEMORY = 2 * 1024**3
DEFAULT_TIMEOUT = 30.0

_UNLIMITED_WORDS = ("none", "unlimited", "off")
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]*)?(?:e[0-9]+)?)\s*([kmgt]?)(i?b)?", re.IGNORECASE)


class Limits(TypedDict):
    """Keyword arguments of :func:`weave_lite.evaluate`: ``evaluate(expr, **service_defaults())``."""

    max_memory: int | None
    timeout: float | None


# -- measuring memory ---------------------------------------------------------------------------


class _ResidentMemory:
    """Anonymous resident bytes of this process (resident minus file-backed pages, so that
    memory-mapped table segments do not count), read from ``/proc/self/statm`` through one
    descriptor kept open (a read costs a few microseconds). ``None`` where there is no procfs."""

    _PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None
        self._available = os.path.exists("/proc/self/statm")

    def __call__(self) -> int | None:
        if not self._available:
            return None
        fd = self._descriptor()
        if fd is None:
            return None
        try:
            fields = os.pread(fd, 256, 0).split()
            return (int(fields[1]) - int(fields[2])) * self._PAGE
        except (OSError, ValueError, IndexError):
            self._available = False
            return None

    def _descriptor(self) -> int | None:
        pid = os.getpid()
        if self._pid == pid:
            return self._fd
        with self._lock:  # first use, or a forked child: /proc/self of the parent is not ours
            if self._pid != pid:
                try:
                    self._fd = os.open("/proc/self/statm", os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
                except OSError:
                    self._available = False
                    return None
                self._pid = pid
        return self._fd


_resident = _ResidentMemory()


def memory_in_use() -> int:
    """Bytes this process holds now (anonymous resident memory, else Arrow's pool)."""
    resident = _resident()
    return resident if resident is not None else pa.total_allocated_bytes()


# -- the budget -----------------------------------------------------------------------------------


class Budget:
    """The limits of one evaluation and what it has spent so far (see the module docstring).

    ``max_memory`` is in bytes, ``timeout`` in seconds; ``None`` leaves either unlimited. The clock
    starts when the budget is made: make one per evaluation. ``cancel()`` may be called from any
    thread; the evaluation stops at its next check.
    """

    def __init__(self, max_memory: int | None = None, timeout: float | None = None) -> None:
        self.max_memory = _checked_bytes(max_memory)
        self.timeout = _checked_seconds(timeout)
        self.started = time.monotonic()
        self.deadline = None if self.timeout is None else self.started + self.timeout
        self._baseline = memory_in_use() if self.max_memory is not None else 0
        self.peak = 0  # the most memory seen in use (bytes above the baseline)
        self.produced = 0  # bytes of every result charged so far (informative)
        self._cancel_reason: str | None = None
        # The first limit passed, as (class, message, keywords): raised again by later checks.
        self._stopped: tuple[type[ResourceLimitError], str, dict[str, Any]] | None = None

    # -- state ------------------------------------------------------------------------------------

    @property
    def tracks_memory(self) -> bool:
        return self.max_memory is not None

    @property
    def limited(self) -> bool:
        return self.max_memory is not None or self.deadline is not None

    @property
    def cancelled(self) -> bool:
        return self._cancel_reason is not None

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def in_use(self) -> int:
        """Bytes taken since the evaluation began (never negative)."""
        used = max(0, memory_in_use() - self._baseline)
        if used > self.peak:
            self.peak = used
        return used

    def remaining_memory(self) -> int | None:
        return None if self.max_memory is None else self.max_memory - self.in_use()

    # -- control ----------------------------------------------------------------------------------

    def cancel(self, reason: str = "cancelled by the caller") -> None:
        """Stop the evaluation at its next check (thread-safe: one attribute store)."""
        self._cancel_reason = reason

    def check(self) -> None:
        """Raise if the evaluation was cancelled, stopped already, or is past its deadline."""
        if self._stopped is not None:
            self._raise_again()
        if self._cancel_reason is not None:
            self._stop(EvaluationCancelled, f"evaluation cancelled: {self._cancel_reason}")
        if self.deadline is not None and time.monotonic() > self.deadline:
            elapsed = self.elapsed()
            self._stop(
                TimeLimitError,
                f"expression ran out of time: stopped after {elapsed:.2f} s; the timeout is {self.timeout:g} s",
                limit=self.timeout,
                elapsed=elapsed,
            )

    def admit(self, nbytes: int | float, what: str) -> None:
        """Refuse, before allocating, a result estimated at ``nbytes`` that would not fit.

        ``what`` names it for the message, e.g. ``"`join` (400,000,000 rows)"``.
        """
        if self.max_memory is None:
            return
        self.check()
        need = int(min(nbytes, 2**62))
        if need <= 0 or need <= self.max_memory // 64:  # small requests: not worth measuring
            return
        used = self.in_use()
        if used + need > self.max_memory:
            self._stop(
                MemoryLimitError,
                f"expression needs too much memory: {what} would allocate about {format_bytes(need)}"
                + (f" ({format_bytes(used)} already in use)" if used >= 1 << 20 else "")
                + f"; max_memory is {format_bytes(self.max_memory)}",
                limit=self.max_memory,
                estimate=used + need,
            )

    def charge(self, nbytes: int, what: str) -> None:
        """Record a result of ``nbytes`` just produced; raise if the memory in use (or this one
        result) is past ``max_memory``."""
        self.produced += nbytes
        if self.max_memory is None:
            return
        used = max(self.in_use(), nbytes)
        if used > self.max_memory:
            self._stop(
                MemoryLimitError,
                f"expression used too much memory: {format_bytes(used)} in use after {what}; "
                f"max_memory is {format_bytes(self.max_memory)}",
                limit=self.max_memory,
                estimate=used,
            )

    def _stop(self, cls: type[ResourceLimitError], message: str, **keywords: Any) -> None:
        if self._stopped is None:
            self._stopped = (cls, message, keywords)
        self._raise_again()

    def _raise_again(self) -> None:
        # A fresh instance each time: threads raising one object would share its traceback.
        cls, message, keywords = self._stopped  # type: ignore[misc]
        raise cls(message, **keywords)

    def __repr__(self) -> str:
        memory = "unlimited" if self.max_memory is None else format_bytes(self.max_memory)
        timeout = "unlimited" if self.timeout is None else f"{self.timeout:g} s"
        return f"Budget(max_memory={memory}, timeout={timeout})"


# -- defaults and parsing -------------------------------------------------------------------------


def service_defaults(environ: Mapping[str, str] | None = None) -> Limits:
    """The budgets of the command line and the server: ``$WEAVE_LITE_MAX_MEMORY`` (bytes, or
    ``512M``/``2GiB``; default 2 GiB) and ``$WEAVE_LITE_TIMEOUT`` (seconds; default 30).
    ``0`` or ``none`` in either means unlimited. Raises ``ValueError`` naming a malformed variable."""
    env = os.environ if environ is None else environ
    return Limits(
        max_memory=parse_bytes(env.get("WEAVE_LITE_MAX_MEMORY"), DEFAULT_MAX_MEMORY, name="WEAVE_LITE_MAX_MEMORY"),
        timeout=parse_seconds(env.get("WEAVE_LITE_TIMEOUT"), DEFAULT_TIMEOUT, name="WEAVE_LITE_TIMEOUT"),
    )


def parse_bytes(text: str | None, default: int | None = None, *, name: str = "max_memory") -> int | None:
    """``"2147483648"``, ``"512M"``, ``"1.5GiB"`` -> bytes (binary units); empty -> ``default``;
    ``0`` / ``none`` / ``unlimited`` -> ``None`` (no limit)."""
    if text is None or not str(text).strip():
        return default
    text = str(text).strip()
    if text.lower() in _UNLIMITED_WORDS:
        return None
    match = _SIZE.fullmatch(text)
    if match is None:
        msg = f"{name} must be a number of bytes such as 2147483648, 512M or 2GiB, not {text!r}"
        raise ValueError(msg)
    unit = match.group(2).lower()
    value = float(match.group(1)) * (1024 ** (1 + "kmgt".index(unit)) if unit else 1)
    if not math.isfinite(value) or value > 2**62:
        msg = f"{name} is too large: {text!r}"
        raise ValueError(msg)
    return int(value) or None


def parse_seconds(text: str | None, default: float | None = None, *, name: str = "timeout") -> float | None:
    """``"30"``, ``"1.5"`` -> seconds; empty -> ``default``; ``0`` / ``none`` -> ``None``."""
    if text is None or not str(text).strip():
        return default
    text = str(text).strip()
    if text.lower() in _UNLIMITED_WORDS:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        msg = f"{name} must be a number of seconds such as 30 or 1.5, not {text!r}"
        raise ValueError(msg)
    return value or None


def format_bytes(n: int | float) -> str:
    """``268435456`` -> ``"256 MiB"``, ``6.4e9`` -> ``"6.0 GiB"``."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" or n == int(n) else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _checked_bytes(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        msg = f"max_memory must be a positive number of bytes or None, not {value!r}"
        raise ValueError(msg)
    return int(value)


def _checked_seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        msg = f"timeout must be a positive number of seconds or None, not {value!r}"
        raise ValueError(msg)
    return float(value)
