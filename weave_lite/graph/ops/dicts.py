"""Type rules of dict construction and dict ops."""

from __future__ import annotations

from weave_lite.errors import WeaveTypeError
from weave_lite.graph.ops.rules import base, is_any
from weave_lite.graph.registry import NOT_CONST, define
from weave_lite.graph.types import STRING, DictT, ListT, union

AREA = __name__  # the area is this module's name


def _dict_literal_type(types, consts):
    if len(types) % 2:
        raise WeaveTypeError("a dict literal needs a value for every key")
    fields = []
    for i in range(0, len(types), 2):
        key = consts[i]
        if key is NOT_CONST or not isinstance(key, str):
            raise WeaveTypeError("dict keys must be names or string literals")
        fields = [f for f in fields if f[0] != key]
        fields.append((key, types[i + 1]))
    return DictT(tuple(fields))


define(
    "dict", AREA, ("any",) * 128, _dict_literal_type, defaults=(None,) * 128, foldable=False, doc="{key: value, ...}"
)


def _is_dict(t):
    return isinstance(base(t), DictT) or is_any(t)


def _merge_type(types, consts):
    a, b = base(types[0]), base(types[1])
    if is_any(a) or is_any(b):
        return a if is_any(a) else b
    fields = dict(a.fields)
    fields.update(b.fields)
    return DictT(tuple(fields.items()))


define(
    "merge",
    AREA,
    ("scalar", "scalar"),
    _merge_type,
    accepts=lambda t: _is_dict(t[0]) and _is_dict(t[1]),
    doc="dict.merge(other)",
)
define("keys", AREA, ("scalar",), lambda t, c: ListT(STRING), accepts=lambda t: _is_dict(t[0]), doc="dict.keys")


def _values_type(types, consts):
    d = base(types[0])
    if is_any(d):
        return ListT(d)
    return ListT(union(t for _, t in d.fields) if d.fields else STRING)


define("values", AREA, ("scalar",), _values_type, accepts=lambda t: _is_dict(t[0]), doc="dict.values")
