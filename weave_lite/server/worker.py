"""The evaluation worker: the process side of :mod:`weave_lite.server.evaluator`.

``python -m weave_lite.server.worker JOB_FD CONTROL_FD`` is started by the server with two
socket descriptors. On the job channel it first receives ``{"root", "engine", "sys_path"}``,
imports the engine once, warms it up on a small in-memory query, says ``("ready", pid,
features)`` and then answers jobs one at a time:
``EvalJob`` in, ``("done", job id, HTTP status, JSON body)`` out. The control channel carries
``("cancel", job id, reason)``: a thread hands it to the running evaluation's
:class:`weave_lite.budgets.Budget` (when the engine takes ``budget=``), which stops at its next
check; the server kills the worker if it does not stop soon after.

The worker ends when its pipe closes or its parent process is gone (it polls its parent id, so
even a ``kill -9`` of the server leaves no evaluation running).
"""

from __future__ import annotations

import inspect
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

BUDGET_KEYWORDS = ("budget", "timeout", "max_memory")
DEFAULT_ENGINE = "weave_lite.api:evaluate"


@dataclass(frozen=True)
class EvalJob:
    """One page of one expression, with its budgets (``None``: unlimited)."""

    id: int
    expr: str
    offset: int
    limit: int
    timeout: float | None = None
    max_memory: int | None = None


# -- JSON bodies ----------------------------------------------------------------------------------


def error_body(exc: BaseException) -> dict:
    """The JSON body for an engine error: its human message, and where it is when known."""
    from weave_lite.errors import ExpressionError, ParseError

    body: dict[str, Any] = {"error": str(exc), "type": type(exc).__name__}
    if isinstance(exc, ExpressionError):
        body["message"] = exc.message
        if exc.span is not None:
            body["line"] = exc.span.line
            body["column"] = exc.span.column
            body["start"] = exc.span.start
            body["end"] = exc.span.end
    else:
        body["message"] = str(exc).split("\n", 1)[0]
    if isinstance(exc, ParseError):
        body["line"] = exc.line
        body["column"] = exc.column
        body["expected"] = list(exc.expected)
    suggestions = getattr(exc, "suggestions", None)
    if suggestions:
        body["suggestions"] = list(suggestions)
    return body


def limit_body(message: str) -> dict:
    """The body of an evaluation stopped by a budget (shaped like a ``ResourceLimitError``)."""
    return {"error": message, "message": message, "type": "ResourceLimitError"}


def internal_error_body(exc: BaseException) -> dict:
    """A 500 body: the exception's type and first line, never a traceback."""
    first = str(exc).strip().split("\n", 1)[0][:300]
    text = f"internal error while evaluating: {type(exc).__name__}" + (f": {first}" if first else "")
    return {"error": text, "type": "InternalError"}


# -- calling the engine ---------------------------------------------------------------------------


class Engine:
    """``weave_lite.evaluate`` with whichever budget keywords it takes (by its signature):
    ``budget=`` (cancellable) if it can, else ``timeout=``/``max_memory=``, else none."""

    def __init__(self, evaluate: Callable[..., Any]):
        self.evaluate = evaluate
        self.features = frozenset(_keywords(evaluate, BUDGET_KEYWORDS))
        self._budget_class = _budget_class() if "budget" in self.features else None
        if self._budget_class is None:
            self.features = self.features - {"budget"}

    @property
    def cancellable(self) -> bool:
        return "budget" in self.features

    def enforces(self, what: str) -> bool:
        """Does the engine itself stop at the ``"timeout"`` / ``"max_memory"`` budget?"""
        return what in self.features or self.cancellable

    def run(self, job: EvalJob, root: str, on_budget: Callable[[Any], None]) -> Any:
        """The result of ``job.expr``; ``on_budget`` gets the cancellable budget, if any."""
        if self._budget_class is not None:
            budget = self._budget_class(max_memory=job.max_memory, timeout=job.timeout)
            on_budget(budget)
            return self.evaluate(job.expr, root=root, budget=budget)
        kwargs: dict[str, Any] = {}
        if "timeout" in self.features and job.timeout is not None:
            kwargs["timeout"] = job.timeout
        if "max_memory" in self.features and job.max_memory is not None:
            kwargs["max_memory"] = job.max_memory
        return self.evaluate(job.expr, root=root, **kwargs)


# Engines a worker may load. The path comes from the server's own command line, never from a
# request; only weave_lite's evaluate and the tests' stand-in engines are allowed.
_ALLOWED_ENGINE_PREFIXES = ("weave_lite.api:", "tests.server.fake_engines:")


def load_function(path: str) -> Callable[..., Any]:
    """The function ``"package.module:name"`` (one of the allowed engines)."""
    import pkgutil

    if not path.startswith(_ALLOWED_ENGINE_PREFIXES):
        raise ValueError(f"engine {path!r} is not allowed")
    return pkgutil.resolve_name(path)


def _keywords(func: Callable[..., Any], wanted: tuple[str, ...]) -> set[str]:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return set()
    return {name for name in wanted if name in params}


def _budget_class() -> type | None:
    try:
        from weave_lite.budgets import Budget
    except ImportError:
        return None
    return Budget


class Running:
    """The job being evaluated and its budget, shared with the control thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job_id: int | None = None
        self._budget: Any = None

    def begin(self, job_id: int) -> None:
        with self._lock:
            self._job_id, self._budget = job_id, None

    def attach(self, budget: Any) -> None:
        with self._lock:
            self._budget = budget

    def end(self) -> None:
        with self._lock:
            self._job_id, self._budget = None, None

    def cancel(self, job_id: int, reason: str) -> None:
        with self._lock:
            if self._job_id == job_id and self._budget is not None:
                self._budget.cancel(reason)


def run_job(
    engine: Engine, job: EvalJob, root: str, running: Running | None = None, cache: Any = None
) -> tuple[int, dict]:
    """Evaluate ``job`` and cut its page: ``(HTTP status, JSON body)``.

    With ``cache`` (a :class:`weave_lite.server.result_cache.ResultCache`), the next page of the
    same expression over unchanged data is cut from the kept result: no new evaluation or sort.
    """
    from weave_lite.errors import WeaveError
    from weave_lite.server import results

    running = running or Running()
    start = time.perf_counter()
    running.begin(job.id)
    try:
        if cache is None:
            result = engine.run(job, root, running.attach)
        else:
            result = cache.get(job.expr, root, lambda: engine.run(job, root, running.attach))
        body = results.page(result, offset=job.offset, limit=job.limit)
    except WeaveError as exc:
        return 400, error_body(exc)
    except (RecursionError, MemoryError) as exc:
        return 400, limit_body(f"expression too large to evaluate: {type(exc).__name__}")
    except Exception as exc:  # an engine bug: logged in full here, answered without a traceback
        traceback.print_exc(file=sys.stderr)
        return 500, internal_error_body(exc)
    finally:
        running.end()
    body["expr"] = job.expr
    body["elapsed_ms"] = round((time.perf_counter() - start) * 1000, 3)
    return 200, body


# -- the process ----------------------------------------------------------------------------------


def worker_main(conn: Connection, control: Connection, root: str, engine_path: str = DEFAULT_ENGINE) -> None:
    """A worker's life: announce ``("ready", pid, features)``, then answer jobs until EOF.

    ``engine_path`` (``"module:function"``) names the evaluate function: the engine's own, or a
    stand-in with its signature (tests).
    """
    _exit_with_parent()
    from weave_lite.server.result_cache import ResultCache

    engine = Engine(load_function(engine_path))
    if engine_path == DEFAULT_ENGINE:
        _warm_up(engine.evaluate)
    running = Running()
    cache = ResultCache()
    threading.Thread(target=_listen_for_cancels, args=(control, running), name="weave-lite-cancel", daemon=True).start()
    conn.send(("ready", os.getpid(), sorted(engine.features)))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        status, body = run_job(engine, job, root, running, cache)
        try:
            conn.send(("done", job.id, status, body))
        except Exception as exc:  # an unpicklable body: should not happen; never hang the server
            conn.send(("done", job.id, 500, internal_error_body(exc)))


# Loads what every table query needs (the parser, planner, executor, Arrow): ``import weave_lite``
# defers all of it, and a fresh worker's first job would pay it inside its time budget.
_WARM_UP_EXPR = 'table("warm").rows.filter(r => r["x"] > 0).map(r => r["x"] * 2).sum'


def _warm_up(evaluate: Callable[..., Any]) -> None:
    """Run one small query on an in-memory table before saying ready (errors ignored: a worker
    that cannot warm up still answers, and reports its real errors per job)."""
    try:
        import pyarrow as pa

        evaluate(_WARM_UP_EXPR, tables={"warm": pa.table({"x": [1, 2, 3]})})
    except Exception:  # a warm-up only
        pass


def main(argv: list[str] | None = None) -> None:
    """The worker process: ``JOB_FD CONTROL_FD`` (inherited socket descriptors)."""
    args = sys.argv[1:] if argv is None else argv
    conn, control = Connection(int(args[0])), Connection(int(args[1]))
    try:
        init = conn.recv()
    except (EOFError, OSError):
        return
    sys.path[:] = [*init["sys_path"], *(p for p in sys.path if p not in init["sys_path"])]
    worker_main(conn, control, init["root"], init["engine"])


def _listen_for_cancels(control: Connection, running: Running) -> None:
    while True:
        try:
            message = control.recv()
        except (EOFError, OSError):
            return
        if isinstance(message, tuple) and message[:1] == ("cancel",):
            running.cancel(message[1], message[2] if len(message) > 2 else "cancelled by the server")


def _exit_with_parent() -> None:
    """End this worker when its parent, the server, is gone (even mid-evaluation, even after a
    ``kill -9`` of the server)."""
    parent_pid = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="weave-lite-parent-watch", daemon=True).start()


if __name__ == "__main__":
    # Run the imported module's main, so that pickled jobs (``weave_lite.server.worker.EvalJob``)
    # and this code are one module, not two copies.
    from weave_lite.server.worker import main as _main

    _main()
