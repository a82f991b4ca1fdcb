"""The local panel server (``weave-lite serve``): a JSON API under ``/api/`` and a small web page.

Needs the optional ``serve`` extra (Starlette and uvicorn); importing this package does not, so
that the command line can reuse :mod:`weave_lite.server.results` without it.

```python
from weave_lite.server import create_app, serve
app = create_app(root="/data/weave")        # a Starlette app
serve(root="/data/weave", port=8765)        # blocks; 127.0.0.1 unless host= says otherwise
```

Only loopback ``Host`` names are answered; Starlette's test client (``Host: testserver``) needs
``create_app(..., allowed_hosts=["testserver"])``. Why, and the rest of the hardening: see
:mod:`weave_lite.server.app`.
"""

from __future__ import annotations

__all__ = ["create_app", "serve"]


def create_app(*args, **kwargs):
    """Build the Starlette app; see :func:`weave_lite.server.app.create_app`."""
    from weave_lite.server.app import create_app as _create_app

    return _create_app(*args, **kwargs)


def serve(*args, **kwargs):
    """Run the panel server with uvicorn; see :func:`weave_lite.server.app.serve`."""
    from weave_lite.server.app import serve as _serve

    return _serve(*args, **kwargs)
