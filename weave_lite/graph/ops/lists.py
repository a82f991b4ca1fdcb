"""Specs of the list ops: indexing, filter/map/sort/groupby, slicing, concat, literals..."""

from __future__ import annotations

from weave_lite.errors import UnknownColumnError, WeaveTypeError, did_you_mean
from weave_lite.graph.ops.rules import (
    all_of,
    base,
    elem,
    elem_of,
    fixed,
    is_any,
    is_group,
    is_int,
    is_list,
    is_str,
    list_of_arg,
)
from weave_lite.graph.registry import NOT_CONST, NOT_MERGEABLE, VALUE, define, define_internal, fold
from weave_lite.graph.types import (
    ANY,
    BOOL,
    INT,
    NONE,
    STRING,
    DictT,
    ListT,
    WType,
    union,
)

AREA = __name__  # the area is this module's name


def _item_and_index(types):
    return (elem(types[0]), INT)


# -- picking and indexing --------------------------------------------------------------------


def split_path(key: str) -> list[str]:
    """A pick path's parts, as Weave's ``_dict_utils.split_escaped_string``: split on every
    ``.`` not escaped; ``\\.`` is a literal dot (``"a\\.b"`` is the one key ``a.b``)."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(key):
        c = key[i]
        if c == "\\" and key[i + 1 : i + 2] == ".":
            current.append(".")
            i += 2
            continue
        if c == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    parts.append("".join(current))
    return parts


def whole_key(parts: list[str]) -> str | None:
    """The remaining parts as one key, tried before walking them (``row["a.b"]`` picks a key
    ``a.b`` if there is one); None when a ``*`` is among them."""
    return None if "*" in parts else ".".join(parts)


def pick_type(container: WType, key: object) -> WType:
    """The type of ``container[key]`` for a dict type.

    A dotted key walks nested dicts (unless a key has that very name); ``*`` stands for every
    key of a dict (giving a dict of the results per key) or every element of a list (giving
    a list), and a list met on the way is mapped over, as Weave's ``_dict_utils`` does. A key
    computed per row (``{a: 1, b: 2}[row["k"]]``) gives the union of the value types, or null
    for a key the dict lacks.
    """
    t = base(container)
    if is_any(t):
        return ANY
    assert isinstance(t, DictT)
    if key is NOT_CONST:
        return union([*(ft for _, ft in t.fields), NONE])
    found = t.get(key) if isinstance(key, str) else None
    if found is not None:
        return found
    if isinstance(key, str):
        walked = _path_type(t, split_path(key), strict=True)
        if walked is not None:
            return walked
    raise _unknown_column(key, t)


def _unknown_column(key: object, t: DictT) -> UnknownColumnError:
    return UnknownColumnError(
        f"unknown column `{key}`{did_you_mean(str(key), t.names)} (columns: {', '.join(t.names[:12])}"
        f"{', ...' if len(t.names) > 12 else ''})"
    )


def _path_type(t: WType, parts: list[str], strict: bool) -> WType | None:
    """The type of walking ``parts`` into ``t``. Outside a ``*`` (``strict``) a key missing from
    a dict is an error naming that dict's columns, and a path into a non-dict gives None (the
    caller names the whole key); under a ``*`` both give null."""
    if not parts:
        return t
    b = base(t)
    if is_any(b):
        return ANY
    head, rest = parts[0], parts[1:]
    if isinstance(b, ListT):
        inner = _path_type(b.elem, rest if head == "*" else parts, strict)
        return None if inner is None else ListT(inner)
    if isinstance(b, DictT):
        whole = whole_key(parts)
        if whole is not None and b.get(whole) is not None:
            return b.get(whole)
        if head == "*":
            fields = [(k, _path_type(v, rest, strict=False)) for k, v in b.fields]
            return DictT(tuple((k, v if v is not None else NONE) for k, v in fields))
        inner_t = b.get(head)
        if inner_t is None:
            if strict:
                raise _unknown_column(".".join(parts), b)
            return NONE
        return _path_type(inner_t, rest, strict)
    return None if strict else NONE


define(
    "getitem",
    AREA,
    ("list", "scalar"),
    elem_of(0),
    accepts=lambda types: is_list(types[0]) and is_int(types[1]) and types[1] != NONE,
    key="getitem:index",
    doc="list[int]",
    partial=NOT_MERGEABLE,
)
define(
    "getitem",
    AREA,
    ("scalar", "scalar"),
    lambda types, consts: pick_type(types[0], consts[1]),
    accepts=lambda types: (isinstance(base(types[0]), DictT) or is_any(types[0])) and is_str(types[1]),
    key="getitem:pick",
    doc='dict["key"]',
    partial=NOT_MERGEABLE,
)

# -- whole-list ops ----------------------------------------------------------------------------
define("count", AREA, ("list",), fixed(INT), accepts=all_of(is_list), doc="list.count", partial=fold("sum"))


def _filter_type(types, consts):
    if not (base(types[1]) in (BOOL, ANY) or types[1] == NONE):
        raise WeaveTypeError(f"the function given to `filter` must return a boolean, not {types[1]}")
    return ListT(elem(types[0]))


define(
    "filter",
    AREA,
    ("list", "lambda"),
    _filter_type,
    accepts=all_of(is_list),
    bind={1: _item_and_index},
    doc="list.filter(row => boolean)",
    row_wise=True,
)
define(
    "map",
    AREA,
    ("list", "lambda"),
    lambda types, consts: ListT(types[1]),
    accepts=all_of(is_list),
    bind={1: _item_and_index},
    doc="list.map(row => value)",
    row_wise=True,
)


def _sort_type(types, consts):
    return ListT(elem(types[0]))


define(
    "sort",
    AREA,
    ("list", "lambda", "any"),
    _sort_type,
    accepts=lambda types: is_list(types[0]),
    bind={1: _item_and_index},
    defaults=(None,),
    doc='list.sort(row => [keys], ["asc"|"desc", ...])',
    partial=NOT_MERGEABLE,
)


def _groupby_type(types, consts):
    return ListT(ListT(elem(types[0]), key=types[1]))


define(
    "groupby",
    AREA,
    ("list", "lambda"),
    _groupby_type,
    accepts=all_of(is_list),
    bind={1: _item_and_index},
    doc="list.groupby(row => key)",
    partial=NOT_MERGEABLE,
)


def _groupkey_type(types, consts):
    t = base(types[0])
    if isinstance(t, ListT) and t.key is not None:
        return t.key
    return ANY


define(
    "groupkey",
    AREA,
    ("any",),
    _groupkey_type,
    accepts=lambda types: is_group(types[0]) or is_any(types[0]),
    doc="group.groupkey",
)
define(
    "limit",
    AREA,
    ("list", "scalar"),
    list_of_arg(0),
    accepts=all_of(is_list, is_int),
    doc="list.limit(n)",
    partial=NOT_MERGEABLE,
)
define(
    "offset",
    AREA,
    ("list", "scalar"),
    list_of_arg(0),
    accepts=all_of(is_list, is_int),
    doc="list.offset(n)",
    partial=NOT_MERGEABLE,
)
define("first", AREA, ("list",), elem_of(0), accepts=all_of(is_list), doc="list.first", partial=NOT_MERGEABLE)
define("last", AREA, ("list",), elem_of(0), accepts=all_of(is_list), doc="list.last", partial=NOT_MERGEABLE)
define(
    "dropna",
    AREA,
    ("list",),
    lambda types, consts: ListT(base(elem(types[0]))),
    accepts=all_of(is_list),
    doc="list.dropna",
    row_wise=True,
)
define("unique", AREA, ("list",), list_of_arg(0), accepts=all_of(is_list), doc="list.unique", partial=NOT_MERGEABLE)


def _concat_type(types, consts):
    if len(types) == 2:
        return ListT(union([elem(types[0]), elem(types[1])]))
    inner = elem(types[0])
    if not is_list(inner):
        raise WeaveTypeError(f"`concat` joins a list of lists; got a list of {inner}")
    return ListT(elem(inner))


define(
    "concat",
    AREA,
    ("list", "list"),
    _concat_type,
    accepts=lambda types: is_list(types[0]) and (len(types) == 1 or is_list(types[1])),
    defaults=(None,),
    doc="list_of_lists.concat or list.concat(other)",
    partial=NOT_MERGEABLE,
)


def _flat_elem(t: WType) -> WType:
    while is_list(t) and not is_any(t):
        t = elem(t)
    return t


define(
    "flatten",
    AREA,
    ("list",),
    lambda types, consts: ListT(_flat_elem(types[0])),
    accepts=all_of(is_list),
    doc="list.flatten",
    partial=NOT_MERGEABLE,
)
define(
    "contains",
    AREA,
    ("list", "scalar"),
    fixed(BOOL),
    accepts=lambda types: is_list(types[0]) and not is_str(types[0]),
    key="contains:list",
    doc="list.contains(value)",
    partial=NOT_MERGEABLE,
)
define(
    "joinToStr",
    AREA,
    ("list", "scalar"),
    fixed(STRING),
    # A list of lists maps (Weave: each inner list joined); null elements are written as "".
    accepts=lambda types: is_list(types[0]) and not isinstance(base(elem(types[0])), ListT) and is_str(types[1]),
    doc='list.joinToStr(", ")',
    partial=NOT_MERGEABLE,
)


def _list_literal_type(types, consts):
    return ListT(union(types) if types else NONE)


define("list", AREA, ("any",) * 64, _list_literal_type, defaults=(None,) * 64, doc="[a, b, ...]", foldable=False)


# Made by rewrites (see weave_lite/compile/rewrites): `xs.filter(f).count` counts f's mask, and
# `xs.sort(f).limit(n)` selects the first n without sorting everything.
define_internal("count:where", AREA, "count", partial=fold("sum"), doc="xs.filter(f).count, from f's mask")
define_internal("limit:sorted", AREA, "limit", partial=NOT_MERGEABLE, doc="xs.sort(f).limit(n) as a top-k")
# Made by weave_lite/compile/rewrites/sort_keys.py: a key function returning a list literal
# (`row => [a, b]`) becomes one key column per item, never built as lists.
define_internal(
    "sort:keys",
    AREA,
    "list",
    evaluation=VALUE,
    foldable=False,
    doc="the items of a sort key function's list, as separate keys",
)


# -- sampling and unnesting ------------------------------------------------------------------------
define(
    "randomlyDownsample",
    AREA,
    ("list", "scalar"),
    list_of_arg(0),
    accepts=all_of(is_list, is_int),
    doc="list.randomlyDownsample(n) (n elements at random, in order; the same n elements for the same length and n)",
    partial=NOT_MERGEABLE,
)


def unnest_row_type(row: WType) -> WType:
    """The row type of ``unnest``: every list-typed column of a row replaced by its elements."""
    b = base(row)
    if is_any(b):
        return ANY
    if not isinstance(b, DictT):
        raise WeaveTypeError(f"`unnest` explodes the list columns of a list of dicts; got a list of {row}")
    return DictT(tuple((k, elem(t) if is_list(t) and not is_any(t) else t) for k, t in b.fields))


define(
    "unnest",
    AREA,
    ("list",),
    lambda types, consts: ListT(unnest_row_type(elem(types[0]))),
    accepts=all_of(is_list),
    doc="rows.unnest (one row per element of the list columns, the other columns repeated)",
    row_wise=True,
)
