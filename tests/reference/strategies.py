"""Hypothesis strategies: small tables of ML-ish data and well-typed expressions over them.

``tables()`` draws ``(schema, rows)``; ``expressions(schema)`` draws a graph
node rooted at ``table("t").rows`` that is well-typed for the schema;
``tables_and_expressions()`` draws all three.  ``to_arrow(schema, rows)``
builds the ``pyarrow.Table`` to hand to the engine as ``tables={"t": ...}``.

Expressions are built straight from graph nodes (no parsing) with the small
constructors below: ``call(op, *args)``, ``col(name)``, ``lam(params, body)``,
``lst(...)``, ``dct(...)``.

Well-typed means: numeric ops on numeric values, string ops on strings and
so on; the mixed-type column is only selected, counted, tested with
``isNone`` and grouped by.  Integer expressions carry a bound on their
magnitude so that no 64-bit overflow can happen (``bits`` below).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from weave_lite.graph.nodes import Call, Const, Lambda, Node, Var

UTC = dt.UTC

# ---------------------------------------------------------------------------
# Node constructors
# ---------------------------------------------------------------------------


def lit(value: Any) -> Const:
    return Const(value)


def call(op: str, *args: Any) -> Call:
    """``Call(op, args)``; arguments that are not nodes become ``Const``."""
    return Call(op, tuple(a if isinstance(a, Node) else Const(a) for a in args))


def getitem(x: Node, key: Any) -> Call:
    return call("getitem", x, key)


def col(name: str, base: Node | None = None) -> Call:
    """``row[name]`` (or ``base[name]``)."""
    return getitem(Var("row") if base is None else base, name)


def lam(params: str | tuple[str, ...], body: Node) -> Lambda:
    if isinstance(params, str):
        params = (params,)
    return Lambda(tuple(params), body)


def lst(*items: Any) -> Call:
    return call("list", *items)


def dct(*pairs: tuple[str, Any], **kw: Any) -> Call:
    """``{k: v, ...}`` from ``(key, value)`` pairs and/or keywords."""
    items: list[Any] = []
    for k, v in list(pairs) + list(kw.items()):
        items.extend([Const(k), v if isinstance(v, Node) else Const(v)])
    return Call("dict", tuple(items))


def table_rows(name: str = "t") -> Call:
    return call("rows", call("table", name))


ROWS = table_rows("t")

# ---------------------------------------------------------------------------
# Schemas and tables
# ---------------------------------------------------------------------------

SCALAR_KINDS = ("int", "float", "string", "bool", "timestamp")
ORDERABLE_KINDS = SCALAR_KINDS


@dataclass(frozen=True)
class ColumnSpec:
    """One column: ``kind`` is int, float, string, bool, timestamp, mixed or dict."""

    kind: str
    nullable: bool = False
    fields: tuple[tuple[str, ColumnSpec], ...] = ()  # for kind == "dict"


Schema = dict  # column name -> ColumnSpec, in column order

# Characters whose lower()/upper() keep their length, with no context rules
# (no final sigma, no ß, no dotted İ), plus emoji, CJK and Unicode spaces.
_EXTRA_CHARS = "éñÜøÅçЖдλΩ中文日本😀🚀🎉👍\u00a0\t"
STRING_ALPHABET = "abcdefxyzABCXYZ0123456789 ,.-_/:!" + _EXTRA_CHARS
assert all(len(c.lower()) == 1 and len(c.upper()) == 1 for c in STRING_ALPHABET)

NUMERICISH_STRINGS = (
    "0", "1", "-2", "42", " 3.5 ", "1e3", "-0", ".5", "5.", "+7", "1_000", "nan", "inf",
    "-Infinity", "0x10", "12a", "1e", "", "  ", "2.50", "1,5", "\u0661\u0662", "\uff11",
)
FLOAT_SPECIALS = (
    math.nan, math.inf, -math.inf, -0.0, 0.0, 0.1, 0.5, 1.5, 2.5, -2.5, 1.0 / 3.0,
    1e-300, 5e-324, 1e15, 1e300, 123.456,
)
FLOAT_CONSTS = (0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.1, 3.0, 100.0, 1e-300, 1e300, math.nan, math.inf, -math.inf)
STRING_CONSTS = ("", "a", "A", ",", " ", "é", "😀", "ab", "x y", "1", "中")
TIME_UNITS = ("s", "m", "h", "d", "5m", "15s", "24h", "2d", "30s", "6h", "90m")
REGEXES = ("[a-z]+", "[0-9]+", "[A-Z]", "é|ñ", "[^ ]+", "[0-9]+\\.[0-9]*", "😀+")
KIND_PREFIX = {"int": "i", "float": "f", "string": "s", "bool": "b", "timestamp": "t", "mixed": "m", "dict": "d"}

_TS_MIN = dt.datetime(1965, 1, 1)
_TS_MAX = dt.datetime(2085, 1, 1)


def int_values() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(-10, 10), st.integers(-(2**31) + 1, 2**31 - 1))


def float_values() -> st.SearchStrategy[float]:
    # Mostly dyadic values (exact sums), some specials, a few arbitrary small floats.
    return st.one_of(
        st.sampled_from(FLOAT_SPECIALS),
        st.integers(-(2**20), 2**20).map(lambda i: i / 16),
        st.floats(-100, 100, allow_nan=False),
    )


def string_values() -> st.SearchStrategy[str]:
    return st.one_of(st.text(STRING_ALPHABET, max_size=8), st.sampled_from(NUMERICISH_STRINGS))


def timestamp_values(base: dt.datetime, spread_s: int) -> st.SearchStrategy[dt.datetime]:
    return st.integers(-spread_s * 10**6, spread_s * 10**6).map(lambda us: base + dt.timedelta(microseconds=us))


def mixed_values() -> st.SearchStrategy[Any]:
    return st.one_of(st.integers(-5, 5), st.text(STRING_ALPHABET, max_size=3))


@st.composite
def _column(draw, kind: str, nullable: bool) -> tuple[ColumnSpec, st.SearchStrategy]:
    fields: tuple = ()
    if kind == "int":
        values = int_values()
    elif kind == "float":
        values = float_values()
    elif kind == "string":
        values = string_values()
    elif kind == "bool":
        values = st.booleans()
    elif kind == "timestamp":
        base = draw(st.datetimes(min_value=_TS_MIN, max_value=_TS_MAX, timezones=st.just(UTC)))
        spread = draw(st.sampled_from([1, 90, 7200, 3 * 86400, 400 * 86400]))
        values = timestamp_values(base, spread)
    elif kind == "mixed":
        values = mixed_values()
    elif kind == "dict":
        x_null, s_null = draw(st.booleans()), draw(st.booleans())
        fields = (("x", ColumnSpec("int", x_null)), ("s", ColumnSpec("string", s_null)))
        xs = st.one_of(st.none(), st.integers(-3, 3)) if x_null else st.integers(-3, 3)
        ss = st.one_of(st.none(), st.sampled_from(["a", "b", "é"])) if s_null else st.sampled_from(["a", "b", "é"])
        values = st.tuples(xs, ss).map(lambda xs_ss: {"x": xs_ss[0], "s": xs_ss[1]})
    else:  # pragma: no cover
        raise ValueError(kind)
    # Sometimes draw from a small pool, so that groupby/join/unique/mode see repeats.
    if kind not in ("bool", "dict") and draw(st.booleans()):
        pool = draw(st.lists(values, min_size=1, max_size=4))
        values = st.sampled_from(pool)
    if nullable:
        values = st.one_of(st.none(), values)
    return ColumnSpec(kind, nullable, fields), values


@st.composite
def tables(draw, max_rows: int = 40) -> tuple[Schema, list[dict]]:
    """``(schema, rows)``: 0..max_rows rows over 1..6 columns; every row has every column."""
    kinds = draw(st.lists(st.sampled_from(SCALAR_KINDS), min_size=1, max_size=4))
    if draw(st.integers(0, 3)) == 0:
        kinds.append("mixed")
    if draw(st.integers(0, 3)) == 0:
        kinds.append("dict")
    schema: dict[str, ColumnSpec] = {}
    strategies: dict[str, st.SearchStrategy] = {}
    for i, kind in enumerate(kinds):
        nullable = draw(st.booleans())
        spec, values = draw(_column(kind, nullable))
        name = f"{KIND_PREFIX[kind]}{i}"
        schema[name] = spec
        strategies[name] = values
    names = list(strategies)
    row_values = st.tuples(*[strategies[name] for name in names])
    rows = [dict(zip(names, values)) for values in draw(st.lists(row_values, max_size=max_rows))]
    return schema, rows


def to_arrow(schema: Schema, rows: list[dict]):
    """The ``pyarrow.Table`` holding ``rows`` (mixed columns as a dense union of int64 and string)."""
    import pyarrow as pa

    def arrow_type(spec: ColumnSpec):
        return {
            "int": pa.int64(),
            "float": pa.float64(),
            "string": pa.string(),
            "bool": pa.bool_(),
            "timestamp": pa.timestamp("us", tz="UTC"),
        }.get(spec.kind) or (
            pa.struct([(name, arrow_type(f)) for name, f in spec.fields]) if spec.kind == "dict" else None
        )

    arrays = []
    for name, spec in schema.items():
        values = [row[name] for row in rows]
        if spec.kind == "mixed":
            type_ids, offsets, ints, strs = [], [], [], []
            for v in values:
                if isinstance(v, str):
                    type_ids.append(1)
                    offsets.append(len(strs))
                    strs.append(v)
                else:
                    type_ids.append(0)
                    offsets.append(len(ints))
                    ints.append(v)
            arrays.append(
                pa.UnionArray.from_dense(
                    pa.array(type_ids, pa.int8()),
                    pa.array(offsets, pa.int32()),
                    [pa.array(ints, pa.int64()), pa.array(strs, pa.string())],
                    ["int", "string"],
                )
            )
        else:
            arrays.append(pa.array(values, arrow_type(spec)))
    return pa.Table.from_arrays(arrays, names=list(schema))


# ---------------------------------------------------------------------------
# Expressions
# ---------------------------------------------------------------------------

NUM_REDUCERS = ("sum", "avg", "min", "max", "argmax", "argmin", "stddev", "variance", "median", "countDistinct", "mode")
ORD_REDUCERS = ("min", "max", "argmin", "argmax", "countDistinct", "mode")
ROLLING_OPS = ("avg", "sum", "min", "max")
TOP_INT_BITS = 50  # leaves room for sums over up to 40*40 joined rows


@dataclass(frozen=True)
class _Cx:
    """Where an expression is evaluated: over one row (``row``) or over a list of rows."""

    base: Node
    row: bool


class _Gen:
    def __init__(self, draw, schema: Schema, depth: int):
        self.draw = draw
        self.schema = schema
        self.depth = depth
        self.leaves: dict[str, list[tuple[str, ...]]] = {k: [] for k in (*SCALAR_KINDS, "mixed", "dict")}
        for name, spec in schema.items():
            if spec.kind == "dict":
                self.leaves["dict"].append((name,))
                for fname, fspec in spec.fields:
                    self.leaves[fspec.kind].append((name, fname))
            else:
                self.leaves[spec.kind].append((name,))

    # -- drawing helpers ------------------------------------------------------

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def coin(self) -> bool:
        return self.draw(st.booleans())

    def ref(self, cx: _Cx, path: tuple[str, ...]) -> Node:
        if len(path) == 1:
            return getitem(cx.base, path[0])
        if self.coin():
            return getitem(cx.base, ".".join(path))  # dotted path
        return getitem(getitem(cx.base, path[0]), path[1])

    def choose(self, depth: int, leaves: list, nodes: list) -> Node:
        """Draw one of the (thunk) options; leaves only at depth 0 or when drawn."""
        if depth <= 0 or not nodes or self.draw(st.integers(0, 3)) == 0:
            return self.pick(leaves)()
        return self.pick(nodes)()

    # -- scalar kinds ---------------------------------------------------------

    def expr(self, kind: str, depth: int, cx: _Cx, bits: int = 62) -> Node:
        if kind == "int":
            return self.int_(depth, cx, bits)
        if kind == "float":
            return self.float_(depth, cx)
        if kind == "num":
            return self.int_(depth, cx, bits) if self.coin() else self.float_(depth, cx)
        if kind == "string":
            return self.str_(depth, cx)
        if kind == "bool":
            return self.bool_(depth, cx)
        if kind == "timestamp":
            return self.ts_(depth, cx)
        raise ValueError(kind)

    def int_const(self, bits: int) -> Node:
        lim = 2 ** min(bits, 31) - 1
        return lit(self.draw(st.one_of(st.integers(-min(10, lim), min(10, lim)), st.integers(-lim, lim))))

    def int_(self, d: int, cx: _Cx, bits: int) -> Node:
        leaves = [lambda: self.int_const(bits)]
        if bits >= 31 and self.leaves["int"]:
            leaves += [lambda: self.ref(cx, self.pick(self.leaves["int"]))] * 3
        nodes = []
        if bits >= 2:
            nodes += [
                lambda: call(self.pick(["add", "sub"]), self.int_(d - 1, cx, bits - 1), self.int_(d - 1, cx, bits - 1)),
                lambda: self._mul(d, cx, bits),
                lambda: call(self.pick(["neg", "abs", "floor", "ceil"]), self.int_(d - 1, cx, bits)),
                lambda: call("mod", self.int_(d - 1, cx, bits), self.int_(d - 1, cx, bits)),
                lambda: call("coalesce", self.int_(d - 1, cx, bits), self.int_(d - 1, cx, bits)),
                lambda: call("cond", self.bool_(d - 1, cx), self.int_(d - 1, cx, bits), self.int_(d - 1, cx, bits)),
            ]
        if bits >= 8:
            nodes.append(lambda: call("round", self.int_(d - 1, cx, bits - 1), self.pick([-2, -1, 0, 1])))
        if bits >= 12:
            nodes.append(lambda: call("len", self.str_(d - 1, cx)))
            if cx.row:
                nodes += [
                    lambda: call("count", call("split", self.str_(d - 1, cx), self.pick([",", " ", "a"]))),
                    lambda: call(self.pick(["argmax", "argmin", "countDistinct", "count"]), self._list_of("num", d, cx)),
                ]
        if cx.row and bits >= 3:
            nodes += [
                lambda: call(self.pick(["min", "max", "mode"]), lst(*[self.int_(d - 1, cx, bits) for _ in range(3)])),
                lambda: call("sum", lst(*[self.int_(d - 1, cx, bits - 2) for _ in range(3)])),
                lambda: call("coalesce", call("first", lst(self.int_(d - 1, cx, bits))), self.int_const(bits)),
            ]
        return self.choose(d, leaves, nodes)

    def _mul(self, d: int, cx: _Cx, bits: int) -> Node:
        b1 = self.draw(st.integers(1, bits - 1))
        return call("mul", self.int_(d - 1, cx, b1), self.int_(d - 1, cx, bits - b1))

    def _list_of(self, kind: str, d: int, cx: _Cx) -> Node:
        n = self.draw(st.integers(0, 3))
        return lst(*[self.expr(kind, d - 1, cx) for _ in range(n)])

    def float_(self, d: int, cx: _Cx) -> Node:
        leaves = [lambda: lit(self.pick(FLOAT_CONSTS))]
        if self.leaves["float"]:
            leaves += [lambda: self.ref(cx, self.pick(self.leaves["float"]))] * 3
        if self.leaves["timestamp"]:
            leaves.append(lambda: call("toNumber", self.ref(cx, self.pick(self.leaves["timestamp"]))))

        def arith():
            a, b = self.float_(d - 1, cx), self.expr("num", d - 1, cx)
            if self.coin():
                a, b = b, a
            return call(self.pick(["add", "sub", "mul"]), a, b)

        nodes = [
            arith,
            lambda: call("div", self.expr("num", d - 1, cx), self.expr("num", d - 1, cx)),
            lambda: call("pow", self.expr("num", d - 1, cx), self.pick([2, 0.5, -1, 3, 0])),
            lambda: call("pow", self.expr("num", d - 1, cx), self.float_(d - 1, cx)),
            lambda: call(self.pick(["sqrt", "log", "exp"]), self.expr("num", d - 1, cx)),
            lambda: call(self.pick(["abs", "neg", "floor", "ceil"]), self.float_(d - 1, cx)),
            lambda: call("round", self.float_(d - 1, cx), self.pick([0, 1, 2, -1])),
            lambda: call("mod", self.expr("num", d - 1, cx), self.float_(d - 1, cx)),
            lambda: call("sub", self.ts_(d - 1, cx), self.ts_(d - 1, cx)),
            lambda: call("coalesce", self.float_(d - 1, cx), self.float_(d - 1, cx)),
            lambda: call("cond", self.bool_(d - 1, cx), self.float_(d - 1, cx), self.float_(d - 1, cx)),
        ]
        if cx.row:
            nodes += [
                lambda: call(self.pick(["avg", "stddev", "variance", "median", "sum", "min", "max"]),
                             lst(*[self.float_(d - 1, cx) for _ in range(self.draw(st.integers(0, 3)))])),
                lambda: call("quantile", lst(*[self.expr("num", d - 1, cx) for _ in range(3)]), self.pick([0.0, 0.25, 0.9, 1.0])),
            ]
        return self.choose(d, leaves, nodes)

    def str_(self, d: int, cx: _Cx) -> Node:
        leaves = [lambda: lit(self.draw(st.one_of(st.sampled_from(STRING_CONSTS), st.text(STRING_ALPHABET, max_size=3))))]
        if self.leaves["string"]:
            leaves += [lambda: self.ref(cx, self.pick(self.leaves["string"]))] * 3
        nodes = [
            lambda: call("add", self.str_(d - 1, cx), self.str_(d - 1, cx)),
            lambda: call(self.pick(["lower", "upper", "strip"]), self.str_(d - 1, cx)),
            lambda: call("slice", self.str_(d - 1, cx), *self.pick([(0, 2), (1, 3), (-2, 100), (2, 1), (-3, -1)])),
            lambda: call("slice", self.str_(d - 1, cx), self.pick([0, 1, -1])),
            lambda: call("replace", self.str_(d - 1, cx), self.pick(["a", " ", "é", "😀", "ab", "1"]), self.pick(["", "-", "XY", "ü"])),
            lambda: call("toString", self.expr(self.pick(SCALAR_KINDS), d - 1, cx)),
            lambda: call("coalesce", self.str_(d - 1, cx), self.str_(d - 1, cx)),
            lambda: call("cond", self.bool_(d - 1, cx), self.str_(d - 1, cx), self.str_(d - 1, cx)),
        ]
        if cx.row:
            nodes += [
                lambda: getitem(call("split", self.str_(d - 1, cx), self.pick([",", " ", "a", ""])), self.pick([0, 1, -1, 5])),
                lambda: call("joinToStr", call("split", self.str_(d - 1, cx), self.pick([",", " "])), self.pick(["|", ""])),
                lambda: call("joinToStr", call("findAll", self.str_(d - 1, cx), self.pick(REGEXES)), ","),
                lambda: call("first", call("findAll", self.str_(d - 1, cx), self.pick(REGEXES))),
                lambda: call(self.pick(["min", "max", "mode"]), lst(self.str_(d - 1, cx), self.str_(d - 1, cx))),
                lambda: self._join_to_str(d, cx),
            ]
        return self.choose(d, leaves, nodes)

    def _join_to_str(self, d: int, cx: _Cx) -> Node:
        kind = self.pick(SCALAR_KINDS)
        return call("joinToStr", lst(*[self.expr(kind, d - 1, cx) for _ in range(2)]), ";")

    def bool_(self, d: int, cx: _Cx) -> Node:
        leaves = [lambda: lit(self.pick([True, False, None]))]
        if self.leaves["bool"]:
            leaves += [lambda: self.ref(cx, self.pick(self.leaves["bool"]))] * 2
        any_leaves = [p for k in self.leaves for p in self.leaves[k]]
        if any_leaves:
            leaves.append(lambda: call("isNone", self.ref(cx, self.pick(any_leaves))))

        def compare():
            kind = self.pick(["num", "string", "timestamp", "bool"])
            ops = ["eq", "ne"] if kind == "bool" else ["lt", "le", "gt", "ge", "eq", "ne"]
            return call(self.pick(ops), self.expr(kind, d - 1, cx), self.expr(kind, d - 1, cx))

        nodes = [
            compare,
            compare,
            lambda: call(self.pick(["and", "or"]), self.bool_(d - 1, cx), self.bool_(d - 1, cx)),
            lambda: call("not", self.bool_(d - 1, cx)),
            lambda: call("isNone", self.expr(self.pick(SCALAR_KINDS), d - 1, cx)),
            lambda: call(self.pick(["startsWith", "endsWith"]), self.str_(d - 1, cx), self.pick(["", "a", "1", "é", " "])),
            lambda: call("isNumeric", self.str_(d - 1, cx)),
            lambda: call("coalesce", self.bool_(d - 1, cx), self.bool_(d - 1, cx)),
            lambda: call("cond", self.bool_(d - 1, cx), self.bool_(d - 1, cx), self.bool_(d - 1, cx)),
            lambda: call(self.pick(["gt", "le"]), call("toNumber", self.str_(d - 1, cx)), self.pick([0, 2.5, -1])),
        ]
        if cx.row:
            nodes += [
                lambda: call("contains", self.str_(d - 1, cx), self.pick(["", "a", "é", ",", "😀"])),
                lambda: call("contains", lst(*[self.int_const(31) for _ in range(3)], None if self.coin() else 0), self.int_(d - 1, cx, 62)),
                lambda: call("contains", lst(self.str_(d - 1, cx), lit("a")), self.str_(d - 1, cx)),
            ]
        return self.choose(d, leaves, nodes)

    def ts_const(self) -> Node:
        return lit(self.draw(st.datetimes(min_value=_TS_MIN, max_value=_TS_MAX, timezones=st.just(UTC))))

    def ts_(self, d: int, cx: _Cx) -> Node:
        leaves = [self.ts_const]
        if self.leaves["timestamp"]:
            leaves += [lambda: self.ref(cx, self.pick(self.leaves["timestamp"]))] * 3
        nodes = [
            lambda: call(self.pick(["floor", "ceil"]), self.ts_(d - 1, cx), self.pick(TIME_UNITS)),
            lambda: call("coalesce", self.ts_(d - 1, cx), self.ts_(d - 1, cx)),
            lambda: call("cond", self.bool_(d - 1, cx), self.ts_(d - 1, cx), self.ts_(d - 1, cx)),
            lambda: call("toTimestamp", call("toNumber", self.ts_(d - 1, cx))),
            lambda: call("toTimestamp", self.int_(d - 1, cx, 40)),
        ]
        if cx.row:
            nodes.append(lambda: call(self.pick(["min", "max"]), lst(self.ts_(d - 1, cx), self.ts_(d - 1, cx))))
        return self.choose(d, leaves, nodes)

    def any_(self, d: int, cx: _Cx) -> Node:
        """Any value for a map output: scalars, the mixed and dict columns, dicts."""
        options = [lambda: self.expr(self.pick(SCALAR_KINDS), d, cx)] * 4
        for kind in ("mixed", "dict"):
            if self.leaves[kind]:
                options.append(lambda kind=kind: self.ref(cx, self.pick(self.leaves[kind])))
        if cx.row:
            options += [
                lambda: dct(("p", self.expr(self.pick(SCALAR_KINDS), d - 1, cx)), ("q", self.int_(d - 1, cx, 62))),
                lambda: call("merge", dct(("p", self.int_(d - 1, cx, 62))), dct(("q", self.str_(d - 1, cx)), ("p", lit(1)))),
                lambda: call("keys", dct(("p", lit(1)), ("q", self.str_(d - 1, cx)))),
                lambda: call("values", dct(("p", self.str_(d - 1, cx)), ("q", self.str_(d - 1, cx)))),
                lambda: call("toNumber", self.str_(d - 1, cx)),
                lambda: call("split", self.str_(d - 1, cx), self.pick([",", " "])),
            ]
            if self.leaves["dict"]:
                path = self.pick(self.leaves["dict"])
                options += [
                    lambda: call("merge", self.ref(cx, path), dct(("z", lit(1)))),
                    lambda: call("keys", self.ref(cx, path)),
                ]
        return self.pick(options)()

    # -- lists of rows ---------------------------------------------------------

    def rowlist(self, base: Node = ROWS, max_steps: int = 3) -> Node:
        node = base
        for _ in range(self.draw(st.integers(0, max_steps))):
            step = self.pick(["filter", "filter", "filter_index", "sort", "limit", "offset"])
            if step == "filter":
                node = call("filter", node, lam("row", self.bool_(self.depth, _Cx(Var("row"), True))))
            elif step == "filter_index":
                cond = call(self.pick(["lt", "ge"]), Var("i"), self.draw(st.integers(0, 10)))
                if self.coin():
                    cond = call("eq", call("mod", Var("i"), self.pick([2, 3])), 0)
                node = call("filter", node, lam(("row", "i"), cond))
            elif step == "sort":
                node = self.sort(node, _Cx(Var("row"), True))
            elif step == "limit":
                node = call("limit", node, self.draw(st.integers(0, 45)))
            else:
                node = call("offset", node, self.draw(st.integers(0, 45)))
        return node

    def sort(self, node: Node, cx: _Cx) -> Node:
        nkeys = self.draw(st.integers(1, 3))
        keys = [self.expr(self.pick(ORDERABLE_KINDS), self.depth - 1, cx) for _ in range(nkeys)]
        dirs = [self.pick(["asc", "desc"]) for _ in range(self.draw(st.integers(0, nkeys)))]
        fn = lam("row", lst(*keys))
        if dirs or self.coin():
            return call("sort", node, fn, lst(*dirs))
        return call("sort", node, fn)

    def column(self, kind: str, base: Node, depth: int | None = None) -> Node:
        """A list of values of ``kind``, one per element of the list of rows ``base``."""
        depth = self.depth if depth is None else depth
        if self.coin():
            e = self.expr(kind, depth, _Cx(base, False), bits=TOP_INT_BITS)
            if any(isinstance(n, Call) and n.op == "getitem" and n.args and n.args[0] == base for n in e.walk()):
                return e
        body = self.expr(kind, depth, _Cx(Var("row"), True), bits=TOP_INT_BITS)
        if self.coin():
            return call("map", base, lam(("row", "i"), call("cond", call("lt", Var("i"), 3), body, body)))
        return call("map", base, lam("row", body))

    def column_tail(self, kind: str, c: Node) -> Node:
        """Something to do with a list of values of ``kind``."""
        options: list = [
            lambda: c,
            lambda: call(self.pick(["count", "first", "last", "unique", "dropna"]), c),
            lambda: call("count", call("dropna", c)),
            lambda: call("countDistinct", c),
            lambda: call(self.pick(["limit", "offset"]), c, self.draw(st.integers(0, 10))),
            lambda: getitem(c, self.draw(st.integers(-1, 5))),
            lambda: call("joinToStr", c, self.pick([",", ""])),
            lambda: call("sort", c, lam("x", lst(Var("x")) if self.coin() else Var("x")), lst(self.pick(["asc", "desc"]))),
            lambda: call("unique", call("sort", c, lam("x", lst(Var("x"))))),
        ]
        if kind in ("int", "float"):
            options += [
                lambda: call(self.pick(NUM_REDUCERS), c),
                lambda: call(self.pick(NUM_REDUCERS), c),
                lambda: call("quantile", c, self.pick([0.0, 0.1, 0.5, 0.95, 1.0])),
                lambda: call("rolling", c, lam("w", call(self.pick(ROLLING_OPS), Var("w"))), self.draw(st.integers(1, 5))),
                lambda: call("bin", c, call("binsfixed", self.pick([0.5, 1, 2.5, 10, 100]))),
                lambda: call("contains", c, self.pick([0, 1, -1, 2.5, None])),
            ]
            if kind == "int":
                options.append(lambda: call("bin", c, call("binsequal", self.draw(st.integers(1, 6)))))
        else:
            options.append(lambda: call(self.pick(ORD_REDUCERS), c))
        if kind == "timestamp":
            options.append(lambda: call("bin", c, call("timestampBinsNice", self.pick([1, 3, 10, 50]))))
        if kind == "string":
            options.append(lambda: call("contains", c, self.pick(["", "a", None])))
        return self.pick(options)()

    # -- top-level forms -------------------------------------------------------

    def group_key(self, cx: _Cx) -> Node:
        plain = [p for k in ("int", "float", "string", "bool", "timestamp", "mixed") for p in self.leaves[k]]
        options = [
            lambda: self.expr(self.pick(["int", "string", "bool"]), 1, cx, bits=62),
            lambda: call("floor", self.ts_(0, cx), self.pick(TIME_UNITS)),
            lambda: dct(("a", self.expr(self.pick(SCALAR_KINDS), 0, cx)), ("b", self.expr(self.pick(SCALAR_KINDS), 0, cx))),
        ]
        if plain:
            options += [lambda: self.ref(cx, self.pick(plain))] * 3
        return self.pick(options)()

    def groupby(self) -> Node:
        groups = call("groupby", self.rowlist(), lam("row", self.group_key(_Cx(Var("row"), True))))
        g = Var("g")
        kind = self.pick(["rows", "count", "map_count", "map_key", "agg", "agg", "agg_sorted", "column", "flatten"])
        if kind == "rows":
            return groups
        if kind == "count":
            return call("count", groups)
        if kind == "map_count":
            return call("map", groups, lam("g", call("count", g)))
        if kind == "map_key":
            return call("map", groups, lam("g", call("groupkey", g)))
        if kind == "column":
            return getitem(groups, self.pick(list(self.schema)))  # a list of lists
        if kind == "flatten":
            return call("flatten", groups)
        entries = [("key", call("groupkey", g)), ("n", call("count", g))]
        for j in range(self.draw(st.integers(1, 3))):
            akind = self.pick(SCALAR_KINDS)
            c = self.column(akind, g, depth=1)
            if akind in ("int", "float"):
                agg = self.pick([
                    lambda c=c: call(self.pick(NUM_REDUCERS), c),
                    lambda c=c: call("quantile", c, self.pick([0.05, 0.5, 0.95])),
                ])()
            else:
                agg = call(self.pick(ORD_REDUCERS), c)
            entries.append((f"a{j}", agg))
        if self.coin():
            entries.append(("first", call("first", g)))
        out = call("map", groups, lam("g", dct(*entries)))
        if kind == "agg_sorted":
            out = call("sort", out, lam("r", lst(getitem(Var("r"), "n"), getitem(Var("r"), "a0"))), lst("desc"))
        return out

    def join(self) -> Node:
        left = self.rowlist(max_steps=1)
        right = self.rowlist(max_steps=1)
        keyable = [p for k in ("int", "string", "bool", "timestamp", "float") for p in self.leaves[k]]
        r = Var("r")

        def key_for(base):
            cx = _Cx(base, True)
            return self.pick([
                lambda: self.ref(cx, self.pick(keyable)) if keyable else self.int_const(2),
                lambda: call("mod", self.int_(0, cx, 62), 3),
                lambda: call("lower", self.str_(0, cx)),
            ])()

        k1 = key_for(r)
        k2 = k1 if self.coin() else key_for(r)
        a1, a2 = self.pick([("a", "b"), ("left", "right")])
        lo, ro = self.coin(), self.coin()
        if (a1, a2, lo, ro) == ("a", "b", False, False) and self.coin():
            joined = call("join", left, right, lam("r", k1), lam("r", k2))
        else:
            joined = call("join", left, right, lam("r", k1), lam("r", k2), a1, a2, lo, ro)
        tail = self.pick(["rows", "count", "map"])
        if tail == "rows":
            return joined
        if tail == "count":
            return call("count", joined)
        names = list(self.schema)
        entries = []
        for j, name in enumerate(names[:3]):
            if self.coin():
                entries.append((f"l{j}", getitem(r, f"{a1}.{name}")))
            else:
                entries.append((f"r{j}", getitem(getitem(r, a2), name)))
        entries.append(("lnull", call("isNone", getitem(r, a1))))
        return call("map", joined, lam("r", dct(*entries)))

    def top(self) -> Node:
        form = self.pick([
            "rows", "map_dict", "map_dict", "scalar", "column", "column", "reduce", "reduce", "reduce",
            "window", "bins", "groupby", "groupby", "groupby", "join", "join", "concat", "flatten", "mixed",
            "map_scalar",
        ])
        rowcx = _Cx(Var("row"), True)
        if form == "rows":
            return self.rowlist()
        if form == "reduce":
            kind = self.pick(["int", "float", "float", "string", "timestamp", "bool"])
            c = self.column(kind, self.rowlist())
            if kind in ("int", "float"):
                if self.draw(st.integers(0, 5)) == 0:
                    return call("quantile", c, self.pick([0.0, 0.1, 0.5, 0.95, 1.0]))
                return call(self.pick(NUM_REDUCERS), c)
            return call(self.pick(ORD_REDUCERS), c)
        if form == "window":
            kind = self.pick(["int", "float"])
            base = self.rowlist()
            if self.coin():
                base = self.sort(base, rowcx)
            c = self.column(kind, base)
            return call("rolling", c, lam("w", call(self.pick(ROLLING_OPS), Var("w"))), self.draw(st.integers(1, 5)))
        if form == "bins":
            kind = self.pick(["int", "float", "timestamp"])
            c = self.column(kind, self.rowlist())
            if kind == "timestamp":
                return call("bin", c, call("timestampBinsNice", self.pick([1, 3, 10, 50])))
            if kind == "int" and self.coin():
                return call("bin", c, call("binsequal", self.draw(st.integers(1, 6))))
            return call("bin", c, call("binsfixed", self.pick([0.5, 1, 2.5, 10, 100])))
        if form == "map_dict":
            entries = [(f"c{j}", self.any_(self.depth, rowcx)) for j in range(self.draw(st.integers(1, 4)))]
            if self.coin():
                entries.append(("idx", Var("i")))
                return call("map", self.rowlist(), lam(("row", "i"), dct(*entries)))
            return call("map", self.rowlist(), lam("row", dct(*entries)))
        if form == "scalar":
            rl = self.rowlist()
            return self.pick([
                lambda: call("count", rl),
                lambda: call(self.pick(["first", "last"]), rl),
                lambda: getitem(rl, self.draw(st.integers(-1, 5))),
                lambda: call("count", call("limit", rl, self.draw(st.integers(0, 5)))),
            ])()
        if form in ("column", "map_scalar"):
            kind = self.pick(SCALAR_KINDS)
            base = self.rowlist()
            if form == "map_scalar":
                c = call("map", base, lam("row", self.expr(kind, self.depth, rowcx, bits=TOP_INT_BITS)))
            else:
                c = self.column(kind, base)
            return self.column_tail(kind, c)
        if form == "groupby":
            return self.groupby()
        if form == "join":
            return self.join()
        if form == "concat":
            kind = self.pick(SCALAR_KINDS)
            c1, c2 = self.column(kind, self.rowlist(max_steps=1)), self.column(kind, self.rowlist(max_steps=1))
            out = call("concat", lst(c1, c2)) if self.coin() else call("concat", c1, c2)
            return self.column_tail(kind, out) if self.coin() else out
        if form == "flatten":
            return self.pick([
                lambda: call("flatten", call("map", self.rowlist(), lam("row", call("split", self.str_(1, rowcx), self.pick([",", " ", "a"]))))),
                lambda: call("flatten", call("map", self.rowlist(), lam("row", lst(self.int_(1, rowcx, 62), self.int_(1, rowcx, 62))))),
                lambda: call("concat", call("map", self.rowlist(), lam("row", call("findAll", self.str_(1, rowcx), self.pick(REGEXES))))),
            ])()
        if form == "mixed":
            if not self.leaves["mixed"]:
                return call("count", self.rowlist())
            m = self.leaves["mixed"][0][0]
            rl = self.rowlist()
            return self.pick([
                lambda: getitem(rl, m),
                lambda: call("count", getitem(rl, m)),
                lambda: call("isNone", getitem(rl, m)),
                lambda: call("map", rl, lam("row", dct(("m", col(m)), ("none", call("isNone", col(m)))))),
                lambda: call("map", call("groupby", rl, lam("row", col(m))),
                             lam("g", dct(("k", call("groupkey", Var("g"))), ("n", call("count", Var("g")))))),
            ])()
        raise AssertionError(form)  # pragma: no cover


@st.composite
def expressions(draw, schema: Schema, depth: int = 2) -> Node:
    """A well-typed expression over ``table("t").rows`` for ``schema``.

    ``depth`` bounds the nesting of the scalar expressions inside lambdas.
    """
    return _Gen(draw, schema, depth).top()


@st.composite
def tables_and_expressions(draw, max_rows: int = 40, depth: int = 2) -> tuple[Schema, list[dict], Node]:
    schema, rows = draw(tables(max_rows=max_rows))
    return schema, rows, draw(expressions(schema, depth=depth))


# ---------------------------------------------------------------------------
# Display
# ---------------------------------------------------------------------------

_INFIX = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "pow": "**", "eq": "==", "ne": "!=",
    "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "and": "&&", "or": "||", "coalesce": "??",
}
_ROOTS = {"table", "stream_table", "now", "binsfixed", "binsequal", "timestampBinsNice"}


def render(node: Node) -> str:
    """Expression text for a node, fully parenthesised (for failure messages; not the official printer)."""
    if isinstance(node, Const):
        v = node.value
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'
        if isinstance(v, dt.datetime):
            return f'Date("{v.astimezone(UTC).isoformat()}")'
        return repr(v)
    if isinstance(node, Var):
        return node.name
    if isinstance(node, Lambda):
        params = node.params[0] if len(node.params) == 1 else "(" + ", ".join(node.params) + ")"
        return f"{params} => {render(node.body)}"
    if isinstance(node, Call):
        args = node.args
        if node.op in _INFIX and len(args) == 2:
            return f"({render(args[0])} {_INFIX[node.op]} {render(args[1])})"
        if node.op == "neg":
            return f"(-{render(args[0])})"
        if node.op == "not":
            return f"(!{render(args[0])})"
        if node.op == "cond":
            return f"({render(args[0])} ? {render(args[1])} : {render(args[2])})"
        if node.op == "getitem":
            return f"{render(args[0])}[{render(args[1])}]"
        if node.op == "list":
            return "[" + ", ".join(render(a) for a in args) + "]"
        if node.op == "dict":
            pairs = [f"{render(args[i])}: {render(args[i + 1])}" for i in range(0, len(args), 2)]
            return "{" + ", ".join(pairs) + "}"
        if node.op in _ROOTS or not args:
            return f"{node.op}(" + ", ".join(render(a) for a in args) + ")"
        if len(args) == 1:
            return f"{render(args[0])}.{node.op}"
        return f"{render(args[0])}.{node.op}(" + ", ".join(render(a) for a in args[1:]) + ")"
    return repr(node)
