"""weave_lite: an embedded engine for streaming tables of ML production data.

Stream rows into named tables on local disk (:class:`StreamTable`), explore them with panel
expressions (:func:`evaluate`, :func:`compile`), and keep whylogs-style streaming profiles
(:mod:`weave_lite.profiles`).

``import weave_lite`` loads none of pyarrow, Numba or Lark (issue 15: <= 0.25 s): each public
name is imported from its module on first use (module ``__getattr__``, PEP 562), so a process
pays only for what it uses (``weave-lite query`` never loads the writer or the monitors).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, __getattr__ below
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

# The module of each name imported on first use (tests/startup/test_lazy_import.py checks that
# this and __all__ agree, and that every name resolves).
_ERRORS = "weave_lite.errors"
_LAZY = {
    "StreamTable": "weave_lite.stream_table",
    "init_monitor": "weave_lite.monitoring",
    "dataset": "weave_lite.storage.table",
    "evaluate": "weave_lite.api",
    "compile": "weave_lite.api",
    "to_python": "weave_lite.api",
    "WeaveError": _ERRORS,
    "BackgroundWriterError": _ERRORS,
    "CorruptTableError": _ERRORS,
    "ResourceLimitError": _ERRORS,
    "StorageError": _ERRORS,
    "ParseError": _ERRORS,
    "UnknownOpError": _ERRORS,
    "WeaveTypeError": _ERRORS,
    "TableNotFoundError": _ERRORS,
    "UnboundVariableError": _ERRORS,
}


def __getattr__(name: str) -> Any:
    """Public name ``name``, imported from its module on first use and then kept in this
    module's namespace (later look-ups never come here).  Imports are fixed statements, never
    computed from a string (tests/engine/test_security.py)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'weave_lite' has no attribute {name!r}")
    if module == "weave_lite.api":
        from weave_lite import api

        value = getattr(api, name)
    elif module == _ERRORS:
        from weave_lite import errors

        value = getattr(errors, name)
    elif module == "weave_lite.stream_table":
        from weave_lite.stream_table import StreamTable as value
    elif module == "weave_lite.monitoring":
        from weave_lite.monitoring import init_monitor as value
    else:
        from weave_lite.storage.table import open_dataset as value
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(ModuleType):
    """This package's module type: ``weave_lite.compile`` stays the function.

    Importing the subpackage ``weave_lite.compile`` (the planner; the first query does) sets
    the package's attribute ``compile`` to that module.  When the package imported everything
    eagerly its own ``compile`` was bound after that; now the subpackage loads later, so that
    one assignment is ignored (``import weave_lite.compile.planner`` and ``from
    weave_lite.compile import ...`` go through ``sys.modules`` and are unaffected)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "compile" and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
