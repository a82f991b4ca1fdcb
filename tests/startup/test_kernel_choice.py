"""The numpy group-by kernels a first query uses give the Numba kernels' results bit for bit,
and a query gives the same answer whichever side runs."""

from __future__ import annotations

import threading
import time

import numpy as np
import pyarrow as pa
import pytest

from weave_lite import evaluate
from weave_lite.execute import kernel_choice
from weave_lite.kernels import grouping, numpy_grouping


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.int64)


@pytest.mark.parametrize(("n", "groups"), [(0, 1), (1, 1), (50, 3), (10_000, 7), (20_000, 900)])
@pytest.mark.parametrize("q", [0.0, 0.5, 0.95, 1.0])
def test_grouped_quantile_matches_numba(n: int, groups: int, q: float, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(n + groups)
    group_of = rng.integers(0, groups, n)
    values = rng.gamma(2.0, 50.0, n).round(1)  # ties
    values[rng.random(n) < 0.05] = np.nan
    values[rng.random(n) < 0.01] = np.inf
    values[rng.random(n) < 0.01] = -np.inf
    values[rng.random(n) < 0.1] = np.nan  # nulls arrive as NaN
    # two pieces: the first with its own global ids, the second through a (reversed) mapping
    half = n // 2
    mapping = np.arange(groups + 2, dtype=np.int64)[::-1].copy()
    inverse = np.argsort(mapping)
    pieces = [
        (group_of[:half], np.zeros(0, dtype=np.int64), values[:half]),
        (inverse[group_of[half:]], mapping, values[half:]),
    ]
    want = grouping.grouped_quantile(pieces, groups + 2, q)  # two empty groups
    monkeypatch.setenv("WEAVE_LITE_KERNELS", "numpy")
    got = kernel_choice.grouped_quantile(pieces, groups + 2, q)
    assert np.array_equal(want[1], got[1])
    assert np.array_equal(_bits(want[0]), _bits(got[0]))


@pytest.mark.parametrize(("n", "codes"), [(0, 0), (1, 1), (1000, 5), (1000, 2000)])
def test_renumber_first_appearance_matches_numba(n: int, codes: int) -> None:
    c = np.random.default_rng(n).integers(0, max(codes, 1), n)
    for want, got in zip(
        grouping.renumber_first_appearance(c, codes), numpy_grouping.renumber_first_appearance(c, codes)
    ):
        assert np.array_equal(want, got)


def test_a_query_answers_the_same_from_numpy_and_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    n = 5_000
    table = pa.table({"m": [f"m{i}" for i in rng.integers(0, 6, n)], "x": rng.random(n)})
    expr = 'table("t").rows.groupby(r => r["m"]).map(g => {m: g.groupkey, p: g["x"].quantile(0.9), h: g["x"].median})'
    answers = []
    for side in ("numpy", "numba"):
        monkeypatch.setenv("WEAVE_LITE_KERNELS", side)
        answers.append(evaluate(expr, tables={"t": table}).to_pylist())
    assert answers[0] == answers[1]
    assert len(answers[0]) == 6


def test_a_small_query_compiles_numba_after_it_not_during_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The background compile starts when the query is done (it holds the GIL for seconds)."""
    monkeypatch.delenv("WEAVE_LITE_KERNELS", raising=False)
    monkeypatch.setattr(kernel_choice, "background", True)
    monkeypatch.setattr(kernel_choice, "_warming", set())
    monkeypatch.setattr(kernel_choice, "_ready", set())
    monkeypatch.setattr(kernel_choice, "_pending", [])
    warmed = threading.Event()
    assert not kernel_choice.use_numba(("test-kernel",), 10, lambda _: warmed.set())
    assert not kernel_choice.use_numba(("test-kernel",), 10, lambda _: warmed.set())  # queued once
    assert len(kernel_choice._pending) == 1 and not warmed.is_set()
    # a query's run starts what is pending
    table = pa.table({"m": ["a", "b", "a"], "x": [1.0, 2.0, 3.0]})
    evaluate('table("t").rows.groupby(r => r["m"]).map(g => g["x"].median)', tables={"t": table})
    assert warmed.wait(60)
    deadline = time.monotonic() + 60
    while ("test-kernel",) not in kernel_choice._ready and time.monotonic() < deadline:
        time.sleep(0.01)
    assert kernel_choice.use_numba(("test-kernel",), 10, lambda _: None)


def test_a_large_input_loads_a_kernel_numba_has_cached_and_waits_for_none_it_has_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """A long-lived process loads a cached kernel for a large input now; an uncached one (the
    first query after installing) answers on numpy first."""
    monkeypatch.delenv("WEAVE_LITE_KERNELS", raising=False)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(kernel_choice, "background", True)
    monkeypatch.setattr(kernel_choice, "_ready", set())
    monkeypatch.setattr(kernel_choice, "_warming", set())
    monkeypatch.setattr(kernel_choice, "_pending", [])
    kernel_choice._on_disk.cache_clear()
    cached = ("weave_lite.kernels.scan", "scan_reduce")
    large = kernel_choice.CACHED_VALUES
    assert not kernel_choice.use_numba(("k1",), large, lambda _: None, cached)  # nothing cached
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "scan.scan_reduce-86.py311.nbi").write_bytes(b"")
    kernel_choice._on_disk.cache_clear()
    assert not kernel_choice.use_numba(("k2",), large - 1, lambda _: None, cached)  # small: numpy
    assert kernel_choice.use_numba(("k3",), large, lambda _: None, cached)  # large and cached
    monkeypatch.setattr(kernel_choice, "background", False)  # one-shot (CLI): numpy up to 2M
    assert not kernel_choice.use_numba(("k4",), large, lambda _: None, cached)
    kernel_choice._on_disk.cache_clear()
