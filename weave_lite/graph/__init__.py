"""Graph nodes, types and the op catalog.

Importing the package registers the spec of every op (:mod:`weave_lite.graph.ops`), so that the
registry is complete whichever module reads it first (the server's op listing, a parse error's
suggestions): ``import weave_lite`` no longer imports the planner, which used to load it.
"""

from weave_lite.graph import ops as _ops  # noqa: F401  (registers every spec)
