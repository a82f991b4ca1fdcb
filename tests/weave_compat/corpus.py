"""The shape of one case of the Weave compatibility corpus.

Each case is taken from Weave's own test suite (``source`` names the file and the test
function), with Weave's input data, the expression written in this project's language
(SPEC section 3) and Weave's expected value exactly as the Weave test asserts it, nulls
included, even where weave_lite behaves differently today (those cases are listed in
``test_weave_corpus.KNOWN_FAILURES`` or ``KEPT_DIFFERENCES``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

UTC = _dt.UTC

WEAVE_PY = "weave/legacy/tests/"  # wandb/weave, Python tests (also under weave/tests/legacy/)
WEAVE_JS = "weave-js/src/core/ops/primitives/"  # wandb/weave, TypeScript op tests


@dataclass(frozen=True)
class Case:
    id: str
    source: str  # "<file in wandb/weave>::<test function>[<parameter id>]"
    expr: str
    expected: Any
    tables: dict[str, list[dict[str, Any]]] | None = None  # name -> rows, read by table("name")
    vars: dict[str, Any] | None = None
    # "equal": to_python(result) == expected (floats within rel 1e-9 or ``tol``);
    # "unordered": same multiset of elements (Weave's own join tests compare this way);
    # "sample": expected = {"n": n, "population": [...]}: n distinct elements of the population,
    #   in the population's order (Weave's randomlyDownsample tests);
    # "raises": evaluation must raise (Weave raises ValueError); expected is a note.
    check: str = "equal"
    tol: float | None = None


def ts(*args: int) -> _dt.datetime:
    """A UTC datetime (Weave's tests build naive datetimes in a UTC CI; arrow returns UTC)."""
    return _dt.datetime(*args, tzinfo=UTC)


def ms(value: float) -> _dt.datetime:
    """The UTC datetime ``value`` milliseconds after the epoch."""
    return _dt.datetime.fromtimestamp(value / 1000, UTC)
