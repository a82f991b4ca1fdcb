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
from weave_lite.kernels import grouping, selection

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


# -- the bracketed selection (runs of 512+ values), the windows near either end, sorted runs ----

MORE_QS = [*QS, 0.01, 0.3, 0.99, 0.999]


def _twin(groups: np.ndarray, values: np.ndarray, n_groups: int, q: float):
    """The numpy twin's answer (the same interpolation, bit for bit)."""
    from weave_lite.kernels import numpy_grouping

    return numpy_grouping.grouped_quantile(groups, values, np.ones(len(values), bool), n_groups, q)


@st.composite
def large_groups(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_groups = draw(st.integers(1, 6))
    sizes = rng.integers(0, draw(st.sampled_from([40, 700, 3000])), n_groups)
    groups = np.repeat(np.arange(n_groups, dtype=np.int64), sizes)
    kind = draw(st.sampled_from(["normal", "ties", "sorted", "reversed", "inf"]))
    n = len(groups)
    if kind == "ties":
        values = rng.integers(0, 4, n).astype(np.float64)
    elif kind == "inf":
        values = rng.choice([-np.inf, np.inf, 0.0, -0.0, 1.5], n)
    else:
        values = rng.lognormal(3.0, 1.0, n)
    if kind in ("sorted", "reversed"):
        values = np.sort(values)[:: 1 if kind == "sorted" else -1].copy()
    values[rng.random(n) < draw(st.sampled_from([0.0, 0.05, 0.6]))] = np.nan
    shuffle = draw(st.booleans())  # unsorted ids: the counting sort; sorted: the runs path
    if shuffle:
        order = rng.permutation(n)
        groups, values = groups[order], values[order]
    return groups, values, n_groups, draw(st.integers(1, 3)), draw(st.sampled_from(MORE_QS)), seed


@settings(max_examples=150, deadline=None)
@given(large_groups())
def test_selection_matches_numpy_twin_exactly(case):
    groups, values, n_groups, n_pieces, q, seed = case
    expected, expected_has = _twin(groups, values, n_groups, q)
    rng = np.random.default_rng(seed + 1)
    cuts = np.sort(rng.integers(0, len(groups) + 1, n_pieces - 1)) if len(groups) else []
    pieces = [(g, np.zeros(0, np.int64), v) for g, v in zip(np.split(groups, cuts), np.split(values, cuts))]
    for threads in (1, 2):
        out, has = grouping.grouped_quantile([(a, b, c.copy()) for a, b, c in pieces], n_groups, q, threads)
        np.testing.assert_array_equal(has, expected_has)
        np.testing.assert_array_equal(out[has], expected[has])


def test_sorted_runs_split_over_pieces_and_mapped():
    rng = np.random.default_rng(5)
    values = rng.normal(size=3000)
    groups = np.repeat(np.arange(3, dtype=np.int64), 1000)
    # Piece 0: groups 0 and the first half of 1; piece 1: the rest, local ids mapped.
    pieces = [
        (groups[:1500], np.zeros(0, np.int64), values[:1500]),
        (groups[1500:] - 1, np.array([1, 2], dtype=np.int64), values[1500:]),
    ]
    assert selection.grouped_run_quantiles(pieces, 3, 0.95) is not None  # the runs path
    out, has = grouping.grouped_quantile(pieces, 3, 0.95)
    expected, _ = _twin(groups, values, 3, 0.95)
    assert has.all()
    np.testing.assert_array_equal(out, expected)
    unsorted = [(groups[::-1].copy(), np.zeros(0, np.int64), values)]
    assert selection.grouped_run_quantiles(unsorted, 3, 0.5) is None  # ids decrease: counting sort


def test_run_quantile_all_nan_and_empty_runs():
    values = np.array([np.nan] * 600 + [1.0, 2.0])
    scratch = np.empty(len(values))
    assert selection.run_quantile(values, 0, 600, 0.95, scratch)[1] is False
    assert selection.run_quantile(values, 0, 0, 0.95, scratch)[1] is False
    assert selection.run_quantile(values, 0, 602, 1.0, scratch) == (2.0, True)
    assert selection.run_quantile(values, 0, 602, 0.0, scratch) == (1.0, True)
