"""Weave types (SPEC section 2): what every node of a graph produces.

``none``, ``boolean``, ``int``, ``float``, ``string``, ``bytes``, ``timestamp`` (and ``date``
for logged dates), ``list<T>``, ``dict{k: T}``, ``union<...>``, ``optional<T>`` = union with
none.  Two more exist for the language itself: a *group* is a list that carries its key type,
and ``table`` is what ``stream_table(...)`` returns before ``.rows``.  ``any`` stands for values
whose type is not known before running (never produced from a table's schema).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import pyarrow as pa


class WType:
    """Base class of weave types; instances are immutable and compare by structure."""

    __slots__ = ()

    def non_null(self) -> "WType":
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
        if self.key is not None:
            return f"group<key: {self.key}, {self.elem}>"
        return f"list<{self.elem}>"


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
        inner = ", ".join(f"{k}: {t}" for k, t in self.fields)
        return f"dict{{{inner}}}"


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
        rest = sorted((m for m in self.members if m != NONE), key=str)
        if self.nullable and len(rest) == 1:
            return f"optional<{rest[0]}>"
        return f"union<{', '.join(str(m) for m in sorted(self.members, key=str))}>"


@dataclass(frozen=True, slots=True)
class TableT(WType):
    """A table (``stream_table(...)``/``table(...)``); ``.rows`` gives ``list<row>``."""

    row: DictT

    def __str__(self) -> str:
        return f"table<{self.row}>"


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
