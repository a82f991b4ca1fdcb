"""Golden fixture files of the plan rewrites (as sqlglot's tests/fixtures/optimizer).

Each file under ``fixtures/`` tests one rule (its name: ``count_filter.txt`` tests
:func:`~weave_lite.compile.rewrites.count_filter.count_filter` alone); ``all_rules.txt`` runs
every rule in the order ``optimize()`` applies them.  A file is blocks separated by blank lines:

    # schema t: lat:float, n:int, s:string?     <- file header: schemas every case may read

    # a title, and any comment
    # schema t: x:int                           <- a case may give its own schema of a table
    table("t").rows.filter(r => r["x"] > 1).count
    ----
    count -> int  key=count:where
      ...

The lines before ``----`` that do not start with ``#`` are the expression; after it comes the
expected plan, as :func:`weave_lite.compile.plan_text.plan_text` prints it, planned against the
schemas (``name:type`` pairs; types as the planner prints them, ``T?`` for ``optional<T>``;
``bool`` for ``boolean``) with only the file's rule applied and no physical planning.

To add a case write its comment and expression (no ``----``), run
``WEAVE_LITE_UPDATE_FIXTURES=1 pytest tests/compile/test_rewrite_fixtures.py`` (it writes the
expected sections), then read what it wrote: a fixture that records a wrong rewrite is worse
than none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import weave_lite  # noqa: F401  (registers the kernels constant folding runs)
from weave_lite.compile.plan_text import plan_text
from weave_lite.compile.planner import Environment, Planner
from weave_lite.compile.rewrites import PLAN_RULES, RULES, optimize
from weave_lite.compile.rewrites.common_subexpressions import common_subexpressions
from weave_lite.compile.rewrites.constant_folding import constant_folding
from weave_lite.compile.rewrites.count_filter import count_filter
from weave_lite.compile.rewrites.fuse_arithmetic import fuse_arithmetic
from weave_lite.compile.rewrites.project_columns import project_columns
from weave_lite.compile.rewrites.prune_segments import prune_segments
from weave_lite.compile.rewrites.top_k import top_k
from weave_lite.errors import TableNotFoundError
from weave_lite.execute.folding import evaluate_constant
from weave_lite.graph.types import (
    ANY,
    BOOL,
    BYTES,
    DATE,
    FLOAT,
    INT,
    NONE,
    STRING,
    TIMESTAMP,
    DictT,
    ListT,
    TableT,
    WType,
    optional,
    union,
)
from weave_lite.lang.parser import parse

FIXTURES = Path(__file__).parent / "fixtures"
UPDATE = os.environ.get("WEAVE_LITE_UPDATE_FIXTURES") == "1"
SEPARATOR = "----"

# File stem -> (node rules, whole-plan rules).
RULES_OF = {
    "constant_folding": ((constant_folding,), ()),
    "prune_segments": ((prune_segments,), ()),
    "count_filter": ((count_filter,), ()),
    "top_k": ((top_k,), ()),
    "fuse_arithmetic": ((fuse_arithmetic,), ()),
    "common_subexpressions": ((), (common_subexpressions,)),
    "project_columns": ((), (project_columns,)),
    "all_rules": (RULES, PLAN_RULES),
}


# -- the file format -------------------------------------------------------------------------


@dataclass
class Block:
    lines: list[str]  # the lines before the separator (comments and the expression)
    expected: list[str] | None  # the lines after it (None: no separator yet)
    line: int  # 1-based line of the block's first line

    @property
    def expression(self) -> str:
        return "\n".join(ln for ln in self.lines if not ln.startswith("#")).strip()

    @property
    def schemas(self) -> dict[str, str]:
        out = {}
        for ln in self.lines:
            if ln.startswith("# schema "):
                name, _, columns = ln[len("# schema ") :].partition(":")
                out[name.strip()] = columns.strip()
        return out

    @property
    def title(self) -> str:
        for ln in self.lines:
            if ln.startswith("#") and not ln.startswith("# schema "):
                return ln.lstrip("# ").strip()
        return self.expression


@dataclass
class FixtureFile:
    path: Path
    blocks: list[Block] = field(default_factory=list)

    @property
    def header(self) -> dict[str, str]:
        first = self.blocks[0] if self.blocks else None
        return first.schemas if first is not None and not first.expression else {}

    @property
    def cases(self) -> list[tuple[int, Block]]:
        return [(i, b) for i, b in enumerate(self.blocks) if b.expression]

    def text(self) -> str:
        parts = []
        for b in self.blocks:
            lines = list(b.lines)
            if b.expected is not None:
                lines += [SEPARATOR, *b.expected]
            parts.append("\n".join(lines))
        return "\n\n".join(parts) + "\n"


def read_fixture(path: Path) -> FixtureFile:
    out = FixtureFile(path)
    current: list[tuple[int, str]] = []

    def close() -> None:
        if not current:
            return
        lines = [text for _, text in current]
        if SEPARATOR in lines:
            at = lines.index(SEPARATOR)
            out.blocks.append(Block(lines[:at], lines[at + 1 :], current[0][0]))
        else:
            out.blocks.append(Block(lines, None, current[0][0]))
        current.clear()

    for number, text in enumerate(path.read_text().splitlines(), 1):
        if text.strip():
            current.append((number, text.rstrip()))
        else:
            close()
    close()
    return out


# -- schemas ---------------------------------------------------------------------------------

_SCALARS = {
    "none": NONE,
    "bool": BOOL,
    "boolean": BOOL,
    "int": INT,
    "float": FLOAT,
    "string": STRING,
    "bytes": BYTES,
    "timestamp": TIMESTAMP,
    "date": DATE,
    "any": ANY,
}


def parse_type(text: str) -> WType:
    t, rest = _type(text.strip())
    if rest.strip():
        raise ValueError(f"unexpected {rest!r} in type {text!r}")
    return t


def _type(s: str) -> tuple[WType, str]:
    s = s.lstrip()
    if s.startswith("list<"):
        elem, rest = _type(s[5:])
        rest = _expect(rest, ">")
        t: WType = ListT(elem)
    elif s.startswith("optional<"):
        inner, rest = _type(s[9:])
        rest = _expect(rest, ">")
        t = optional(inner)
    elif s.startswith("union<"):
        members, rest = _list_of(s[6:], ">", _type)
        t = union(members)
    elif s.startswith("dict{"):
        fields, rest = _list_of(s[5:], "}", _field)
        t = DictT(tuple(fields))
    else:
        n = 0
        while n < len(s) and s[n].isalpha():
            n += 1
        name, rest = s[:n], s[n:]
        if name not in _SCALARS:
            raise ValueError(f"unknown type {name!r}")
        t = _SCALARS[name]
    if rest.startswith("?"):
        t, rest = optional(t), rest[1:]
    return t, rest


def _field(s: str):
    name, _, rest = s.lstrip().partition(":")
    t, rest = _type(rest)
    return (name.strip(), t), rest


def _list_of(s: str, close: str, item):
    items = []
    s = s.lstrip()
    if s.startswith(close):
        return items, s[1:]
    while True:
        value, s = item(s)
        items.append(value)
        s = s.lstrip()
        if s.startswith(","):
            s = s[1:]
            continue
        return items, _expect(s, close)


def _expect(s: str, token: str) -> str:
    s = s.lstrip()
    if not s.startswith(token):
        raise ValueError(f"expected {token!r} at {s!r}")
    return s[len(token) :]


def parse_schema(columns: str) -> TableT:
    fields, rest = _list_of(columns + ")", ")", _field)
    if rest.strip():
        raise ValueError(f"unexpected {rest!r} in schema {columns!r}")
    return TableT(DictT(tuple(fields)))


# -- running ---------------------------------------------------------------------------------


def rewritten_text(expr: str, schemas: dict[str, str], stem: str) -> str:
    tables = {name: parse_schema(cols) for name, cols in schemas.items()}

    def table_type(op: str, name: str, node) -> TableT:
        if name not in tables:
            raise TableNotFoundError(f"no `# schema {name}: ...` line for {op}({name!r})")
        return tables[name]

    plan = Planner(Environment(table_type), expr).plan(parse(expr))
    rules, plan_rules = RULES_OF[stem]
    # Constant folding runs the engine's kernels: the caller hands their evaluator over.
    return plan_text(optimize(plan, rules=rules, plan_rules=plan_rules, fold=evaluate_constant))


def _collect():
    params = []
    for path in sorted(FIXTURES.glob("*.txt")):
        for index, block in read_fixture(path).cases:
            params.append(pytest.param(path, index, id=f"{path.name}:{block.line}"))
    return params


def test_every_fixture_file_names_a_rule():
    stems = {p.stem for p in FIXTURES.glob("*.txt")}
    assert stems == set(RULES_OF), f"files without a rule or rules without a file: {stems ^ set(RULES_OF)}"


@pytest.mark.parametrize(("path", "index"), _collect())
def test_rewrite_fixture(path: Path, index: int):
    fixture = read_fixture(path)
    block = fixture.blocks[index]
    schemas = {**fixture.header, **block.schemas}
    actual = rewritten_text(block.expression, schemas, path.stem)
    if UPDATE:
        if block.expected != actual.splitlines():
            block.expected = actual.splitlines()
            path.write_text(fixture.text())
        return
    assert block.expected is not None, (
        f"{path.name}:{block.line}: no expected plan (run with WEAVE_LITE_UPDATE_FIXTURES=1)"
    )
    assert actual == "\n".join(block.expected), f"{path.name}:{block.line} ({block.title})"


def test_schema_text():
    t = parse_schema("x:int?, s:string, tags:list<string>, m:dict{a: float, b: list<int?>}, ts:timestamp")
    assert (
        str(t)
        == "table<dict{x: optional<int>, s: string, tags: list<string>, m: dict{a: float, b: list<optional<int>>}, ts: timestamp}>"
    )


def test_shared_nodes_print_once():
    text = rewritten_text(
        'table("t").rows.map(r => r["n"] * 2 + r["n"] * 2)',
        {"t": "n:int"},
        "common_subexpressions",
    )
    assert text.count("key=mul") == 1 and "  #1" in text and "@1 mul" in text
