"""weave_lite: an embedded engine for streaming tables of ML production data.

Stream rows into named tables on local disk (:class:`StreamTable`), explore them with panel
expressions (:func:`evaluate`, :func:`compile`), and keep whylogs-style streaming profiles
(:mod:`weave_lite.profiles`).
"""

from weave_lite.api import compile, evaluate, to_python
from weave_lite.errors import (
    BackgroundWriterError,
    CorruptTableError,
    ParseError,
    ResourceLimitError,
    StorageError,
    TableNotFoundError,
    UnboundVariableError,
    UnknownOpError,
    WeaveError,
    WeaveTypeError,
)
from weave_lite.monitoring import init_monitor
from weave_lite.storage.table import open_dataset as dataset
from weave_lite.stream_table import StreamTable

__all__ = [
    "StreamTable",
    "init_monitor",
    "serve",
    "show",
    "dataset",
    "evaluate",
    "compile",
    "to_python",
    "WeaveError",
    "BackgroundWriterError",
    "CorruptTableError",
    "ResourceLimitError",
    "StorageError",
    "ParseError",
    "UnknownOpError",
    "WeaveTypeError",
    "TableNotFoundError",
    "UnboundVariableError",
]
__version__ = "0.1.0"


def show(value, title: str = "", max_rows: int = 50):
    """``value`` (a result of ``evaluate``, a profile, a drift report) as notebook HTML; see
    :func:`weave_lite.display.show` (imported on first use, not with the package)."""
    from weave_lite.display import show as _show

    return _show(value, title, max_rows)


def serve(root=None, *, background: bool = False, **options):
    """The panel server for ``root``: blocking, or with ``background=True`` a handle
    (``.url``, ``.stop()``) of one on loopback in a daemon thread, so that the URLs
    ``StreamTable.log`` returns answer (see :mod:`weave_lite.server.background`)."""
    from weave_lite.server.background import serve as _serve

    return _serve(root, background=background, **options)
