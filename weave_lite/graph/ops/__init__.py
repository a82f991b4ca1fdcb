"""The op catalog: the specs of every op, one module per area (importing registers them).

Import order is overload order: where two areas overload one name (``add`` on numbers and on
strings), the planner tries the overloads in the order they were registered.
"""

from weave_lite.graph.ops import (  # noqa: F401
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

AREAS = (
    "dicts",
    "roots",
    "lists",
    "join",
    "windows",
    "logic",
    "numbers",
    "bins",
    "profiles",
    "reducers",
    "strings",
    "timestamps",
    "fused",
)
