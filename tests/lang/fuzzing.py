"""A parser/planner/executor fuzzer: random expressions, each evaluated under a small budget.

Cases come from two sources, mixed half and half:

* :class:`Generator` builds expressions from the grammar's productions (``grammar/weave.lark``:
  literals of every kind, the binary and unary operators of :mod:`weave_lite.graph.nodes`,
  ``? :``, lambdas in their three spellings, member access, method and root calls, indexing,
  list and dict literals) and the op catalog (:func:`weave_lite.graph.registry.all_ops`, with
  each overload's shapes saying where a function goes).  It is type-directed most of the time
  (so that cases reach the planner's rules and the kernels, not only type errors) and picks
  productions blindly the rest of the time.
* :class:`Mutator` edits a corpus: every expression written in the existing tests and in the
  README that parses.  It inserts, deletes, swaps and duplicates characters and tokens,
  truncates, and splices two expressions together.

Every case runs through :func:`run_case`: ``evaluate`` with ``timeout`` and ``max_memory``
over small ``tables=`` tables and a stream table, converting the result to Python; for some
cases also ``explain`` and the printer.  The only acceptable outcomes are a result or a
:class:`~weave_lite.errors.WeaveError` (an :class:`~weave_lite.errors.InternalError` is a bug
found, like any other exception), each within :data:`MAX_CASE_SECONDS` of wall time.

Everything is seeded: case ``i`` of seed ``s`` is the same expression on every machine.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

import weave_lite
from weave_lite.errors import InternalError, WeaveError
from weave_lite.graph import registry
from weave_lite.graph.nodes import BINARY_OPERATORS, UNARY_OPERATORS
from weave_lite.graph.printer import render
from weave_lite.lang import parse

REPO = Path(__file__).resolve().parents[2]
STREAM_TABLE = "e/p/t"
MAX_CASE_SECONDS = 1.0
#: Budgets of one case: a deadline well under MAX_CASE_SECONDS, so a case stopped by it is
#: still on time, and a memory budget far above what these small tables need.
CASE_TIMEOUT = 0.5
CASE_MAX_MEMORY = 256 * 1024**2
UTC = dt.UTC

# ------------------------------------------------------------------------------------- data


#: Free variables bound with ``vars=`` in every case (values of mixed kinds become unions).
FUZZ_VARS: dict[str, Any] = {
    "limit": 3,
    "name": "gpt",
    "cutoff": dt.datetime(2024, 5, 1, 6, tzinfo=UTC),
    "mixed": [1, "a", None, 2.5],
    "cfg": {"a": [1, 2], "b": {"c": None}},
}
VARS_KINDS = {"limit": "num", "name": "str", "cutoff": "ts", "mixed": "list", "cfg": "row"}


def fuzz_tables(rows: int = 24) -> dict[str, pa.Table]:
    """``t``: every kind of column (int, float, string, null, timestamp, bool, nested dicts,
    lists, with nulls, NaN and -0.0 sprinkled in); ``u``: a small table to join with."""
    rng = np.random.default_rng(7)
    n = rows

    def some_null(values: list, every: int = 5) -> list:
        return [None if i % every == every - 1 else v for i, v in enumerate(values)]

    floats = [float(v) for v in rng.normal(100, 30, n)]
    floats[1], floats[2] = float("nan"), -0.0
    t = pa.table(
        {
            "x": pa.array(some_null([int(v) for v in rng.integers(-5, 50, n)]), pa.int64()),
            "k": pa.array([["a", "b", "c"][i % 3] for i in range(n)]),
            "lat": pa.array(some_null(floats, 7), pa.float64()),
            "latency": pa.array([float(v) for v in rng.exponential(200, n)]),
            "score": pa.array(some_null([float(v) for v in rng.random(n)], 4)),
            "tokens": pa.array([int(v) for v in rng.integers(0, 4000, n)], pa.int64()),
            "s": pa.array(some_null([["Apple", "banana", "cherry pie", "", "ß straße", "a,b,c"][i % 6] for i in range(n)])),
            "model": pa.array([["gpt", "claude", "llama"][i % 3] for i in range(n)]),
            "user": pa.array([f"u{i % 4}" for i in range(n)]),
            "b": pa.array(some_null([i % 2 == 0 for i in range(n)], 6)),
            "n": pa.nulls(n),
            "timestamp": pa.array(
                some_null([dt.datetime(2024, 5, 1, tzinfo=UTC) + dt.timedelta(minutes=37 * i) for i in range(n)], 9),
                pa.timestamp("us", tz="UTC"),
            ),
            "d": pa.array(
                some_null([{"a": i, "b": f"v{i % 2}", "c": {"e": i / 2}} for i in range(n)], 5),
            ),
            "tags": pa.array(some_null([["x", "y"][: i % 3] for i in range(n)], 4), pa.list_(pa.string())),
            "xs": pa.array([list(range(i % 4)) for i in range(n)], pa.list_(pa.int64())),
        }
    )
    u = pa.table({"k": pa.array(["a", "c", "a", None]), "v": pa.array([10, 30, 11, 40], pa.int64())})
    return {"t": t, "u": u}


def make_stream_table(root: Path) -> None:
    """The stream table ``e/p/t`` under ``root``: a few rows, with a column of mixed kinds."""
    rows = [
        {"x": i, "lat": 10.0 * i, "s": f"s{i % 3}", "mixed": (i if i % 2 else f"m{i}"), "meta": {"lang": ["en", "de"][i % 2]}}
        for i in range(12)
    ]
    with weave_lite.StreamTable(STREAM_TABLE, root=root) as st:
        st.log(rows)


# --------------------------------------------------------------------------------- generator

_COLUMNS = {
    "num": ["x", "lat", "latency", "score", "tokens"],
    "str": ["s", "k", "model", "user"],
    "bool": ["b"],
    "ts": ["timestamp"],
    "any": ["n", "d", "d.a", "d.c.e", "tags", "xs", "nope", "*"],
}
_ROOTS = ['table("t").rows', 'table("t").rows()', f'stream_table("{STREAM_TABLE}").rows', 'table("u").rows']
_STRINGS = ['"a"', "''", '"a,b"', "'x\\ny'", '"\\u00e9"', '"ß"', '"\\u{1F600}"', '"%"', '"*"', '"(a+)+$"', '"\\\\d+"', '"  pad  "']
_NUMBERS = ["0", "1", "2", "-1", "3.5", "1e-3", "1e308", "9223372036854775807", "0.0", "-0.0", "100", "1e999"]
_REDUCERS = ["sum", "avg", "min", "max", "count", "median", "stddev", "variance", "countDistinct", "mode", "argmax", "argmin"]
_NUM_UNARY = ["abs", "floor", "ceil", "sqrt", "log", "exp", "toString", "isNone", "neg"]
_STR_UNARY = ["len", "lower", "upper", "strip", "isNumeric", "toNumber", "isNone"]
_WORDS = ["count", "rows", "map", "filter", "frobnicate", "Date", "true", "null", "and", "or"]
# Literals at the edges of what the language and Arrow represent.
_EDGES = {
    "num": [
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999",
        "1e-400", "1e400", "(1e999 - 1e999)", "-(1e999)", "4.9e-324", "0.1", "2 ** 63", "2 ** 1000", "(-8) ** 0.5",
        "0 / 0", "1 % 0", "-7 % 3", "7 % -3",
    ],
    "str": [
        '"' + "x" * 3000 + '"', r'"\u0000"', r'"\uD83D\uDE00"', '"İ"', '"ǅ"', r'"\t\r\n"', "'\"'", r'"\\"',
        '"٣"', '"1e5"', '" 12 "', '"-0"', '"NaN"', '"inf"',
    ],
    "ts": [
        'Date("0001-01-01")', 'Date("9999-12-31T23:59:59.999999Z")', 'Date("2024-05-01T12:00:00+05:30")',
        'Date("1969-12-31T23:59:59Z")', '(Date("2024-05-01") + 1e300)', '1e300.toTimestamp', '(-62135596800001).toTimestamp',
    ],
    "list": ["[null]", "[[]]", "[[null]]", '[1, "a", null, 1.5, true]', '[{a: 1}, {a: "x"}, {b: 2}]', "[[1, [2, [3]]]]", '[Date("2024-05-01"), 1]'],
    "row": ["{a: null}", "{a: {b: {c: [1, {d: 2}]}}}", '{"": 1}', '{"a.b": 1, a: {b: 2}}'],
}


@dataclasses.dataclass
class _Scope:
    names: dict[str, str]  # variable -> kind


class Generator:
    """Random expressions from the grammar and the op catalog (see the module docstring)."""

    def __init__(self, rng: random.Random, max_depth: int = 4):
        self.rng = rng
        self.max_depth = max_depth
        self.ops = [(name, o) for name in registry.all_ops() for o in registry.lookup(name).overloads]
        self._fresh = 0

    def expression(self) -> str:
        if self.rng.random() < 0.03:
            return self.deep()
        kind = self.rng.choice(["rows", "rows", "list", "num", "num", "str", "bool", "any", "group", "ts", "row"])
        self.max_depth = self.rng.choice([3, 4, 4, 5, 6])
        text = self.gen(kind, 0, _Scope(dict(VARS_KINDS)))
        return self._respell(text) if self.rng.random() < 0.2 else text

    def deep(self) -> str:
        """Nesting around the parser's limit (200 levels), of one of the recursive productions."""
        r = self.rng
        n = r.choice([r.randint(1, 50), r.randint(150, 200), r.randint(195, 205), r.randint(500, 3000)])
        leaf = r.choice(["1", "x", '"s"', 'table("t").rows', "null", "[1]"])
        wrappers = [
            ("{a: ", "}"), ("[", "]"), ("(", ")"), ("-", ""), ("!", ""), ("[1].map(x => ", ")"),
            ("", ".abs"), ("", '["a"]'), ("", "[0]"), ("true ? 1 : ", ""), ("1 + ", ""), ("2 ** ", ""),
            ("f(", ")"), ("{a: [", "]}"), ("x => ", ""), ("(", " ?? 1)"),
        ]
        chosen = r.sample(wrappers, r.randint(1, 3))
        opens, closes = [], []
        for i in range(n):
            before, after = chosen[i % len(chosen)]
            opens.append(before)
            closes.append(after)
        return "".join(opens) + leaf + "".join(reversed(closes))

    # -- by kind -------------------------------------------------------------------------------

    def gen(self, kind: str, depth: int, scope: _Scope) -> str:
        r = self.rng
        if depth >= self.max_depth or r.random() < 0.15 * depth:
            if kind in _EDGES and r.random() < 0.2:
                return r.choice(_EDGES[kind])
            return self._leaf(kind, scope)
        if r.random() < 0.2:
            return self._blind(depth + 1, scope)
        return getattr(self, f"_{kind}")(depth + 1, scope)

    def _rows(self, d: int, scope: _Scope) -> str:
        r = self.rng
        base = self.gen("rows", d, scope) if r.random() < 0.6 else r.choice(_ROOTS)
        choice = r.randrange(9)
        if choice == 0:
            return f"{base}.filter({self._lambda('row', 'bool', d, scope)})"
        if choice == 1:
            inner, name = self._bind(scope, "row")
            keys = ", ".join(self.gen(r.choice(["num", "str"]), d, inner) for _ in range(r.randint(1, 2)))
            return f'{base}.sort({name} => [{keys}], ["{r.choice(["asc", "desc"])}"])'
        if choice == 2:
            return f"{base}.limit({r.choice(['0', '1', '3', '-1', '100', 'null'])})"
        if choice == 3:
            return f"{base}.offset({r.choice(['0', '2', '50'])})"
        if choice == 4:
            return f"{base}.map({self._lambda('row', 'row', d, scope)})"
        if choice == 5:
            other = r.choice(_ROOTS)
            fn = lambda: f'r => r["{r.choice(["k", "x", "s", "user"])}"]'  # noqa: E731
            outer = ", ".join(r.choice(["true", "false"]) for _ in range(r.randint(0, 2)))
            tail = f', "a", "b"{", " + outer if outer else ""}' if r.random() < 0.7 else ""
            return f"{base}.join({other}, {fn()}, {fn()}{tail})"
        if choice == 6:
            return f"{base}.randomlyDownsample(3)" if r.random() < 0.2 else f"{base}.{r.choice(['dropna', 'unique'])}"
        if choice == 7:
            return f"{base}.concat({r.choice(_ROOTS)})" if r.random() < 0.5 else f"[{base}, {base}].flatten"
        return base

    def _list(self, d: int, scope: _Scope) -> str:
        r = self.rng
        choice = r.randrange(10)
        if choice == 0:
            return f'{self.gen("rows", d, scope)}["{r.choice(_COLUMNS[r.choice(list(_COLUMNS))])}"]'
        if choice == 1:
            return "[" + ", ".join(self.gen(r.choice(["num", "str", "bool"]), d, scope) for _ in range(r.randint(0, 4))) + "]"
        if choice == 2:
            return f"{self.gen('rows', d, scope)}.map({self._lambda('row', r.choice(['num', 'str', 'bool']), d, scope)})"
        if choice == 3:
            return f'{self.gen("str", d, scope)}.split({r.choice(_STRINGS)})'
        if choice == 4:
            return f'{self.gen("list", d, scope)}.{r.choice(["unique", "dropna", "flatten", "concat"])}'
        if choice == 5:
            return f'{self.gen("str", d, scope)}.findAll({r.choice(_STRINGS)})'
        if choice == 6:
            return f"{self.gen('group', d, scope)}.map({self._lambda('g', 'num', d, scope, group=True)})"
        if choice == 7:
            return f'{self.gen("list", d, scope)}.map({self._lambda("v", "num", d, scope, elem="num")})'
        if choice == 8:
            return f'{self.gen("rows", d, scope)}["{r.choice(_COLUMNS["num"])}"].rolling(w => w.{r.choice(["avg", "sum", "min", "max"])}, {r.choice(["1", "3", "0"])})'
        return f'{self.gen("list", d, scope)}.sort(v => v, ["{r.choice(["asc", "desc"])}"])'

    def _group(self, d: int, scope: _Scope) -> str:
        key = self._lambda("row", self.rng.choice(["str", "num", "bool"]), d, scope)
        return f"{self.gen('rows', d, scope)}.groupby({key})"

    def _num(self, d: int, scope: _Scope) -> str:
        r = self.rng
        choice = r.randrange(9)
        if choice == 0:
            return f"{self.gen('list', d, scope)}.{r.choice(_REDUCERS)}"
        if choice == 1:
            return f"{self.gen('rows', d, scope)}.count"
        if choice == 2:
            op = r.choice(["+", "-", "*", "/", "%", "**"])
            return f"{self.gen('num', d, scope)} {op} {self.gen('num', d, scope)}"
        if choice == 3:
            return f"{self.gen('num', d, scope)}.{r.choice(_NUM_UNARY)}"
        if choice == 4:
            return f"{self.gen('str', d, scope)}.len"
        if choice == 5:
            return f"{self.gen('list', d, scope)}.quantile({r.choice(['0.5', '0', '1', '0.95', '2'])})"
        if choice == 6:
            return f"{self.gen('num', d, scope)}.round({r.choice(['0', '1', '2', '-1'])})"
        if choice == 7:
            return f"({self.gen('bool', d, scope)} ? {self.gen('num', d, scope)} : {self.gen('num', d, scope)})"
        return f"{self.gen('num', d, scope)} ?? {self.gen('num', d, scope)}"

    def _str(self, d: int, scope: _Scope) -> str:
        r = self.rng
        choice = r.randrange(7)
        if choice == 0:
            return f"{self.gen('str', d, scope)} + {self.gen('str', d, scope)}"
        if choice == 1:
            return f"{self.gen('str', d, scope)}.{r.choice(['lower', 'upper', 'strip'])}"
        if choice == 2:
            return f"{self.gen('str', d, scope)}.replace({r.choice(_STRINGS)}, {r.choice(_STRINGS)})"
        if choice == 3:
            return f"{self.gen('str', d, scope)}.slice({r.choice(_NUMBERS[:4])}, {r.choice(_NUMBERS[:4])})"
        if choice == 4:
            return f"{self.gen('num', d, scope)}.toString"
        if choice == 5:
            return f"{self.gen('list', d, scope)}.joinToStr({r.choice(_STRINGS)})"
        return f"{self.gen('ts', d, scope)}.toString" if r.random() < 0.3 else f"{self.gen('str', d, scope)}.slice(1)"

    def _bool(self, d: int, scope: _Scope) -> str:
        r = self.rng
        choice = r.randrange(7)
        if choice == 0:
            kind = r.choice(["num", "str", "ts"])
            op = r.choice(["==", "!=", "<", "<=", ">", ">=", "===", "!=="])
            return f"{self.gen(kind, d, scope)} {op} {self.gen(kind, d, scope)}"
        if choice == 1:
            op = r.choice(["&&", "||", "and", "or"])
            return f"{self.gen('bool', d, scope)} {op} {self.gen('bool', d, scope)}"
        if choice == 2:
            return f"!{self.gen('bool', d, scope)}"
        if choice == 3:
            return f"{self.gen('str', d, scope)}.{r.choice(['contains', 'startsWith', 'endsWith'])}({r.choice(_STRINGS)})"
        if choice == 4:
            return f"{self.gen(r.choice(['num', 'str', 'any']), d, scope)}.isNone"
        if choice == 5:
            return f"{self.gen('list', d, scope)}.contains({self.gen('num', d, scope)})"
        return f"{self.gen('str', d, scope)}.isNumeric"

    def _ts(self, d: int, scope: _Scope) -> str:
        r = self.rng
        choice = r.randrange(4)
        if choice == 0:
            return f'{self.gen("ts", d, scope)}.floor("{r.choice(["s", "m", "h", "d", "5m", "24h", "x"])}")'
        if choice == 1:
            return f"{self.gen('ts', d, scope)} + {r.choice(['1000', '-60000', '0.5'])}"
        if choice == 2:
            return 'Date("2024-05-01T12:00:00Z")'
        return f"{self.gen('num', d, scope)}.toTimestamp"

    def _row(self, d: int, scope: _Scope) -> str:
        r = self.rng
        choice = r.randrange(4)
        if choice == 0:
            items = ", ".join(f"{r.choice(['a', 'b', 'n', chr(34) + 'x y' + chr(34)])}: {self.gen(r.choice(['num', 'str', 'any']), d, scope)}" for _ in range(r.randint(0, 3)))
            return "{" + _dedupe_keys(items) + "}"
        if choice == 1:
            return f"{self.gen('rows', d, scope)}{r.choice(['.first', '.last', '[0]', '[-1]', '[99]'])}"
        if choice == 2:
            return f"{self.gen('row', d, scope)}.merge({{z: 1}})"
        return self._leaf("row", scope)

    def _any(self, d: int, scope: _Scope) -> str:
        r = self.rng
        choice = r.randrange(6)
        if choice == 0:
            return f'{self.gen("row", d, scope)}["{r.choice(_COLUMNS[r.choice(list(_COLUMNS))])}"]'
        if choice == 1:
            return f"{self.gen('row', d, scope)}.{r.choice(['keys', 'values'])}"
        if choice == 2:
            return f"{self.gen('rows', d, scope)}.profile" if r.random() < 0.5 else f"{self.gen('group', d, scope)}.map(g => g.profile)"
        if choice == 3:
            bins = r.choice(["binsfixed(1)", "binsfixed(10)", "binsfixed(0)", "binsfixed(-1)", "binsequal(3)", "binsequal(0)", "timestampBinsNice(5)", "timestampBinsNice(0)"])
            target = self.gen(r.choice(["num", "ts", "list"]), d, scope)
            return f"{target}.bin({bins})"
        if choice == 4:
            return f"{self.gen('group', d, scope)}.map(g => {{key: g.groupkey, n: g.count, m: g[\"lat\"].avg}})"
        return self._blind(d, scope)

    # -- leaves, lambdas, blind productions ------------------------------------------------

    def _leaf(self, kind: str, scope: _Scope) -> str:
        r = self.rng
        bound = [name for name, k in scope.names.items() if k == kind or (k == "row" and kind != "rows")]
        if bound and r.random() < 0.6:
            name = r.choice(bound)
            if scope.names[name] == "row" and kind in _COLUMNS:
                return f'{name}["{r.choice(_COLUMNS[kind])}"]'
            return name
        if kind == "rows" or kind == "group":
            return r.choice(_ROOTS) if kind == "rows" else f'{r.choice(_ROOTS)}.groupby(row => row["k"])'
        if kind == "list":
            return r.choice(["[1, 2, 3]", "[]", '["a", null]', "[1.5, null, -0.0]", '[[1], [2, 3]]', f'{r.choice(_ROOTS)}["x"]'])
        if kind == "num":
            return r.choice([*_NUMBERS, "null"])
        if kind == "str":
            return r.choice([*_STRINGS, "null"])
        if kind == "bool":
            return r.choice(["true", "false", "null"])
        if kind == "ts":
            return r.choice(['Date("2024-05-01T12:00:00Z")', 'Date("1970-01-01")', "now()"])
        if kind == "row":
            return r.choice(["{}", "{a: 1}", '{a: 1, "b c": "x"}', 'table("t").rows[0]'])
        return r.choice(_NUMBERS + _STRINGS + ["null", "true", "[1]", "{a: 1}", "x", "row"])

    def _bind(self, scope: _Scope, kind: str) -> tuple[_Scope, str]:
        self._fresh += 1
        name = self.rng.choice(["row", "r", "x", "g", f"v{self._fresh % 3}"])
        return _Scope({**scope.names, name: kind}), name

    def _lambda(self, param_kind: str, body_kind: str, d: int, scope: _Scope, *, group: bool = False, elem: str | None = None) -> str:
        kind = "list" if group else (elem or param_kind)
        inner, name = self._bind(scope, "row" if kind == "row" else kind)
        if group:
            body = self.rng.choice([f"{name}.count", f'{name}["lat"].avg', f"{name}.groupkey", f'{name}["x"].sum', self.gen(body_kind, d, inner)])
        else:
            body = self.gen(body_kind, d, inner)
        spelling = self.rng.randrange(4)
        if spelling == 0:
            return f"({name}) => {body}"
        if spelling == 1:
            return f"({name}, i) => {body}"
        return f"{name} => {body}"

    def _blind(self, d: int, scope: _Scope) -> str:
        """A production picked without regard to types: any op of the catalog, any shape."""
        r = self.rng
        name, overload = r.choice(self.ops)
        args = []
        for shape in overload.shapes[: r.randint(overload.min_args, overload.max_args) if overload.max_args < 8 else r.randint(0, 4)]:
            if shape == "lambda":
                args.append(self._lambda("row", r.choice(["num", "str", "bool", "any"]), d, scope))
            elif shape == "list":
                args.append(self.gen(r.choice(["list", "rows"]), d, scope))
            else:
                args.append(self.gen(r.choice(["num", "str", "bool", "any", "list"]), d, scope))
        if name in registry.OPERATOR_NAMES:
            symbol = registry.OPERATOR_NAMES[name]
            if name in UNARY_OPERATORS.values() and args:
                return f"{symbol}({args[0]})"
            if name in BINARY_OPERATORS.values() and len(args) == 2:
                return f"({args[0]} {symbol} {args[1]})"
        if args and r.random() < 0.6:
            rest = ", ".join(args[1:])
            return f"{args[0]}.{name}" + (f"({rest})" if rest or r.random() < 0.5 else "")
        return f"{name}({', '.join(args)})"

    def _respell(self, text: str) -> str:
        """Same meaning, other spellings: parentheses, whitespace, newlines, trailing commas."""
        r = self.rng
        choice = r.randrange(4)
        if choice == 0:
            return "(" * (k := r.randint(1, 3)) + text + ")" * k
        if choice == 1:
            return text.replace(" ", r.choice(["  ", "\n", "\t", " \n "]))
        if choice == 2:
            return text.replace("])", ", ])") if r.random() < 0.5 else text.replace("}", ",}")
        return f" {text} "


def _dedupe_keys(items: str) -> str:
    seen: set[str] = set()
    out = []
    for item in items.split(", ") if items else []:
        key = item.split(":", 1)[0]
        if key not in seen:
            seen.add(key)
            out.append(item)
    return ", ".join(out)


# ------------------------------------------------------------------------------------ corpus

_TOKEN = re.compile(
    r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|[A-Za-z_]\w*|=>|===|!==|==|!=|<=|>=|\*\*|\?\?|&&|\|\||\S"""
)
_TABLE_CALL = re.compile(r'\b(stream_table|table)\("[^"]*"\)')


def corpus() -> list[str]:
    """Every expression in the tests and the README that parses, in a stable order."""
    found: set[str] = set()
    for path in sorted((REPO / "tests").rglob("*.py")):
        if path.name == "fuzzing.py":
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found.update(re.findall(r"'([^'\n]{3,})'", readme))
    found.update(bytes(m, "utf-8").decode("unicode_escape", "ignore") for m in re.findall(r'"((?:[^"\\\n]|\\.){3,})"', readme))
    out = []
    for text in sorted(found):
        if not (3 <= len(text) <= 2000) or not re.search(r"[.(\[]", text):
            continue
        try:
            parse(text)
        except Exception:  # not an expression
            continue
        out.append(text)
    return out


class Mutator:
    """Random edits of corpus expressions (see the module docstring)."""

    def __init__(self, rng: random.Random, texts: list[str]):
        self.rng = rng
        self.texts = texts

    def expression(self) -> str:
        r = self.rng
        text = r.choice(self.texts)
        if r.random() < 0.5:  # aim the corpus at the fuzz tables, so that more cases run deep
            text = _TABLE_CALL.sub(lambda m: r.choice(_ROOTS).rsplit(".rows", 1)[0], text)
        for _ in range(r.choice([1, 1, 1, 2, 3])):
            text = self._mutate(text)
        return text

    def _mutate(self, text: str) -> str:
        r = self.rng
        tokens = _TOKEN.findall(text) or [text]
        choice = r.randrange(10)
        if choice == 0 and text:  # insert a character
            i = r.randrange(len(text) + 1)
            return text[:i] + r.choice("()[]{}.,:'\"?!=<>+-*/%&|\\ 0a_\n\u00e9\ud800") + text[i:]
        if choice == 1 and text:  # delete a character
            i = r.randrange(len(text))
            return text[:i] + text[i + 1 :]
        if choice == 2 and len(text) > 1:  # swap two characters
            i, j = sorted(r.sample(range(len(text)), 2))
            return text[:i] + text[j] + text[i + 1 : j] + text[i] + text[j + 1 :]
        if choice == 3:  # delete a token
            i = r.randrange(len(tokens))
            return " ".join(tokens[:i] + tokens[i + 1 :])
        if choice == 4:  # duplicate a token
            i = r.randrange(len(tokens))
            return " ".join(tokens[: i + 1] + tokens[i:])
        if choice == 5 and len(tokens) > 1:  # swap two tokens
            i, j = r.sample(range(len(tokens)), 2)
            tokens[i], tokens[j] = tokens[j], tokens[i]
            return " ".join(tokens)
        if choice == 6:  # replace a token by a token from elsewhere
            other = _TOKEN.findall(r.choice(self.texts)) or ["x"]
            tokens[r.randrange(len(tokens))] = r.choice(other + _WORDS + _NUMBERS + _STRINGS)
            return " ".join(tokens)
        if choice == 7:  # truncate
            return text[: r.randrange(len(text) + 1)]
        if choice == 8:  # duplicate a span
            i = r.randrange(len(text) + 1)
            j = r.randrange(i, len(text) + 1)
            return text[:j] + text[i:j] + text[j:]
        other = r.choice(self.texts)  # splice two expressions
        return text[: r.randrange(len(text) + 1)] + other[r.randrange(len(other) + 1) :]


# ------------------------------------------------------------------------------------- cases


def cases(seed: int, n: int, texts: list[str] | None = None) -> list[str]:
    """Case ``i`` is a generated expression for even ``i``, a mutated one for odd ``i``."""
    rng = random.Random(seed)
    generator = Generator(random.Random(rng.random()))
    mutator = Mutator(random.Random(rng.random()), texts if texts is not None else corpus())
    return [generator.expression() if i % 2 == 0 else mutator.expression() for i in range(n)]


@dataclasses.dataclass
class Outcome:
    expr: str
    kind: str  # "result", a WeaveError class name, or "crash:<exception class>"
    seconds: float
    error: BaseException | None = None

    @property
    def crashed(self) -> bool:
        """Anything but a result or a WeaveError; an InternalError is a bug too."""
        return self.kind.startswith("crash:") or isinstance(self.error, InternalError)


def run_case(expr: str, tables: dict, root: Path | None, *, explain: bool = False) -> Outcome:
    """Evaluate ``expr`` under the case budgets; classify what happened."""
    start = time.perf_counter()
    try:
        result = weave_lite.evaluate(
            expr, tables=tables, root=root, vars=FUZZ_VARS, timeout=CASE_TIMEOUT, max_memory=CASE_MAX_MEMORY
        )
        weave_lite.to_python(result)
        if explain:
            weave_lite.compile(expr).explain(tables=tables, root=root, vars=FUZZ_VARS)
            render(parse(expr))
        kind, error = "result", None
    except WeaveError as exc:
        str(exc)  # the message must render
        kind, error = type(exc).__name__, exc
    except Exception as exc:  # what the fuzzer is looking for
        kind, error = f"crash:{type(exc).__name__}", exc
    return Outcome(expr, kind, time.perf_counter() - start, error)


def run_cases(
    exprs: list[str], tables: dict, root: Path | None, progress: Callable[[int, Outcome], None] | None = None
) -> list[Outcome]:
    outcomes = []
    for i, expr in enumerate(exprs):
        outcome = run_case(expr, tables, root, explain=i % 10 == 0)
        outcomes.append(outcome)
        if progress is not None:
            progress(i, outcome)
    return outcomes


def summary(outcomes: list[Outcome]) -> Counter:
    return Counter(o.kind if not isinstance(o.error, InternalError) else "InternalError (bug)" for o in outcomes)


def warm_up(tables: dict, root: Path | None) -> None:
    """Load what every process pays for once (the parser, the kernels' compiled code) before
    timing: one expression per op area."""
    for expr in (
        'table("t").rows.filter(r => r["x"] > 1).map(r => {a: r["lat"] * 2 + 1, s: r["s"].upper}).count',
        'table("t").rows.groupby(r => r["k"]).map(g => {k: g.groupkey, n: g.count, m: g["lat"].avg, q: g["lat"].quantile(0.5)})',
        'table("t").rows.join(table("u").rows, a => a["k"], b => b["k"], "a", "b", true, true).count',
        'table("t").rows["s"].map(s => s.lower.replace("a", "b").split(",").joinToStr("-")).count',
        'table("t").rows["lat"].rolling(w => w.avg, 3).sum',
        'table("t").rows.sort(r => [r["lat"]], ["desc"]).limit(3)["x"].countDistinct',
        'table("t").rows["timestamp"].map(t => t.floor("5m").toString).unique.count',
        f'stream_table("{STREAM_TABLE}").rows.profile.count',
        'table("t").rows.groupby(r => r["k"]).map(g => g.profile).count',
        'table("t").rows["s"].map(s => s.findAll("[a-z]+")).flatten.count',
    ):
        run_case(expr, tables, root, explain=True)
