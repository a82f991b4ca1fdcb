"""A fused scan aggregate (``rows.filter(p).count``, ``rows.map(f).sum`` ...) over a table of
many morsels runs as one kernel call over the whole table (execute/morsels.py
``_scans_whole``): the same answers as the morsel-by-morsel path and as DuckDB, over stream
tables of many segments, nulls, empty and one-row tables, and zone-pruned slices."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reference.interpreter import values_equal
from weave_lite import api
from weave_lite.execute import morsels
from weave_lite.execute.ops.fused import SCAN_RUNS
from weave_lite.storage.table import TableLog

NAME = "e/p/whole"
QUERIES = [
    ('.filter(row => row["f"] > 0.5).count', "SELECT count(*) FROM t WHERE f > 0.5"),
    ('.filter(row => row["i"] <= 7 && row["f"] < 0.9).count', "SELECT count(*) FROM t WHERE i <= 7 AND f < 0.9"),
    ('.map(row => row["f"] * 2 + row["i"] / 10).sum', "SELECT coalesce(sum(f * 2 + i / 10), 0) FROM t"),
    ('.filter(row => row["i"] > 3).map(row => row["f"]).avg', "SELECT avg(f) FROM t WHERE i > 3"),
    ('.map(row => row["i"]).min', "SELECT min(i) FROM t"),
    ('.filter(row => row["f"] < 0.2).map(row => row["f"]).max', "SELECT max(f) FROM t WHERE f < 0.2"),
    ('.map(row => row["i"]).sum', "SELECT coalesce(sum(i), 0) FROM t"),
]


@pytest.fixture(autouse=True)
def numba_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEAVE_LITE_KERNELS", "numba")


def _segments(root, sizes: list[int], seed: int, null_rate: float) -> pa.Table:
    rng = np.random.default_rng(seed)
    log = TableLog(NAME, root)
    log.create()
    parts = []
    for n in sizes:
        part = pa.table(
            {
                "f": pa.array(rng.random(n), mask=rng.random(n) < null_rate),
                "i": pa.array(rng.integers(-5, 20, n), mask=rng.random(n) < null_rate),
            }
        )
        log.append(part)
        parts.append(part)
    return (
        pa.concat_tables(parts) if parts else pa.table({"f": pa.array([], pa.float64()), "i": pa.array([], pa.int64())})
    )


def _run(text: str, root, morsel_rows: int, monkeypatch, whole: bool):
    with monkeypatch.context() as m:
        if not whole:
            m.setattr(morsels, "_scans_whole", lambda *_: False)
        before = SCAN_RUNS["fused"]
        got = api.to_python(api.evaluate(text, root=root, morsel_rows=morsel_rows))
        return got, SCAN_RUNS["fused"] - before


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    sizes=st.lists(st.integers(1, 400), min_size=1, max_size=8),
    morsel_rows=st.sampled_from([1, 64, 300]),
    null_rate=st.sampled_from([0.0, 0.2]),
    seed=st.integers(0, 100),
)
def test_whole_table_scans_match_the_morsel_path_and_duckdb(
    tmp_path_factory, monkeypatch, sizes, morsel_rows, null_rate, seed
):
    root = tmp_path_factory.mktemp("whole")
    table = _segments(root, sizes, seed, null_rate)
    con = duckdb.connect()
    con.register("t", table)
    for tail, sql in QUERIES:
        text = f'stream_table("{NAME}").rows{tail}'
        whole, ran = _run(text, root, morsel_rows, monkeypatch, whole=True)
        by_morsel, _ = _run(text, root, morsel_rows, monkeypatch, whole=False)
        assert values_equal(whole, by_morsel), text
        if table.num_rows > morsel_rows:  # several morsels: one kernel call all the same
            assert ran == 1, text
        want = con.execute(sql).fetchone()[0]
        if isinstance(want, float) or isinstance(whole, float):
            assert (want is None and whole is None) or whole == pytest.approx(want, rel=1e-9, abs=1e-12), text
        else:
            assert whole == want, text


def test_one_row_and_empty_tables(tmp_path, monkeypatch):
    _segments(tmp_path, [1], 3, 0.0)
    text = f'stream_table("{NAME}").rows.map(row => row["f"] * 2).sum'
    got, _ = _run(text, tmp_path, 1, monkeypatch, whole=True)
    want, _ = _run(text, tmp_path, 1, monkeypatch, whole=False)
    assert got == want
    empty = pa.table({"f": pa.array([], pa.float64())})
    assert api.to_python(api.evaluate('table("t").rows.map(row => row["f"]).max', tables={"t": empty})) is None
    assert api.to_python(api.evaluate('table("t").rows.filter(row => row["f"] > 0).count', tables={"t": empty})) == 0


def test_columns_the_kernel_cannot_read_keep_the_morsel_path():
    """Rows whose column is not of the kernel's type (float32 read from a dataset, say): the
    op-by-op path, morsel by morsel; the kernel's own type: the whole table."""
    from weave_lite.compile.physical import PStage
    from weave_lite.execute.executor import Runtime

    table = pa.table({"f": pa.array(np.arange(500, dtype=np.float64))})
    plan, _ = api.compile('table("t").rows.filter(row => row["f"] > 100).count').plan(tables={"t": table})
    assert isinstance(plan, PStage)
    narrow = pa.table({"f": pa.array(np.arange(500, dtype=np.float32))})
    assert morsels._scans_whole(plan.operator, Runtime(lambda *_: table))
    assert not morsels._scans_whole(plan.operator, Runtime(lambda *_: narrow))
    assert not morsels._scans_whole(plan.operator, Runtime(lambda *_: pa.table({"g": [1.0]})))


def test_zone_pruned_slices_scan_whole(tmp_path, monkeypatch):
    """A range on one column, a sum of another: the zones the range excludes are skipped, and
    the slices that remain (several chunks) are scanned in one call."""
    from weave_lite.storage.segments import ZONE_ROWS

    n = 3 * ZONE_ROWS + 5
    log = TableLog(NAME, tmp_path)
    log.create()
    for k in range(2):
        log.append(pa.table({"f": np.arange(k * n, (k + 1) * n, dtype=np.float64), "i": np.ones(n, dtype=np.int64)}))
    lo, hi = ZONE_ROWS + 10, n + 2 * ZONE_ROWS
    text = f'stream_table("{NAME}").rows.filter(row => row["f"] >= {lo} && row["f"] < {hi}).map(row => row["i"]).sum'
    got, ran = _run(text, tmp_path, 1 << 20, monkeypatch, whole=True)
    assert got == hi - lo and ran == 1
    assert _run(text, tmp_path, 1000, monkeypatch, whole=False)[0] == got


def test_live_queries_agree_with_the_whole_table_scan(tmp_path):
    """A live query (its own per-morsel state) and a cold run (the whole-table scan) agree."""
    log = TableLog(NAME, tmp_path)
    log.create()
    log.append(pa.table({"f": np.linspace(0, 1, 5000), "i": np.arange(5000)}))
    text = f'stream_table("{NAME}").rows.filter(row => row["f"] > 0.5).count'
    live = api.compile(text).watch(root=tmp_path, morsel_rows=1000)
    first = api.to_python(live.result)
    assert first == api.to_python(api.evaluate(text, root=tmp_path, morsel_rows=1000)) == 2500
    log.append(pa.table({"f": np.ones(10), "i": np.arange(10)}))
    assert (
        api.to_python(live.poll()) == first + 10 == api.to_python(api.evaluate(text, root=tmp_path, morsel_rows=1000))
    )
