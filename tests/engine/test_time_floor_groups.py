"""Group-by on time bins (``row["ts"].floor(unit)``: weave_lite/execute/time_bins.py) against
the generic path (the same floor with a per-row unit, which is hashed) and DuckDB: units s, m,
h, d and "5m"; nulls in the timestamps and in the values; sorted, near-sorted and shuffled
timestamps; times before 1970; time zones and units other than us; empty groups between
bins, one row, an empty table, several morsels and segments; the Numba and numpy kernels."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weave_lite import StreamTable
from weave_lite.api import evaluate, to_python
from weave_lite.execute.time_bins import TimeFloorVec
from weave_lite.kernels import grouping, numpy_grouping

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "5m": 300}
BODY = (
    '.map(g => {k: g.groupkey, n: g.count, p: g["v"].quantile(0.95), m: g["v"].median, s: g["v"].sum, x: g["v"].max})'
)


def _fast(unit: str) -> str:
    return f'table("t").rows.groupby(row => row["ts"].floor("{unit}")){BODY}'


def _generic() -> str:
    return f'table("t").rows.groupby(row => row["ts"].floor(row["unit"])){BODY}'  # a unit per row: hashed


def _table(us: np.ndarray, ts_mask, values: np.ndarray, value_mask, unit: str, ts_type=None) -> pa.Table:
    ts = pa.array(us, type=pa.int64(), mask=ts_mask).cast(pa.timestamp("us", tz="UTC"))
    if ts_type is not None:
        ts = ts.cast(ts_type)
    return pa.table(
        {
            "idx": pa.array(np.arange(len(us))),
            "ts": ts,
            "v": pa.array(values, type=pa.float64(), mask=value_mask),
            "unit": pa.array([unit] * len(us), type=pa.string()),
        }
    )


def _check(table: pa.Table, unit: str, execution=(None, None)) -> list:
    threads, morsel_rows = execution
    run = {"tables": {"t": table}, "threads": threads, "morsel_rows": morsel_rows}
    got = to_python(evaluate(_fast(unit), **run))
    assert got == to_python(evaluate(_generic(), **run))  # same groups, order and values
    con = duckdb.connect()
    con.register("t", table)
    width = UNITS[unit]
    rows = con.execute(
        "SELECT to_timestamp(floor(epoch_us(ts) / 1e6 / ?) * ?) AS k, count(*), quantile_cont(v, 0.95) "
        "FROM t GROUP BY k ORDER BY min(idx)",
        [width, width],
    ).fetchall()
    assert [r["n"] for r in got] == [n for _, n, _ in rows]
    for r, (k, _, p) in zip(got, rows):
        assert (r["k"] is None) == (k is None)
        if k is not None:
            assert r["k"] == k
        assert (r["p"] is None) == (p is None)
        if p is not None:
            assert r["p"] == pytest.approx(p, rel=1e-12, abs=1e-12)
    return got


@pytest.fixture(params=["numba", "numpy"])
def kernels(request, monkeypatch):
    monkeypatch.setenv("WEAVE_LITE_KERNELS", request.param)
    return request.param


@st.composite
def time_tables(draw):
    n = draw(st.integers(1, 600))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    unit = draw(st.sampled_from(list(UNITS)))
    start = draw(st.sampled_from([1_714_521_600_000_000, -86_400_000_000 * 3 - 17]))  # 2024, before 1970
    step = draw(st.sampled_from([1, 250_000, 7_000_000, 3_600_000_000]))
    us = start + np.arange(n, dtype=np.int64) * step
    order = draw(st.sampled_from(["sorted", "near", "shuffled"]))
    if order == "near":
        us = us + rng.integers(-3 * step, 3 * step + 1, n)
    elif order == "shuffled":
        us = rng.permutation(us)
    ts_mask = rng.random(n) < draw(st.sampled_from([0.0, 0.1]))
    value_mask = rng.random(n) < draw(st.sampled_from([0.0, 0.3]))
    values = rng.lognormal(3.0, 1.0, n).round(draw(st.sampled_from([0, 6])))
    return _table(us, ts_mask, values, value_mask, unit), unit


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(time_tables(), st.sampled_from([(None, None), (1, 64), (2, 101)]))
def test_matches_generic_path_and_duckdb(kernels, case, execution):
    table, unit = case
    _check(table, unit, execution)


def test_floor_is_lazy_and_groupby_reads_bins(monkeypatch):
    monkeypatch.setenv("WEAVE_LITE_KERNELS", "numba")
    calls = []
    original = grouping.time_bin_groups

    def spy(*args):
        calls.append(len(args[0]))
        return original(*args)

    monkeypatch.setattr(grouping, "time_bin_groups", spy)
    us = np.arange(0, 300_000_000, 7_000_000, dtype=np.int64)
    got = _check(_table(us, None, np.arange(len(us), dtype=np.float64), None, "m"), "m")
    assert [r["n"] for r in got] == [9, 9, 8, 9, 8]
    assert calls == [len(us)]
    # Read as values, the floor is the same as before.
    floored = to_python(
        evaluate(
            'table("t").rows.map(row => row["ts"].floor("m"))', tables={"t": _table(us, None, us * 1.0, None, "m")}
        )
    )
    assert floored == [dt.datetime(1970, 1, 1, 0, int(u // 60_000_000), tzinfo=dt.UTC) for u in us]


def test_empty_bins_one_row_empty_table_all_null(kernels):
    minute = 60_000_000
    us = np.array([0, 1, 10 * minute, 10 * minute + 5, 500 * minute], dtype=np.int64)  # empty minutes between
    assert [r["n"] for r in _check(_table(us, None, us * 1.0, None, "m"), "m")] == [2, 2, 1]
    assert len(_check(_table(us[:1], None, np.array([3.0]), None, "m"), "m")) == 1
    assert _check(_table(us[:0], None, np.zeros(0), None, "m"), "m") == []
    got = _check(_table(us, np.ones(5, bool), us * 1.0, np.ones(5, bool), "h"), "h")
    assert got == [{"k": None, "n": 5, "p": None, "m": None, "s": 0.0, "x": None}]


@pytest.mark.parametrize(
    "ts_type", [pa.timestamp("us", tz="America/New_York"), pa.timestamp("ms"), pa.timestamp("ns", tz="Asia/Kolkata")]
)
def test_other_time_zones_and_units(kernels, ts_type):
    rng = np.random.default_rng(3)
    us = 1_714_521_600_000_000 + np.sort(rng.integers(0, 3 * 86_400_000_000, 2000)) // 1000 * 1000
    table = _table(us, rng.random(2000) < 0.05, rng.normal(size=2000), None, "h", ts_type)
    for unit in ("h", "d"):
        fast = to_python(evaluate(_fast(unit), tables={"t": table}))
        generic = to_python(evaluate(_generic().replace('row["unit"]', f'"{unit}".upper.lower'), tables={"t": table}))
        assert fast == generic


def test_sparse_bins_fall_back_to_hashing(kernels):
    us = np.array([0, 10**17, 2 * 10**17, 10**17 + 1], dtype=np.int64)  # seconds billions of bins apart
    got = _check(_table(us, None, np.arange(4.0), None, "s"), "s")
    assert [r["n"] for r in got] == [1, 2, 1]


def test_many_segments_stream_table(tmp_path):
    st_ = StreamTable("t/bins", root=tmp_path)
    rng = np.random.default_rng(9)
    start = 1_714_521_600_000_000
    for part in range(6):  # minutes split across segments
        us = start + (part * 500 + np.arange(500)) * 1_300_000
        st_.log(pa.table({"ts": pa.array(us).cast(pa.timestamp("us", tz="UTC")), "v": rng.normal(size=500)}))
        st_.flush()
    st_.finish()
    expr = 'stream_table("t/bins").rows.groupby(row => row["ts"].floor("m")).map(g => {k: g.groupkey, n: g.count, p: g["v"].quantile(0.95)})'
    generic = expr.replace('floor("m")', 'floor("m".upper.lower)')
    for morsel_rows in (None, 300, 1000):
        got = to_python(evaluate(expr, root=tmp_path, morsel_rows=morsel_rows, threads=2))
        assert got == to_python(evaluate(generic, root=tmp_path, morsel_rows=morsel_rows, threads=2))
        assert sum(r["n"] for r in got) == 3000


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.sampled_from([1, 1000, 60_000_000]))
def test_kernels_agree(seed, n, width):
    rng = np.random.default_rng(seed)
    us = np.sort(rng.integers(-(10**9), 10**9, n)).astype(np.int64)
    if rng.random() < 0.5:
        us = rng.permutation(us)
    valid = rng.random(n) > rng.choice([0.0, 0.2])
    a = grouping.time_bin_groups(us, valid, width, 10**6, np.empty(n, np.int64))
    b = numpy_grouping.time_bin_groups(us, valid, width, 10**6)
    for x, y in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(x, y)
    assert a[3] == b[3]


def test_time_floor_vec_behaves_as_values():
    us = np.array([61_000_000, -1, 5], dtype=np.int64)
    vec = TimeFloorVec(us, np.array([True, True, False]), 60_000_000)
    assert vec.to_arrow().cast(pa.int64()).to_pylist() == [60_000_000, -60_000_000, None]
    assert vec.take(np.array([1])).to_arrow().cast(pa.int64()).to_pylist() == [-60_000_000]
