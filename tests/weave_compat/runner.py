"""Evaluate one corpus case with weave_lite and compare with Weave's expected value."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import pyarrow as pa

import weave_lite

from .corpus import UTC, Case


def _norm(v: Any) -> Any:
    if isinstance(v, _dt.datetime) and v.tzinfo is None:
        return v.replace(tzinfo=UTC)
    if isinstance(v, tuple):
        return [_norm(x) for x in v]
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    return v


def same(got: Any, exp: Any, tol: float | None = None) -> bool:
    """Weave's value equality: dicts by keys, floats approximately, 1 == 1.0 (Python ==)."""
    if isinstance(exp, bool) or isinstance(got, bool):
        return type(got) is type(exp) and got == exp
    if isinstance(exp, (int, float)) and isinstance(got, (int, float)):
        if tol is not None:
            return abs(got - exp) <= tol
        if isinstance(exp, float) and math.isnan(exp):
            return isinstance(got, float) and math.isnan(got)
        return math.isclose(got, exp, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(exp, list):
        return isinstance(got, list) and len(got) == len(exp) and all(same(g, e, tol) for g, e in zip(got, exp))
    if isinstance(exp, dict):
        return isinstance(got, dict) and got.keys() == exp.keys() and all(same(got[k], exp[k], tol) for k in exp)
    return (bool(got == exp) and type(got) is type(exp)) or (got is None and exp is None)


def evaluate(case: Case) -> Any:
    tables = {name: pa.Table.from_pylist(rows) for name, rows in (case.tables or {}).items()}
    result = weave_lite.evaluate(case.expr, tables=tables or None, vars=case.vars)
    return _norm(weave_lite.to_python(result))


def check(case: Case) -> None:
    """Raise AssertionError (or the engine's error) unless weave_lite gives Weave's value."""
    if case.check == "raises":
        try:
            got = evaluate(case)
        except weave_lite.UnknownOpError:
            raise  # a missing op is not Weave's refusal of a bad argument
        except Exception:
            return
        raise AssertionError(f"expected an error ({case.expected}), got {got!r}")
    got = evaluate(case)
    exp = _norm(case.expected)
    if case.check == "equal":
        assert same(got, exp, case.tol), f"got {got!r}, Weave gives {exp!r}"
    elif case.check == "unordered":
        assert isinstance(got, list) and len(got) == len(exp), f"got {got!r}, Weave gives {exp!r}"
        rest = list(got)
        for e in exp:
            hit = next((i for i, g in enumerate(rest) if same(g, e, case.tol)), None)
            assert hit is not None, f"missing {e!r} in {got!r}"
            rest.pop(hit)
    elif case.check == "sample":
        n, pop = exp["n"], exp["population"]
        assert isinstance(got, list) and len(got) == n, f"got {got!r}, want {n} elements"
        assert len(set(map(repr, got))) == n, f"duplicates in {got!r}"
        idx = [pop.index(g) for g in got]  # raises ValueError if not a member
        assert idx == sorted(idx), f"{got!r} is not in the input's order"
    else:  # pragma: no cover
        raise ValueError(case.check)
