"""The reference interpreter: graph nodes over plain Python lists of dicts.

This is the oracle that the vectorized engine is differentially tested
against, so it is written to be obviously correct rather than fast: one small
function per op, looked up by op name in ``OPS`` (or ``ROOT_OPS`` for the ops
that read the evaluation context), written from SPEC section 3 and
docs/semantics.md alone.  No pyarrow, no numpy.

Values are plain Python values: ``None``, ``bool``, ``int``, ``float``,
``str``, ``bytes``, timezone-aware UTC ``datetime``, ``list``, ``dict`` and
:class:`Group` (a ``list`` of rows carrying ``.groupkey``).

Auto-mapping (docs/semantics.md "Values") is decided by the shape of the
values: an op on scalars given a list maps over it, recursively; several list
arguments are zipped (equal lengths, else a type error) and scalar arguments
are broadcast.  See :func:`mapped`.

Decisions beyond docs/semantics.md are marked "DECISION" below (and listed in
the report that came with this file).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cmp_to_key
from typing import Any

from weave_lite.errors import (
    TableNotFoundError,
    UnboundVariableError,
    UnknownColumnError,
    UnknownOpError,
    WeaveTypeError,
)
from weave_lite.graph.nodes import Call, Const, Lambda, Node, Var

UTC = _dt.UTC
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)
INF = math.inf
NAN = math.nan

__all__ = [
    "Group",
    "OPS",
    "ROOT_OPS",
    "evaluate_reference",
    "to_plain",
    "values_equal",
]


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


class Group(list):
    """A list of rows tagged with its group key (``.groupkey``)."""

    def __init__(self, groupkey: Any, rows: list):
        super().__init__(rows)
        self.groupkey = groupkey

    def __repr__(self) -> str:
        return f"Group(groupkey={self.groupkey!r}, rows={list(self)!r})"


@dataclass
class TableRef:
    """What ``table(name)`` / ``stream_table(name)`` give; ``.rows`` reads it."""

    name: str
    rows: list


@dataclass(frozen=True)
class BinsFixed:
    step: float


@dataclass(frozen=True)
class BinsEqual:
    n: int


@dataclass(frozen=True)
class TimestampBinsNice:
    n: int


class Closure:
    """A lambda with the environment it was created in."""

    def __init__(self, interp: _Interpreter, params: tuple[str, ...], body: Node, env: dict):
        self.interp = interp
        self.params = params
        self.body = body
        self.env = env

    def __call__(self, *args: Any) -> Any:
        env = dict(self.env)
        for name, value in zip(self.params, args):
            env[name] = value
        return self.interp.eval(self.body, env)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def type_error(op: str, *values: Any) -> WeaveTypeError:
    kinds = ", ".join(kind_of(v) for v in values)
    return WeaveTypeError(f"`{op}` does not accept ({kinds})")


def kind_of(x: Any) -> str:
    if x is None:
        return "none"
    if isinstance(x, bool):
        return "boolean"
    if isinstance(x, int):
        return "int"
    if isinstance(x, float):
        return "float"
    if isinstance(x, str):
        return "string"
    if isinstance(x, bytes):
        return "bytes"
    if isinstance(x, _dt.datetime):
        return "timestamp"
    if isinstance(x, Group):
        return "group"
    if isinstance(x, list):
        return "list"
    if isinstance(x, dict):
        return "dict"
    if isinstance(x, Closure):
        return "function"
    return type(x).__name__


def is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def is_nan(x: Any) -> bool:
    return isinstance(x, float) and x != x


def is_ts(x: Any) -> bool:
    return isinstance(x, _dt.datetime)


def wrap64(v: int) -> int:
    """Two's-complement 64-bit wrap-around (DECISION: integer overflow wraps, as Arrow's unchecked kernels)."""
    return (v + 2**63) % 2**64 - 2**63


def to_us(ts: _dt.datetime) -> int:
    """Microseconds since the Unix epoch (exact)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return (ts - EPOCH) // _dt.timedelta(microseconds=1)


def from_us(us: int) -> _dt.datetime:
    return EPOCH + _dt.timedelta(microseconds=us)


def need_int(op: str, n: Any) -> int:
    if not is_int(n):
        raise type_error(op, n)
    return n


def call_fn(op: str, fn: Any, *args: Any) -> Any:
    """Call a lambda with as many of ``args`` as it has parameters (element, index)."""
    if not isinstance(fn, Closure):
        raise type_error(op, fn)
    return fn(*args[: len(fn.params)])


def mapped(op: str, fn: Callable, *args: Any) -> Any:
    """Apply a scalar function, mapping over list arguments (recursively).

    Lists are zipped element-wise (equal lengths, else a type error); scalar
    arguments are broadcast.  A Group is a list here.
    """
    lists = [a for a in args if isinstance(a, list)]
    if not lists:
        return fn(*args)
    n = len(lists[0])
    if any(len(other) != n for other in lists):
        raise WeaveTypeError(f"`{op}` got lists of different lengths: {[len(x) for x in lists]}")
    return [mapped(op, fn, *[a[i] if isinstance(a, list) else a for a in args]) for i in range(n)]


def strict_eq(a: Any, b: Any) -> bool:
    """``==`` without nulls: same kind and same value (ints and floats are one kind)."""
    if is_num(a) and is_num(b):
        return a == b
    if isinstance(a, bool) and isinstance(b, bool):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, bytes) and isinstance(b, bytes):
        return a == b
    if is_ts(a) and is_ts(b):
        return to_us(a) == to_us(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(deep_eq(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(deep_eq(a[k], b[k]) for k in a)
    return False


def deep_eq(a: Any, b: Any) -> bool:
    """Equality inside containers: null equals null there."""
    if a is None or b is None:
        return a is None and b is None
    return strict_eq(a, b)


def value_key(x: Any) -> Any:
    """A hashable key under which equal values meet.

    Used by groupby, unique, countDistinct, mode and join: all NaNs are one
    value, 0.0 and -0.0 are one value, 1 and 1.0 are one value, booleans are
    not numbers, timestamps compare by instant.
    """
    if x is None:
        return ("null",)
    if isinstance(x, bool):
        return ("bool", x)
    if is_num(x):
        if x != x:
            return ("nan",)
        return ("num", x)  # hash(0.0) == hash(-0.0) == hash(0); 1 == 1.0
    if isinstance(x, str):
        return ("str", x)
    if isinstance(x, bytes):
        return ("bytes", x)
    if is_ts(x):
        return ("ts", to_us(x))
    if isinstance(x, list):
        return ("list", tuple(value_key(e) for e in x))
    if isinstance(x, dict):
        return ("dict", tuple((k, value_key(v)) for k, v in x.items()))
    raise WeaveTypeError(f"a value of kind {kind_of(x)} cannot be compared")


def holds_null(x: Any) -> bool:
    if x is None:
        return True
    if isinstance(x, list):
        return any(holds_null(e) for e in x)
    if isinstance(x, dict):
        return any(holds_null(v) for v in x.values())
    return False


def compare(a: Any, b: Any, op: str = "compare") -> int:
    """Order two non-null values of one kind: -1, 0 or 1 (NaN is handled by callers)."""
    if (is_num(a) and is_num(b)) or (isinstance(a, bool) and isinstance(b, bool)):
        pass
    elif isinstance(a, str) and isinstance(b, str):
        pass  # code point order
    elif isinstance(a, bytes) and isinstance(b, bytes):
        pass
    elif is_ts(a) and is_ts(b):
        a, b = to_us(a), to_us(b)
    else:
        raise type_error(op, a, b)
    return -1 if a < b else (1 if a > b else 0)


def sort_rank(x: Any) -> int:
    """0 for ordinary values, 1 for NaN, 2 for null: NaN and null sort last."""
    if x is None:
        return 2
    if is_nan(x):
        return 1
    return 0


def compare_nan_last(a: Any, b: Any, op: str) -> int:
    """Compare two non-null values with NaN after every number."""
    ra, rb = sort_rank(a), sort_rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == 1:
        return 0
    return compare(a, b, op)


def float_floor(x: float) -> float:
    return x if not math.isfinite(x) else float(math.floor(x))


def float_ceil(x: float) -> float:
    return x if not math.isfinite(x) else float(math.ceil(x))


# ---------------------------------------------------------------------------
# The op tables
# ---------------------------------------------------------------------------

OPS: dict[str, Callable] = {}
ROOT_OPS: dict[str, Callable] = {}  # ops that read the context: called as fn(ctx, *args)


def op(name: str, table: dict | None = None):
    def register(fn: Callable) -> Callable:
        (OPS if table is None else table)[name] = fn
        return fn

    return register


# --- roots -----------------------------------------------------------------


def _lookup_table(ctx: _Interpreter, name: Any) -> TableRef:
    if not isinstance(name, str):
        raise type_error("table", name)
    if name not in ctx.tables:
        close = difflib.get_close_matches(name, list(ctx.tables), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise TableNotFoundError(f"no table named {name!r}{hint}")
    return TableRef(name, list(ctx.tables[name]))


@op("table", ROOT_OPS)
def op_table(ctx, name):
    return _lookup_table(ctx, name)


@op("stream_table", ROOT_OPS)
def op_stream_table(ctx, name):
    return _lookup_table(ctx, name)


@op("now", ROOT_OPS)
def op_now(ctx):
    if "now" in ctx.vars:
        return ctx.vars["now"]
    return _dt.datetime.now(UTC)


@op("rows")
def op_rows(x):
    if isinstance(x, TableRef):
        return list(x.rows)
    if isinstance(x, list):
        return list(x)
    raise type_error("rows", x)


# --- literals --------------------------------------------------------------


@op("list")
def op_list(*items):
    return list(items)


@op("dict")
def op_dict(*items):
    if len(items) % 2:
        raise WeaveTypeError("`dict` needs key, value pairs")
    out = {}
    for i in range(0, len(items), 2):
        key = items[i]
        if not isinstance(key, str):
            raise type_error("dict", key)
        out[key] = items[i + 1]
    return out


# --- picking: getitem --------------------------------------------------------


def dict_get(d: dict, key: str) -> Any:
    """``d[key]``; a dotted ``"a.b"`` is ``d["a"]["b"]`` unless ``"a.b"`` is itself a key."""
    if key in d:
        return d[key]
    if "." in key:
        head, rest = key.split(".", 1)
        if head in d:
            inner = d[head]
            if inner is None:
                return None
            if not isinstance(inner, dict):
                raise type_error("getitem", inner, rest)
            return dict_get(inner, rest)
    close = difflib.get_close_matches(key, [str(k) for k in d], n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownColumnError(f"no key {key!r}{hint}", suggestions=tuple(close))


@op("getitem")
def op_getitem(x, key):
    if x is None or key is None:
        return None
    if isinstance(x, list):
        if is_int(key):
            # x[i]: a negative index counts from the end (SPEC 3); out of range is null
            return x[key] if -len(x) <= key < len(x) else None
        if isinstance(key, str):
            # a column of a list of dicts (mapped over nested lists)
            return [op_getitem(e, key) for e in x]
        raise type_error("getitem", x, key)
    if isinstance(x, dict):
        if isinstance(key, str):
            return dict_get(x, key)
        raise type_error("getitem", x, key)
    raise type_error("getitem", x, key)


# --- lists -----------------------------------------------------------------


def need_list(op_name: str, x: Any) -> list:
    if not isinstance(x, list):
        raise type_error(op_name, x)
    return x


@op("count")
def op_count(x):
    if x is None:
        return None
    return len(need_list("count", x))


@op("filter")
def op_filter(x, fn):
    if x is None:
        return None
    out = []
    for i, e in enumerate(need_list("filter", x)):
        keep = call_fn("filter", fn, e, i)
        if keep is True:
            out.append(e)
        elif keep is False or keep is None:  # null is false
            pass
        else:
            raise type_error("filter", keep)
    return out


@op("map")
def op_map(x, fn):
    if x is None:
        return None
    return [call_fn("map", fn, e, i) for i, e in enumerate(need_list("map", x))]


@op("sort")
def op_sort(x, fn, dirs=None):
    if x is None:
        return None
    xs = need_list("sort", x)
    if dirs is None:
        dirs = []
    if not isinstance(dirs, list) or any(d not in ("asc", "desc") for d in dirs):
        raise type_error("sort", dirs)
    keys = []
    for i, e in enumerate(xs):
        k = call_fn("sort", fn, e, i)
        keys.append(k if isinstance(k, list) else [k])

    def cmp_rows(i: int, j: int) -> int:
        for pos, (a, b) in enumerate(zip(keys[i], keys[j])):
            ra, rb = sort_rank(a), sort_rank(b)
            if ra != rb:  # NaN then null last, whatever the direction
                return -1 if ra < rb else 1
            if ra != 0:
                continue
            c = compare(a, b, "sort")
            if c:
                descending = pos < len(dirs) and dirs[pos] == "desc"
                return -c if descending else c
        return 0

    order = sorted(range(len(xs)), key=cmp_to_key(cmp_rows))  # Python's sort is stable
    return [xs[i] for i in order]


@op("groupby")
def op_groupby(x, fn):
    if x is None:
        return None
    groups: dict[Any, Group] = {}
    for i, e in enumerate(need_list("groupby", x)):
        key = call_fn("groupby", fn, e, i)
        k = value_key(key)
        if k not in groups:
            groups[k] = Group(key, [])
        groups[k].append(e)
    return list(groups.values())


@op("groupkey")
def op_groupkey(x):
    if x is None:
        return None
    if isinstance(x, Group):
        return x.groupkey
    if isinstance(x, list):
        return [op_groupkey(e) for e in x]
    raise type_error("groupkey", x)


@op("limit")
def op_limit(x, n):
    if x is None:
        return None
    n = need_int("limit", n)
    return list(need_list("limit", x)[: max(n, 0)])


@op("offset")
def op_offset(x, n):
    if x is None:
        return None
    n = need_int("offset", n)
    return list(need_list("offset", x)[max(n, 0) :])


@op("first")
def op_first(x):
    if x is None:
        return None
    xs = need_list("first", x)
    return xs[0] if xs else None


@op("last")
def op_last(x):
    if x is None:
        return None
    xs = need_list("last", x)
    return xs[-1] if xs else None


_MISSING = object()


@op("concat")
def op_concat(x, other=_MISSING):
    if x is None:
        return None
    xs = need_list("concat", x)
    if other is not _MISSING:
        if other is None:
            return list(xs)
        return list(xs) + list(need_list("concat", other))
    out = []
    for part in xs:
        if part is None:
            continue  # DECISION: null sub-lists are skipped
        out.extend(need_list("concat", part))
    return out


@op("flatten")
def op_flatten(x):
    if x is None:
        return None
    out = []
    for e in need_list("flatten", x):
        if isinstance(e, list):
            out.extend(op_flatten(e))
        else:
            out.append(e)
    return out


@op("dropna")
def op_dropna(x):
    if x is None:
        return None
    return [e for e in need_list("dropna", x) if e is not None]


@op("unique")
def op_unique(x):
    if x is None:
        return None
    seen = set()
    out = []
    for e in need_list("unique", x):
        k = value_key(e)
        if k not in seen:
            seen.add(k)
            out.append(e)
    return out


@op("contains")
def op_contains(x, item):
    if x is None:
        return None
    if isinstance(x, list):
        # membership with ==; a null item is found if the list holds a null
        if item is None:
            return any(e is None for e in x)
        return any(e is not None and strict_eq(e, item) for e in x)
    if isinstance(x, str):
        if item is None:
            return None
        if not isinstance(item, str):
            raise type_error("contains", x, item)
        return item in x
    raise type_error("contains", x, item)


@op("join")
def op_join(left, right, fn1, fn2, alias1="a", alias2="b", left_outer=False, right_outer=False):
    if left is None or right is None:
        return None
    need_list("join", left)
    need_list("join", right)
    if not isinstance(alias1, str) or not isinstance(alias2, str):
        raise type_error("join", alias1, alias2)
    if not isinstance(left_outer, bool) or not isinstance(right_outer, bool):
        raise type_error("join", left_outer, right_outer)
    right_keys = [call_fn("join", fn2, r, j) for j, r in enumerate(right)]
    right_matched = [False] * len(right)
    out = []
    for i, lrow in enumerate(left):
        lkey = call_fn("join", fn1, lrow, i)
        matched = False
        if not holds_null(lkey):  # null keys never match
            for j, rrow in enumerate(right):
                rkey = right_keys[j]
                if not holds_null(rkey) and value_key(lkey) == value_key(rkey):
                    out.append({alias1: lrow, alias2: rrow})
                    matched = True
                    right_matched[j] = True
        if not matched and left_outer:
            out.append({alias1: lrow, alias2: None})
    if right_outer:
        for j, rrow in enumerate(right):
            if not right_matched[j]:
                out.append({alias1: None, alias2: rrow})
    return out


@op("joinToStr")
def op_join_to_str(x, sep):
    if x is None or sep is None:
        return None
    if not isinstance(sep, str):
        raise type_error("joinToStr", x, sep)
    items = need_list("joinToStr", x)
    if items and all(isinstance(e, list) or e is None for e in items) and any(isinstance(e, list) for e in items):
        return [op_join_to_str(e, sep) for e in items]  # a list of lists maps (Weave)
    return sep.join("" if e is None else to_string(e) for e in items)  # null as "" (Weave)


# --- reducers --------------------------------------------------------------


def reducer(name: str):
    """Register a reducer: list -> scalar (the reducer itself skips nulls).

    DECISION: a reducer given a list of lists (e.g. ``groups["x"]``) reduces
    each inner list; a null inner list gives null.
    """

    def register(fn: Callable) -> Callable:
        def run(x, *args):
            if x is None:
                return None
            xs = need_list(name, x)
            if any(isinstance(e, list) for e in xs):
                out = []
                for e in xs:
                    if e is not None and not isinstance(e, list):
                        raise type_error(name, e)
                    out.append(run(e, *args))
                return out
            return fn(xs, *args)

        run.__name__ = fn.__name__
        run.__signature__ = inspect.signature(fn)
        OPS[name] = run
        return fn

    return register


def numbers(op_name: str, xs: list) -> list:
    """The non-null elements, which must all be numbers."""
    vals = [e for e in xs if e is not None]
    for v in vals:
        if not is_num(v):
            raise type_error(op_name, v)
    return vals


def exact_sum(vals: list) -> Any:
    """The sum of numbers: ints exactly (wrapped to 64 bits), floats correctly rounded.

    NaN propagates; +inf and -inf together give NaN.
    """
    if all(is_int(v) for v in vals):
        return wrap64(sum(vals))
    floats = [float(v) for v in vals]
    if any(v != v for v in floats):
        return NAN
    has_pos, has_neg = INF in floats, -INF in floats
    if has_pos and has_neg:
        return NAN
    if has_pos:
        return INF
    if has_neg:
        return -INF
    try:
        return math.fsum(floats)
    except OverflowError:  # the exact sum is beyond the float range
        return INF if sum(Decimal(v) for v in floats) > 0 else -INF


@reducer("sum")
def op_sum(xs):
    return exact_sum(numbers("sum", xs))


def exact_mean(vals: list) -> Any:
    """The mean of finite numbers, computed exactly (as a fraction) and rounded once."""
    return float(sum(Fraction(v) for v in vals) / len(vals))


@reducer("avg")
def op_avg(xs):
    vals = numbers("avg", xs)
    if not vals:
        return None
    if any(isinstance(v, float) and not math.isfinite(v) for v in vals):
        return exact_sum(vals) / len(vals)  # NaN, inf, or inf - inf = NaN
    return exact_mean(vals)


@reducer("variance")
def op_variance(xs):
    """Population variance, computed exactly (as a fraction) and rounded once."""
    vals = numbers("variance", xs)
    if not vals:
        return None
    if any(isinstance(v, float) and not math.isfinite(v) for v in vals):
        return NAN  # NaN propagates; inf - inf is NaN
    exact = [Fraction(v) for v in vals]
    mean = sum(exact) / len(exact)
    var = sum((v - mean) ** 2 for v in exact) / len(exact)
    try:
        return float(var)
    except OverflowError:
        return INF


@reducer("stddev")
def op_stddev(xs):
    var = op_variance(xs)
    if var is None:
        return None
    return math.sqrt(var) if var == var else NAN


def _min_or_max(name: str, xs: list, want: int) -> Any:
    """The first min (want=-1) or max (want=1) of the non-null values; NaN ignored unless all NaN."""
    index = _arg_min_or_max(name, xs, want)
    return None if index is None else xs[index]


def _arg_min_or_max(name: str, xs: list, want: int) -> int | None:
    best = None
    first_nan = None
    for i, e in enumerate(xs):
        if e is None:
            continue
        if not (is_num(e) or isinstance(e, (bool, str, bytes)) or is_ts(e)):
            raise type_error(name, e)
        if is_nan(e):
            if first_nan is None:
                first_nan = i
            continue
        if best is None or compare(e, xs[best], name) == want:
            best = i
    if best is None:
        return first_nan
    return best


@reducer("min")
def op_min(xs):
    return _min_or_max("min", xs, -1)


@reducer("max")
def op_max(xs):
    return _min_or_max("max", xs, 1)


@reducer("argmin")
def op_argmin(xs):
    return _arg_min_or_max("argmin", xs, -1)


@reducer("argmax")
def op_argmax(xs):
    return _arg_min_or_max("argmax", xs, 1)


def quantile_of(name: str, xs: list, q: Any) -> Any:
    if not is_num(q) or not (0 <= q <= 1):
        raise type_error(name, q)
    vals = sorted(float(v) for v in numbers(name, xs) if not is_nan(v))
    if not vals:
        return None
    pos = q * (len(vals) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(vals) - 1)
    frac = pos - lo
    if frac == 0 or vals[lo] == vals[hi]:
        return vals[lo]
    return vals[lo] + (vals[hi] - vals[lo]) * frac  # linear, numpy's default


@reducer("median")
def op_median(xs):
    return quantile_of("median", xs, 0.5)


@reducer("quantile")
def op_quantile(xs, q):
    return quantile_of("quantile", xs, q)


@reducer("countDistinct")
def op_count_distinct(xs):
    return len({value_key(e) for e in xs if e is not None})


@reducer("mode")
def op_mode(xs):
    counts: dict[Any, int] = {}
    first_value: dict[Any, Any] = {}
    for e in xs:
        if e is None:
            continue
        k = value_key(e)
        counts[k] = counts.get(k, 0) + 1
        first_value.setdefault(k, e)
    if not counts:
        return None
    top = max(counts.values())
    candidates = [first_value[k] for k, c in counts.items() if c == top]
    # DECISION: NaN counts as a value; in a tie it is larger than every number (Arrow's mode)
    best = candidates[0]
    for c in candidates[1:]:
        if compare_nan_last(c, best, "mode") < 0:
            best = c
    return best


# --- arithmetic ------------------------------------------------------------


def _add(a, b):
    if a is None or b is None:
        return None
    if is_int(a) and is_int(b):
        return wrap64(a + b)
    if is_num(a) and is_num(b):
        return float(a) + float(b)
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    if is_ts(a) and is_num(b):  # a timestamp plus milliseconds (SPEC section 3)
        return _shifted(a, b)
    if is_num(a) and is_ts(b):
        return _shifted(b, a)
    raise type_error("add", a, b)


def _shifted(ts, ms):
    """``ts`` moved by ``ms`` milliseconds (to the nearest microsecond); null outside the
    datetime range (DECISION, as toTimestamp) or for NaN/inf."""
    if not math.isfinite(ms):
        return None
    try:
        return from_us(to_us(ts) + round(ms * 1000))
    except OverflowError:
        return None


def _sub(a, b):
    if a is None or b is None:
        return None
    if is_int(a) and is_int(b):
        return wrap64(a - b)
    if is_num(a) and is_num(b):
        return float(a) - float(b)
    if is_ts(a) and is_ts(b):
        return (to_us(a) - to_us(b)) / 1000  # milliseconds, as a float
    if is_ts(a) and is_num(b):  # a timestamp minus milliseconds
        return _shifted(a, -b)
    raise type_error("sub", a, b)


def _mul(a, b):
    if a is None or b is None:
        return None
    if is_int(a) and is_int(b):
        return wrap64(a * b)
    if is_num(a) and is_num(b):
        return float(a) * float(b)
    raise type_error("mul", a, b)


def _div(a, b):
    if a is None or b is None:
        return None
    if not (is_num(a) and is_num(b)):
        raise type_error("div", a, b)
    if b == 0:
        return None  # division by zero gives null (ints and floats alike)
    if is_int(a) and is_int(b):
        return a / b  # Python's int true division is correctly rounded
    return float(a) / float(b)


def _mod(a, b):
    if a is None or b is None:
        return None
    if not (is_num(a) and is_num(b)):
        raise type_error("mod", a, b)
    if b == 0:
        return None
    if is_int(a) and is_int(b):
        return a % b  # sign of the divisor
    return float(a) % float(b)  # Python's float %: sign of the divisor


def ieee_pow(a: float, b: float) -> float:
    """C99 ``pow`` (what Arrow computes), without Python's exceptions or complex results."""
    try:
        return math.pow(a, b)
    except OverflowError:
        odd_integer = float(b).is_integer() and int(b) % 2 == 1
        return -INF if (a < 0 and odd_integer) else INF
    except ValueError:
        if a == 0:  # zero to a negative power
            odd_integer = float(b).is_integer() and int(b) % 2 == 1
            return -INF if (math.copysign(1.0, a) < 0 and odd_integer) else INF
        return NAN  # negative base, non-integer exponent


def _pow(a, b):
    if a is None or b is None:
        return None
    if not (is_num(a) and is_num(b)):
        raise type_error("pow", a, b)
    return ieee_pow(float(a), float(b))  # ** always gives a float


def _neg(a):
    if a is None:
        return None
    if is_int(a):
        return wrap64(-a)
    if isinstance(a, float):
        return -a
    raise type_error("neg", a)


@op("add")
def op_add(a, b):
    return mapped("add", _add, a, b)


@op("sub")
def op_sub(a, b):
    return mapped("sub", _sub, a, b)


@op("mul")
def op_mul(a, b):
    return mapped("mul", _mul, a, b)


@op("div")
def op_div(a, b):
    return mapped("div", _div, a, b)


@op("mod")
def op_mod(a, b):
    return mapped("mod", _mod, a, b)


@op("pow")
def op_pow(a, b):
    return mapped("pow", _pow, a, b)


@op("neg")
def op_neg(a):
    return mapped("neg", _neg, a)


# --- comparisons -----------------------------------------------------------


def _eq(a, b):
    if a is None or b is None:
        return a is None and b is None  # null-safe (SPEC section 3): null == null is true
    return strict_eq(a, b)


def _ne(a, b):
    return not _eq(a, b)


def _ordered(name: str, test: Callable[[int], bool]):
    def scalar(a, b):
        if a is None or b is None:
            return None
        if is_nan(a) or is_nan(b):
            if not (is_num(a) and is_num(b)):
                raise type_error(name, a, b)
            return False  # IEEE: every ordered comparison with NaN is false
        return test(compare(a, b, name))

    return scalar


_lt = _ordered("lt", lambda c: c < 0)
_le = _ordered("le", lambda c: c <= 0)
_gt = _ordered("gt", lambda c: c > 0)
_ge = _ordered("ge", lambda c: c >= 0)


@op("eq")
def op_eq(a, b):
    return mapped("eq", _eq, a, b)


@op("ne")
def op_ne(a, b):
    return mapped("ne", _ne, a, b)


@op("lt")
def op_lt(a, b):
    return mapped("lt", _lt, a, b)


@op("le")
def op_le(a, b):
    return mapped("le", _le, a, b)


@op("gt")
def op_gt(a, b):
    return mapped("gt", _gt, a, b)


@op("ge")
def op_ge(a, b):
    return mapped("ge", _ge, a, b)


# --- booleans and null -----------------------------------------------------


def need_bool(name: str, *xs: Any) -> None:
    for x in xs:
        if x is not None and not isinstance(x, bool):
            raise type_error(name, *xs)


def _and(a, b):
    need_bool("and", a, b)
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _or(a, b):
    need_bool("or", a, b)
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _not(a):
    need_bool("not", a)
    return None if a is None else not a


@op("and")
def op_and(a, b):
    return mapped("and", _and, a, b)


@op("or")
def op_or(a, b):
    return mapped("or", _or, a, b)


@op("not")
def op_not(a):
    return mapped("not", _not, a)


@op("isNone")
def op_is_none(a):
    return mapped("isNone", lambda v: v is None, a)


@op("coalesce")
def op_coalesce(a, b):
    return mapped("coalesce", lambda x, y: y if x is None else x, a, b)


@op("cond")
def op_cond(c, a, b):
    def scalar(cv, av, bv):
        need_bool("cond", cv)
        return av if cv is True else bv  # a null condition gives b

    # maps like any other op when any argument is a list (DECISION: branches included)
    return mapped("cond", scalar, c, a, b)


# --- numbers ---------------------------------------------------------------


def _abs(a):
    if a is None:
        return None
    if is_int(a):
        return wrap64(abs(a))
    if isinstance(a, float):
        return abs(a)
    raise type_error("abs", a)


def parse_unit(unit: Any) -> int:
    """``"s"``, ``"5m"``, ``"24h"``, ``"d"`` -> a width in microseconds."""
    m = re.fullmatch(r"([0-9]*)([smhd])", unit) if isinstance(unit, str) else None
    if m is None:
        raise WeaveTypeError(f"unknown time unit {unit!r}; expected s, m, h or d with an optional multiplier")
    mult = int(m.group(1)) if m.group(1) else 1
    if mult <= 0:
        raise WeaveTypeError(f"time unit {unit!r} must have a positive multiplier")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    return mult * seconds * 1_000_000


def _floor(a, unit=None):
    if a is None:
        return None
    if is_ts(a):
        if unit is None:
            raise type_error("floor", a)
        w = parse_unit(unit)
        us = to_us(a)
        return from_us(us - us % w)  # Python's % floors: aligned to the epoch
    if unit is not None:
        raise type_error("floor", a, unit)
    if is_int(a):
        return a
    if isinstance(a, float):
        return float_floor(a)
    raise type_error("floor", a)


def _ceil(a, unit=None):
    if a is None:
        return None
    if is_ts(a):
        if unit is None:
            raise type_error("ceil", a)
        w = parse_unit(unit)
        us = to_us(a)
        return from_us(-((-us) // w) * w)
    if unit is not None:
        raise type_error("ceil", a, unit)
    if is_int(a):
        return a
    if isinstance(a, float):
        return float_ceil(a)
    raise type_error("ceil", a)


def round_half_away(x: float) -> float:
    """Round a float to an integral float, ties away from zero (C's ``round``, which keeps the
    sign of a zero result: round(-0.3) is -0.0)."""
    f = math.floor(x)
    frac = x - f  # exact for floats
    if frac > 0.5:
        r = float(f + 1)
    elif frac < 0.5:
        r = float(f)
    else:
        r = float(f + 1) if x > 0 else float(f)
    return math.copysign(r, x) if r == 0 else r


def _round(a, d=0):
    if a is None or d is None:
        return None
    d = need_int("round", d)
    if is_int(a):
        if d >= 0:
            return a
        p = 10 ** (-d)
        q, r = divmod(abs(a), p)
        if 2 * r >= p:
            q += 1
        return wrap64((q * p) if a >= 0 else -(q * p))
    if isinstance(a, float):
        if not math.isfinite(a):
            return a
        # DECISION (Arrow's algorithm): round the double a*10^d (or a/10^-d) half away from zero
        if d >= 0:
            scaled = a * 10.0**d
            if not math.isfinite(scaled):
                return a
            return round_half_away(scaled) / 10.0**d
        scaled = a / 10.0 ** (-d)
        return round_half_away(scaled) * 10.0 ** (-d)
    raise type_error("round", a)


def _sqrt(a):
    if a is None:
        return None
    if not is_num(a):
        raise type_error("sqrt", a)
    a = float(a)
    if a != a or a < 0:
        return NAN
    return math.sqrt(a)


def _log(a):
    if a is None:
        return None
    if not is_num(a):
        raise type_error("log", a)
    a = float(a)
    if a != a or a < 0:
        return NAN
    if a == 0:
        return -INF
    return math.log(a)


def _exp(a):
    if a is None:
        return None
    if not is_num(a):
        raise type_error("exp", a)
    try:
        return math.exp(float(a))
    except OverflowError:
        return INF


@op("abs")
def op_abs(a):
    return mapped("abs", _abs, a)


@op("floor")
def op_floor(a, unit=None):
    return mapped("floor", _floor, a, unit)


@op("ceil")
def op_ceil(a, unit=None):
    return mapped("ceil", _ceil, a, unit)


@op("round")
def op_round(a, d=0):
    return mapped("round", _round, a, d)


@op("sqrt")
def op_sqrt(a):
    return mapped("sqrt", _sqrt, a)


@op("log")
def op_log(a):
    return mapped("log", _log, a)


@op("exp")
def op_exp(a):
    return mapped("exp", _exp, a)


def float_to_string(x: float) -> str:
    """Shortest round-trip digits, laid out as Arrow's float->string cast does.

    Fixed notation when the decimal exponent is -6..9 (1e-6 -> "0.000001",
    1e9 -> "1000000000", 2.0 -> "2"), else "1e+16", "1.5e-7"; "nan", "inf",
    "-inf", and "-0" for -0.0.
    """
    if x != x:
        return "nan"
    if x == INF:
        return "inf"
    if x == -INF:
        return "-inf"
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(x)).normalize().as_tuple()
    digits = "".join(str(d) for d in digit_tuple)
    point = len(digits) + exponent  # value = 0.DIGITS * 10**point
    e = point - 1  # scientific exponent
    if -7 < e < 10:
        if point <= 0:
            text = "0." + "0" * (-point) + digits
        elif point >= len(digits):
            text = digits + "0" * (point - len(digits))
        else:
            text = digits[:point] + "." + digits[point:]
    else:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return ("-" if sign else "") + text


def timestamp_to_string(ts: _dt.datetime) -> str:
    t = from_us(to_us(ts))
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond:06d}Z"
    )


def to_string(a: Any) -> str:
    if isinstance(a, bool):
        return "true" if a else "false"
    if is_int(a):
        return str(a)
    if isinstance(a, float):
        return float_to_string(a)
    if isinstance(a, str):
        return a
    if is_ts(a):
        return timestamp_to_string(a)
    raise type_error("toString", a)


@op("toString")
def op_to_string(a):
    return mapped("toString", lambda v: None if v is None else to_string(v), a)


def _to_timestamp(a):
    if a is None:
        return None
    if not is_num(a):
        raise type_error("toTimestamp", a)
    if is_int(a):
        us = a * 1000
    else:
        if not math.isfinite(a):
            return None  # DECISION: NaN/inf milliseconds give null
        us = math.floor(a) * 1000  # DECISION: whole milliseconds (floored), as Weave
    try:
        return from_us(us)
    except OverflowError:
        return None  # DECISION: outside the datetime range gives null


@op("toTimestamp")
def op_to_timestamp(a):
    return mapped("toTimestamp", _to_timestamp, a)


@op("binsfixed")
def op_binsfixed(step):
    if not is_num(step) or not step > 0 or not math.isfinite(step):
        raise type_error("binsfixed", step)
    return BinsFixed(step)


@op("binsequal")
def op_binsequal(n):
    if not is_int(n) or n < 1:
        raise type_error("binsequal", n)
    return BinsEqual(n)


@op("timestampBinsNice")
def op_timestamp_bins_nice(n):
    if not is_int(n) or n < 1:
        raise type_error("timestampBinsNice", n)
    return TimestampBinsNice(n)


def _bin_fixed(x, spec: BinsFixed):
    if x is None:
        return None
    if not is_num(x):
        raise type_error("bin", x)
    step = float(spec.step)
    start = float_floor(float(x) / step) * step
    return {"start": start, "stop": start + step}


def _bins_equal(xs: list, n: int) -> list:
    """DECISION: bin i of element x is floor((x - min) * n / (max - min)), clamped to n - 1;
    start = min + i*width, stop = min + (i+1)*width with width = (max - min) / n; when
    max == min every element gets {start: min, stop: max}; null and NaN elements, and
    every element when min or max is infinite, give null."""
    vals = [float(v) for v in numbers("bin", xs) if not is_nan(v)]
    if not vals:
        return [None for _ in xs]
    lo, hi = min(vals), max(vals)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [None for _ in xs]
    width = (hi - lo) / n
    out = []
    for x in xs:
        if x is None or is_nan(x):
            out.append(None)
            continue
        x = float(x)
        if hi == lo:
            out.append({"start": lo, "stop": hi})
            continue
        i = min(math.floor((x - lo) * n / (hi - lo)), n - 1)
        out.append({"start": lo + i * width, "stop": lo + (i + 1) * width})
    return out


NICE_WIDTHS_US = [
    s * 1_000_000
    for s in (
        1, 2, 5, 10, 15, 30,
        60, 120, 300, 600, 900, 1800,
        3600, 7200, 10800, 21600, 43200,
        86400, 172800, 604800,
    )
]


def _timestamp_bins_nice(xs: list, n: int) -> list:
    """DECISION: the number of bins is the count of epoch-aligned bins touched by [min, max]."""
    vals = [to_us(v) for v in xs if v is not None]
    for v in xs:
        if v is not None and not is_ts(v):
            raise type_error("bin", v)
    if not vals:
        return [None for _ in xs]
    lo, hi = min(vals), max(vals)
    width = NICE_WIDTHS_US[-1]
    for w in NICE_WIDTHS_US:
        if hi // w - lo // w + 1 <= n:
            width = w
            break
    out = []
    for v in xs:
        if v is None:
            out.append(None)
            continue
        start = to_us(v) // width * width
        out.append({"start": from_us(start), "stop": from_us(start + width)})
    return out


@op("bin")
def op_bin(x, spec):
    if isinstance(spec, BinsFixed):
        return mapped("bin", _bin_fixed, x, spec)
    if x is None:
        return None
    if isinstance(spec, BinsEqual):
        return _bins_equal(need_list("bin", x), spec.n)
    if isinstance(spec, TimestampBinsNice):
        return _timestamp_bins_nice(need_list("bin", x), spec.n)
    raise type_error("bin", x, spec)


# --- strings ---------------------------------------------------------------


def string_op(name: str, fn: Callable):
    """Register a scalar string op: null in, null out; mapped over lists."""

    def scalar(s, *args):
        if s is None or any(a is None for a in args):
            return None
        if not isinstance(s, str):
            raise type_error(name, s, *args)
        return fn(s, *args)

    def run(s, *args):
        return mapped(name, scalar, s, *args)

    run.__name__ = f"op_{name}"
    run.__signature__ = inspect.signature(fn)
    OPS[name] = run
    return run


def need_str(name: str, *xs: Any) -> None:
    for x in xs:
        if not isinstance(x, str):
            raise type_error(name, *xs)


def _starts_with(s, prefix):
    need_str("startsWith", prefix)
    return s.startswith(prefix)


def _ends_with(s, suffix):
    need_str("endsWith", suffix)
    return s.endswith(suffix)


def weave_string_op(name: str, fn: Callable):
    """A string op with Weave's null rule: a null first argument gives null, a null second
    argument counts as "" (startsWith, append, in, levenshtein...)."""

    def scalar(s, other):
        if s is None:
            return None
        if not isinstance(s, str):
            raise type_error(name, s, other)
        if other is None:
            other = ""
        need_str(name, other)
        return fn(s, other)

    def run(s, other):
        return mapped(name, scalar, s, other)

    run.__name__ = f"op_{name}"
    OPS[name] = run
    return run


def _partition(s, sep):
    return [s, "", ""] if sep == "" else list(s.partition(sep))


def _levenshtein(a, b):
    if len(a) < len(b):
        a, b = b, a
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ca != cb))
    return row[-1]


@op("levenshtein")
def op_levenshtein(a, b):
    return mapped("levenshtein", lambda x, y: _levenshtein(x or "", y or ""), a, b)


@op("in")
def op_in(a, b):
    if isinstance(b, list) and not isinstance(a, list):
        return None if a is None else any(isinstance(e, str) and e == a for e in b)
    if isinstance(a, list) and isinstance(b, list) and all(isinstance(e, str) or e is None for e in b):
        return [op_in(x, b) for x in a]  # each string's membership in the list
    return mapped("in", lambda x, y: None if x is None else x in (y or ""), a, b)


def _slice(s, a, b=_MISSING):
    need_int("slice", a)
    if b is _MISSING:
        return s[a:]
    need_int("slice", b)
    return s[a:b]


def _replace(s, old, new):
    need_str("replace", old, new)
    return s.replace(old, new)


def _split(s, sep):
    need_str("split", sep)
    if sep == "":
        return list(s)  # DECISION: as JavaScript, "" splits into code points
    return s.split(sep)


# Weave's isNumeric: an optional "-", then ASCII digits with at most one "." (no exponent, no
# spaces, not empty); toNumber is the float of such a text, else null.
NUMERIC_RE = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)", re.ASCII)


def _is_numeric(s):
    return bool(NUMERIC_RE.fullmatch(s))


def _parse_number(s):
    # docs/semantics.md: toNumber of a string is always a float ("23" -> 23.0).
    return float(s) if NUMERIC_RE.fullmatch(s) else None


def _find_all(s, pattern):
    need_str("findAll", pattern)
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise WeaveTypeError(f"`findAll`: invalid regular expression {pattern!r}: {exc}") from None
    return [m.group(0) for m in compiled.finditer(s)]


string_op("len", len)
string_op("lower", str.lower)
string_op("upper", str.upper)
weave_string_op("startsWith", _starts_with)
weave_string_op("endsWith", _ends_with)
weave_string_op("append", lambda s, suffix: s + suffix)
weave_string_op("prepend", lambda s, prefix: prefix + s)
weave_string_op("partition", _partition)
string_op("isAlpha", str.isalpha)
string_op("isAlnum", str.isalnum)
string_op("lStrip", str.lstrip)
string_op("rStrip", str.rstrip)
string_op("slice", _slice)
string_op("replace", _replace)
string_op("split", _split)
string_op("strip", str.strip)
string_op("isNumeric", _is_numeric)
string_op("findAll", _find_all)


def _to_number(a):
    if a is None:
        return None
    if isinstance(a, str):
        return _parse_number(a)
    if is_ts(a):
        return to_us(a) / 1000  # milliseconds since the epoch, as a float
    if is_num(a):
        return a
    raise type_error("toNumber", a)


@op("toNumber")
def op_to_number(a):
    return mapped("toNumber", _to_number, a)


# --- dicts -----------------------------------------------------------------


def _merge(a, b):
    if a is None or b is None:
        return None  # DECISION: null on either side gives null
    if not (isinstance(a, dict) and isinstance(b, dict)):
        raise type_error("merge", a, b)
    return {**a, **b}


def _keys(a):
    if a is None:
        return None
    if not isinstance(a, dict):
        raise type_error("keys", a)
    return list(a.keys())


def _values(a):
    if a is None:
        return None
    if not isinstance(a, dict):
        raise type_error("values", a)
    return list(a.values())


@op("merge")
def op_merge(a, b):
    return mapped("merge", _merge, a, b)


@op("keys")
def op_keys(a):
    return mapped("keys", _keys, a)


@op("values")
def op_values(a):
    return mapped("values", _values, a)


# --- windows ---------------------------------------------------------------


@op("rolling")
def op_rolling(x, fn, n):
    if x is None:
        return None
    xs = need_list("rolling", x)
    n = need_int("rolling", n)
    if n < 1:
        raise type_error("rolling", n)
    return [call_fn("rolling", fn, xs[max(0, i - n + 1) : i + 1], i) for i in range(len(xs))]


# ---------------------------------------------------------------------------
# The evaluator
# ---------------------------------------------------------------------------


class _Interpreter:
    def __init__(self, tables: dict[str, list[dict]], vars: dict | None):
        self.tables = tables or {}
        self.vars = vars or {}

    def eval(self, node: Node, env: dict) -> Any:
        if isinstance(node, Const):
            value = node.value
            if isinstance(value, _dt.datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value
        if isinstance(node, Var):
            if node.name in env:
                return env[node.name]
            if node.name in self.vars:
                return self.vars[node.name]
            raise UnboundVariableError(f"unbound variable `{node.name}`")
        if isinstance(node, Lambda):
            return Closure(self, tuple(node.params), node.body, env)
        if isinstance(node, Call):
            args = [self.eval(a, env) for a in node.args]
            if node.op in ROOT_OPS:
                fn = ROOT_OPS[node.op]
                return self.apply(node.op, fn, [self, *args])
            fn = OPS.get(node.op)
            if fn is None:
                names = sorted(set(OPS) | set(ROOT_OPS))
                close = tuple(difflib.get_close_matches(node.op, names, n=3))
                hint = f"; did you mean {', '.join(f'`{c}`' for c in close)}?" if close else ""
                raise UnknownOpError(f"unknown op `{node.op}`{hint}", suggestions=close)
            return self.apply(node.op, fn, args)
        raise WeaveTypeError(f"not a graph node: {node!r}")

    @staticmethod
    def apply(name: str, fn: Callable, args: list) -> Any:
        try:
            inspect.signature(fn).bind(*args)
        except TypeError:
            raise WeaveTypeError(f"`{name}` got {len(args)} argument(s), which it does not take") from None
        return fn(*args)


def evaluate_reference(node: Node, tables: dict[str, list[dict]], vars: dict | None = None) -> Any:
    """Evaluate a graph node over plain Python tables (name -> list of row dicts)."""
    return _Interpreter(tables, vars).eval(node, {})


# ---------------------------------------------------------------------------
# Comparing with the engine
# ---------------------------------------------------------------------------


def to_plain(value: Any) -> Any:
    """Groups become ``{"groupkey": k, "rows": [...]}``, recursively (as ``weave_lite.to_python``)."""
    if isinstance(value, Group):
        return {"groupkey": to_plain(value.groupkey), "rows": [to_plain(r) for r in value]}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, TableRef):
        return to_plain(value.rows)
    return value


def values_equal(a: Any, b: Any, rel: float = 1e-9, abs_tol: float = 1e-12) -> bool:
    """Deep equality for comparing the engine's results with the reference.

    Floats compare within ``rel`` relative (``abs_tol`` absolute near zero);
    NaN equals NaN; ``1`` equals ``1.0`` (but booleans are not numbers);
    datetimes compare by instant (naive ones are read as UTC); dict key order
    does not matter; tuples are lists; groups compare in their plain form.
    """
    if isinstance(a, (Group, TableRef)) or isinstance(b, (Group, TableRef)):
        return values_equal(to_plain(a), to_plain(b), rel, abs_tol)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_num(a) and is_num(b):
        if is_int(a) and is_int(b):
            return a == b
        fa, fb = float(a), float(b)
        if fa != fa or fb != fb:
            return fa != fa and fb != fb
        if math.isinf(fa) or math.isinf(fb):
            return fa == fb
        return abs(fa - fb) <= max(rel * max(abs(fa), abs(fb)), abs_tol)
    if is_ts(a) and is_ts(b):
        return to_us(a) == to_us(b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(values_equal(x, y, rel, abs_tol) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k], rel, abs_tol) for k in a)
    if type(a) is type(b) or (isinstance(a, str) and isinstance(b, str)):
        return a == b
    if isinstance(a, (bytes, bytearray, memoryview)) and isinstance(b, (bytes, bytearray, memoryview)):
        return bytes(a) == bytes(b)
    return False
