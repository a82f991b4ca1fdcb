"""Type rules of every op, one module per area (importing registers them)."""

from weave_lite.graph.ops import dicts, lists, logic, numbers, profiles, reducers, strings, timestamps  # noqa: F401
