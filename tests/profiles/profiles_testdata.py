"""Seeded data and exact references shared by the profile tests (imported by name: pytest
puts this folder on sys.path)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

N = 1_000_000
QS = np.array([0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99])
GRID = np.linspace(0.005, 0.995, 199)


def seeded_columns(n: int = N, seed: int = 20240611) -> dict[str, pa.Array]:
    """uniform, lognormal, ties (50 values), with nulls (10% nulls), strings (zipf-ish)."""
    rng = np.random.default_rng(seed)
    nulls = rng.random(n) < 0.10
    heavy = np.array([f"heavy{i}" for i in range(8)])
    light = rng.integers(0, 200_000, n)
    pick = rng.random(n)
    # 8 heavy hitters between 1.1% and 5% of the rows, the rest spread over 200k values
    bounds = np.cumsum([0.05, 0.04, 0.03, 0.025, 0.02, 0.015, 0.012, 0.011])
    which = np.searchsorted(bounds, pick, side="right")
    strings = np.where(which < 8, heavy[np.minimum(which, 7)],
                       np.char.add("light", light.astype(str)))
    return {
        "uniform": pa.array(rng.random(n)),
        "lognormal": pa.array(rng.lognormal(0.0, 1.5, n)),
        "ties": pa.array(rng.integers(0, 50, n)),
        "nulls": pa.array(rng.normal(10.0, 3.0, n), mask=nulls),
        "strings": pa.array(strings.tolist(), type=pa.string()),
    }


def rank_error(sorted_values: np.ndarray, estimates, qs) -> float:
    """Max distance from q to the rank interval [P(X < v), P(X <= v)] of each estimate."""
    n = sorted_values.shape[0]
    est = np.asarray(estimates, dtype=np.float64)
    lo = np.searchsorted(sorted_values, est, side="left") / n
    hi = np.searchsorted(sorted_values, est, side="right") / n
    return float(np.max(np.maximum(0.0, np.maximum(lo - qs, qs - hi))))


def finite_sorted(arr: pa.Array) -> np.ndarray:
    v = arr.drop_null().to_numpy(zero_copy_only=False).astype(np.float64)
    return np.sort(v[np.isfinite(v)])
