"""Evaluations in a bounded pool of worker processes, with budgets and cancellation.

The panel server never evaluates an expression in its own process: a web page can send any
expression, and a short one can take the machine (a table mapped over itself, a
``groupby(...).map(g => g.profile)`` of minutes). Each evaluation runs in one of ``size`` worker
processes (:mod:`weave_lite.server.worker`; ``WEAVE_LITE_EVAL_WORKERS``, default 2), so

* the event loop and the metadata endpoints (``/api/tables``, schemas, boards, events) never
  wait for an evaluation: they run in the server process, which only polls the workers;
* at most ``size`` evaluations run at once; more wait (up to ``queue_timeout``) for a free
  worker, then get 429;
* each evaluation has a time budget (``WEAVE_LITE_TIMEOUT`` seconds, default 30) and a memory
  budget (``WEAVE_LITE_MAX_MEMORY`` bytes, default 2 GiB), handed to :func:`weave_lite.evaluate`
  when it takes them (it then refuses a plan before allocating it, with a
  :class:`~weave_lite.errors.ResourceLimitError`);
* the server enforces both itself as a backstop: it kills a worker past the deadline (plus a
  grace when the engine enforces it) or whose memory grew past the budget (``/proc``, Linux);
* an evaluation whose client disconnects is cancelled: through the engine's budget when it is
  cancellable (the worker survives), else, or if that does not stop it within
  :data:`CANCEL_GRACE_SECONDS`, by killing the worker; a killed worker is replaced at once;
* a crash of the engine (even a segfault in a native kernel) costs one worker, not the server.

A worker is a fresh interpreter (``python -m weave_lite.server.worker``, never a re-import of
the server's ``__main__``), so starting one costs the engine's import time, a second or a few:
the server starts its workers before it listens, and kills (hence replacements) are rare when
the engine stops at its own budgets. POSIX only (descriptors are passed to the worker).

The pool is used from one event loop and polls (every :data:`POLL_SECONDS`), so it needs no
asyncio primitive bound to a loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weave_lite.budgets import DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT, service_defaults
from weave_lite.server.worker import DEFAULT_ENGINE, EvalJob, limit_body

if TYPE_CHECKING:
    from weave_lite.storage.names import ObjectRoot

DEFAULT_WORKERS = 2
POLL_SECONDS = 0.02
# Extra time the engine gets past the deadline, when it enforces it itself, before the kill.
ENGINE_GRACE_SECONDS = 2.0
# How long a cooperative cancel may take before the worker is killed.
CANCEL_GRACE_SECONDS = 0.5
# A worker that stays this much above its fresh size after an evaluation is replaced.
RECYCLE_GROWTH_BYTES = 512 * 1024**2
WORKER_START_ATTEMPTS = 3

IsDisconnected = Callable[[], Awaitable[bool]]


# -- budgets ------------------------------------------------------------------------------------


class FromEnvironment:
    """The default of a budget argument: take it from the environment (``None`` is unlimited)."""

    def __repr__(self) -> str:
        return "FROM_ENVIRONMENT"


FROM_ENVIRONMENT: Any = FromEnvironment()


@dataclass(frozen=True)
class Budgets:
    """Per-evaluation limits of the server; ``None`` means unlimited."""

    max_memory: int | None = DEFAULT_MAX_MEMORY
    timeout: float | None = DEFAULT_TIMEOUT

    @classmethod
    def resolve(cls, max_memory: int | None = FROM_ENVIRONMENT, timeout: float | None = FROM_ENVIRONMENT) -> Budgets:
        """The given budgets (``None`` or ``0``: unlimited), else ``$WEAVE_LITE_MAX_MEMORY`` /
        ``$WEAVE_LITE_TIMEOUT``, else the defaults (2 GiB, 30 s). Raises ``ValueError`` for a
        malformed variable."""
        env = environment_budgets()
        memory = env["max_memory"] if max_memory is FROM_ENVIRONMENT else max_memory
        seconds = env["timeout"] if timeout is FROM_ENVIRONMENT else timeout
        return cls(max_memory=int(memory) if memory else None, timeout=float(seconds) if seconds else None)

    def as_dict(self) -> dict:
        return {"max_memory": self.max_memory, "timeout": self.timeout}


def environment_budgets() -> dict:
    """``{"max_memory", "timeout"}`` from the environment, by the engine's own rules."""
    return dict(service_defaults())


def worker_count(size: int | None = None) -> int:
    """``size``, else ``$WEAVE_LITE_EVAL_WORKERS``, else 2 (at least 1)."""
    if size is None:
        text = os.environ.get("WEAVE_LITE_EVAL_WORKERS", "").strip()
        size = int(text) if text.isdigit() else DEFAULT_WORKERS
    return max(1, size)


# -- one worker -----------------------------------------------------------------------------------


def rss_bytes(pid: int | None) -> int | None:
    """Resident memory of process ``pid`` (Linux ``/proc``), else ``None``."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def worker_command(job_fd: int, control_fd: int) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a worker process: a fresh interpreter running
    :mod:`weave_lite.server.worker` (never re-importing the server's ``__main__``), able to
    import this copy of ``weave_lite``."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    return [sys.executable, "-m", "weave_lite.server.worker", str(job_fd), str(control_fd)], env


class EvalWorker:
    """One worker process, the server's ends of its job and control channels, and what it said."""

    def __init__(self, root: str, engine_path: str = DEFAULT_ENGINE):
        job_parent, job_child = socket.socketpair()
        control_parent, control_child = socket.socketpair()
        try:
            command, env = worker_command(job_child.fileno(), control_child.fileno())
            self.process = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, pass_fds=(job_child.fileno(), control_child.fileno())
            )
        finally:
            job_child.close()
            control_child.close()
        self.conn = Connection(job_parent.detach())
        self.control = Connection(control_parent.detach())
        self.conn.send({"root": root, "engine": engine_path, "sys_path": list(sys.path)})
        self.pid: int = self.process.pid
        self.ready = False
        self.fresh_rss: int | None = None
        self.features: frozenset[str] = frozenset()  # budget keywords the engine takes

    def check_ready(self) -> bool:
        """Has the worker announced itself (non-blocking)?"""
        if not self.ready and self.alive() and self.conn.poll():
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                return False
            self.ready = message[0] == "ready"
            self.features = frozenset(message[2]) if self.ready else frozenset()
            self.fresh_rss = rss_bytes(self.pid)
        return self.ready

    @property
    def cancellable(self) -> bool:
        return "budget" in self.features

    def enforces(self, what: str) -> bool:
        """Does the engine in this worker stop at the ``"timeout"``/``"max_memory"`` budget?"""
        return what in self.features or self.cancellable

    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def exitcode(self) -> int | None:
        return self.process.poll()

    def rss(self) -> int | None:
        return rss_bytes(self.pid)

    def cancel(self, job_id: int, reason: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.control.send(("cancel", job_id, reason))

    def kill(self) -> None:
        """Stop the worker now (SIGKILL) and reap it."""
        try:
            self.process.kill()
            self.process.wait(2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self._close_pipes()

    def stop(self) -> None:
        """Ask an idle worker to end; kill it if it does not."""
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        try:
            self.process.wait(1)
        except subprocess.TimeoutExpired:
            self.kill()
            return
        self._close_pipes()

    def _close_pipes(self) -> None:
        self.conn.close()
        self.control.close()


# -- the pool -------------------------------------------------------------------------------------


class ClientGone(Exception):
    """The client disconnected; its evaluation was cancelled."""


class WorkerStartError(Exception):
    """Worker processes die before they are ready (the server log says why)."""


class PoolBusy(Exception):
    """No worker became free in time (or the server is shutting down)."""

    def __init__(self, size: int, waited: float, *, closing: bool = False):
        self.closing = closing
        if closing:
            message = "the server is shutting down"
        else:
            message = f"all {size} evaluation workers are busy (waited {waited:g} s); try again later"
        super().__init__(message)
        self.message = message


@dataclass
class Outcome:
    """How one job ended: the answer, whether its worker can take another job, and whether the
    client had gone."""

    status: int
    body: dict
    reusable: bool
    client_gone: bool = False


def internal_failure(what: str) -> Outcome:
    """A 500 outcome whose worker must go (the server log has the details)."""
    return Outcome(500, {"error": f"{what}; see the server log", "type": "InternalError"}, reusable=False)


@dataclass
class PoolStats:
    completed: int = 0
    cancelled: int = 0
    killed: int = 0
    timed_out: int = 0
    over_memory: int = 0
    crashed: int = 0
    refused_busy: int = 0


class EvalPool:
    """``size`` worker processes evaluating for the data root ``root`` (see the module doc).

    ``engine`` (``"module:function"``) is what the workers call to evaluate: by default
    :func:`weave_lite.evaluate`.
    """

    def __init__(
        self,
        root: str | os.PathLike | ObjectRoot,
        budgets: Budgets,
        *,
        size: int | None = None,
        queue_timeout: float = 60.0,
        engine: str = DEFAULT_ENGINE,
    ):
        self.root = str(root)
        self.engine = engine
        self.budgets = budgets
        self.size = worker_count(size)
        self.queue_timeout = queue_timeout
        self.stats = PoolStats()
        self._idle: list[EvalWorker] = []
        self._busy: set[EvalWorker] = set()
        self._waiting = 0
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._started = False
        self._closed = False
        self._start_failures = 0

    # -- life cycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers (they get ready in the background); idempotent."""
        with self._lock:
            if self._started or self._closed:
                return
            self._started = True
            self._idle.extend(self._spawn() for _ in range(self.size))

    async def wait_ready(self, timeout: float) -> bool:
        """Start the workers and wait (up to ``timeout``) until one can take an evaluation."""
        self.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status()["ready"] > 0:
                return True
            await asyncio.sleep(POLL_SECONDS)
        return False

    def close(self) -> None:
        """Stop every worker, killing busy ones (their evaluations end)."""
        with self._lock:
            self._closed = True
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
            self._busy.clear()
        for worker in busy:
            worker.kill()
        for worker in idle:
            worker.stop()

    def _spawn(self) -> EvalWorker:
        return EvalWorker(self.root, self.engine)

    def status(self) -> dict:
        """The pool for ``GET /api/evaluations``."""
        with self._lock:
            for worker in self._idle:
                worker.check_ready()
            workers = [*self._idle, *self._busy]
            busy = [w.pid for w in self._busy]
        ready = [w for w in workers if w.ready]
        return {
            "workers": self.size,
            "ready": len(ready),
            "busy": len(busy),
            "busy_pids": busy,
            "pids": [w.pid for w in workers],
            "waiting": self._waiting,
            "budgets": self.budgets.as_dict(),
            "engine_budgets": sorted(set().union(*(w.features for w in ready))),
            **vars(self.stats),
        }

    # -- evaluating -------------------------------------------------------------------------------

    async def evaluate(self, expr: str, offset: int, limit: int, is_disconnected: IsDisconnected) -> tuple[int, dict]:
        """``(status, body)`` of one page of ``expr``; raises :class:`ClientGone` when the client
        hung up (its evaluation is cancelled)."""
        self.start()
        worker = await self._acquire(is_disconnected)
        job = EvalJob(next(self._ids), expr, offset, limit, self.budgets.timeout, self.budgets.max_memory)
        outcome = Outcome(500, {}, reusable=False)
        try:
            outcome = await self._run(worker, job, is_disconnected)
        finally:
            self._release(worker, outcome.reusable)
        if outcome.client_gone:
            raise ClientGone()
        return outcome.status, outcome.body

    async def _acquire(self, is_disconnected: IsDisconnected) -> EvalWorker:
        """A ready idle worker, waiting (polling) up to ``queue_timeout``."""
        deadline = time.monotonic() + self.queue_timeout
        self._waiting += 1
        try:
            while True:
                worker = self._take_ready()
                if worker is not None:
                    return worker
                if await is_disconnected():
                    raise ClientGone()
                if time.monotonic() > deadline:
                    self.stats.refused_busy += 1
                    raise PoolBusy(self.size, self.queue_timeout)
                await asyncio.sleep(POLL_SECONDS)
        finally:
            self._waiting -= 1

    def _take_ready(self) -> EvalWorker | None:
        """An idle worker that is ready, now marked busy; dead idle workers are replaced."""
        with self._lock:
            if self._closed:
                raise PoolBusy(self.size, 0, closing=True)
            for worker in list(self._idle):
                if worker.check_ready():
                    self._start_failures = 0
                    self._idle.remove(worker)
                    self._busy.add(worker)
                    return worker
                if not worker.alive():  # died while idle or while starting: replace it
                    self._idle.remove(worker)
                    worker.kill()
                    self._idle.append(self._spawn())
                    self._count_start_failure(worker)
        return None

    def _count_start_failure(self, worker: EvalWorker) -> None:
        if worker.ready:
            return
        self._start_failures += 1
        if self._start_failures >= WORKER_START_ATTEMPTS * self.size:
            self._start_failures = 0
            raise WorkerStartError(
                f"the evaluation workers cannot start (exit code {worker.exitcode}); see the server log"
            )

    def _release(self, worker: EvalWorker, reusable: bool) -> None:
        """Back to the idle list if ``reusable`` and not bloated; else kill it and start another."""
        if reusable and worker.fresh_rss is not None:
            rss = worker.rss()
            reusable = rss is None or rss - worker.fresh_rss < RECYCLE_GROWTH_BYTES
        with self._lock:
            self._busy.discard(worker)
            if self._closed:
                reusable = False
            elif reusable:
                self._idle.append(worker)
            else:
                self._idle.append(self._spawn())
        if not reusable:
            self.stats.killed += 1
            worker.kill()

    async def _run(self, worker: EvalWorker, job: EvalJob, is_disconnected: IsDisconnected) -> Outcome:
        """Send ``job`` to ``worker`` and watch it until it answers or must be stopped."""
        worker.conn.send(job)
        deadline = self._kill_deadline(worker)
        memory_cap = self._memory_cap(worker)
        start_rss = worker.rss()
        while True:
            if worker.conn.poll():
                return await self._receive(worker, job)
            if not worker.alive():
                self.stats.crashed += 1
                return internal_failure(f"the evaluation worker died (exit code {worker.exitcode})")
            if await is_disconnected():
                self.stats.cancelled += 1
                reusable = await self._cancel_gently(worker, job)
                return Outcome(499, {}, reusable, client_gone=True)
            if time.monotonic() > deadline:
                self.stats.timed_out += 1
                message = f"expression ran out of time: stopped after {self.budgets.timeout:g} s (the server's timeout)"
                return Outcome(400, limit_body(message), reusable=False)
            if memory_cap is not None and start_rss is not None and (worker.rss() or 0) - start_rss > memory_cap:
                self.stats.over_memory += 1
                message = f"expression needs too much memory: stopped past {self.budgets.max_memory} bytes (the server's max_memory)"
                return Outcome(400, limit_body(message), reusable=False)
            await asyncio.sleep(POLL_SECONDS)

    async def _receive(self, worker: EvalWorker, job: EvalJob) -> Outcome:
        try:
            message = await asyncio.to_thread(worker.conn.recv)
        except (EOFError, OSError):
            self.stats.crashed += 1
            return internal_failure("the evaluation worker died")
        if message[0] != "done" or message[1] != job.id:
            return internal_failure("the evaluation worker answered out of turn")
        self.stats.completed += 1
        return Outcome(message[2], message[3], reusable=True)

    async def _cancel_gently(self, worker: EvalWorker, job: EvalJob) -> bool:
        """Cancel through the engine's budget; ``True`` if the worker stopped in time (and so
        can be reused), ``False`` if it must be killed."""
        if not worker.cancellable:
            return False
        worker.cancel(job.id, "the client disconnected")
        deadline = time.monotonic() + CANCEL_GRACE_SECONDS
        while time.monotonic() < deadline:
            if worker.conn.poll():
                outcome = await self._receive(worker, job)
                self.stats.completed -= 1  # an answer nobody reads
                return outcome.reusable
            await asyncio.sleep(POLL_SECONDS)
        return False

    def _kill_deadline(self, worker: EvalWorker) -> float:
        """When the worker is killed: at the time budget, or a little later when the engine
        enforces the budget itself (its error is clearer)."""
        if self.budgets.timeout is None:
            return math.inf
        grace = ENGINE_GRACE_SECONDS if worker.enforces("timeout") else 0.0
        return time.monotonic() + self.budgets.timeout + grace

    def _memory_cap(self, worker: EvalWorker) -> int | None:
        """Growth of the worker's memory at which it is killed: the budget, with headroom when
        the engine enforces the budget itself (it measures, and refuses before allocating)."""
        budget = self.budgets.max_memory
        if budget is None:
            return None
        if worker.enforces("max_memory"):
            return budget + max(budget // 4, 256 * 1024**2)
        return budget
