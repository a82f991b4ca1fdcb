"""The comparison live-query tests make of a watched result with a cold run's: exactly equal,
NaN equal to NaN (a top-k or a quantile moves values, it does not add them)."""

from __future__ import annotations

import math
from typing import Any


def same_result(a: Any, b: Any) -> bool:
    """``a == b`` through dicts and lists, floats exactly, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_result(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_result(x, y) for x, y in zip(a, b))
    return a == b
