"""Expressions come from web pages: they reach no Python, no files, nothing outside the root."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

import weave_lite
from weave_lite import StreamTable, evaluate
from weave_lite.errors import ResourceLimitError

PACKAGE = Path(weave_lite.__file__).parent
TABLES = {"t": pa.table({"s": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"], "n": [1]})}


@pytest.mark.parametrize(
    "expr",
    [
        '__import__("os")',
        'eval("1 + 1")',
        'exec("print(1)")',
        'open("/etc/passwd")',
        'table("t").__class__',
        'table("t").rows.__len__',
        'table("t").rows["s"].__class__',
        'getattr(table("t"), "rows")',
        'compile("1")',
    ],
)
def test_python_names_are_not_reachable(expr):
    with pytest.raises(weave_lite.WeaveError):
        evaluate(expr, tables=TABLES)


def test_dunder_keys_are_just_missing_columns():
    with pytest.raises(weave_lite.WeaveError, match="unknown column"):
        evaluate('table("t").rows["__class__"]', tables=TABLES)


@pytest.mark.parametrize(
    "name",
    ["../../etc", "/etc/passwd", "e/p/..", "e/../..", "..", "e/p/t/../../x", "e\\p\\t", "e/p/t\x00", "~/x/y", "_boards/x/y"],
)
def test_table_names_cannot_leave_the_root(root, name):
    st = StreamTable("e/p/t", root=root)
    st.log({"x": 1})
    st.finish()
    with pytest.raises(weave_lite.WeaveError):
        evaluate(f"stream_table({name!r}).rows.count", root=root)


def test_deep_nesting_and_huge_literals_give_clear_errors():
    with pytest.raises(ResourceLimitError):
        evaluate("(" * 10_000 + "1" + ")" * 10_000)
    with pytest.raises(ResourceLimitError):
        evaluate('"' + "x" * 1_000_000 + '"')
    with pytest.raises(ResourceLimitError):
        evaluate("-" * 5_000 + "1")


@pytest.mark.timeout(30)
def test_regex_runs_in_linear_time():
    """RE2 (through Arrow) has no catastrophic backtracking: this pattern hangs Python's re."""
    evil = "a" * 5000 + "!"
    tables = {"t": pa.table({"s": [evil] * 50})}
    result = evaluate('table("t").rows["s"].map(s => s.findAll("(a+)+$")).count', tables=tables)
    assert result == 50


def test_package_never_evaluates_python():
    """No module of the package calls eval/exec/__import__ or compiles source."""
    banned = re.compile(r"(?<![\w.])(eval|exec|__import__)\(|importlib\.import_module\(")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in PACKAGE.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if banned.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []
