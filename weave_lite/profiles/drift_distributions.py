"""The two distributions a drift row compares, small enough to draw (the page's drift view).

Each is a list of ``{"label", "x", "p"}`` points (:data:`DISTRIBUTION_TYPE`):

- numeric columns: the CDF knots, ``x`` the value and ``p`` the cumulative share at it, at the
  summary's levels (min, q_01 ... q_99, max: ``p`` = 0, 0.01 ... 0.99, 1); ``label`` is null.
- categorical columns: the most frequent items of either side (the same labels, in the same
  order, on both sides so that bars pair up) with ``p`` their share of the side's strings, then
  one ``"other"`` bucket with the rest; ``x`` is null.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

DISTRIBUTION_TYPE = pa.list_(pa.struct([("label", pa.string()), ("x", pa.float64()), ("p", pa.float64())]))
#: at most this many items are drawn per categorical column (the rest go to "other")
TOP_ITEMS = 10
OTHER = "other"


def cdf_knots(values: np.ndarray, levels: np.ndarray) -> list[dict] | None:
    """CDF points ``(x = values[i], p = levels[i])``, ``values`` made non-decreasing."""
    v = np.asarray(values, dtype=np.float64)
    if v.shape[0] == 0 or np.isnan(v).all():
        return None
    v = np.fmax.accumulate(v)
    return [{"label": None, "x": float(x), "p": float(p)} for x, p in zip(v, levels) if not np.isnan(x)]


def item_shares(
    ref: Mapping[str, float], n_ref: float, cur: Mapping[str, float], n_cur: float, top: int = TOP_ITEMS
) -> tuple[list[dict], list[dict]]:
    """Shares of the ``top`` most frequent items of either side plus "other", for both sides."""

    def share(items: Mapping[str, float], n: float, k: str) -> float:
        return float(items.get(k, 0.0)) / n if n > 0 else 0.0

    keys = list(dict.fromkeys([*ref, *cur]))
    keys.sort(key=lambda k: -max(share(ref, n_ref, k), share(cur, n_cur, k)))
    keys = keys[:top]

    def side(items: Mapping[str, float], n: float) -> list[dict]:
        shares = [share(items, n, k) for k in keys]
        total = sum(shares)
        if total > 1.0:  # estimates (count + offset) may overshoot: renormalise, no "other"
            shares = [s / total for s in shares]
        pts = [{"label": k, "x": None, "p": s} for k, s in zip(keys, shares)]
        pts.append({"label": OTHER, "x": None, "p": max(0.0, 1.0 - sum(shares))})
        return pts

    return side(ref, n_ref), side(cur, n_cur)
