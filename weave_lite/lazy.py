"""Modules imported on first use: ``pc = lazy_module("pyarrow.compute")`` at the top of a
module costs nothing until ``pc.something`` is first read.

``import weave_lite`` must stay cheap (issue 15: <= 0.25 s): ``pyarrow.compute`` (~0.1 s),
``pyarrow.fs`` and the Numba kernel modules are loaded by the first query that reads them.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    """A stand-in that imports the named module on its first attribute read and then holds a
    copy of that module's namespace (later reads are plain module attribute look-ups)."""

    def __getattr__(self, name: str) -> Any:
        # Only called for names not in this stand-in's own dict: before the import, or for a
        # name the module lacks.  Importing is thread-safe and the update idempotent: no lock.
        target = _load(self.__dict__["_lazy_target"])
        self.__dict__.update(target.__dict__)
        return getattr(target, name)


def _load(name: str) -> ModuleType:
    """Module ``name``, imported by a fixed statement: no import is ever computed from a string
    (expression strings come from web pages; see tests/engine/test_security.py)."""
    if name == "pyarrow.compute":
        import pyarrow.compute as module
    elif name == "pyarrow.fs":
        import pyarrow.fs as module
    elif name == "weave_lite.kernels.fused":
        from weave_lite.kernels import fused as module
    elif name == "weave_lite.kernels.grouping":
        from weave_lite.kernels import grouping as module
    elif name == "weave_lite.kernels.rolling":
        from weave_lite.kernels import rolling as module
    elif name == "weave_lite.kernels.sampling":
        from weave_lite.kernels import sampling as module
    else:
        raise ValueError(f"lazy_module: {name!r} is not one of the modules loaded on first use")
    return module


KNOWN = (
    "pyarrow.compute",
    "pyarrow.fs",
    "weave_lite.kernels.fused",
    "weave_lite.kernels.grouping",
    "weave_lite.kernels.rolling",
    "weave_lite.kernels.sampling",
)


def lazy_module(name: str) -> Any:
    """A stand-in for module ``name`` (one of :data:`KNOWN`) that imports it on first use
    (typed ``Any``: the callers' modules are untyped pyarrow or Numba dispatchers)."""
    if name not in KNOWN:
        raise ValueError(f"lazy_module: {name!r} is not one of the modules loaded on first use")
    module = _LazyModule(name)
    module.__dict__["_lazy_target"] = name
    return module


def call_compute(name: str, *args: Any) -> Any:
    """``pyarrow.compute.<name>(*args)`` with the function's default options, without importing
    :mod:`pyarrow.compute`: building its ~300 Python wrappers (docstrings included) takes
    ~45 ms, a fifth of a fresh ``weave-lite query`` process.  For the few calls on the path of
    a first query (a group-by's ``dictionary_encode``, ``take``); everything else uses ``pc``.

    ``pyarrow._compute`` is the extension module pyarrow.compute wraps (``call_function`` has
    kept its signature since pyarrow 1.0); if a pyarrow ever moves it, the public one is used."""
    try:
        from pyarrow._compute import call_function
    except ImportError:  # pragma: no cover - no such pyarrow yet
        from pyarrow.compute import call_function
    return call_function(name, list(args))
