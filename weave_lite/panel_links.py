"""The panel URL of a table: on the background panel server of its data root when one runs
(``weave_lite.serve(background=True)``), else on ``weave-lite serve``'s port
(``$WEAVE_LITE_PORT``, else 8765)."""

from __future__ import annotations

import os
import threading

DEFAULT_PORT = 8765

_lock = threading.Lock()
_servers: dict[str, str] = {}  # str(data root) -> base URL of the background server serving it


def register(root_key: str, base_url: str) -> None:
    with _lock:
        _servers[root_key] = base_url


def unregister(root_key: str, base_url: str) -> None:
    with _lock:
        if _servers.get(root_key) == base_url:
            del _servers[root_key]


def base_url(root_key: str | None = None) -> str:
    """The panel server for the data root ``root_key`` (its ``str``), without a slash."""
    with _lock:
        found = _servers.get(root_key) if root_key is not None else None
    if found is not None:
        return found
    port = os.environ.get("WEAVE_LITE_PORT", str(DEFAULT_PORT))
    return f"http://127.0.0.1:{port}"


def panel_url(name: object, root_key: str | None = None) -> str:
    """The URL of table ``name``'s panel (the page routes ``#/table/<name>``)."""
    return f"{base_url(root_key)}/#/table/{name}"
