"""The request guard: an ASGI middleware that refuses hostile requests before any endpoint runs.

Threat model: the panel server listens on loopback, so only processes of this machine can reach
it, but one of them is the user's web browser, which runs any page of any site. Such a page can
make the browser send requests to ``http://127.0.0.1:8765`` (simple cross-site requests need no
CORS pre-flight, e.g. a ``text/plain`` POST from a form or ``fetch(..., {mode: "no-cors"})``), and
a site can re-bind its DNS name to 127.0.0.1 to read the answers as same-origin (DNS rebinding).
The guard therefore answers, in this order:

* **400** unless the ``Host`` header names an allowed host (loopback by default: ``127.0.0.1``,
  ``localhost``, ``[::1]``) with the server's own port: a re-bound name is refused;
* **403** for a request to ``/api/`` or with a method other than GET/HEAD/OPTIONS whose
  ``Origin`` is present and is not the server's own origin, or whose ``Sec-Fetch-Site`` is
  ``cross-site`` or ``same-site``: another page cannot save a board, delete one or evaluate;
* **415** for a request with a body whose ``Content-Type`` is not ``application/json`` (a type a
  browser only sends cross-origin after a CORS pre-flight, which this server never grants);
* **413** for a body over the limit: refused from ``Content-Length`` before anything is read, or,
  for a chunked body, as soon as the chunks read so far pass the limit; the rest is never held.

A body within the limit is read here (at most the limit is held in memory) and handed on to the
app unchanged. Every refusal is a JSON body ``{"error": ...}``, sent at once; when the request
has a body the connection is then closed, after reading and discarding at most
:data:`DRAIN_BYTES` more of it for at most :data:`DRAIN_SECONDS`, so that a client still
sending sees the answer rather than a connection reset (a "lingering close").
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import anyio

Scope = dict
Message = dict
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FOREIGN_FETCH_SITES = frozenset({"cross-site", "same-site"})
JSON_TYPES = frozenset({"application/json"})
DRAIN_BYTES = 16 * 1024 * 1024
DRAIN_SECONDS = 2.0


class Refusal(Exception):
    """A request the guard answers itself with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class HostPolicy:
    """Which ``Host`` (and ``Origin``) values name this server.

    ``names`` are host names without port (IPv6 in brackets); ``"*"`` accepts any host, for a
    server deliberately exposed beyond loopback (then only the exact own origin, ``http://`` +
    the ``Host`` header, is same-origin).
    """

    names: frozenset[str]

    @classmethod
    def of(cls, names: Iterable[str] | None) -> HostPolicy:
        chosen = LOOPBACK_NAMES if names is None else names
        return cls(frozenset(normalize_host(n) for n in chosen))

    @property
    def any_host(self) -> bool:
        return "*" in self.names

    def accepts(self, host: str, port: int | None, server_port: int | None) -> bool:
        """Is ``host:port`` (from a ``Host`` or ``Origin``) this server?"""
        if self.any_host:
            return True
        if host not in self.names:
            return False
        return server_port is None or (port if port is not None else 80) == server_port


def normalize_host(name: str) -> str:
    """Lower case; a bare IPv6 address gets its brackets (``::1`` -> ``[::1]``)."""
    name = name.strip().lower()
    if ":" in name and not name.startswith("["):
        return f"[{name}]"
    return name


def split_host_port(value: str) -> tuple[str, int | None]:
    """``"127.0.0.1:8765"`` -> ``("127.0.0.1", 8765)``; ``"[::1]"`` -> ``("[::1]", None)``.

    Raises :class:`ValueError` for a malformed value (a bad port, a bare IPv6 address).
    """
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise ValueError(value)
        host, rest = value[: end + 1], value[end + 1 :]
    else:
        host, sep, port_text = value.partition(":")
        rest = sep + port_text
    if not host:
        raise ValueError(value)
    if not rest:
        return host, None
    if not rest.startswith(":") or not rest[1:].isdigit() or len(rest) > 6:
        raise ValueError(value)
    return host, int(rest[1:])


class RequestGuard:
    """ASGI middleware enforcing the rules of the module docstring on every HTTP request."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str] | None = None, max_body_bytes: int):
        self.app = app
        self.hosts = HostPolicy.of(allowed_hosts)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # this server has no websocket endpoints
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":  # lifespan
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        body_declared = declares_body(headers)
        try:
            self.check_host(scope, headers)
            self.check_origin(scope, headers)
            self.check_body_headers(headers)
            if body_declared:
                receive = await self.read_body(receive)
        except Refusal as refusal:
            await send_refusal(send, receive, refusal, drain=body_declared)
            return
        await self.app(scope, receive, send)

    # -- the checks --------------------------------------------------------------------------------

    def check_host(self, scope: Scope, headers: dict[str, str]) -> None:
        """400 unless ``Host`` names this server (DNS-rebinding protection)."""
        value = headers.get("host")
        if value is None:
            raise Refusal(400, "a Host header is required")
        try:
            host, port = split_host_port(value)
        except ValueError:
            raise Refusal(400, "invalid Host header") from None
        if not self.hosts.accepts(host, port, _server_port(scope)):
            raise Refusal(
                400, f"invalid Host header {value[:100]!r}: this server answers only {self.describe_hosts(scope)}"
            )

    def check_origin(self, scope: Scope, headers: dict[str, str]) -> None:
        """403 for a cross-origin API call or state change (see the module docstring)."""
        method = scope.get("method", "GET").upper()
        if method in SAFE_METHODS and not _is_api(scope):
            return
        site = headers.get("sec-fetch-site", "").strip().lower()
        if site in FOREIGN_FETCH_SITES:
            raise Refusal(403, f"cross-origin request refused (Sec-Fetch-Site: {site})")
        origin = headers.get("origin")
        if origin is not None and not self.is_own_origin(origin, scope, headers):
            raise Refusal(403, f"cross-origin request refused (Origin: {origin[:100]})")

    def is_own_origin(self, origin: str, scope: Scope, headers: dict[str, str]) -> bool:
        """Is ``origin`` (``http://host:port``) this server, as the page itself sends it?"""
        origin = origin.strip().lower()
        scheme, sep, hostport = origin.partition("://")
        if scheme != "http" or not sep or "/" in hostport:
            return False  # "null" (sandboxed or file: pages), https:, other schemes
        if hostport == headers.get("host", "").strip().lower():
            return True  # the exact own origin
        if self.hosts.any_host:
            return False
        try:
            host, port = split_host_port(hostport)
        except ValueError:
            return False
        return self.hosts.accepts(host, port, _server_port(scope))

    def check_body_headers(self, headers: dict[str, str]) -> None:
        """For a request with a body: 415 unless it is JSON, 413 for a declared length over
        the limit."""
        if not declares_body(headers):
            return
        length = declared_length(headers) or 0
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type not in JSON_TYPES:
            shown = media_type or "none"
            raise Refusal(415, f"the body must be JSON sent as Content-Type: application/json (not {shown})")
        if length > self.max_body_bytes:
            raise Refusal(413, self.too_large_message(f"{length} bytes declared"))

    async def read_body(self, receive: Receive) -> Receive:
        """Read the body chunk by chunk, refusing (413) as soon as it passes the limit; return a
        ``receive`` that replays it and then passes on (to see a disconnect)."""
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return _replay([message], receive)
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_body_bytes:
                raise Refusal(413, self.too_large_message(f"more than {self.max_body_bytes} bytes sent"))
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        return _replay([body], receive)

    # -- messages -------------------------------------------------------------------------------------

    def too_large_message(self, what: str) -> str:
        return f"request body too large ({what}; at most {self.max_body_bytes} bytes)"

    def describe_hosts(self, scope: Scope) -> str:
        port = _server_port(scope)
        names = sorted(self.hosts.names)
        return ", ".join(f"{n}:{port}" if port is not None else n for n in names)


def declared_length(headers: dict[str, str]) -> int | None:
    """``Content-Length`` as a number (the server has already refused a malformed one)."""
    text = headers.get("content-length", "").strip()
    return int(text) if text.isdigit() else None


def declares_body(headers: dict[str, str]) -> bool:
    """Does the request come with a body (a non-zero length, or chunks)?"""
    return "transfer-encoding" in headers or bool(declared_length(headers))


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def _headers(scope: Scope) -> dict[str, str]:
    """The request headers, lower-cased names, latin-1 decoded (the first of repeated names)."""
    out: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        out.setdefault(name, raw_value.decode("latin-1"))
    return out


def _server_port(scope: Scope) -> int | None:
    server = scope.get("server")
    if not server or len(server) < 2 or server[1] is None:
        return None
    return int(server[1])


def _is_api(scope: Scope) -> bool:
    path = scope.get("path", "")
    return path == "/api" or path.startswith("/api/")


async def send_refusal(send: Send, receive: Receive, refusal: Refusal, *, drain: bool) -> None:
    """Answer ``refusal`` as JSON. With ``drain`` (the request has a body, maybe unread) the
    whole answer goes out first, then a bounded part of the body is discarded while the
    response is held open, then the connection is closed."""
    body = json.dumps({"error": refusal.message, "status": refusal.status}, ensure_ascii=True).encode("ascii")
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
    ]
    if drain:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": drain})
    if drain:
        await discard_body(receive, DRAIN_BYTES, DRAIN_SECONDS)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def discard_body(receive: Receive, max_bytes: int, max_seconds: float) -> None:
    """Read and drop what remains of the request body: at most ``max_bytes``, ``max_seconds``."""
    deadline = time.monotonic() + max_seconds
    total = 0
    while total <= max_bytes:
        message = None
        with anyio.move_on_after(max(0.0, deadline - time.monotonic())):
            message = await receive()
        if message is None or message["type"] != "http.request":
            return
        total += len(message.get("body", b""))
        if not message.get("more_body", False):
            return
