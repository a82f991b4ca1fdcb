"""Runs every case of ``tests/ops/<area>.cases`` (format: tests/ops/README.md).

Each case runs six ways, which must all give the expected value (or error): the whole table on
one thread; morsels of 1 and of 2 rows on one thread and on two; and once with
``optimize=False``.  Tables are built from record batches of two rows, so morsels really split.
A last test lists the registry's overload keys that no case exercises.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from tests.ops.cases import Case, TableDef, read_cases, same
from weave_lite import errors
from weave_lite.api import compile, evaluate, to_python
from weave_lite.compile.physical import PStage
from weave_lite.compile.planner import PCall, PLambda, PNode
from weave_lite.graph import registry

HERE = Path(__file__).parent
AREAS = (
    "roots",
    "lists",
    "join",
    "windows",
    "dicts",
    "logic",
    "numbers",
    "bins",
    "strings",
    "timestamps",
    "reducers",
    "profiles",
)
# (threads, morsel_rows, optimize); morsel_rows None: the default (the whole table is one morsel).
WAYS = (
    (1, None, True),
    (1, 1, True),
    (1, 2, True),
    (2, 1, True),
    (2, 2, True),
    (1, None, False),
)
# Keys only rewrites introduce: a case exercises them when planned with the rewrites on.
REWRITE_KEYS = {"count:where", "limit:sorted", "fused:arith"}
BATCH_ROWS = 2


def _all_cases() -> list[Case]:
    out = []
    for area in AREAS:
        path = HERE / f"{area}.cases"
        if path.exists():  # test_every_area_has_a_file names the missing ones
            out.extend(read_cases(path))
    return out


CASES = _all_cases()


def _arrow(table: TableDef) -> pa.Table:
    if not table.rows:
        return pa.table({})
    whole = pa.Table.from_pylist(table.rows)
    batches = [
        b
        for lo in range(0, whole.num_rows, BATCH_ROWS)
        for b in whole.slice(lo, BATCH_ROWS).to_batches()
    ]
    return pa.Table.from_batches(batches, schema=whole.schema)


def _sources(case: Case, tmp_path: Path) -> dict:
    """``tables=`` and, when the case reads stream tables, ``root=``."""
    tables = {name: _arrow(t) for name, t in case.tables.items() if not t.stream}
    streams = [t for t in case.tables.values() if t.stream]
    out: dict = {"tables": tables}
    if streams:
        from weave_lite import StreamTable

        root = tmp_path / "data"
        for t in streams:
            st = StreamTable(t.name, root=root)
            for lo in range(0, len(t.rows), BATCH_ROWS):  # one segment per batch
                st.log(t.rows[lo : lo + BATCH_ROWS])
                st.flush()
            st.finish()
        out["root"] = root
    return out


def _run(
    case: Case, sources: dict, threads: int, morsel_rows: int | None, optimize: bool
):
    return to_python(
        evaluate(
            case.expr,
            vars=case.vars,
            threads=threads,
            morsel_rows=morsel_rows,
            optimize=optimize,
            **sources,
        )
    )


def _params() -> list:
    return [
        pytest.param(
            c,
            id=f"{c.id} {c.title}",
            marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else [],
        )
        for c in CASES
    ]


@pytest.mark.parametrize("case", _params())
def test_op_case(case: Case, tmp_path: Path):
    sources = _sources(case, tmp_path)
    for threads, morsel_rows, optimize in WAYS:
        way = f"threads={threads} morsel_rows={morsel_rows} optimize={optimize}"
        if case.error is not None:
            name, message = case.error
            cls = getattr(errors, name)
            with pytest.raises(cls) as info:
                _run(case, sources, threads, morsel_rows, optimize)
            assert message in str(info.value), (
                f"{case.id} ({way}): {str(info.value)!r} lacks {message!r}"
            )
            continue
        actual = _run(case, sources, threads, morsel_rows, optimize)
        assert same(case.expect, actual, case.tolerance), (
            f"{case.id} ({way}): expected {case.expect!r}, got {actual!r}"
        )


def _keys(plan: PNode) -> set[str]:
    found = set()
    stack: list = [plan]
    while stack:
        node = stack.pop()
        if isinstance(node, PCall):
            found.add(node.key)
            stack.extend(a for a in node.args if a is not None)
        elif isinstance(node, PLambda):
            stack.append(node.body)
        elif isinstance(node, PStage):  # a physical operator: the logical node it computes
            stack.append(node.logical)
    return found


def exercised_keys(cases: list[Case], tmp_path: Path) -> set[str]:
    found: set[str] = set()
    for i, case in enumerate(cases):
        sources = (
            _sources(case, tmp_path / str(i))
            if any(t.stream for t in case.tables.values())
            else _sources(case, tmp_path)
        )
        compiled = compile(case.expr)
        try:
            found |= _keys(compiled.plan(vars=case.vars, optimize=False, **sources)[0])
            found |= (
                _keys(compiled.plan(vars=case.vars, optimize=True, **sources)[0])
                & REWRITE_KEYS
            )
        except errors.WeaveError:
            continue  # a case expecting a planning error exercises nothing
    return found


def test_every_overload_key_has_a_case(tmp_path: Path):
    registry.all_ops()  # loads the registry
    keys = {o.key for op in registry.REGISTRY.values() for o in op.overloads}
    missing = sorted((keys | REWRITE_KEYS) - exercised_keys(CASES, tmp_path))
    assert not missing, (
        f"overload keys no case in tests/ops/*.cases exercises: {missing}"
    )


def test_timestamps_are_written_as_ts_objects():
    from tests.ops.cases import loads

    assert loads('{"$ts": "2024-01-01T00:00:00Z"}') == dt.datetime(
        2024, 1, 1, tzinfo=dt.UTC
    )
    assert same(loads("[1, 2.0, NaN, null]"), [1, 2.0, float("nan"), None])
    assert (
        not same(1, 1.0)
        and not same(True, 1)
        and not same({"a": 1, "b": 2}, {"b": 2, "a": 1})
    )


def test_every_area_has_a_file():
    assert sorted(p.stem for p in HERE.glob("*.cases")) == sorted(AREAS)
