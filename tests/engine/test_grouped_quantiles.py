"""Exact per-group quantiles (the counting-sort + in-place selection kernels) against numpy and
DuckDB: random groups, nulls in values and keys, single-element and empty groups, several
morsels (pieces placed through a group map), q in {0, 0.5, 0.95, 1}."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weave_lite.api import evaluate, to_python
from weave_lite.kernels import grouping

QS = [0.0, 0.5, 0.95, 1.0]


def _numpy_quantiles(groups: np.ndarray, values: np.ndarray, n_groups: int, q: float):
    out, has = np.zeros(n_groups), np.zeros(n_groups, dtype=bool)
    for g in range(n_groups):
        vs = values[(groups == g) & ~np.isnan(values)]
        if len(vs):
            out[g], has[g] = np.quantile(vs, q), True
    return out, has


@st.composite
def grouped_values(draw):
    n = draw(st.integers(0, 300))
    n_groups = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, n).astype(np.int64)
    # Few distinct values (ties) or many; some NaN (nulls arrive as NaN).
    values = rng.integers(0, draw(st.sampled_from([3, 1000])), n).astype(np.float64)
    values[rng.random(n) < draw(st.sampled_from([0.0, 0.2]))] = np.nan
    return groups, values, n_groups, draw(st.integers(1, 4)), draw(st.sampled_from(QS)), seed


@settings(max_examples=200, deadline=None)
@given(grouped_values())
def test_kernel_matches_numpy(case):
    groups, values, n_groups, n_pieces, q, seed = case
    expected, expected_has = _numpy_quantiles(groups, values, n_groups, q)
    # Split into pieces whose local group ids map to the global ones through a permutation.
    rng = np.random.default_rng(seed + 1)
    cuts = np.sort(rng.integers(0, len(groups) + 1, n_pieces - 1)) if len(groups) else []
    pieces = []
    for part_groups, part_values in zip(np.split(groups, cuts), np.split(values, cuts)):
        mapping = rng.permutation(n_groups).astype(np.int64)
        local = np.argsort(mapping)[part_groups].astype(np.int64)  # mapping[local] == global
        pieces.append((local, mapping, part_values.copy()))
    for threads in (1, 3):
        out, has = grouping.grouped_quantile([(a, b, c.copy()) for a, b, c in pieces], n_groups, q, threads)
        np.testing.assert_array_equal(has, expected_has)
        np.testing.assert_allclose(out[has], expected[has], rtol=1e-12, atol=0)


def test_kernel_single_element_and_empty_groups():
    groups = np.array([0, 2, 2, 4], dtype=np.int64)
    values = np.array([7.0, 1.0, np.nan, -np.inf])
    out, has = grouping.grouped_quantile([(groups, np.zeros(0, np.int64), values)], 5, 0.95)
    assert has.tolist() == [True, False, True, False, True]
    assert out[[0, 2, 4]].tolist() == [7.0, 1.0, -np.inf]


@st.composite
def tables(draw):
    n = draw(st.integers(1, 400))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    keys = rng.integers(0, draw(st.integers(1, 30)), n)
    key_mask = rng.random(n) < draw(st.sampled_from([0.0, 0.1]))
    value_mask = rng.random(n) < draw(st.sampled_from([0.0, 0.3]))
    return pa.table(
        {
            "idx": pa.array(np.arange(n)),
            "k": pa.array(keys, mask=key_mask),
            "v": pa.array(rng.normal(0, 10, n).round(draw(st.sampled_from([0, 6]))), mask=value_mask),
        }
    )


@pytest.fixture
def merged_calls(monkeypatch):
    """The pieces counts of each call to the grouped quantile kernel (spied on)."""
    calls: list[int] = []
    original = grouping.grouped_quantile

    def spy(pieces, n_groups, q, threads=1):
        calls.append(len(pieces))
        return original(pieces, n_groups, q, threads)

    monkeypatch.setattr(grouping, "grouped_quantile", spy)
    monkeypatch.setenv("WEAVE_LITE_KERNELS", "numba")  # small inputs would take the numpy side
    return calls


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables(), st.sampled_from(QS), st.sampled_from([(None, None), (1, 37), (2, 23)]))
def test_engine_matches_duckdb(merged_calls, table, q, execution):
    threads, morsel_rows = execution
    merged_calls.clear()
    expr = (
        'table("t").rows.groupby(row => row["k"])'
        f'.map(g => {{k: g.groupkey, n: g.count, p: g["v"].quantile({q}), m: g["v"].median}})'
    )
    got = to_python(evaluate(expr, tables={"t": table}, threads=threads, morsel_rows=morsel_rows))
    con = duckdb.connect()
    con.register("t", table)
    rows = con.execute(
        f"SELECT k, count(*), quantile_cont(v, {q}), quantile_cont(v, 0.5) FROM t GROUP BY k ORDER BY min(idx)"
    ).fetchall()
    assert [(r["k"], r["n"]) for r in got] == [(k, n) for k, n, _, _ in rows]
    for r, (_, _, p, m) in zip(got, rows):
        for mine, theirs in ((r["p"], p), (r["m"], m)):
            assert (mine is None) == (theirs is None)
            if mine is not None:
                assert mine == pytest.approx(theirs, rel=1e-12, abs=1e-12)
    # The new kernel ran (twice: quantile and median), and on several pieces when in morsels.
    assert len(merged_calls) == 2
    if morsel_rows is not None and table.num_rows > morsel_rows:
        assert max(merged_calls) > 1
