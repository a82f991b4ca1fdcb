"""Small predicates and builders shared by the type rules of every area."""

from __future__ import annotations

from collections.abc import Sequence

from weave_lite.errors import WeaveTypeError
from weave_lite.graph.registry import NOT_CONST
from weave_lite.graph.types import (
    ANY,
    BOOL,
    DATE,
    FLOAT,
    INT,
    NONE,
    STRING,
    TIMESTAMP,
    ListT,
    WType,
    union,
)


def base(t: WType) -> WType:
    """``t`` without null (``optional<int>`` -> ``int``)."""
    return t.non_null()


def is_any(t: WType) -> bool:
    return t == ANY


def is_none(t: WType) -> bool:
    return t == NONE


def is_num(t: WType) -> bool:
    return base(t) in (INT, FLOAT, ANY) or t == NONE


def is_int(t: WType) -> bool:
    return base(t) in (INT, ANY) or t == NONE


def is_str(t: WType) -> bool:
    return base(t) in (STRING, ANY) or t == NONE


def is_bool(t: WType) -> bool:
    return base(t) in (BOOL, ANY) or t == NONE


def is_ts(t: WType) -> bool:
    return base(t) in (TIMESTAMP, DATE, ANY) or t == NONE


def is_list(t: WType) -> bool:
    return isinstance(base(t), ListT) or t == ANY


def is_group(t: WType) -> bool:
    b = base(t)
    return isinstance(b, ListT) and b.key is not None


def elem(t: WType) -> WType:
    b = base(t)
    return b.elem if isinstance(b, ListT) else ANY


def num_result(*types: WType) -> WType:
    """int when every operand is int, else float (nulls do not count)."""
    real = [base(t) for t in types if t != NONE]
    if any(t == FLOAT for t in real):
        return FLOAT
    if real and all(t == INT for t in real):
        return INT
    return FLOAT if not real else union(real)


def comparable(a: WType, b: WType) -> bool:
    """Whether ``a < b`` makes sense: numbers, strings, timestamps, booleans alike."""
    if a == NONE or b == NONE or is_any(a) or is_any(b):
        return True
    return any(pred(a) and pred(b) for pred in (is_num, is_str, is_ts, is_bool))


def equatable(a: WType, b: WType) -> bool:
    return comparable(a, b) or base(a) == base(b)


def const_of(consts: Sequence[object], i: int) -> object:
    return consts[i] if i < len(consts) else NOT_CONST


def require_const(consts: Sequence[object], i: int, what: str) -> object:
    value = const_of(consts, i)
    if value is NOT_CONST:
        raise WeaveTypeError(f"{what} must be a literal value")
    return value


def fixed(t: WType):
    """A type rule that always returns ``t``."""
    return lambda types, consts: t


def same_as(i: int):
    """A type rule returning the type of argument ``i``."""
    return lambda types, consts: types[i]


def elem_of(i: int):
    """The element type of list argument ``i`` (nullable: an empty list gives null)."""
    return lambda types, consts: elem(types[i])


def list_of_arg(i: int):
    return lambda types, consts: ListT(elem(types[i]))


def all_of(*preds):
    """``accepts`` from one predicate per argument (missing optional arguments pass)."""

    def accepts(types) -> bool:
        return all(p(t) for p, t in zip(preds, types))

    return accepts
