"""Completeness of the op specs: every overload has a kernel in its area's module and says how
the compiler may treat it; the physical planner and constant folding read those specs."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import pyarrow as pa
import pytest

import weave_lite
import weave_lite.execute.ops
import weave_lite.graph.ops
from weave_lite.compile.physical import Merge, PStage
from weave_lite.execute import partials
from weave_lite.execute.executor import KERNELS
from weave_lite.graph import registry
from weave_lite.lang.parser import parse

weave_lite.execute.ops.load_all()  # areas register their kernels when first used: all of them here
SPECS = dict(registry.OVERLOADS)
TABLES = {"t": pa.table({"x": [1.0, 2.0, None, 4.0], "s": ["a", "b", "a", None]})}


def _area_modules(package) -> set[str]:
    return {m.name for m in pkgutil.iter_modules(package.__path__) if m.name != "rules"}


def test_every_op_is_in_the_registry_by_key():
    by_name = [o for op in registry.REGISTRY.values() for o in op.overloads]
    assert {o.key for o in by_name} <= set(SPECS)
    assert all(SPECS[o.key] is o for o in by_name)


@pytest.mark.parametrize("key", sorted(SPECS))
def test_every_overload_has_a_kernel_in_its_areas_module(key):
    spec = SPECS[key]
    assert key in KERNELS, f"overload {key!r} ({spec.area}) has no kernel: add @kernel({key!r}) to weave_lite/execute/ops/{spec.area}.py"
    module = KERNELS[key].__module__
    assert module == f"weave_lite.execute.ops.{spec.area}", (
        f"the kernel of {key!r} is in {module}; its spec is in weave_lite.graph.ops.{spec.area}"
    )


def test_every_kernel_has_a_spec():
    assert sorted(set(KERNELS) - set(SPECS)) == []


def test_spec_and_kernel_modules_are_named_one_to_one():
    assert _area_modules(weave_lite.graph.ops) == _area_modules(weave_lite.execute.ops)
    assert {s.area for s in SPECS.values()} == _area_modules(weave_lite.graph.ops)
    for area in _area_modules(weave_lite.graph.ops):
        importlib.import_module(f"weave_lite.graph.ops.{area}")


@pytest.mark.parametrize("key", sorted(k for k, s in SPECS.items() if s.evaluation == registry.WHOLE_LIST))
def test_every_whole_list_op_declares_how_it_merges(key):
    spec = SPECS[key]
    assert spec.partial is not None, f"{key!r} takes a whole list: declare partial= (a Partial, or NOT_MERGEABLE)"
    if spec.partial.mergeable:
        assert spec.partial.kind in partials.KINDS, f"{key!r} declares partial kind {spec.partial.kind!r}, which execute.partials lacks"
    if spec.partial.kind == "fold":
        merger = SPECS.get(spec.partial.merge_with)
        assert merger is not None and merger.key in KERNELS, f"{key!r} folds with {spec.partial.merge_with!r}, no such overload"
        assert merger.partial == registry.fold(merger.key), "a fold merges with a reducer that folds into itself"


def test_only_list_ops_declare_partials_or_row_wise():
    for key, spec in SPECS.items():
        if spec.evaluation in (registry.ELEMENT, registry.VALUE) and not spec.internal:
            assert spec.partial in (None, registry.NOT_MERGEABLE), key


def test_declared_partial_kinds_are_all_implemented():
    declared = {s.partial.kind for s in SPECS.values() if s.partial is not None and s.partial.mergeable}
    assert declared == set(partials.KINDS)


def _fresh(expr: str) -> weave_lite.CompiledExpression:
    """A compiled expression of its own (compile(text) caches plans by text)."""
    return weave_lite.compile(parse(expr))


def _stage(expr: str) -> PStage | None:
    plan, _ = _fresh(expr).plan(tables=TABLES)
    return plan if isinstance(plan, PStage) else None


@pytest.mark.parametrize(
    "key", sorted(k for k, s in SPECS.items() if s.mergeable and not s.internal and s.shapes[:1] == ("list",))
)
def test_the_physical_planner_merges_each_reducer_as_its_spec_says(key):
    spec = SPECS[key]
    args = "(0.5)" if spec.max_args == 2 else ""
    stage = _stage(f'table("t").rows["x"].{spec.op}{args}')
    assert stage is not None and isinstance(stage.operator, Merge)
    (leaf,) = stage.operator.partial.leaves
    assert leaf.partial is spec.partial


def test_a_reducer_declared_not_mergeable_is_not_split(monkeypatch):
    monkeypatch.setitem(registry.OVERLOADS, "sum", dataclasses.replace(SPECS["sum"], partial=registry.NOT_MERGEABLE))
    assert _stage('table("t").rows["x"].sum + 0 * 2') is None
    monkeypatch.undo()
    assert _stage('table("t").rows["x"].sum') is not None


def test_row_wise_ops_are_read_off_the_specs(monkeypatch):
    assert _stage('table("t").rows.dropna.count') is not None
    monkeypatch.setitem(registry.OVERLOADS, "dropna", dataclasses.replace(SPECS["dropna"], evaluation=registry.WHOLE_LIST, partial=registry.NOT_MERGEABLE))
    assert _stage('table("t").rows.dropna.count') is None


def test_constant_folding_reads_foldable(monkeypatch):
    assert "kernel=add" not in _fresh("1 + 2 + 0.5").explain()
    monkeypatch.setitem(registry.OVERLOADS, "add", dataclasses.replace(SPECS["add"], foldable=False))
    assert "kernel=add" in _fresh("1 + 2 + 0.5").explain()
