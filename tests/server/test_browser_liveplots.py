"""Plot panels pushed live and plot panels as link sources, end to end in chromium.

A plot panel follows its derived (aggregating) expression through ``/api/live``: rows logged
here reach the drawn plot as a push, with no evaluation by the server's pool (its ``completed``
count stays put); its pause button stops that.  A click on a bar (a histogram bin, a point)
of a plot panel filters a linked table panel, and the link is saved with the board.

Uses the chromium/Playwright fixtures of ``test_browser``; screenshots go to ``test-artifacts/``.
"""

# The fixtures (browser, page, start_server) are imported from test_browser.py / conftest.py.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path

import pytest

from tests.server.test_browser import browser, expect, page, shot  # noqa: F401  (fixtures used by name)
from weave_lite import StreamTable, evaluate, to_python

TABLE = "acme/prod/liveplot"
BASE = f'stream_table("{TABLE}").rows'
T0 = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
N_ROWS = 30


def row(i: int) -> dict:
    return {"model": f"m{i % 3}", "lat": float((i * 37) % 50) + 0.5, "n": i, "timestamp": T0 + dt.timedelta(seconds=i)}


class LiveApp:
    def __init__(self, server, table: StreamTable):
        self.server = server
        self.base = server.base
        self.root: Path = server.root
        self.table = table
        self.logged = N_ROWS

    def log(self, count: int) -> None:
        self.table.log([row(self.logged + i) for i in range(count)])
        self.table.flush()
        self.logged += count

    def completed(self) -> int:
        """Evaluations the server's pool has finished (a plot re-run would add some)."""
        status, body = self.server.get("/api/evaluations")
        assert status == 200
        return body["completed"]

    def settled_completed(self) -> int:
        """The pool's count once no evaluation is running (after the page's first loads)."""
        last = self.completed()
        for _ in range(40):
            time.sleep(0.4)
            now = self.completed()
            if now == last and self.server.get("/api/evaluations")[1]["busy"] == 0:
                return now
            last = now
        raise AssertionError("the pool kept evaluating")


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory, start_server):
    root: Path = tmp_path_factory.mktemp("liveplots-root")
    server = start_server(root)
    st = StreamTable(TABLE, root=root)
    st.log([row(i) for i in range(N_ROWS)])
    st.flush()
    yield LiveApp(server, st)
    st.finish()


def python_count(root: Path, expr: str) -> int:
    return int(to_python(evaluate(f"({expr}).count", root=root)))


def open_page(page, app: LiveApp) -> tuple:
    page.goto(f"{app.base}/#/table/{TABLE}")
    table = page.locator(".panel-table").first
    plot = page.locator(".panel-plot").first
    expect()(table.locator(".page-info")).to_have_text(re.compile(r"^rows 1–\d+ of \d+$"))
    expect()(page.locator("#live-status")).to_have_text("● live")
    return table, plot


def wait_drawn(plot, marks: int | None = None, timeout: int = 20_000) -> None:
    svg = plot.locator(".plot")
    if marks is not None:
        expect()(svg).to_have_attribute("data-marks", str(marks), timeout=timeout)
    expect()(svg).to_have_attribute("data-rendered", "1", timeout=timeout)


def test_plot_panel_updates_through_the_live_path_and_pauses(page, live_app):
    table, plot = open_page(page, live_app)
    label = plot.locator(".live-updated")
    # one-second bins over the 30 s of data: a bin per row, drawn from the first live push
    wait_drawn(plot, live_app.logged)
    expect()(plot).to_have_attribute("data-plot-expr", re.compile(r'\.floor\("s"\)'))
    expect()(label).to_have_text(re.compile(r"^updated \d\d:\d\d:\d\d$"))
    pushes = int(label.get_attribute("data-pushes"))
    x_max = int(plot.locator(".plot").get_attribute("data-x-max"))
    evaluations = live_app.settled_completed()

    live_app.log(5)  # five new seconds: five new bins past the drawn range
    wait_drawn(plot, live_app.logged, timeout=5_000)
    assert int(label.get_attribute("data-pushes")) > pushes
    expect()(label).to_have_attribute("data-path", "incremental")
    assert int(plot.locator(".plot").get_attribute("data-x-max")) == x_max + 5_000  # the x range grew
    assert live_app.completed() == evaluations, "the plot (or the table) was re-run by the pool"
    # what is drawn is what a cold run of the derived expression gives
    derived = plot.get_attribute("data-plot-expr")
    expected = to_python(evaluate(derived, root=live_app.root))
    assert len(expected) == live_app.logged
    shot(page, "liveplots-01-pushed")

    plot.locator(".live-pause").click()
    expect()(label).to_have_text(re.compile(r"^paused "))
    live_app.log(3)
    time.sleep(1.5)  # several poll intervals: a running feed would have drawn the rows by now
    wait_drawn(plot, live_app.logged - 3)
    assert live_app.completed() == evaluations  # paused: no re-run either
    expect()(table.locator(".page-info")).to_have_text(re.compile(rf"of {live_app.logged}$"))  # the table is not paused
    shot(page, "liveplots-02-paused")

    plot.locator(".live-pause").click()  # resume: the plot catches up
    wait_drawn(plot, live_app.logged, timeout=5_000)
    expect()(label).to_have_text(re.compile(r"^updated "))


def test_histogram_and_bar_plots_follow_live_too(page, live_app):
    _, plot = open_page(page, live_app)
    wait_drawn(plot)
    plot.locator("select.plot-type").select_option("bar")
    expect()(plot).to_have_attribute("data-plot-expr", re.compile(r'groupby\(row => row\["model"\]\)'))
    wait_drawn(plot, 3)
    label = plot.locator(".live-updated")
    expect()(label).to_have_attribute("data-pushes", re.compile(r"^\d+$"))
    pushes = int(label.get_attribute("data-pushes"))
    evaluations = live_app.settled_completed()
    counts = {r["x"]: r["y"] for r in to_python(evaluate(plot.get_attribute("data-plot-expr"), root=live_app.root))}
    live_app.log(3)  # one row per model
    want = {k: v + 1 for k, v in counts.items()}
    page.wait_for_function(
        """([id, total]) => {
            const r = window.weaveLite.panels.find((p) => p.id === id).plotResult;
            return r && r.rows.reduce((a, row) => a + row.y, 0) === total;
        }""",
        arg=[plot.get_attribute("data-panel-id"), sum(want.values())],
        timeout=5_000,
    )
    assert int(label.get_attribute("data-pushes")) > pushes
    got = page.evaluate(
        "(id) => window.weaveLite.panels.find((p) => p.id === id).plotResult.rows",
        plot.get_attribute("data-panel-id"),
    )
    assert {r["x"]: r["y"] for r in got} == want
    expect()(label).to_have_attribute("data-path", "incremental")
    assert live_app.completed() == evaluations


def test_clicking_a_bar_filters_a_linked_table_and_the_link_is_saved(page, live_app):
    table, plot = open_page(page, live_app)
    wait_drawn(plot)
    plot.locator("select.plot-type").select_option("bar")
    wait_drawn(plot, 3)
    table_id = table.get_attribute("data-panel-id")
    plot_id = plot.get_attribute("data-panel-id")
    plot.locator("select.link-target").focus()
    plot.locator("select.link-target").select_option(table_id)
    plot.locator("select.link-column").select_option("model")
    plot.locator("button.link-add").click()
    expect()(plot.locator(".link-chip")).to_have_count(1)

    bar = plot.locator('.plot svg .mark-rect path[aria-label*="m1"]')
    expect()(bar).to_have_count(1)
    bar.click()
    want = f'{BASE}.filter(row => row["model"] == "m1")'
    expect()(table.locator(".expr-editor")).to_have_value(want)
    n = python_count(live_app.root, want)
    assert 0 < n < live_app.logged
    expect()(table.locator(".page-info")).to_have_text(f"rows 1–{n} of {n}")
    assert set(table.locator("tbody td[data-column='model']").all_inner_texts()) == {"m1"}
    expect()(plot.locator(".plot-selection")).to_have_text("selected: model = m1")
    shot(page, "liveplots-03-bar-filters-table")

    page.locator("#board-name").fill("plot-link-board")
    page.locator("#save-board").click()
    expect()(page.locator("#board-status")).to_have_text("saved")
    stored = json.loads((live_app.root / "_boards" / "plot-link-board.json").read_text())
    assert stored["links"] == [{"from": plot_id, "to": table_id, "column": "model"}]

    page.goto(f"{live_app.base}/#/")
    page.goto(f"{live_app.base}/#/board/plot-link-board")
    plot = page.locator(f"section.panel[data-panel-id='{plot_id}']")
    table = page.locator(f"section.panel[data-panel-id='{table_id}']")
    wait_drawn(plot, 3)
    expect()(plot.locator(".link-chip")).to_have_count(1)
    plot.locator('.plot svg .mark-rect path[aria-label*="m2"]').click()
    want = f'{BASE}.filter(row => row["model"] == "m2")'
    expect()(table.locator(".expr-editor")).to_have_value(want)
    n = python_count(live_app.root, want)
    expect()(table.locator(".page-info")).to_have_text(f"rows 1–{n} of {n}")
    shot(page, "liveplots-04-reopened-link")


def test_a_histogram_bin_filters_a_linked_panel_on_its_range_and_series(page, live_app):
    table, plot = open_page(page, live_app)
    wait_drawn(plot)
    plot.locator("select.plot-type").select_option("histogram")
    expect()(plot).to_have_attribute("data-plot-expr", re.compile(r"\.bin\(binsfixed\("))
    wait_drawn(plot)
    plot.locator("select.plot-color").select_option("model")
    expect()(plot).to_have_attribute("data-plot-expr", re.compile(r'row\["model"\]\]\)'))
    wait_drawn(plot)
    table_id = table.get_attribute("data-panel-id")
    for column in ("lat", "model"):
        plot.locator("select.link-target").focus()
        plot.locator("select.link-target").select_option(table_id)
        plot.locator("select.link-column").select_option(column)
        plot.locator("button.link-add").click()
    expect()(plot.locator(".link-chip")).to_have_count(2)

    plot.locator(".plot svg .mark-rect path").last.click()  # the last drawn: on top of overlapping bins
    sel = json.loads(plot.locator(".plot-selection").get_attribute("data-selection"))
    lo, hi, model = sel["lat"]["lo"], sel["lat"]["hi"], sel["model"]
    want = f'{BASE}.filter(row => row["lat"] >= {_num(lo)} && row["lat"] < {_num(hi)}).filter(row => row["model"] == "{model}")'
    expect()(table.locator(".expr-editor")).to_have_value(want)
    n = python_count(live_app.root, want)
    assert n > 0
    expect()(table.locator(".page-info")).to_have_text(f"rows 1–{n} of {n}")
    shot(page, "liveplots-05-histogram-bin")

    # another bin of another series replaces both filters (one per column, not one more each)
    plot.locator(".plot svg .mark-rect path").first.click(force=True)
    sel = json.loads(plot.locator(".plot-selection").get_attribute("data-selection"))
    again = f'{BASE}.filter(row => row["lat"] >= {_num(sel["lat"]["lo"])} && row["lat"] < {_num(sel["lat"]["hi"])})'
    again += f'.filter(row => row["model"] == "{sel["model"]}")'
    expect()(table.locator(".expr-editor")).to_have_value(again)


def _num(x: float) -> str:
    """A number as JavaScript prints it (12.5, 10)."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def test_a_pushed_range_past_the_time_bin_re_plans_the_plot_coarser(page, live_app):
    # (last in the module: it logs a row two days on, which every later plot would bin by)
    _, plot = open_page(page, live_app)
    wait_drawn(plot, live_app.logged)
    expect()(plot).to_have_attribute("data-plot-expr", re.compile(r'\.floor\("s"\)'))
    live_app.table.log([{**row(live_app.logged), "timestamp": T0 + dt.timedelta(days=2)}])
    live_app.table.flush()
    live_app.logged += 1
    # one-second bins over two days would be ~170,000 bins: the plot is planned again
    expect()(plot).not_to_have_attribute("data-plot-expr", re.compile(r'\.floor\("s"\)'), timeout=10_000)
    expect()(plot).to_have_attribute("data-plot-expr", re.compile(r'\.floor\("(\d*m|\d*h)"\)'))
    wait_drawn(plot)
    derived = plot.get_attribute("data-plot-expr")
    assert int(plot.locator(".plot").get_attribute("data-marks")) == len(
        to_python(evaluate(derived, root=live_app.root))
    )
    expect()(plot.locator(".live-updated")).to_have_text(re.compile(r"^updated "), timeout=30_000)  # follows live again
    shot(page, "liveplots-06-rebinned")
