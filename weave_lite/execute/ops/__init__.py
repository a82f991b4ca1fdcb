"""Kernels of every op, one module per op area (``graph/ops/<area>.py`` holds the specs);
importing an area's module registers its kernels.

Nothing is imported here: :func:`weave_lite.execute.executor.kernel_for` imports an area on
the first call of one of its kernels, so that a count never loads the areas that load Numba
(``strings``, ``fused``).  :func:`load_all` registers every area (for completeness checks).
"""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    """Import (and so register the kernels of) every op area."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{info.name}")
