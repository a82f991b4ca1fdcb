"""Kernels of every op, one module per op area (``graph/ops/<area>.py`` holds the specs);
importing an area's module registers its kernels.

Nothing is imported here: :func:`weave_lite.execute.executor.kernel_for` imports an area on
the first call of one of its kernels, so that a count never loads the areas that load Numba
(``strings``, ``fused``).  :func:`load_all` registers every area (for completeness checks).
"""

from __future__ import annotations

AREAS = (
    "bins", "dicts", "fused", "join", "lists", "logic", "numbers",
    "profiles", "reducers", "roots", "strings", "timestamps", "windows",
)  # fmt: skip


def load_area(area: str) -> bool:
    """Import op area ``area`` (registering its kernels); False for a name that is not one.

    Each area is imported by a fixed statement: no import is computed from a string."""
    if area == "bins":
        from weave_lite.execute.ops import bins  # noqa: F401
    elif area == "dicts":
        from weave_lite.execute.ops import dicts  # noqa: F401
    elif area == "fused":
        from weave_lite.execute.ops import fused  # noqa: F401
    elif area == "join":
        from weave_lite.execute.ops import join  # noqa: F401
    elif area == "lists":
        from weave_lite.execute.ops import lists  # noqa: F401
    elif area == "logic":
        from weave_lite.execute.ops import logic  # noqa: F401
    elif area == "numbers":
        from weave_lite.execute.ops import numbers  # noqa: F401
    elif area == "profiles":
        from weave_lite.execute.ops import profiles  # noqa: F401
    elif area == "reducers":
        from weave_lite.execute.ops import reducers  # noqa: F401
    elif area == "roots":
        from weave_lite.execute.ops import roots  # noqa: F401
    elif area == "strings":
        from weave_lite.execute.ops import strings  # noqa: F401
    elif area == "timestamps":
        from weave_lite.execute.ops import timestamps  # noqa: F401
    elif area == "windows":
        from weave_lite.execute.ops import windows  # noqa: F401
    else:
        return False
    return True


def load_all() -> None:
    """Import (and so register the kernels of) every op area."""
    for area in AREAS:
        load_area(area)
