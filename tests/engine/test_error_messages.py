"""Golden tests: the exact message of every kind of error a broken expression can raise.

Parse errors have their own goldens in ``tests/lang/test_errors.py``; these cover what the
planner finds before reading any data: unknown ops and columns (with the closest names), type
errors naming the op, the argument and the types, lambda arity, unbound variables, bad table
names and missing tables.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import weave_lite
from weave_lite import evaluate

TABLES = {
    "t": pa.table(
        {
            "model": ["a"],
            "lat": [1.0],
            "n": [1],
            "ts": pa.array([dt.datetime(2024, 1, 1)], pa.timestamp("us", tz="UTC")),
            "meta": [{"lang": "en", "len": 3}],
        }
    )
}

GOLDEN = [
('table("t").rows.cout', 'UnknownOpError', 'unknown op `cout`; did you mean `count` or `concat`?\n  table("t").rows.cout\n                  ^^^^'),
('table("t").rows.filtr(row => true)', 'UnknownOpError', 'unknown op `filtr`; did you mean `filter`, `floor` or `first`?\n  table("t").rows.filtr(row => true)\n                  ^^^^^'),
('table("t").rows.grupby(row => row["model"])', 'UnknownOpError', 'unknown op `grupby`; did you mean `groupby` or `groupkey`?\n  table("t").rows.grupby(row => row["model"])\n                  ^^^^^^'),
('table("t").rows["modle"]', 'UnknownColumnError', 'unknown column `modle`; did you mean `model`? (columns: model, lat, n, ts, meta)\n  table("t").rows["modle"]\n  ^^^^^^^^^^^^^^^^^^^^^^^^'),
('table("t").rows.filter(row => row["latency"] > 1)', 'UnknownColumnError', 'unknown column `latency`; did you mean `lat`? (columns: model, lat, n, ts, meta)\n  table("t").rows.filter(row => row["latency"] > 1)\n                                ^^^^^^^^^^^^^^'),
('table("t").rows["meta.lnag"]', 'UnknownColumnError', 'unknown column `lnag`; did you mean `lang`? (columns: lang, len)\n  table("t").rows["meta.lnag"]\n  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^'),
('table("t").rows["model"].avg', 'WeaveTypeError', 'argument 1 of `avg` (`table("t").rows["model"]`) is list<string>; expected list<number>.avg\n  table("t").rows["model"].avg\n  ^^^^^^^^^^^^^^^^^^^^^^^^'),
('table("t").rows["lat"].quantile("x")', 'WeaveTypeError', 'argument 2 of `quantile` (`"x"`) is string; expected list<number>.quantile(q)\n  table("t").rows["lat"].quantile("x")\n                                  ^^^'),
('table("t").rows["lat"].quantile(1.5)', 'WeaveTypeError', '`quantile` takes a number between 0 and 1, got 1.5\n  table("t").rows["lat"].quantile(1.5)\n  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^'),
('table("t").rows.limit("3")', 'WeaveTypeError', 'argument 2 of `limit` (`"3"`) is string; expected list.limit(n)\n  table("t").rows.limit("3")\n                        ^^^'),
('table("t").rows.filter(row => row["n"] + 1)', 'WeaveTypeError', 'the function given to `filter` must return a boolean, not int\n  table("t").rows.filter(row => row["n"] + 1)\n  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^'),
('table("t").rows.filter((a, b, c) => true)', 'WeaveTypeError', 'the function given to `filter` takes 3 parameters; `filter` passes 2\n  table("t").rows.filter((a, b, c) => true)\n                         ^^^^^^^^^^^^^^^^^'),
('table("t").rows.map(1)', 'WeaveTypeError', 'argument 2 of `map` must be a function such as `row => ...`\n  table("t").rows.map(1)\n                      ^'),
('table("t").rows.count(row => row)', 'WeaveTypeError', '`count` takes 1 argument, got 2\n  table("t").rows.count(row => row)\n  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^'),
('table("t").rows["model"] + 1', 'WeaveTypeError', '`+` cannot take (list<string>, int); expected number + number or string + string or timestamp + milliseconds or milliseconds + timestamp\n  table("t").rows["model"] + 1\n                           ^'),
('"a" < 1', 'WeaveTypeError', '`<` cannot take (string, int); expected a < b (numbers, strings or timestamps)\n  "a" < 1\n      ^'),
('table("t").rows.map(row => row["model"].lower(1))', 'WeaveTypeError', '`lower` takes 1 argument, got 2\n  table("t").rows.map(row => row["model"].lower(1))\n                             ^^^^^^^^^^^^^^^^^^^^^'),
('table("t").rows.map(row => row["ts"].floor("5x"))', 'WeaveTypeError', 'unknown time unit \'5x\': use s, m, h or d with an optional multiplier, e.g. "5m"\n  table("t").rows.map(row => row["ts"].floor("5x"))\n                             ^^^^^^^^^^^^^^^^^^^^^'),
('table("missing").rows.count', 'TableNotFoundError', 'no table `missing` was passed in tables= (passed: t)\n  table("missing").rows.count\n  ^^^^^^^^^^^^^^^^'),
('stream_table("../../etc").rows.count', 'InvalidNameError', 'invalid entity name \'..\': use 1-128 letters, digits, \'_\', \'.\' or \'-\', starting with a letter or digit\n  stream_table("../../etc").rows.count\n  ^^^^^^^^^^^^^^^^^^^^^^^^^'),
('stream_table("a/b/c/d").rows.count', 'InvalidNameError', 'invalid table name \'a/b/c/d\': expected \'table\', \'project/table\' or \'entity/project/table\'\n  stream_table("a/b/c/d").rows.count\n  ^^^^^^^^^^^^^^^^^^^^^^^'),
('x + 1', 'UnboundVariableError', 'unknown variable `x`\n  x + 1\n  ^'),
('table("t").rows.map(row => rwo["n"])', 'UnboundVariableError', 'unknown variable `rwo`; did you mean `row`?\n  table("t").rows.map(row => rwo["n"])\n                             ^^^'),
('row => row', 'WeaveTypeError', 'a function is only allowed as an argument of an op such as `filter` or `map`\n  row => row\n  ^^^^^^^^^^'),
('table("t").rows["n"].sum.lower', 'WeaveTypeError', 'argument 1 of `lower` (`table("t").rows["n"].sum`) is int; expected string.lower\n  table("t").rows["n"].sum.lower\n  ^^^^^^^^^^^^^^^^^^^^^^^^'),
('table(name).rows', 'WeaveTypeError', '`table` takes one table name as a string literal, e.g. table("entity/project/table")\n  table(name).rows\n  ^^^^^^^^^^^'),
]


@pytest.mark.parametrize("expr,kind,message", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_error_message(expr, kind, message):
    with pytest.raises(weave_lite.WeaveError) as info:
        evaluate(expr, tables=TABLES, root="/nonexistent-weave-root")
    assert type(info.value).__name__ == kind
    assert str(info.value) == message


def test_error_classes_carry_details():
    with pytest.raises(weave_lite.UnknownOpError) as info:
        evaluate('table("t").rows.cout', tables=TABLES)
    assert info.value.suggestions[0] == "count"
    with pytest.raises(weave_lite.WeaveTypeError) as info:
        evaluate('table("t").rows["model"].avg', tables=TABLES)
    assert "avg" in str(info.value) and "list<string>" in str(info.value)
    with pytest.raises(weave_lite.ParseError) as info:
        evaluate('table("t").rows.filter(row => row["n"] >)', tables=TABLES)
    assert info.value.line == 1 and info.value.column > 1 and info.value.expected
