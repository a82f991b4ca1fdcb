"""The fast path of single-row ``log`` calls: flat rows of a recurring shape queued as tuples.

Most applications log the same few keys with plain scalar values (``str``, ``int``, ``float``,
``bool``, ``None``) call after call.  :class:`FlatRows` remembers the keys of the last row that
took the full validation of :mod:`weave_lite.row_validation`, the value types seen in each
column, and one small check of them (ASCII strings within :data:`MAX_VALUE_BYTES`,
ints within 64 bits).  A row with those keys whose values pass is queued as one tuple ``(shape, time_us, *values)``
(``shape`` is the keys as one JSON text, see :func:`shape_keys`):

* it needs no per-key validation loop in the caller, only a few C calls and the check;
* it is a seventh of the memory of a dict copy (queues of hundreds of thousands of rows
  build up between commits, and fresh memory is what costs most in a small VM);
* it holds only atomic values (the keys as one shared ``str``, not a tuple, which the
  collector would have to untrack first), so the garbage collector untracks it on its first
  pass and a long queue is not re-scanned on every collection;
* the writer turns a run of them into columns with one ``zip`` (see ``writer``).

Anything else (other keys, a non-ASCII or huge string, a big int, any other type) returns
``None`` and takes the full validation, which raises for a bad row as before.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from math import prod
from operator import call, itemgetter

from weave_lite.row_validation import MAX_VALUE_BYTES

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _short_ascii(v: object) -> bool:
    return type(v) is str and v.isascii() and len(v) <= MAX_VALUE_BYTES  # isascii: O(1)


def _int64(v: object) -> bool:
    return type(v) is int and _INT_MIN <= v <= _INT_MAX


# The test of one value per accepted type; any other type takes the full validation.  Plain
# functions, not generated code: nothing in this package reaches exec/eval.
_TERMS: dict[type, Callable[[object], bool]] = {
    str: _short_ascii,
    int: _int64,
    float: lambda v: type(v) is float,
    bool: lambda v: type(v) is bool,
    type(None): lambda v: v is None,
}
# Keys the writer fills itself: rows carrying them keep the general path.
_RESERVED = frozenset(["timestamp", "_client_id"])

Check = Callable[[tuple], bool]


def _column_check(types: frozenset[type]) -> Callable[[object], bool]:
    terms = tuple(_TERMS[t] for t in sorted(types, key=_ORDER.index))
    if len(terms) == 1:
        return terms[0]
    return lambda v: any(term(v) for term in terms)


def compile_check(kinds: list[frozenset[type]]) -> Check:
    """A function telling whether a packed row ``(keys, time_us, *values)`` holds, in column
    ``i``, a value of one of the types ``kinds[i]`` that can be queued as it is.

    Built from C-level calls (the tuple of value types looked up in the set of accepted ones,
    ``str.isascii``/``len`` of the plain str columns joined, ``min``/``max`` of the int ones):
    no generated code."""
    if prod(len(k) for k in kinds) > _MAX_COMBINATIONS:
        return _per_value_check(kinds)
    # Whole-row type tuples (the shape text and the time first): no slice of the row per call.
    allowed = frozenset((str, int, *types) for types in itertools.product(*kinds))
    strs = _getter([i + 2 for i, k in enumerate(kinds) if k == {str}])
    int_positions = [i + 2 for i, k in enumerate(kinds) if k == {int}]
    one_int = int_positions[0] if len(int_positions) == 1 else None
    ints = None if one_int is not None else _getter(int_positions)
    mixed = tuple((i + 2, _column_check(k)) for i, k in enumerate(kinds) if len(k) > 1 and k & {str, int})

    def check(row: tuple) -> bool:
        # (every allowed tuple has the row's width: no separate length test)
        if tuple(map(type, row)) not in allowed:
            return False
        if strs is not None:
            # All ASCII, each within the limit (their sum within it: a longer row just takes
            # the general path)
            joined = "".join(strs(row))
            if not joined.isascii() or len(joined) > MAX_VALUE_BYTES:
                return False
        if one_int is not None and not _INT_MIN <= row[one_int] <= _INT_MAX:
            return False
        if ints is not None:
            values = ints(row)
            if min(values) < _INT_MIN or max(values) > _INT_MAX:
                return False
        if mixed:  # a str or int column that also takes other types (rare)
            for i, test in mixed:  # (a loop: no generator)
                if not test(row[i]):
                    return False
        return True

    return check


_MAX_COMBINATIONS = 256  # columns of several types multiply the accepted type tuples


def _getter(positions: list[int]) -> Callable[[tuple], tuple] | None:
    """``row -> (row[p] for p in positions)`` as a tuple (``itemgetter`` of one index returns
    the item itself), or None for no positions."""
    if not positions:
        return None
    if len(positions) == 1:
        only = positions[0]
        return lambda row: (row[only],)
    return itemgetter(*positions)


def _per_value_check(kinds: list[frozenset[type]]) -> Check:
    checks = tuple(_column_check(types) for types in kinds)
    width = len(checks) + 2

    def check(row: tuple) -> bool:
        return len(row) == width and all(map(call, checks, row[2:]))

    return check


_ORDER = [str, float, int, type(None), bool]


def shape_keys(shape: str) -> list[str]:
    """The keys of a packed row's ``shape``."""
    return json.loads(shape)


class FlatRows:
    """Per-StreamTable memory of the current row shape (safe to share between threads: a
    shape is replaced by one attribute store, and readers take a local copy)."""

    __slots__ = ("_kinds", "_lock", "shape")

    def __init__(self) -> None:
        # (keys, their JSON text, the accepted types of each column, their check), or None
        self.shape: tuple[tuple[str, ...], str, list[frozenset[type]], Check] | None = None
        # Every type ever accepted in each column of each shape text (only ever widened, under
        # the lock: two threads learning at once must not lose a type the writer relies on).
        self._kinds: dict[str, list[frozenset[type]]] = {}
        self._lock = threading.Lock()

    def column_kinds(self, text: str) -> list[frozenset[type]] | None:
        """The value types any packed row of shape ``text`` may hold, column by column (a
        superset of those of the rows queued so far), or ``None`` for an unknown shape."""
        return self._kinds.get(text)

    def pack(self, row: dict, now_us: int) -> tuple | None:
        """``(shape, now_us, *values)`` when ``row`` has the known keys and its values pass
        the check; ``None`` otherwise (then validate it in full and call :meth:`learn`)."""
        shape = self.shape
        if shape is None or tuple(row) != shape[0]:
            return None
        packed = (shape[1], now_us, *row.values())
        return packed if shape[3](packed) else None

    def learn(self, normalized: dict, now_us: int) -> tuple | None:
        """Take the shape of a row that passed full validation (``normalized``, its copy) and
        return it packed, or ``None`` when it stays on the general path."""
        keys = tuple(normalized)
        if not keys or _RESERVED.intersection(keys) or not all(type(k) is str for k in keys):
            return None
        values = tuple(normalized.values())
        types = [type(v) for v in values]
        if not all(t in _TERMS for t in types):
            return None
        shape = self.shape
        if shape is not None and shape[0] == keys:  # a known shape: widen its columns' types
            keys, text = shape[0], shape[1]
            kinds = [k | {t} for k, t in zip(shape[2], types)]
        else:
            text = json.dumps(keys)
            kinds = [frozenset([t]) for t in types]
        check = shape[3] if shape is not None and kinds == shape[2] else compile_check(kinds)
        packed = (text, now_us, *values)
        if not check(packed):  # e.g. a non-ASCII str: valid, but not for the fast path
            return None
        with self._lock:  # recorded before any row of these kinds is queued
            seen = self._kinds.get(text)
            self._kinds[text] = list(kinds) if seen is None else [a | b for a, b in zip(seen, kinds)]
        self.shape = (keys, text, kinds, check)
        return packed
