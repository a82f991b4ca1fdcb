"""Kernels of every op, one module per op area (``graph/ops/<area>.py`` holds the specs);
importing registers them."""

from weave_lite.execute.ops import (  # noqa: F401
    bins,
    dicts,
    fused,
    join,
    lists,
    logic,
    numbers,
    profiles,
    reducers,
    roots,
    strings,
    timestamps,
    windows,
)
