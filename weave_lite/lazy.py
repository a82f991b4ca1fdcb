"""Modules imported on first use: ``pc = lazy_module("pyarrow.compute")`` at the top of a
module costs nothing until ``pc.something`` is first read.

``import weave_lite`` must stay cheap (issue 15: <= 0.25 s): ``pyarrow.compute`` (~0.1 s),
``pyarrow.fs`` and the Numba kernel modules are loaded by the first query that reads them.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    """A stand-in that imports the named module on its first attribute read and then holds a
    copy of that module's namespace (later reads are plain module attribute look-ups)."""

    def __getattr__(self, name: str) -> Any:
        # Only called for names not in this stand-in's own dict: before the import, or for a
        # name the module lacks.  Importing is thread-safe and the update idempotent: no lock.
        target = importlib.import_module(self.__dict__["_lazy_target"])
        self.__dict__.update(target.__dict__)
        return getattr(target, name)


def lazy_module(name: str) -> Any:
    """A stand-in for module ``name`` that imports it on first use (typed ``Any``: the callers'
    modules are untyped pyarrow or Numba dispatchers)."""
    module = _LazyModule(name)
    module.__dict__["_lazy_target"] = name
    return module
