"""The base of a live query's keepers (:mod:`weave_lite.live`, :mod:`weave_lite.live_topk`):
one morsel stage's kept value, the stage's table as morsels, and the protocol a keeper follows
(``start``/``update``/``describe``, ``value`` and whether the last update ``changed`` it)."""

from __future__ import annotations

import pyarrow as pa

from weave_lite.compile.physical import PStage
from weave_lite.execute.executor import Frame, Runtime, run
from weave_lite.execute.morsel_sources import RowsTask, split_morsels
from weave_lite.execute.morsels import run_task
from weave_lite.execute.vectors import Vec


class Keeper:
    """One stage's kept value and how new rows update it."""

    kind = ""

    def __init__(self, stage: PStage, var: str):
        self.stage = stage
        self.var = var
        self.scan = stage.operator.scan
        self.value: Vec
        self.changed = True  # whether the last update changed the value

    def rows(self, runtime: Runtime) -> list:
        """The stage's table (all of it at the start, the new rows on updates) as morsels."""
        return split_morsels(self._table(runtime), runtime.morsel_rows)

    def _table(self, runtime: Runtime) -> pa.Table:
        return runtime.load_arrow(self.scan.op, self.scan.table, self.scan.predicates)

    def start(self, top: Frame, runtime: Runtime) -> None:
        self.value = run(self.stage, Frame(1, dict(top.vars), budget=runtime.budget), runtime)

    def update(self, top: Frame, runtime: Runtime) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.var}: {self.kind} over {self.scan}"

    def _new_rows(self, top: Frame, runtime: Runtime) -> list[Vec]:
        task = RowsTask(self.stage.operator.pipeline.node)  # type: ignore[union-attr]
        return [run_task(task, piece, top, runtime) for piece in self.rows(runtime)]
