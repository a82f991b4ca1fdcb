"""The panel server: a Starlette app with a JSON API under ``/api/`` and the static web page.

Endpoints (all JSON unless said otherwise; errors are ``{"error": message, ...}``):

* ``GET  /api/tables``                      every table with its row count and version
* ``GET  /api/tables/{entity}/{project}/{table}``   the table's schema (columns and types; also
  ``/api/schema/{entity}/{project}/{table}`` and ``/api/schema?table=...``)
* ``GET|POST /api/evaluate``                ``expr``, ``limit`` (default 100, at most 10,000),
  ``offset``: one page of the expression's result; a bad expression is a 400 whose ``error`` is
  the engine's message (``line``/``column``/``expected`` for a parse error)
* ``GET  /api/evaluations``                 the evaluation pool: workers, busy, budgets, counts
* ``GET  /api/ops``                         op names (for completion)
* ``GET  /api/boards``, ``GET|PUT|POST|DELETE /api/boards/{name}``   boards
* ``GET  /api/events``                      server-sent events: ``commit`` when a table grows
* ``GET  /api/live``                        ``expr``, ``limit``, ``offset``: server-sent events,
  ``result`` with the page (as ``/api/evaluate``) and again after each commit, from a live
  query kept for the panel (:mod:`weave_lite.server.live`)

Threat model: the server listens on loopback and evaluates expressions only (never Python), with
the data root fixed at start, reading and writing nothing outside that root. What can reach it
is any local process, including the user's browser running a hostile page. So
(:mod:`weave_lite.server.guard`) it answers only loopback ``Host`` names (DNS rebinding), refuses
cross-origin API calls and state changes (``Origin``, ``Sec-Fetch-Site``), takes bodies only as
``application/json`` and refuses an oversized body while it streams in; input is read strictly
(:mod:`weave_lite.server.inputs`: every malformed input is a 4xx JSON error); and evaluations run
in a bounded pool of worker processes with time and memory budgets, cancelled when their client
hangs up (:mod:`weave_lite.server.evaluator`), so that no expression stalls the metadata
endpoints or the machine. An unexpected error is a 500 JSON body without a traceback (the
traceback goes to the server log).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from weave_lite.errors import InvalidNameError, TableNotFoundError, WeaveError
from weave_lite.server import results
from weave_lite.server.boards import MAX_EXPR_CHARS, BoardError, BoardNotFound, BoardStore
from weave_lite.server.evaluator import (
    FROM_ENVIRONMENT,
    Budgets,
    ClientGone,
    EvalPool,
    PoolBusy,
    WorkerStartError,
)
from weave_lite.server.guard import LOOPBACK_NAMES, RequestGuard
from weave_lite.server.inputs import (
    MAX_OFFSET,
    ApiError,
    check_fields,
    check_text,
    int_field,
    parse_json,
    str_field,
)
from weave_lite.server.live import LiveHub, LivePage
from weave_lite.server.profile_reports import profile_reports
from weave_lite.server.worker import error_body
from weave_lite.storage.names import TableName, data_root
from weave_lite.storage.table import TableLog, list_tables

__all__ = ["ApiError", "PanelServer", "create_app", "error_body", "serve"]

STATIC_DIR = Path(__file__).parent / "static"
MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LOOPBACK_HOSTS = list(LOOPBACK_NAMES)
EXPR_KEYS = ("expr", "expression", "query")
EVALUATE_FIELDS = (*EXPR_KEYS, "limit", "offset")
BOARD_FIELDS = ("name", "format", "panels", "links", "saved_at")
WORKER_READY_TIMEOUT = 60.0
CLIENT_CLOSED_REQUEST = 499  # never seen by anyone: the client is gone


class SafeJSONResponse(JSONResponse):
    """JSON that always encodes: a lone surrogate that slipped into a message (an echoed
    expression, a file name) is written as its ``\\uXXXX`` escape instead of failing."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
        return text.encode("utf-8", "backslashreplace")


class Watch:
    """What one event stream has seen: the last snapshot of each table, and whether its first
    poll (which announces nothing) is done."""

    def __init__(self) -> None:
        self.snapshots: dict[str, Any] = {}
        self.started = False

    def versions(self) -> dict[str, int]:
        return {name: snap.version for name, snap in self.snapshots.items()}


class PanelServer:
    """State shared by the endpoints: the data root, cached table logs, boards, the pool."""

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        *,
        poll_interval: float = 0.2,
        budgets: Budgets | None = None,
        eval_workers: int | None = None,
    ):
        self.root = data_root(root)
        self.poll_interval = poll_interval
        self.closing = False  # set when the server shuts down: event streams end
        self.boards = BoardStore(self.root)
        self.pool = EvalPool(self.root, budgets or Budgets.resolve(), size=eval_workers)
        self.live = LiveHub(self.root)
        self._logs: dict[str, TableLog] = {}
        self._logs_lock = threading.Lock()

    # -- tables ----------------------------------------------------------------------------------

    def table_log(self, name: TableName) -> TableLog:
        key = str(name)
        with self._logs_lock:
            log = self._logs.get(key)
            if log is None:
                log = self._logs[key] = TableLog(name, self.root)
            return log

    def tables(self) -> list[dict]:
        out = []
        for name in list_tables(self.root):
            info: dict[str, Any] = {
                "name": str(name),
                "entity": name.entity,
                "project": name.project,
                "table": name.table,
            }
            try:
                snap = self.table_log(name).snapshot()
                info.update(num_rows=snap.num_rows, version=snap.version)
            except (WeaveError, OSError) as exc:  # a table being created right now, or damaged
                info.update(num_rows=None, version=None, error=str(exc))
            out.append(info)
        return out

    def schema(self, name_text: str) -> dict:
        if name_text.endswith("/schema"):
            name_text = name_text[: -len("/schema")]
        try:
            name = TableName.parse(name_text)
        except InvalidNameError as exc:
            raise ApiError(400, str(exc)) from None
        log = self.table_log(name)
        if not log.exists():
            raise ApiError(404, f"no table `{name}` under {self.root}")
        snap = log.snapshot()
        return {
            "name": str(name),
            "num_rows": snap.num_rows,
            "version": snap.version,
            "segments": len(snap.segments),
            "columns": results.column_types(snap.schema),
            "expr": f'stream_table("{name}").rows',
        }

    # -- live updates ----------------------------------------------------------------------------

    def poll(self, watch: Watch, names: list[TableName] | None) -> list[dict]:
        """New commits (and new tables) since ``watch`` (updated in place), as events."""
        events: list[dict] = []
        try:
            candidates = names if names is not None else list_tables(self.root)
        except (WeaveError, OSError):
            return events
        for name in candidates:
            event = self._poll_one(watch, name)
            if event is not None:
                events.append(event)
        watch.started = True
        return events

    def _poll_one(self, watch: Watch, name: TableName) -> dict | None:
        key = str(name)
        log = self.table_log(name)
        snap = watch.snapshots.get(key)
        try:
            if snap is None:
                if not log.exists():
                    return None
                snap = watch.snapshots[key] = log.snapshot()
                return commit_event(snap, new_table=True) if watch.started else None
            newer = log.poll(snap)
        except (WeaveError, OSError):
            return None
        if newer is None:
            return None
        watch.snapshots[key] = newer
        return commit_event(newer)


def commit_event(snap: Any, *, new_table: bool = False) -> dict:
    """The ``commit`` event for a snapshot; ``new_table`` marks a table created since the
    stream started."""
    event = {"table": str(snap.table.name), "version": snap.version, "num_rows": snap.num_rows}
    if new_table:
        event["new_table"] = True
    return event


# -- request parsing ------------------------------------------------------------------------------


async def json_body(request: Request) -> Any:
    """The request's JSON body (the guard has already limited its size and checked its type)."""
    return parse_json(await request.body())


def evaluate_params(params: dict, *, from_query: bool) -> tuple[str, int, int, bool]:
    """``(expr, offset, limit, limited)`` from an evaluate request (``limited``: the limit
    asked for was cut to :data:`results.MAX_LIMIT`)."""
    check_fields(params, EVALUATE_FIELDS, "an evaluate request")
    expr = str_field(params, EXPR_KEYS, what="expression", max_chars=MAX_EXPR_CHARS)
    limit = int_field(params, "limit", results.DEFAULT_LIMIT, from_query=from_query)
    offset = int_field(params, "offset", 0, maximum=MAX_OFFSET, from_query=from_query)
    return expr, offset, min(limit, results.MAX_LIMIT), limit > results.MAX_LIMIT


def board_payload(body: Any) -> dict:
    """A board body: an object of known top-level fields (panels are checked by the store)."""
    if not isinstance(body, dict):
        raise ApiError(400, 'a board must be a JSON object like {"panels": [...]}')
    check_fields(body, BOARD_FIELDS, "a board")
    return body


def table_names(wanted: Iterable[str]) -> list[TableName]:
    try:
        return [TableName.parse(check_text(n, "a table name")) for n in wanted]
    except InvalidNameError as exc:
        raise ApiError(400, str(exc)) from None


# -- the app ------------------------------------------------------------------------------------


def create_app(
    root: str | os.PathLike | None = None,
    *,
    poll_interval: float = 0.2,
    allowed_hosts: list[str] | None = None,
    max_memory: int | None = FROM_ENVIRONMENT,
    timeout: float | None = FROM_ENVIRONMENT,
    eval_workers: int | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """The panel server's app for the data root ``root`` (default: ``$WEAVE_LITE_ROOT``...).

    ``allowed_hosts`` are the ``Host`` names answered (DNS-rebinding protection), by default only
    loopback ones: ``127.0.0.1``, ``localhost``, ``[::1]``, with the server's port. Starlette's
    test client calls itself ``testserver``: pass ``allowed_hosts=["testserver"]`` in tests
    (never the default). ``["*"]`` answers any host (a server deliberately exposed).

    ``max_memory`` (bytes) and ``timeout`` (seconds) budget each evaluation; ``None`` is
    unlimited, and by default they come from ``$WEAVE_LITE_MAX_MEMORY`` and
    ``$WEAVE_LITE_TIMEOUT``, else 2 GiB and 30 s (so ``weave_lite.budgets.service_defaults()``
    can be passed as is). ``eval_workers`` is the number of evaluation processes (default
    ``$WEAVE_LITE_EVAL_WORKERS``, else 2).
    """
    budgets = Budgets.resolve(max_memory=max_memory, timeout=timeout)
    server = PanelServer(root, poll_interval=poll_interval, budgets=budgets, eval_workers=eval_workers)
    routes = _routes(server)
    middleware = [Middleware(RequestGuard, allowed_hosts=allowed_hosts, max_body_bytes=max_body_bytes)]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Listen only once an evaluation worker has imported the engine (seconds on a busy
        # machine), so that the first evaluation does not wait for it; the others follow.
        await server.pool.wait_ready(WORKER_READY_TIMEOUT)
        try:
            yield
        finally:
            server.closing = True
            await run_in_threadpool(server.pool.close)

    # Each handler takes the exception class it is registered for (Starlette types them all
    # as taking Exception).
    handlers: dict[Any, Callable[..., Any]] = {
        ApiError: on_api_error,
        WeaveError: on_weave_error,
        HTTPException: on_http_error,
        Exception: on_unexpected_error,
    }
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers=handlers)
    app.state.panel_server = server
    return app


def _routes(server: PanelServer) -> list:
    """The routes; each endpoint is a small closure over ``server``."""

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def favicon(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    async def api_index(request: Request) -> Response:
        return SafeJSONResponse(
            {
                "root": str(server.root),
                "endpoints": [
                    "GET /api/tables",
                    "GET /api/tables/{entity}/{project}/{table}",
                    "GET|POST /api/evaluate?expr=...&limit=100&offset=0",
                    "GET /api/evaluations",
                    "GET /api/ops",
                    "GET /api/boards",
                    "GET|PUT|POST|DELETE /api/boards/{name}",
                    "GET /api/events",
                    "GET /api/live",
                    "GET /api/profiles/{entity}/{project}/{table}",
                ],
            }
        )

    async def api_tables(request: Request) -> Response:
        tables = await run_in_threadpool(server.tables)
        return SafeJSONResponse({"root": str(server.root), "tables": tables})

    async def api_schema(request: Request) -> Response:
        name = request.path_params["name"]
        return SafeJSONResponse(await run_in_threadpool(server.schema, name))

    async def api_schema_query(request: Request) -> Response:
        name = request.query_params.get("table")
        if not name:
            raise ApiError(400, "give the table as ?table=entity/project/table")
        return SafeJSONResponse(await run_in_threadpool(server.schema, name))

    async def api_evaluate(request: Request) -> Response:
        if request.method == "POST":
            body = await json_body(request)
            if not isinstance(body, dict):
                raise ApiError(400, 'the body must be a JSON object like {"expr": "...", "limit": 100}')
            expr, offset, limit, limited = evaluate_params(body, from_query=False)
        else:
            expr, offset, limit, limited = evaluate_params(dict(request.query_params), from_query=True)
        try:
            status, body = await server.pool.evaluate(expr, offset, limit, request.is_disconnected)
        except ClientGone:
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        except PoolBusy as exc:
            if exc.closing:
                return SafeJSONResponse({"error": exc.message}, status_code=503)
            return SafeJSONResponse({"error": exc.message}, status_code=429, headers={"Retry-After": "1"})
        except WorkerStartError as exc:
            return SafeJSONResponse({"error": str(exc), "type": "InternalError"}, status_code=500)
        if status == 200 and limited:
            body["limited"] = True
            body["max_limit"] = results.MAX_LIMIT
        return SafeJSONResponse(body, status_code=status)

    async def api_evaluations(request: Request) -> Response:
        return SafeJSONResponse(server.pool.status())

    async def api_ops(request: Request) -> Response:
        return SafeJSONResponse(await run_in_threadpool(ops_listing))

    async def api_boards(request: Request) -> Response:
        return SafeJSONResponse({"boards": await run_in_threadpool(server.boards.list)})

    async def api_board(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            if request.method == "GET":
                return SafeJSONResponse(await run_in_threadpool(server.boards.get, name))
            if request.method == "DELETE":
                await run_in_threadpool(server.boards.delete, name)
                return SafeJSONResponse({"deleted": name})
            board = board_payload(await json_body(request))
            return SafeJSONResponse(await run_in_threadpool(server.boards.save, name, board))
        except BoardError as exc:
            raise ApiError(400, str(exc)) from None
        except BoardNotFound as exc:
            raise ApiError(404, str(exc)) from None
        except (ValueError, TypeError, AttributeError) as exc:  # an unreadable board file
            raise ApiError(500, f"board `{name}` is not a readable board file: {type(exc).__name__}") from None

    async def api_events(request: Request) -> Response:
        wanted = request.query_params.getlist("table")
        names = table_names(wanted) if wanted else None
        watch = Watch()
        await run_in_threadpool(server.poll, watch, names)
        return StreamingResponse(
            event_stream(server, watch, names),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def api_live(request: Request) -> Response:
        expr, offset, limit, _ = evaluate_params(dict(request.query_params), from_query=True)
        try:  # within the pool's budgets first: only an expression that ran is watched here
            status, body = await server.pool.evaluate(expr, offset, limit, request.is_disconnected)
        except ClientGone:
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        except (PoolBusy, WorkerStartError) as exc:
            return SafeJSONResponse({"error": str(exc)}, status_code=503)
        if status != 200:
            return SafeJSONResponse(body, status_code=status)
        page = await run_in_threadpool(server.live.subscribe, expr, offset, limit)
        return StreamingResponse(
            live_stream(server, page),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def api_profiles(request: Request) -> Response:
        return SafeJSONResponse(await run_in_threadpool(profile_reports, server.root, request.path_params["name"]))

    async def api_not_found(request: Request) -> Response:
        raise ApiError(404, f"no API endpoint {request.method} {request.url.path}")

    return [
        Route("/", index),
        Route("/index.html", index),
        Route("/favicon.ico", favicon),
        Route("/api", api_index),
        Route("/api/", api_index),
        Route("/api/tables", api_tables),
        Route("/api/tables/{name:path}", api_schema),
        Route("/api/schema", api_schema_query),
        Route("/api/schema/{name:path}", api_schema),
        Route("/api/evaluate", api_evaluate, methods=["GET", "POST"]),
        Route("/api/evaluations", api_evaluations),
        Route("/api/ops", api_ops),
        Route("/api/boards", api_boards),
        Route("/api/boards/{name:path}", api_board, methods=["GET", "PUT", "POST", "DELETE"]),
        Route("/api/events", api_events),
        Route("/api/live", api_live),
        Route("/api/profiles/{name:path}", api_profiles),
        Route("/api/{rest:path}", api_not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]


async def event_stream(server: PanelServer, watch: Watch, names: list[TableName] | None) -> AsyncIterator[str]:
    """Server-sent events: ``hello`` with the current versions, then one ``commit`` per new
    commit or new table, and a ping comment every 15 s."""
    yield "retry: 1000\n\n"
    yield f"event: hello\ndata: {json.dumps({'tables': watch.versions()})}\n\n"
    last_ping = time.monotonic()
    while not server.closing:
        await asyncio.sleep(server.poll_interval)
        events = await run_in_threadpool(server.poll, watch, names)
        for event in events:
            yield f"event: commit\ndata: {json.dumps(event)}\n\n"
        if time.monotonic() - last_ping > 15:
            last_ping = time.monotonic()
            yield ": ping\n\n"


async def live_stream(server: PanelServer, page: LivePage) -> AsyncIterator[str]:
    """Server-sent events: ``result`` with the page now, then after each commit that changed
    it; the live query is dropped with its last subscriber."""
    try:
        yield "retry: 1000\n\n"
        seen = page.version
        yield f"event: result\ndata: {json.dumps(page.body)}\n\n"
        last_ping = time.monotonic()
        while not server.closing:
            await asyncio.sleep(server.poll_interval)
            await run_in_threadpool(server.live.poll, page)
            if page.version != seen:
                seen = page.version
                yield f"event: result\ndata: {json.dumps(page.body)}\n\n"
            if time.monotonic() - last_ping > 15:
                last_ping = time.monotonic()
                yield ": ping\n\n"
    finally:
        server.live.unsubscribe(page)


def ops_listing() -> dict:
    """The op names and docs, for completion in the page."""
    from weave_lite.graph.registry import OPERATOR_NAMES, all_ops, lookup

    ops = []
    for name in all_ops():
        op = lookup(name)
        doc = ""
        if op is not None:
            doc = op.doc or next((o.doc for o in op.overloads if o.doc), "")
        ops.append({"name": name, "area": getattr(op, "area", ""), "doc": doc, "operator": OPERATOR_NAMES.get(name)})
    return {"ops": ops, "names": [o["name"] for o in ops]}


# -- errors as JSON -----------------------------------------------------------------------------


async def on_api_error(request: Request, exc: ApiError) -> Response:
    return SafeJSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status)


async def on_weave_error(request: Request, exc: WeaveError) -> Response:
    status = 404 if isinstance(exc, TableNotFoundError) else 400
    return SafeJSONResponse(error_body(exc), status_code=status)


async def on_http_error(request: Request, exc: HTTPException) -> Response:
    return SafeJSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


async def on_unexpected_error(request: Request, exc: Exception) -> Response:
    """500 with the exception's type only; Starlette logs the traceback to the server log."""
    body = {"error": f"internal server error ({type(exc).__name__})", "type": "InternalError"}
    return SafeJSONResponse(body, status_code=500)


# -- running ------------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1", "[::1]") or host.startswith("127.")


def serve(
    root: str | os.PathLike | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    log_level: str = "warning",
    poll_interval: float = 0.2,
    max_memory: int | None = FROM_ENVIRONMENT,
    timeout: float | None = FROM_ENVIRONMENT,
    eval_workers: int | None = None,
) -> None:
    """Run the panel server until interrupted (127.0.0.1 unless ``host`` says otherwise).

    On a non-loopback ``host`` every ``Host`` name is answered (the data is exposed anyway);
    cross-origin requests are still refused. Budgets: see :func:`create_app`.
    """
    import uvicorn

    allowed = None if is_loopback(host) else ["*"]
    if allowed is None and host.startswith("127.") and host != "127.0.0.1":
        allowed = [*LOOPBACK_HOSTS, host]
    try:
        app = create_app(
            root,
            poll_interval=poll_interval,
            allowed_hosts=allowed,
            max_memory=max_memory,
            timeout=timeout,
            eval_workers=eval_workers,
        )
    except ValueError as exc:  # a malformed $WEAVE_LITE_MAX_MEMORY / $WEAVE_LITE_TIMEOUT
        raise SystemExit(f"weave-lite serve: {exc}") from None
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=1,
        access_log=False,
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):  # end the event streams so shutdown needs no cancelling
            app.state.panel_server.closing = True
            super().handle_exit(sig, frame)

    Server(config).run()
