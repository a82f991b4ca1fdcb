"""End to end: a table panel follows its live query, pushed by the server (``/api/live``)
through the incremental path, shows when it was updated, and its pause button stops updates.

Uses the chromium/Playwright fixtures of ``test_browser``; screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

from tests.server.test_browser import LIVE_TABLE, app, browser, expect, page, shot, table_panel  # noqa: F401

EXPR = f'stream_table("{LIVE_TABLE}").rows.sort(r => [r["lat"]], ["desc"])'


def run_expr(page, panel, expr: str) -> None:  # noqa: F811
    editor = panel.locator(".expr-editor")
    editor.fill(expr)
    editor.press("Enter")


def test_sorted_panel_updates_live_through_the_incremental_path_and_pauses(page, app):  # noqa: F811
    page.goto(f"{app.base}/#/table/{LIVE_TABLE}")
    panel = table_panel(page)
    run_expr(page, panel, EXPR)
    before = app.live.to_arrow().num_rows
    label = panel.locator(".live-updated")
    expect()(panel.locator(".page-info")).to_have_text(f"rows 1–{before} of {before}")
    expect()(label).to_have_text(__import__("re").compile(r"^updated \d\d:\d\d:\d\d$"))
    pushes = int(label.get_attribute("data-pushes"))

    app.live.log([{"model": "m1", "lat": 1000.0 + i, "n": 500 + i} for i in range(5)])
    app.live.flush()
    expect()(panel.locator(".page-info")).to_have_text(f"rows 1–{before + 5} of {before + 5}", timeout=3_000)
    assert panel.locator("tbody td[data-column='n']").first.inner_text() == "504"  # the new top row
    expect()(label).to_have_attribute("data-path", "incremental")  # as the server reported it
    assert int(label.get_attribute("data-pushes")) > pushes
    shot(page, "live-01-pushed-update")

    panel.locator(".live-pause").click()
    expect()(label).to_have_text(__import__("re").compile(r"^paused "))
    app.live.log([{"model": "m2", "lat": 2000.0, "n": 900}])
    app.live.flush()
    time.sleep(1.5)  # several poll intervals: a running feed would have shown the row by now
    expect()(panel.locator(".page-info")).to_have_text(f"rows 1–{before + 5} of {before + 5}")
    shot(page, "live-02-paused")

    panel.locator(".live-pause").click()  # resume: the page catches up
    expect()(panel.locator(".page-info")).to_have_text(f"rows 1–{before + 6} of {before + 6}", timeout=3_000)
    assert panel.locator("tbody td[data-column='n']").first.inner_text() == "900"


def test_live_endpoint_pushes_incremental_updates(app):  # noqa: F811
    query = urllib.parse.urlencode({"expr": f'stream_table("{LIVE_TABLE}").rows.filter(r => r["lat"] > 0).count', "limit": 10})
    stream = urllib.request.urlopen(f"{app.base}/api/live?{query}", timeout=30)
    first = _next_result(stream)
    assert first["kind"] == "scalar" and first["live"] is True
    app.live.log([{"model": "m1", "lat": 5.0, "n": 1}, {"model": "m1", "lat": -5.0, "n": 2}])
    app.live.flush()
    second = _next_result(stream)
    assert second["value"] == first["value"] + 1
    assert (second["path"], second["rows_read"]) == ("incremental", 2)  # the new rows only
    stream.close()


def _next_result(stream) -> dict:
    event = None
    for raw in stream:
        line = raw.decode().strip()
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == "result":
            return json.loads(line[5:])
    raise AssertionError("the stream ended")
