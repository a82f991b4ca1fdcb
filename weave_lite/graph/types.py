"""Weave types (SPEC section 2): what every node of a graph produces.

``none``, ``boolean``, ``int``, ``float``, ``string``, ``bytes``, ``timestamp`` (and ``date``
for logged dates), ``list<T>``, ``dict{k: T}``, ``union<...>``, ``optional<T>`` = union with
none.  Two more exist for the language itself: a *group* is a list that carries its key type,
and ``table`` is what ``stream_table(...)`` returns before ``.rows``.  ``any`` stands for values
whose type is not known before running (never produced from a table's schema).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa


class WType:
    """Base class of weave types; instances are immutable and compare by structure."""

    __slots__ = ()

    def non_null(self) -> WType:
        """This type without ``none`` (``optional<T>`` -> ``T``)."""
        return self

    @property
    def nullable(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Scalar(WType):
    name: str  # none boolean int float string bytes timestamp date any

    def __str__(self) -> str:
        return self.name


NONE = Scalar("none")
BOOL = Scalar("boolean")
INT = Scalar("int")
FLOAT = Scalar("float")
STRING = Scalar("string")
BYTES = Scalar("bytes")
TIMESTAMP = Scalar("timestamp")
DATE = Scalar("date")
ANY = Scalar("any")


@dataclass(frozen=True, slots=True)
class ListT(WType):
    elem: WType
    # Set for groups (a list tagged with its key): the key's type.
    key: WType | None = None

    def __str__(self) -> str:
        return type_text(self)


@dataclass(frozen=True, slots=True)
class DictT(WType):
    fields: tuple[tuple[str, WType], ...]

    def get(self, name: str) -> WType | None:
        for k, t in self.fields:
            if k == name:
                return t
        return None

    @property
    def names(self) -> list[str]:
        return [k for k, _ in self.fields]

    def __str__(self) -> str:
        return type_text(self)


@dataclass(frozen=True, slots=True)
class UnionT(WType):
    members: frozenset

    def non_null(self) -> WType:
        rest = [m for m in self.members if m != NONE]
        return union(rest) if rest else NONE

    @property
    def nullable(self) -> bool:
        return NONE in self.members

    def __str__(self) -> str:
        return type_text(self)


@dataclass(frozen=True, slots=True)
class TableT(WType):
    """A table (``stream_table(...)``/``table(...)``); ``.rows`` gives ``list<row>``."""

    row: DictT

    def __str__(self) -> str:
        return type_text(self)


# -- text, depth and size (iterative: types may nest deeply and share parts) ------------------

#: Type texts are cut here (with "..."): error messages and explain stay readable.
TYPE_TEXT_LIMIT = 1000


def type_text(t: WType, limit: int = TYPE_TEXT_LIMIT, _keys: dict | None = None, max_fields: int | None = None) -> str:
    """``list<dict{a: int, b: optional<string>}>``; longer texts are cut after ``limit``
    characters, so even a type of a million parts prints at once; ``max_fields`` shows only
    that many fields of each dict (``dict{a: int, +7 more}``).  (``_keys`` memoizes the sort
    keys of union members: each is a text itself, and unions nest.)"""
    keys = {} if _keys is None else _keys
    out: list[str] = []
    size = 0
    stack: list[WType | str] = [t]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            size += len(item)
            if size > limit:
                return "".join(out)[:limit] + "..."
        else:
            stack.extend(reversed(_text_pieces(item, limit, keys, max_fields)))
    return "".join(out)


def _text_pieces(t: WType, limit: int, keys: dict, max_fields: int | None = None) -> list:
    """The text of ``t`` as strings and child types, in order."""
    if isinstance(t, ListT):
        if t.key is not None:
            return ["group<key: ", t.key, ", ", t.elem, ">"]
        return ["list<", t.elem, ">"]
    if isinstance(t, DictT):
        pieces: list = ["dict{"]
        shown = t.fields if max_fields is None or len(t.fields) <= max_fields else t.fields[:max_fields]
        for i, (k, v) in enumerate(shown):
            pieces.extend((", " if i else "", f"{k}: ", v))
        if len(shown) < len(t.fields):
            pieces.append(f", +{len(t.fields) - len(shown)} more")
        return [*pieces, "}"]
    if isinstance(t, UnionT):
        members = _sorted_members(t, keys)
        rest = [m for m in members if m != NONE]
        if t.nullable and len(rest) == 1:
            return ["optional<", rest[0], ">"]
        pieces = ["union<"]
        for i, m in enumerate(members):
            pieces.extend((", " if i else "", m))
        return [*pieces, ">"]
    if isinstance(t, TableT):
        return ["table<", t.row, ">"]
    return [str(t)]


# Union members are listed in the order of their texts; the first this many characters decide
# (longer texts only break ties), so that sorting nested unions stays cheap.
_SORT_KEY_CHARS = 40


def _sorted_members(t: UnionT, keys: dict) -> list[WType]:
    """``t``'s members in text order, memoized in ``keys`` per union (unions nest in unions)."""
    found = keys.get(("union", id(t)))
    if found is not None:
        return found[0]

    def key(m: WType, chars: int) -> str:
        memo = keys.get((chars, id(m)))
        if memo is None:
            memo = keys[(chars, id(m))] = (type_text(m, chars, keys), m)  # m kept: its id stays its own
        return memo[0]

    members = sorted(t.members, key=lambda m: key(m, _SORT_KEY_CHARS))
    if len({key(m, _SORT_KEY_CHARS) for m in members}) < len(members):  # a tie: longer texts decide
        members.sort(key=lambda m: key(m, TYPE_TEXT_LIMIT))
    keys[("union", id(t))] = (members, t)
    return members


def type_children(t: WType) -> tuple[WType, ...]:
    if isinstance(t, ListT):
        return (t.elem,) if t.key is None else (t.key, t.elem)
    if isinstance(t, DictT):
        return tuple(v for _, v in t.fields)
    if isinstance(t, UnionT):
        return tuple(t.members)
    if isinstance(t, TableT):
        return (t.row,)
    return ()


def type_depth(t: WType) -> int:
    """Levels of nesting in ``t`` (a scalar is 1)."""
    return _fold(t, lambda kids: 1 + max(kids, default=0), {})


def type_size(t: WType, memo: dict | None = None) -> int:
    """Parts of ``t`` counted as a tree (a part shared twice counts twice: that is how big its
    values and its text get); ``memo`` may be kept across calls."""
    return _fold(t, lambda kids: 1 + sum(kids), {} if memo is None else memo)


def _fold(t: WType, combine, memo: dict) -> int:
    """``combine`` of the children's results, bottom-up, each distinct part computed once."""
    stack: list[tuple[WType, bool]] = [(t, False)]
    while stack:
        item, ready = stack.pop()
        key = id(item)
        if key in memo:
            continue
        kids = type_children(item)
        if ready or all(id(k) in memo for k in kids):
            # (the part itself is kept in the memo so that its id stays its own)
            memo[key] = (item, combine([memo[id(k)][1] for k in kids]))
        else:
            stack.append((item, True))
            stack.extend((k, False) for k in kids if id(k) not in memo)
    return memo[id(t)][1]


def union(types: Iterable[WType]) -> WType:
    """The union of types, flattened; int and float widen to float; one member is itself."""
    members: set[WType] = set()
    for t in types:
        if isinstance(t, UnionT):
            members.update(t.members)
        else:
            members.add(t)
    if INT in members and FLOAT in members:
        members.discard(INT)
    # Lists (not groups) merge into one list of the union of their elements; dicts likewise.
    lists = [m for m in members if isinstance(m, ListT) and m.key is None]
    if len(lists) > 1:
        members.difference_update(lists)
        members.add(ListT(union(m.elem for m in lists)))
    dicts = [m for m in members if isinstance(m, DictT)]
    if len(dicts) > 1:
        members.difference_update(dicts)
        names: dict[str, list[WType]] = {}
        for d in dicts:
            for k, t in d.fields:
                names.setdefault(k, []).append(t)
        members.add(
            DictT(tuple((k, union(ts) if len(ts) == len(dicts) else union([*ts, NONE])) for k, ts in names.items()))
        )
    if ANY in members:
        return ANY
    if len(members) == 1:
        return next(iter(members))
    if not members:
        return NONE
    return UnionT(frozenset(members))


def optional(t: WType) -> WType:
    return union([t, NONE])


def is_numeric(t: WType) -> bool:
    return t.non_null() in (INT, FLOAT) or t == NONE


def from_arrow(t: pa.DataType) -> WType:
    """The weave type of a canonical Arrow type (see ``weave_lite.storage.values``)."""
    if pa.types.is_null(t):
        return NONE
    if pa.types.is_boolean(t):
        return BOOL
    if pa.types.is_integer(t):
        return INT
    if pa.types.is_floating(t):
        return FLOAT
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return STRING
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return BYTES
    if pa.types.is_timestamp(t):
        return TIMESTAMP
    if pa.types.is_date(t):
        return DATE
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return ListT(from_arrow(t.value_type))
    if pa.types.is_struct(t):
        return DictT(tuple((f.name, from_arrow(f.type)) for f in t))
    if pa.types.is_union(t):
        return union(from_arrow(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_dictionary(t):
        return from_arrow(t.value_type)
    return ANY


def row_type(schema: pa.Schema) -> DictT:
    """The row type of a table with ``schema`` (every column optional in practice)."""
    return DictT(tuple((f.name, from_arrow(f.type)) for f in schema))


def to_arrow(t: WType) -> pa.DataType:
    """The Arrow type results of weave type ``t`` are built with."""
    t = t.non_null() if isinstance(t, UnionT) and len(t.members) == 2 and t.nullable else t
    if t == NONE:
        return pa.null()
    if t == BOOL:
        return pa.bool_()
    if t == INT:
        return pa.int64()
    if t == FLOAT:
        return pa.float64()
    if t == STRING:
        return pa.string()
    if t == BYTES:
        return pa.binary()
    if t == TIMESTAMP:
        return pa.timestamp("us", tz="UTC")
    if t == DATE:
        return pa.date32()
    if isinstance(t, ListT):
        return pa.list_(to_arrow(t.elem))
    if isinstance(t, DictT):
        return pa.struct([pa.field(k, to_arrow(v)) for k, v in t.fields])
    raise TypeError(f"no single Arrow type for {t}")
