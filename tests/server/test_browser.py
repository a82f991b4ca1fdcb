"""End to end: the panel page in a real headless chromium (Debian's), driven by Playwright.

The server runs as ``weave-lite serve`` in a subprocess; rows are logged from this process with
``StreamTable``. Screenshots of each state go to ``test-artifacts/`` (gitignored).

Skipped, with the reason, only where Playwright or chromium cannot be imported or launched.
Browsers are never downloaded: chromium comes from the system (``apt-get install chromium``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from tests.server.conftest import ARTIFACTS
from weave_lite import StreamTable

TABLE = "acme/prod/preds"
LIVE_TABLE = "acme/prod/live"
BASE_EXPR = f'stream_table("{TABLE}").rows'
N_ROWS = 60
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
T0 = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


def lat_of(i: int) -> float:
    return float((i * 37) % 100) + 0.5


def chromium_path() -> str | None:
    for candidate in (os.environ.get("WEAVE_LITE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")
    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium); browsers are never downloaded")
    pw = sync_api.sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:  # any launch failure means: no usable browser here
        pw.stop()
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        pytest.skip(f"chromium at {executable} could not be launched: {first_line}")
    yield browser
    browser.close()
    pw.stop()


class App:
    def __init__(self, server, table_url: str, live: StreamTable):
        self.server = server
        self.base = server.base
        self.table_url = table_url
        self.live = live


@pytest.fixture(scope="module")
def app(server_root: Path, start_server):
    server = start_server(server_root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WEAVE_LITE_PORT", str(server.port))
        st = StreamTable(TABLE, root=server_root)
        rows = [
            {"model": f"m{i % 3}", "lat": lat_of(i), "n": i, "timestamp": T0 + dt.timedelta(seconds=i)}
            for i in range(N_ROWS)
        ]
        url = st.log(rows)
        st.finish()
        live = StreamTable(LIVE_TABLE, root=server_root)
        live.log([{"model": "m0", "lat": 1.0 + i, "n": i} for i in range(10)])
        live.flush()
    assert url == f"http://127.0.0.1:{server.port}/#/table/{TABLE}"
    yield App(server, url, live)
    live.finish()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def expect():
    from playwright.sync_api import expect as _expect

    return _expect


def table_panel(page):
    return page.locator(".panel-table").first


def plot_panel(page):
    return page.locator(".panel-plot").first


def column_texts(panel, column: str) -> list[str]:
    return panel.locator(f"tbody td[data-column='{column}']").all_inner_texts()


def open_table(page, app) -> None:
    page.goto(app.table_url)
    expect()(table_panel(page).locator(".page-info")).to_have_text(f"rows 1–50 of {N_ROWS}")


def run_expr(page, panel, expr: str) -> None:
    editor = panel.locator(".expr-editor")
    editor.fill(expr)
    editor.press("Enter")


# -- tests ---------------------------------------------------------------------------------------------


def test_log_url_opens_the_table_panel(page, app):
    open_table(page, app)
    panel = table_panel(page)
    expect()(panel.locator(".expr-editor")).to_have_value(BASE_EXPR)
    headers = panel.locator("tr.headers th .col-name").all_inner_texts()
    assert [h.strip() for h in headers][:3] == ["model", "lat", "n"]
    assert column_texts(panel, "n")[:3] == ["0", "1", "2"]
    # the table list shows row counts
    expect()(page.locator(f"#table-list li[data-table='{TABLE}'] .row-count")).to_have_text(str(N_ROWS))
    # paging
    panel.locator(".next-page").click()
    expect()(panel.locator(".page-info")).to_have_text(f"rows 51–60 of {N_ROWS}")
    assert column_texts(panel, "n")[0] == "50"
    shot(page, "01-table-panel")


def test_type_an_expression_and_see_the_right_rows(page, app):
    open_table(page, app)
    panel = table_panel(page)
    run_expr(page, panel, f'{BASE_EXPR}.filter(row => row["n"] >= 57)')
    expect()(panel.locator(".page-info")).to_have_text("rows 1–3 of 3")
    assert column_texts(panel, "n") == ["57", "58", "59"]
    assert column_texts(panel, "lat") == [str(lat_of(i)) for i in (57, 58, 59)]
    shot(page, "02-typed-expression")
    run_expr(page, panel, f"{BASE_EXPR}.count")
    expect()(panel.locator(".scalar-value")).to_have_text(str(N_ROWS))
    run_expr(page, panel, f'{BASE_EXPR}.filter(row => row["n"] >= 57)')  # back from a scalar
    expect()(panel.locator(".page-info")).to_have_text("rows 1–3 of 3")
    assert column_texts(panel, "n") == ["57", "58", "59"]
    expect()(panel.locator(".scalar-value")).to_be_hidden()


def test_click_a_header_to_sort(page, app):
    open_table(page, app)
    panel = table_panel(page)
    editor = panel.locator(".expr-editor")
    panel.locator("tr.headers th[data-column='lat']").click()
    sorted_desc = f'{BASE_EXPR}.sort(row => [row["lat"]], ["desc"])'
    expect()(editor).to_have_value(sorted_desc)
    lats = sorted((lat_of(i) for i in range(N_ROWS)), reverse=True)
    expect()(panel.locator("tbody td[data-column='lat']").first).to_have_text(str(lats[0]))
    assert column_texts(panel, "lat") == [str(v) for v in lats[:50]]
    expect()(panel.locator("tr.headers th[data-column='lat'] .sort-ind")).to_have_text("▼")
    shot(page, "03-sorted-desc")
    panel.locator("tr.headers th[data-column='lat']").click()
    expect()(editor).to_have_value(f'{BASE_EXPR}.sort(row => [row["lat"]], ["asc"])')
    expect()(panel.locator("tbody td[data-column='lat']").first).to_have_text(str(min(lats)))
    panel.locator("tr.headers th[data-column='lat']").click()
    expect()(editor).to_have_value(BASE_EXPR)


def test_filter_box_per_column(page, app):
    open_table(page, app)
    panel = table_panel(page)
    editor = panel.locator(".expr-editor")
    box = panel.locator("input.col-filter[data-column='model']")
    box.fill("m1")
    box.press("Enter")
    expect()(editor).to_have_value(f'{BASE_EXPR}.filter(row => row["model"] == "m1")')
    expect()(panel.locator(".page-info")).to_have_text("rows 1–20 of 20")
    assert set(column_texts(panel, "model")) == {"m1"}
    box = panel.locator("input.col-filter[data-column='n']")
    box.fill("> 50")
    box.press("Enter")
    expect()(editor).to_have_value(
        f'{BASE_EXPR}.filter(row => row["model"] == "m1").filter(row => row["n"] > 50)'
    )
    expect()(panel.locator(".page-info")).to_have_text("rows 1–3 of 3")
    assert column_texts(panel, "n") == ["52", "55", "58"]
    expect()(panel.locator("input.col-filter[data-column='model']")).to_have_value("m1")
    shot(page, "04-filtered")
    box = panel.locator("input.col-filter[data-column='model']")
    box.fill("")
    box.press("Enter")
    expect()(editor).to_have_value(f'{BASE_EXPR}.filter(row => row["n"] > 50)')


def test_group_by_a_column(page, app):
    open_table(page, app)
    panel = table_panel(page)
    panel.locator("select.group-by").select_option("model")
    editor = panel.locator(".expr-editor")
    expect()(editor).to_have_value(re.compile(re.escape(f'{BASE_EXPR}.groupby(row => row["model"]).map(g => {{')))
    expect()(panel.locator(".page-info")).to_have_text("rows 1–3 of 3", timeout=20_000)  # first group compiles
    assert column_texts(panel, "model") == ["m0", "m1", "m2"]
    # a group's count opens its rows (cells.js): the count shows on the toggle
    assert column_texts(panel, "count") == ["▸ [20 rows]"] * 3
    mean_m0 = sum(lat_of(i) for i in range(0, N_ROWS, 3)) / 20
    assert float(column_texts(panel, "lat_avg")[0]) == pytest.approx(mean_m0, rel=1e-5)
    # sorting the grouped view sorts the groups
    panel.locator("tr.headers th[data-column='lat_avg']").click()
    expect()(editor).to_have_value(re.compile(r'\.sort\(row => \[row\["lat_avg"\]\], \["desc"\]\)$'))
    shot(page, "05-grouped")
    panel.locator("select.group-by").select_option("")
    expect()(editor).to_have_value(BASE_EXPR)


def test_plot_panel(page, app):
    open_table(page, app)
    plot = plot_panel(page)
    svg = plot.locator(".plot")
    # 60 rows over 59 s: one-second bins, one point per row (plots.js, Vega-Lite)
    expect()(plot.locator(".plot-expr")).to_have_text(f'{BASE_EXPR}.groupby(row => row["timestamp"].floor("s")).map(g => {{"x": g.groupkey, "y": g["lat"].avg}})')
    expect()(svg).to_have_attribute("data-marks", str(N_ROWS))
    expect()(svg).to_have_attribute("data-rendered", "1")
    assert plot.locator(".plot svg .mark-line path").count() == 1
    assert plot.locator(".plot svg .mark-symbol path").count() == N_ROWS
    expect()(plot.locator("select.plot-x")).to_have_value("timestamp")
    expect()(plot.locator("select.plot-y")).to_have_value("lat")
    shot(page, "06-plot-line")
    plot.locator("select.plot-type").select_option("histogram")
    expect()(plot.locator(".plot-expr")).to_have_text(f'{BASE_EXPR}.groupby(row => row["lat"].bin(binsfixed(2.5))).map(g => {{"bin": g.groupkey, "y": g.count}})')
    expect()(plot.locator(".plot svg .mark-rect path").first).to_be_visible()
    assert plot.locator(".plot svg .mark-rect path").count() >= 3
    shot(page, "07-plot-histogram")
    plot.locator("select.plot-type").select_option("bar")
    expect()(plot.locator(".plot-expr")).to_contain_text('.groupby(row => row["model"])')
    expect()(svg).to_have_attribute("data-marks", "3")
    expect()(svg).to_have_attribute("data-rendered", "1")
    assert plot.locator(".plot svg .mark-rect path").count() == 3
    shot(page, "08-plot-bar")


def test_panel_updates_live_as_rows_arrive(page, app):
    page.goto(f"{app.base}/#/table/{LIVE_TABLE}")
    panel = table_panel(page)
    before = app.live.to_arrow().num_rows
    expect()(panel.locator(".page-info")).to_have_text(f"rows 1–{before} of {before}")
    expect()(page.locator("#live-status")).to_have_text("● live")
    # the rows share one second (a single time bin): count them by model, m0 only so far
    plot_panel(page).locator("select.plot-type").select_option("bar")
    expect()(plot_panel(page).locator(".plot")).to_have_attribute("data-marks", "1")
    app.live.log([{"model": "m1", "lat": 100.0 + i, "n": 100 + i} for i in range(5)])
    app.live.flush()
    flushed = time.monotonic()
    expect()(panel.locator(".page-info")).to_have_text(f"rows 1–{before + 5} of {before + 5}", timeout=2_000)
    elapsed = time.monotonic() - flushed
    assert elapsed < 2.0
    expect()(plot_panel(page).locator(".plot")).to_have_attribute("data-marks", "2", timeout=2_000)  # m1 arrived
    expect()(page.locator(f"#table-list li[data-table='{LIVE_TABLE}'] .row-count")).to_have_text(str(before + 5), timeout=2_000)
    assert column_texts(panel, "n")[-1] == "104"
    shot(page, "09-live-update")


def test_save_a_board_and_reopen_it_by_url(page, app, browser):
    open_table(page, app)
    panel = table_panel(page)
    run_expr(page, panel, f'{BASE_EXPR}.filter(row => row["n"] < 10)')
    expect()(panel.locator(".page-info")).to_have_text("rows 1–10 of 10")
    panel.locator("tr.headers th[data-column='n']").click()
    saved_expr = f'{BASE_EXPR}.filter(row => row["n"] < 10).sort(row => [row["n"]], ["desc"])'
    expect()(panel.locator(".expr-editor")).to_have_value(saved_expr)
    plot_panel(page).locator("select.plot-type").select_option("bar")
    expect()(plot_panel(page).locator(".plot")).to_have_attribute("data-marks", "3")
    page.locator("#board-name").fill("latency-board")
    page.locator("#save-board").click()
    expect()(page.locator("#board-status")).to_have_text("saved")
    assert page.evaluate("location.hash") == "#/board/latency-board"
    stored = json.loads((app.server.root / "_boards" / "latency-board.json").read_text())
    assert [p["kind"] for p in stored["panels"]] == ["table", "plot"]
    assert stored["panels"][0]["expr"] == saved_expr
    expect()(page.locator("#board-list li[data-board='latency-board']")).to_be_visible()

    other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        other.goto(f"{app.base}/#/board/latency-board")
        reopened = table_panel(other)
        expect()(reopened.locator(".expr-editor")).to_have_value(saved_expr)
        expect()(reopened.locator(".page-info")).to_have_text("rows 1–10 of 10")
        assert column_texts(reopened, "n")[:3] == ["9", "8", "7"]
        expect()(plot_panel(other).locator("select.plot-type")).to_have_value("bar")
        expect()(plot_panel(other).locator(".plot")).to_have_attribute("data-marks", "3")
        expect()(other.locator("#board-name")).to_have_value("latency-board")
        shot(other, "10-board-reopened")
    finally:
        other.context.close()


def test_readable_error_for_a_broken_expression(page, app):
    open_table(page, app)
    panel = table_panel(page)
    error = panel.locator(".expr-error")
    expect()(error).to_be_hidden()
    run_expr(page, panel, f'{BASE_EXPR}.filter(row => row["lat"] >)')
    expect()(error).to_be_visible()
    text = error.inner_text()
    assert "line 1" in text and "column" in text
    assert "^" in text and 'row["lat"] >)' in text  # the caret snippet of the expression
    shot(page, "11-parse-error")
    run_expr(page, panel, f"{BASE_EXPR}.cout")
    expect()(error).to_contain_text("did you mean `count`")
    run_expr(page, panel, f'{BASE_EXPR}.filter(row => row["latency"] > 1)')
    expect()(error).to_contain_text("latency")
    run_expr(page, panel, BASE_EXPR)
    expect()(error).to_be_hidden()


def test_completion_of_ops_and_columns(page, app):
    open_table(page, app)
    panel = table_panel(page)
    editor = panel.locator(".expr-editor")
    editor.fill(f"{BASE_EXPR}.co")
    editor.press_sequentially("u")
    item = panel.locator(".completions li[data-value='count']")
    expect()(item).to_be_visible()
    editor.press("Tab")
    expect()(editor).to_have_value(f"{BASE_EXPR}.count")
    editor.press("Enter")
    expect()(panel.locator(".scalar-value")).to_have_text(str(N_ROWS))
    editor.fill(f'{BASE_EXPR}.filter(row => row["')
    editor.press_sequentially("la")
    expect()(panel.locator(".completions li[data-value='lat']")).to_be_visible()
    shot(page, "12-completion")
    editor.press("Tab")
    expect()(editor).to_have_value(f'{BASE_EXPR}.filter(row => row["lat')


def test_expression_rewrites_of_the_ui(page, app):
    """The rewrites behind the table panel's clicks (weave_lite/server/static/expr.js)."""
    page.goto(f"{app.base}/")
    got = page.evaluate(
        """async () => {
        const X = await import("/static/expr.js");
        const b = 'stream_table("e/p/t").rows';
        const cols = [{name: "model", type: "string"}, {name: "lat", type: "float"}, {name: "n", type: "int"},
                      {name: "timestamp", type: "timestamp"}, {name: "_client_id", type: "string"}];
        const desc = X.toggleSort(b, "lat");
        const asc = X.toggleSort(desc, "lat");
        const grouped = X.setGroup(b + '.filter(row => row["n"] > 1)', "model", cols);
        const withFilter = X.setFilter(desc, "model", "m1", "string");
        return {
          desc, asc, none: X.toggleSort(asc, "lat"), other: X.toggleSort(desc, "n"),
          withFilter,
          described: X.describe(withFilter),
          numeric: X.setFilter(b, "n", ">= 5", "int"),
          text: X.setFilter(b, "model", "12", "string"),
          contains: X.setFilter(b, "model", "~m", "string"),
          time: X.setFilter(b, "timestamp", "> 2024-05-01", "timestamp"),
          cleared: X.setFilter(withFilter, "model", "", "string"),
          notChain: X.toggleSort('stream_table("a").rows ?? stream_table("b").rows', "x"),
          multiline: X.toggleSort(b + '\\n  .filter(row => row["x"] > 1)\\n', "x"),
          tricky: X.toggleSort(b + '.filter(row => row["a.b"] == "x).sort(y")', "a"),
          grouped,
          regrouped: X.setGroup(X.toggleSort(grouped, "count"), "n", cols),
          ungrouped: X.setGroup(X.toggleSort(grouped, "count"), null, cols),
          describeGrouped: X.describe(X.toggleSort(grouped, "count")),
          line: X.plotExpr(b, {type: "line", x: "timestamp", y: "lat"}),
          hist: X.plotExpr(b, {type: "histogram", y: "lat"}),
          bar: X.plotExpr(b, {type: "bar", x: "model", y: "lat"}),
          tables: X.tablesOf('stream_table("e/p/t").rows.concat(stream_table(\\'p/u\\').rows)'),
        };
      }"""
    )
    b = 'stream_table("e/p/t").rows'
    assert got["desc"] == b + '.sort(row => [row["lat"]], ["desc"])'
    assert got["asc"] == b + '.sort(row => [row["lat"]], ["asc"])'
    assert got["none"] == b
    assert got["other"] == b + '.sort(row => [row["n"]], ["desc"])'
    assert got["withFilter"] == b + '.filter(row => row["model"] == "m1").sort(row => [row["lat"]], ["desc"])'
    assert got["described"] == {"sort": {"column": "lat", "dir": "desc"}, "filters": {"model": "m1"}, "group": None}
    assert got["numeric"] == b + '.filter(row => row["n"] >= 5)'
    assert got["text"] == b + '.filter(row => row["model"] == "12")'
    assert got["contains"] == b + '.filter(row => row["model"].contains("m"))'
    assert got["time"] == b + '.filter(row => row["timestamp"] > Date("2024-05-01"))'
    assert got["cleared"] == got["desc"]
    assert got["notChain"] == '(stream_table("a").rows ?? stream_table("b").rows).sort(row => [row["x"]], ["desc"])'
    assert got["multiline"] == b + '\n  .filter(row => row["x"] > 1).sort(row => [row["x"]], ["desc"])'
    assert got["tricky"] == b + '.filter(row => row["a.b"] == "x).sort(y").sort(row => [row["a"]], ["desc"])'
    assert got["grouped"] == (
        b + '.filter(row => row["n"] > 1).groupby(row => row["model"])'
        '.map(g => {"model": g.groupkey, "count": g.count, "lat_avg": g["lat"].avg, "n_avg": g["n"].avg})'
    )
    assert got["regrouped"] == (
        b + '.filter(row => row["n"] > 1).groupby(row => row["n"])'
        '.map(g => {"n": g.groupkey, "count": g.count, "lat_avg": g["lat"].avg})'
    )
    assert got["ungrouped"] == b + '.filter(row => row["n"] > 1)'
    assert got["describeGrouped"] == {"sort": {"column": "count", "dir": "desc"}, "filters": {}, "group": "model"}
    assert got["line"] == b + '.map(row => {"x": row["timestamp"], "y": row["lat"]})'
    assert got["hist"] == b + '.map(row => row["lat"])'
    assert got["bar"] == b + '.groupby(row => row["model"]).map(g => {"x": g.groupkey, "y": g["lat"].avg})'
    assert got["tables"] == ["e/p/t", "p/u"]
    for key in ("desc", "withFilter", "numeric", "grouped", "regrouped", "line", "bar"):
        expr = got[key].replace("e/p/t", TABLE).replace('"lat"', '"lat"')
        status, body = app.server.request("POST", "/api/evaluate", {"expr": expr, "limit": 1})
        assert status == 200, (key, expr, body)
