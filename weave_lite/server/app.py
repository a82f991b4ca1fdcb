"""The panel server: a Starlette app with a JSON API under ``/api/`` and the static web page.

Endpoints (all JSON unless said otherwise; errors are ``{"error": message, ...}``):

* ``GET  /api/tables``                      every table with its row count and version
* ``GET  /api/tables/{entity}/{project}/{table}``   the table's schema (columns and types; also
  ``/api/schema/{entity}/{project}/{table}`` and ``/api/schema?table=...``)
* ``GET|POST /api/evaluate``                ``expr``, ``limit`` (default 100, at most 10,000),
  ``offset``: one page of the expression's result; a bad expression is a 400 whose ``error`` is
  the engine's message (``line``/``column``/``expected`` for a parse error)
* ``GET  /api/ops``                         op names (for completion)
* ``GET  /api/boards``, ``GET|PUT|POST|DELETE /api/boards/{name}``   boards
* ``GET  /api/events``                      server-sent events: ``commit`` when a table grows

The server evaluates expressions only (never Python) with the data root fixed at start, and
reads and writes nothing outside that root.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from weave_lite.errors import (
    ExpressionError,
    InvalidNameError,
    ParseError,
    TableNotFoundError,
    WeaveError,
)
from weave_lite.server import results
from weave_lite.server.boards import BoardError, BoardNotFound, BoardStore
from weave_lite.storage.names import TableName, data_root
from weave_lite.storage.table import TableLog, list_tables

STATIC_DIR = Path(__file__).parent / "static"
MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1", "testserver"]


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any):
        self.status = status
        self.message = message
        self.extra = extra


def error_body(exc: BaseException) -> dict:
    """The JSON body for an engine error: its human message, and where it is when known."""
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


class PanelServer:
    """State shared by the endpoints: the data root, cached table logs, the boards."""

    def __init__(self, root: str | os.PathLike | None = None, *, poll_interval: float = 0.2):
        self.root = data_root(root)
        self.poll_interval = poll_interval
        self.closing = False  # set when the server shuts down: event streams end
        self.boards = BoardStore(self.root)
        self._logs: dict[str, TableLog] = {}
        self._logs_lock = threading.Lock()
        # The engine is used from the thread pool; one evaluation at a time keeps memory bounded.
        self._eval_lock = threading.Lock()

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
            info = {"name": str(name), "entity": name.entity, "project": name.project, "table": name.table}
            try:
                snap = self.table_log(name).snapshot()
                info.update(num_rows=snap.num_rows, version=snap.version)
            except WeaveError as exc:  # a table being created right now
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

    # -- expressions -----------------------------------------------------------------------------

    def evaluate_page(self, expr: str, offset: int, limit: int) -> dict:
        from weave_lite.api import evaluate

        start = time.perf_counter()
        with self._eval_lock:
            result = evaluate(expr, root=self.root)
            body = results.page(result, offset=offset, limit=limit)
        body["expr"] = expr
        body["elapsed_ms"] = round((time.perf_counter() - start) * 1000, 3)
        return body

    # -- live updates ----------------------------------------------------------------------------

    def poll(self, watched: dict[str, Any], names: list[TableName] | None) -> list[dict]:
        """New commits since the snapshots in ``watched`` (updated in place) as events."""
        events = []
        candidates = names if names is not None else list_tables(self.root)
        for name in candidates:
            key = str(name)
            log = self.table_log(name)
            snap = watched.get(key)
            try:
                if snap is None:
                    if not log.exists():
                        continue
                    watched[key] = log.snapshot()
                    if watched.get("__started__"):
                        events.append(_commit_event(watched[key], new_table=True))
                    continue
                newer = log.poll(snap)
            except (WeaveError, OSError):
                continue
            if newer is not None:
                watched[key] = newer
                events.append(_commit_event(newer))
        watched["__started__"] = True
        return events


def _commit_event(snap: Any) -> dict:
    return {
        "table": str(snap.table.name),
        "version": snap.version,
        "num_rows": snap.num_rows,
    }


def create_app(
    root: str | os.PathLike | None = None,
    *,
    poll_interval: float = 0.2,
    allowed_hosts: list[str] | None = None,
) -> Starlette:
    """The panel server's app for the data root ``root`` (default: ``$WEAVE_LITE_ROOT``...).

    ``allowed_hosts`` guards against DNS rebinding: by default only loopback host names are
    answered.
    """
    server = PanelServer(root, poll_interval=poll_interval)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def favicon(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    async def api_index(request: Request) -> Response:
        return JSONResponse(
            {
                "root": str(server.root),
                "endpoints": [
                    "GET /api/tables",
                    "GET /api/tables/{entity}/{project}/{table}",
                    "GET|POST /api/evaluate?expr=...&limit=100&offset=0",
                    "GET /api/ops",
                    "GET /api/boards",
                    "GET|PUT|POST|DELETE /api/boards/{name}",
                    "GET /api/events",
                ],
            }
        )

    async def api_tables(request: Request) -> Response:
        tables = await run_in_threadpool(server.tables)
        return JSONResponse({"root": str(server.root), "tables": tables})

    async def api_schema(request: Request) -> Response:
        name = request.path_params["name"]
        return JSONResponse(await run_in_threadpool(server.schema, name))

    async def api_schema_query(request: Request) -> Response:
        name = request.query_params.get("table")
        if not name:
            raise ApiError(400, "give the table as ?table=entity/project/table")
        return JSONResponse(await run_in_threadpool(server.schema, name))

    async def api_evaluate(request: Request) -> Response:
        if request.method == "POST":
            body = await _json_body(request)
            if not isinstance(body, dict):
                raise ApiError(400, 'the body must be a JSON object like {"expr": "...", "limit": 100}')
            params = body
        else:
            params = dict(request.query_params)
        expr = params.get("expr", params.get("expression", params.get("query")))
        if not isinstance(expr, str) or not expr.strip():
            raise ApiError(400, "missing expression: give `expr` (an expression string)")
        limit = _int_param(params, "limit", results.DEFAULT_LIMIT, 0)
        offset = _int_param(params, "offset", 0, 0)
        requested = limit
        limit = min(limit, results.MAX_LIMIT)
        try:
            body = await run_in_threadpool(server.evaluate_page, expr, offset, limit)
        except WeaveError as exc:
            return JSONResponse(error_body(exc), status_code=400)
        except (RecursionError, MemoryError) as exc:
            return JSONResponse({"error": f"expression too large to evaluate: {type(exc).__name__}"}, status_code=400)
        if requested > limit:
            body["limited"] = True
            body["max_limit"] = results.MAX_LIMIT
        return JSONResponse(body)

    async def api_ops(request: Request) -> Response:
        from weave_lite.graph.registry import OPERATOR_NAMES, all_ops, lookup

        ops = []
        for name in all_ops():
            op = lookup(name)
            doc = ""
            if op is not None:
                doc = op.doc or next((o.doc for o in op.overloads if o.doc), "")
            ops.append(
                {
                    "name": name,
                    "area": getattr(op, "area", ""),
                    "doc": doc,
                    "operator": OPERATOR_NAMES.get(name),
                }
            )
        return JSONResponse({"ops": ops, "names": [o["name"] for o in ops]})

    async def api_boards(request: Request) -> Response:
        return JSONResponse({"boards": await run_in_threadpool(server.boards.list)})

    async def api_board(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            if request.method == "GET":
                return JSONResponse(await run_in_threadpool(server.boards.get, name))
            if request.method == "DELETE":
                await run_in_threadpool(server.boards.delete, name)
                return JSONResponse({"deleted": name})
            body = await _json_body(request)
            saved = await run_in_threadpool(server.boards.save, name, body)
            return JSONResponse(saved)
        except BoardError as exc:
            raise ApiError(400, str(exc)) from None
        except BoardNotFound as exc:
            raise ApiError(404, str(exc)) from None
        except ValueError as exc:  # an unreadable board file
            raise ApiError(500, f"board `{name}` is not valid JSON: {exc}") from None

    async def api_events(request: Request) -> Response:
        names: list[TableName] | None = None
        wanted = request.query_params.getlist("table")
        if wanted:
            try:
                names = [TableName.parse(n) for n in wanted]
            except InvalidNameError as exc:
                raise ApiError(400, str(exc)) from None
        watched: dict[str, Any] = {}
        await run_in_threadpool(server.poll, watched, names)

        async def stream():
            yield "retry: 1000\n\n"
            hello = {"tables": {k: v.version for k, v in watched.items() if k != "__started__"}}
            yield f"event: hello\ndata: {json.dumps(hello)}\n\n"
            last_ping = time.monotonic()
            while not server.closing:
                await asyncio.sleep(server.poll_interval)
                events = await run_in_threadpool(server.poll, watched, names)
                for event in events:
                    yield f"event: commit\ndata: {json.dumps(event)}\n\n"
                if time.monotonic() - last_ping > 15:
                    last_ping = time.monotonic()
                    yield ": ping\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def api_not_found(request: Request) -> Response:
        raise ApiError(404, f"no API endpoint {request.method} {request.url.path}")

    async def on_api_error(request: Request, exc: ApiError) -> Response:
        return JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.status)

    async def on_weave_error(request: Request, exc: WeaveError) -> Response:
        status = 404 if isinstance(exc, TableNotFoundError) else 400
        return JSONResponse(error_body(exc), status_code=status)

    routes = [
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
        Route("/api/ops", api_ops),
        Route("/api/boards", api_boards),
        Route("/api/boards/{name:path}", api_board, methods=["GET", "PUT", "POST", "DELETE"]),
        Route("/api/events", api_events),
        Route("/api/{rest:path}", api_not_found, methods=["GET", "POST", "PUT", "DELETE"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    hosts = allowed_hosts if allowed_hosts is not None else LOOPBACK_HOSTS
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=hosts)]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={ApiError: on_api_error, WeaveError: on_weave_error},
    )
    app.state.panel_server = server
    return app


def _int_param(params: dict, key: str, default: int, minimum: int) -> int:
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, f"`{key}` must be an integer, not {raw!r}") from None
    if isinstance(raw, bool) or value < minimum:
        raise ApiError(400, f"`{key}` must be an integer >= {minimum}")
    return value


async def _json_body(request: Request) -> Any:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body too large ({len(body)} bytes; at most {MAX_BODY_BYTES})")
    try:
        return json.loads(body or b"null")
    except ValueError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1", "[::1]") or host.startswith("127.")


def serve(
    root: str | os.PathLike | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    log_level: str = "warning",
    poll_interval: float = 0.2,
) -> None:
    """Run the panel server until interrupted (127.0.0.1 unless ``host`` says otherwise)."""
    import uvicorn

    allowed = None if is_loopback(host) else ["*"]
    app = create_app(root, poll_interval=poll_interval, allowed_hosts=allowed)
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
