"""Deep comparison of a logged Python value with the value read back (SPEC section 2 rules)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any


def same_logged_value(logged: Any, read: Any) -> bool:
    """True when ``read`` is ``logged`` as weave_lite promises to give it back.

    Allowed differences: an int read back as the equal float (int/float widening), tuples as
    lists, numpy values as Python values, aware datetimes in UTC, and keys that other rows
    added to a nested dict reading as ``None``.
    """
    if logged is None or read is None:
        return logged is None and read is None
    if isinstance(logged, bool) or isinstance(read, bool):
        return type(read) is bool and bool(logged) == read
    if isinstance(logged, (int, float)) and not isinstance(logged, bool):
        if not isinstance(read, (int, float)):
            return False
        if isinstance(logged, float) and math.isnan(logged):
            return isinstance(read, float) and math.isnan(read)
        if isinstance(logged, int) and isinstance(read, float):
            return float(logged) == read
        return type(read) is type(logged) and read == logged and (
            not isinstance(read, float) or math.copysign(1, read) == math.copysign(1, logged)
        )
    if isinstance(logged, dt.datetime):
        if not isinstance(read, dt.datetime) or (logged.tzinfo is None) != (read.tzinfo is None):
            return False
        return logged == read
    if isinstance(logged, dt.date):
        return type(read) is dt.date and logged == read
    if isinstance(logged, (str, bytes)):
        return type(read) is type(logged) and read == logged
    if isinstance(logged, (list, tuple)):
        return isinstance(read, list) and len(read) == len(logged) and all(
            same_logged_value(a, b) for a, b in zip(logged, read)
        )
    if isinstance(logged, dict):
        if not isinstance(read, dict) or not set(logged) <= set(read):
            return False
        return all(same_logged_value(logged[k], read[k]) for k in logged) and all(
            read[k] is None for k in set(read) - set(logged)
        )
    return logged == read
