"""Running a plan node whose arguments are all literals (for constant folding)."""

from __future__ import annotations

from typing import Any

from weave_lite.budgets import Budget
from weave_lite.compile.planner import PCall
from weave_lite.execute.executor import Frame, Runtime, run
from weave_lite.execute.results import to_result


def _no_tables(op: str, name: str, predicates: tuple = ()):
    raise RuntimeError("constant folding reads no tables")


def evaluate_constant(node: PCall, budget: Budget | None = None) -> Any:
    """The value of ``node`` (all of whose arguments are literals) as a Python value, computed
    within ``budget`` (default: unlimited)."""
    budget = budget if budget is not None else Budget()
    return to_result(run(node, Frame(1, {}, budget=budget), Runtime(_no_tables, budget=budget)))
