"""The physical plan is plain data: another process, given a pickled PartialAggregate and one
morsel of rows, computes that morsel's partial, and the partials merge into the same result."""

from __future__ import annotations

import multiprocessing
import pickle

import numpy as np
import pyarrow as pa

import weave_lite
from weave_lite.api import to_result
from weave_lite.compile.physical import Merge, PStage, TopK
from weave_lite.execute import partials
from weave_lite.execute.executor import Frame, Runtime
from weave_lite.execute.morsels import run_morsel_partial, split_morsels


def _table() -> pa.Table:
    rng = np.random.default_rng(7)
    n = 3000
    table = pa.table(
        {
            "model": pa.array(rng.choice(["a", "b", "c", "d"], n)),
            "lat": pa.array(rng.exponential(50.0, n), mask=rng.random(n) < 0.05),
            "ok": pa.array(rng.random(n) < 0.9),
        }
    )
    return pa.Table.from_batches(table.to_batches(max_chunksize=250))


def _partial_in_worker(blob: bytes) -> bytes:
    aggregate, piece = pickle.loads(blob)
    return pickle.dumps(run_morsel_partial(aggregate, piece))


EXPR = (
    'table("t").rows.filter(r => r["ok"]).groupby(r => r["model"]).map(g => {model: g.groupkey, n: g.count, '
    'mean: g["lat"].avg, worst: g["lat"].max, p90: g["lat"].quantile(0.9), kinds: g["lat"].countDistinct})'
)


def test_a_pickled_partial_aggregate_runs_in_another_process():
    table = _table()
    plan, _ = weave_lite.compile(EXPR).plan(tables={"t": table})
    assert isinstance(plan, PStage) and isinstance(plan.operator, Merge)
    operator = pickle.loads(pickle.dumps(plan.operator))  # plain data, sharing kept
    pieces = split_morsels(table, 500)
    assert len(pieces) == 6
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        blobs = pool.map(_partial_in_worker, [pickle.dumps((operator.partial, piece)) for piece in pieces])
    parts = [pickle.loads(b) for b in blobs]
    runtime = Runtime(lambda *_: table)
    merged = partials.merge(operator, parts, Frame(1, {}), runtime)
    remote = to_result(merged)
    local = weave_lite.evaluate(EXPR, tables={"t": table}, threads=1, morsel_rows=500)
    assert remote.to_pylist() == local.to_pylist()
    whole = weave_lite.evaluate(EXPR, tables={"t": table}, optimize=False)
    assert [r["n"] for r in whole.to_pylist()] == [r["n"] for r in local.to_pylist()]


def test_every_operator_pickles():
    table = _table()
    for expr, kind in [
        (EXPR, Merge),
        ('table("t").rows.sort(r => [r["lat"]], ["desc"]).limit(5)', TopK),
    ]:
        plan, _ = weave_lite.compile(expr).plan(tables={"t": table})
        assert isinstance(plan, PStage) and isinstance(plan.operator, kind)
        again = pickle.loads(pickle.dumps(plan))
        assert type(again.operator) is kind and again.type == plan.type
