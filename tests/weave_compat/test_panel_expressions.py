"""Panel expressions as Weave prints them (panel_expressions.py), run on a real stream table
through ``get("wandb-artifact:///e/p/t:alias/obj")``, and with the root replaced by
``table("t")`` to check the rest of each expression now."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

import weave_lite

from .panel_expressions import (
    KNOWN_FAILURES_BODY,
    KNOWN_FAILURES_GET,
    PANELS,
    ROWS,
    TABLE,
    Panel,
)
from .runner import _norm, same

_ROOT = re.compile(r'get\(\s*"wandb-artifact:///[^"]+"\)\s*')


def _compare(p: Panel, got: object) -> None:
    got = _norm(got)
    exp = _norm(p.expected)
    if p.check == "rows_subset":
        assert isinstance(got, list) and len(got) == len(exp), got
        for g, e in zip(got, exp):
            assert same({k: g.get(k) for k in e}, e), f"got {g!r}, want {e!r}"
    elif p.check == "unordered":
        assert isinstance(got, list) and len(got) == len(exp), got
        rest = list(got)
        for e in exp:
            hit = next((i for i, g in enumerate(rest) if same(g, e)), None)
            assert hit is not None, f"missing {e!r} in {got!r}"
            rest.pop(hit)
    else:
        assert same(got, exp), f"got {got!r}, want {exp!r}"


def _params(known: dict[str, str]) -> list[object]:
    return [
        pytest.param(p, id=p.id, marks=[pytest.mark.xfail(strict=True, reason=known[p.id])] if p.id in known else [])
        for p in PANELS
    ]


def test_panel_count() -> None:
    assert len(PANELS) >= 10
    assert all(_ROOT.search(p.expr) for p in PANELS)
    assert len({p.id for p in PANELS}) == len(PANELS)


@pytest.fixture(scope="module")
def stream_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = str(tmp_path_factory.mktemp("weave_panels"))
    st = weave_lite.StreamTable(TABLE, root=root)
    st.log(ROWS)
    st.finish()
    return root


@pytest.mark.parametrize("panel", _params(KNOWN_FAILURES_GET))
def test_panel_on_stream_table(panel: Panel, stream_root: str) -> None:
    _compare(panel, weave_lite.to_python(weave_lite.evaluate(panel.expr, root=stream_root)))


@pytest.mark.parametrize("panel", _params(KNOWN_FAILURES_BODY))
def test_panel_body_on_table(panel: Panel) -> None:
    expr = _ROOT.sub('table("t")', panel.expr)
    got = weave_lite.evaluate(expr, tables={"t": pa.Table.from_pylist(ROWS)})
    _compare(panel, weave_lite.to_python(got))
