"""The panel server in a background thread of this process: ``weave_lite.serve(background=True)``.

For notebooks: the URL ``StreamTable.log`` returns answers once this ran. One server per data
root, on loopback only; asking again returns the same handle. It listens on
``$WEAVE_LITE_PORT`` (else 8765) when that port is free, else on a free port, and table URLs
(``StreamTable.url``) follow it (:mod:`weave_lite.panel_links`); when a ``weave-lite serve``
of the same root already answers on that port, the handle points at it (``stop`` leaves it).

In-process rather than a subprocess: a daemon thread ends with the kernel, so no server is
left behind; evaluations still run in the server's worker processes (whose pipes close with
this process), so a heavy query does not stall the notebook.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import threading
import time
import urllib.request
from typing import Any

from weave_lite import panel_links
from weave_lite.storage.names import data_root

READY_TIMEOUT = 90.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")

_lock = threading.Lock()
_servers: dict[str, BackgroundServer] = {}


class BackgroundServer:
    """A running panel server: ``.url``, ``.port``, ``.root``, ``.stop()``."""

    def __init__(self, root_key: str, host: str, port: int, server: Any = None, thread: Any = None):
        self.root = root_key
        self.host = host
        self.port = port
        self._server = server  # a uvicorn.Server, None for a server started elsewhere
        self._thread = thread
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{port}"

    @property
    def external(self) -> bool:
        """True when this handle points at a server another process runs."""
        return self._server is None

    @property
    def running(self) -> bool:
        if self._thread is None:
            return _answers(self.host, self.port) == self.root
        return self._thread.is_alive() and not self._server.should_exit

    def table_url(self, name: object) -> str:
        return f"{self.url}/#/table/{name}"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (its evaluation workers too); idempotent. A server another process
        runs is left alone."""
        with _lock:
            if _servers.get(self.root) is self:
                del _servers[self.root]
        panel_links.unregister(self.root, self.url)
        if self._server is None:
            return
        self._server.config.app.state.panel_server.closing = True  # ends the event streams
        self._server.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def __repr__(self) -> str:
        return f"BackgroundServer({self.url!r}, root={self.root!r}{', external' if self.external else ''})"

    def _repr_html_(self) -> str:
        from html import escape

        return f'weave_lite panels: <a href="{escape(self.url)}/" target="_blank">{escape(self.url)}/</a>'


def serve(root=None, *, background: bool = False, port: int | None = None, host: str = "127.0.0.1", **options):
    """Run the panel server for the data ``root``.

    ``background=False`` blocks until interrupted (as ``weave-lite serve``). ``background=True``
    returns a :class:`BackgroundServer` at once, serving on loopback from a daemon thread (see
    the module docstring). ``options`` go to :func:`weave_lite.server.app.create_app`
    (``max_memory``, ``timeout``, ``eval_workers``, ``poll_interval``).
    """
    if not background:
        from weave_lite.server.app import serve as run

        run(root, host=host, port=port if port is not None else _default_port(), **options)
        return None
    return start(root, port=port, host=host, **options)


def start(root=None, *, port: int | None = None, host: str = "127.0.0.1", **options) -> BackgroundServer:
    """:func:`serve` with ``background=True``."""
    if host not in LOOPBACK and not host.startswith("127."):
        raise ValueError(f"a background panel server listens on loopback only, not {host!r}")
    key = str(data_root(root))
    with _lock:
        found = _servers.get(key)
        if found is not None and found.running:
            return found
        wanted = _default_port() if port is None else port
        sock = _bind(host, wanted)
        if sock is None and wanted and _answers(host, wanted) == key:
            handle = BackgroundServer(key, host, wanted)  # `weave-lite serve` of this root
        else:
            if sock is None:
                if port is not None:
                    raise OSError(f"port {port} on {host} is in use")
                sock = _bind(host, 0)
                assert sock is not None
            handle = _launch(root, key, host, sock, options)
        _servers[key] = handle
    panel_links.register(key, handle.url)
    return handle


def _launch(root, key: str, host: str, sock: socket.socket, options: dict) -> BackgroundServer:
    import uvicorn

    from weave_lite.server.app import create_app

    app = create_app(root, **options)
    # log_config=None: leave the logging set-up of the notebook process alone.
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="weave_lite-panel-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + READY_TIMEOUT
    while not server.started:  # set once the lifespan (an evaluation worker ready) is done
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the background panel server did not start (see the log above)")
        time.sleep(0.05)
    handle = BackgroundServer(key, host, sock.getsockname()[1], server, thread)
    atexit.register(handle.stop, 2.0)
    return handle


def _default_port() -> int:
    text = os.environ.get("WEAVE_LITE_PORT", "").strip()
    return int(text) if text.isdigit() else panel_links.DEFAULT_PORT


def _bind(host: str, port: int) -> socket.socket | None:
    """A listening socket on ``host:port``, or None when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        return None
    sock.listen(128)
    sock.set_inheritable(False)
    return sock


def _answers(host: str, port: int) -> str | None:
    """The data root of the weave_lite panel server answering on ``host:port``, if any."""
    shown = f"[{host}]" if ":" in host else host
    try:
        with urllib.request.urlopen(f"http://{shown}:{port}/api", timeout=2) as resp:
            return json.loads(resp.read()).get("root")
    except (OSError, ValueError, AttributeError):
        return None
