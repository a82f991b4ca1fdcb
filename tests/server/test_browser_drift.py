"""End to end: the drift view of a ``current.drift(reference)`` panel and the constraint
reports of a table's rotated profile windows, in headless chromium (fixtures of test_browser).
Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from tests.server.reports_data import log_rotated_windows
from tests.server.test_browser import browser, expect, page, shot, table_panel  # noqa: F401
from weave_lite import StreamTable

TABLE = "acme/prod/shifted"
REPORTS_TABLE = "acme/prod/monitored"
T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
CUT_MS = int((T0 + dt.timedelta(hours=2)).timestamp() * 1000)  # reference before, current after
BASE = f'stream_table("{TABLE}").rows'
EXPR = (
    f'{BASE}.filter(r => r["timestamp"].toNumber >= {CUT_MS}).profile'
    f'.drift({BASE}.filter(r => r["timestamp"].toNumber < {CUT_MS}).profile)'
)


@pytest.fixture(scope="module")
def server(server_root: Path, start_server):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(4000):
        cur = i >= 2000  # the last two hours: lat shifted by +30, model mix changed
        rows.append({
            "lat": float(rng.normal(80 if cur else 50, 10)),
            "model": str(rng.choice(["a", "b", "c"], p=[0.2, 0.3, 0.5] if cur else [0.6, 0.3, 0.1])),
            "stable": float(rng.normal()),
            "timestamp": T0 + dt.timedelta(hours=i / 1000),
        })
    with StreamTable(TABLE, root=server_root) as st:
        st.log(rows)
    log_rotated_windows(server_root, REPORTS_TABLE)
    return start_server(server_root)


def test_drift_panel_shows_cards_badges_and_overlays(page, server):  # noqa: F811
    page.goto(f"{server.base}/#/table/{TABLE}")
    panel = table_panel(page)
    editor = panel.locator(".expr-editor")
    editor.fill(EXPR)
    editor.press("Enter")
    view = panel.locator(".drift-view")
    expect()(view).to_be_visible(timeout=40_000)  # two profiles on a busy machine
    lat, model, stable = (view.locator(f".drift-card[data-column='{c}']") for c in ("lat", "model", "stable"))
    expect()(lat.locator(".drift-badge")).to_have_text("drifted")
    expect()(model.locator(".drift-badge")).to_have_text("drifted")
    expect()(stable.locator(".drift-badge")).to_have_text("ok")
    assert "numeric · wasserstein" in lat.inner_text() and "categorical · jensenshannon" in model.inner_text()
    assert "vs threshold 0.1" in lat.locator(".drift-stat").inner_text()
    # the overlays: two CDF lines for numerics, paired bars (a, b, c, other) for categoricals
    assert lat.locator("svg.drift-overlay path.cdf").count() == 2
    assert lat.locator("path.cdf.reference").get_attribute("d").startswith("M")
    assert model.locator("rect.bar.reference").count() == model.locator("rect.bar.current").count() == 4
    # the current bars of "c" (50%) are taller than the reference's (10%)
    titles = model.locator("rect.bar title").all_text_contents()
    assert titles[:2] == ["a (reference): 60.2%", "a (current): 19.9%"] or titles[0].startswith("a (reference): 5")
    c_ref, c_cur = (float(model.locator(f"rect.bar.{side}").nth(1).get_attribute("height")) for side in ("reference", "current"))
    assert "c (current)" in titles[3] and c_cur > 3 * c_ref
    shot(page, "drift-01-view")
    # the plain table stays below; a plain rows expression has no drift view
    assert panel.locator("tbody td[data-column='column']").count() >= 3
    editor.fill(BASE)
    editor.press("Enter")
    expect()(view).to_be_hidden()


def test_table_page_lists_profile_windows_and_constraint_results(page, server):  # noqa: F811
    page.goto(f"{server.base}/#/table/{REPORTS_TABLE}")
    reports = page.locator("#profile-reports")
    expect()(reports.locator("h3")).to_have_text(f"Profile windows of {REPORTS_TABLE}: 2 checked, 1 failed")
    rows = reports.locator("tbody tr")
    expect()(rows).to_have_count(2)
    newest, oldest = rows.nth(0), rows.nth(1)
    expect()(newest.locator(".drift-badge")).to_have_text("failed")
    expect()(oldest.locator(".drift-badge")).to_have_text("passed")
    failed = newest.locator(".constraint.failed")
    expect()(failed).to_have_text("✗ latency_ms smaller than number 100 (passed 0, failed 1)")
    assert oldest.locator(".constraint.failed").count() == 0 and oldest.locator(".constraint.passed").count() == 2
    shot(page, "drift-02-profile-reports")
    # another table's page has no such section
    page.goto(f"{server.base}/#/table/{TABLE}")
    expect()(table_panel(page).locator(".page-info")).to_contain_text("of 4,000")
    expect()(reports).to_have_count(0)
