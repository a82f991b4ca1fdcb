"""Specs of the table roots: ``stream_table("e/p/t")``, ``table("name")``, Weave's
``get("wandb-artifact:///e/p/t:alias/obj")`` and ``.rows``."""

from __future__ import annotations

import re

from weave_lite.graph.ops.rules import base, fixed, is_list
from weave_lite.graph.registry import REGISTRY, OpDef, define
from weave_lite.graph.types import ANY, ListT, TableT, WType

AREA = __name__  # the area is this module's name

# The planner resolves the roots itself (a table name gives the table's type); reading a
# table is never folded.
STREAM_TABLE = define(
    "stream_table", AREA, ("scalar",), fixed(ANY), foldable=False, doc='stream_table("entity/project/table")'
)
define("table", AREA, ("scalar",), fixed(ANY), foldable=False, doc='table("name") (from tables=)')


def _rows_type(t: WType) -> WType:
    table = base(t)
    return ListT(table.row) if isinstance(table, TableT) else t


define(
    "rows",
    AREA,
    ("any",),
    lambda types, consts: _rows_type(types[0]),
    accepts=lambda types: isinstance(base(types[0]), TableT) or is_list(types[0]),
    doc="table.rows",
)

# -- get("wandb-artifact:///entity/project/table:alias/obj") --------------------------------------
#
# Weave's boards read a StreamTable as ``get(uri).rows``. ``get`` is another name of the
# ``stream_table`` overload (same spec, same kernel): the planner turns the URI into the table's
# name and plans ``get(uri)`` as the very node ``stream_table("entity/project/table")`` would be
# (keeping the source span of the ``get`` call), so morsels, segment pruning, live queries and
# snapshots treat both alike. The alias (``:latest``, ``:v3``...) names a version of a W&B
# artifact; a local stream table has one version that grows, so every alias reads it.

GET_FORM = "wandb-artifact:///<entity>/<project>/<table>:<alias>/obj"
GET_DOC = 'get("wandb-artifact:///entity/project/table:latest/obj") (Weave\'s form of stream_table)'
_URI = re.compile(
    r"wandb-artifact:///(?P<entity>[^/:]+)/(?P<project>[^/:]+)/(?P<table>[^/:]+)(?::(?P<alias>[^/:]+))?(?:/(?P<path>obj))?/?"
)

REGISTRY["get"] = OpDef("get", STREAM_TABLE.area, [STREAM_TABLE], doc=GET_DOC)


def table_name_of_uri(uri: str) -> str:
    """``"wandb-artifact:///e/p/t:latest/obj"`` -> ``"e/p/t"``; ``ValueError`` naming the expected
    form for anything else (the ``:alias`` and the ``/obj`` path may be left out)."""
    match = _URI.fullmatch(uri.strip()) if isinstance(uri, str) else None
    if match is None:
        raise ValueError(f'`get` reads a stream table by its Weave URI "{GET_FORM}"; got {uri!r}')
    return f"{match['entity']}/{match['project']}/{match['table']}"
