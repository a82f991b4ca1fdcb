"""Plot panels that aggregate on the server (Vega-Lite) and the board time range, in chromium.

A table holds a day of timestamps (one row every 30 s, ending now, three models). The plots must
bin over the whole day on the server, with the bin in the visible expression; the range picker and
drag-to-zoom must rewrite every panel's expression. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from tests.server.test_browser import browser, expect, page, shot  # noqa: F401 - fixtures
from weave_lite import StreamTable

TABLE = "acme/prod/day"
BASE = f'stream_table("{TABLE}").rows'
STEP_S = 30
N_ROWS = 24 * 3600 // STEP_S  # 2,880 rows over 24 h
DAY_MS = 24 * 3600 * 1000


def lat_of(i: int) -> float:
    return float((i * 37) % 100) + 0.5 + 20 * (i % 3)


@pytest.fixture(scope="module")
def day_app(tmp_path_factory: pytest.TempPathFactory, start_server):
    root: Path = tmp_path_factory.mktemp("plots-root")
    server = start_server(root)
    end = dt.datetime.now(dt.UTC).replace(microsecond=0)
    st = StreamTable(TABLE, root=root)
    st.log(
        [
            {"model": f"m{i % 3}", "lat": lat_of(i), "timestamp": end - dt.timedelta(seconds=STEP_S * (N_ROWS - 1 - i))}
            for i in range(N_ROWS)
        ]
    )
    st.finish()
    return server


def open_board(page, server) -> tuple:  # noqa: F811 - the page fixture
    page.goto(f"{server.base}/#/table/{TABLE}")
    table = page.locator(".panel-table").first
    expect()(table.locator(".page-info")).to_have_text(f"rows 1–50 of {N_ROWS:,}")
    # the table's route opens a table panel and a line plot panel of the same rows
    plot = page.locator(".panel-plot").first
    expect()(plot.locator(".plot")).to_have_attribute("data-rendered", "1", timeout=60_000)
    return table, plot


def plot_state(plot) -> dict:
    return plot.locator(".plot").evaluate(
        "el => ({marks: +el.dataset.marks, series: +el.dataset.series, lo: +el.dataset.xMin, hi: +el.dataset.xMax})"
    )


def wait_plot(plot, expr_part: str) -> None:
    expect()(plot.locator(".plot-expr")).to_contain_text(expr_part, timeout=60_000)
    expect()(plot.locator(".plot")).to_have_attribute("data-rendered", "1", timeout=60_000)
    expect()(plot.locator(".plot svg")).to_be_visible()


def legend_labels(plot) -> list[str]:
    return svg_texts(plot, ".role-legend-label text")


def svg_texts(plot, selector: str) -> list[str]:
    return plot.locator(f".plot svg {selector}").evaluate_all("els => els.map(e => e.textContent)")


def test_line_over_time_bins_the_whole_day_on_the_server(page, day_app):  # noqa: F811
    _, plot = open_board(page, day_app)
    wait_plot(plot, ".floor(")
    expr = plot.locator(".plot-expr").inner_text()
    unit = re.search(r'\["timestamp"\]\.floor\("(\d*[smhd])"\)', expr)
    assert unit, expr
    assert expr.startswith(BASE + '.groupby(row => row["timestamp"].floor(')
    assert '"y": g["lat"].avg' in expr
    s = plot_state(plot)
    # about one bin per few pixels over the full day, not the last N raw points
    assert 100 <= s["marks"] <= 400, s
    assert s["hi"] - s["lo"] >= DAY_MS - 2 * 3600 * 1000, s
    assert plot.locator(".plot svg .mark-line path").count() == 1
    assert svg_texts(plot, ".role-axis-title text")[:2] == [f"timestamp (UTC, {unit.group(1)} bins)", "avg lat"]
    # y as count, then p95
    plot.locator("select.plot-y").select_option("count")
    wait_plot(plot, '"y": g.count')
    plot.locator("select.plot-y").select_option("lat")
    plot.locator("select.plot-agg").select_option("p95")
    wait_plot(plot, 'g["lat"].quantile(0.95)')
    # hover values: a point shows its bin and value in the tooltip
    plot.locator(".plot svg").scroll_into_view_if_needed()
    box = plot.locator(".plot svg .mark-symbol path").nth(50).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect()(page.locator("#vg-tooltip-element")).to_contain_text("p95 lat")
    shot(page, "plots-01-line-time-binned")


def test_series_per_group_with_a_legend(page, day_app):  # noqa: F811
    _, plot = open_board(page, day_app)
    wait_plot(plot, ".floor(")
    plot.locator("select.plot-color").select_option("model")
    wait_plot(plot, '"series": g.groupkey[1]')
    expr = plot.locator(".plot-expr").inner_text()
    assert re.search(r'groupby\(row => \[row\["timestamp"\]\.floor\("\w+"\), row\["model"\]\]\)', expr), expr
    s = plot_state(plot)
    assert s["series"] == 3
    assert plot.locator(".plot svg .mark-line path").count() == 3
    assert sorted(legend_labels(plot)) == ["m0", "m1", "m2"]
    shot(page, "plots-02-series-per-model")


def test_histogram_per_group_over_the_whole_column(page, day_app):  # noqa: F811
    _, plot = open_board(page, day_app)
    wait_plot(plot, ".floor(")
    plot.locator("select.plot-type").select_option("histogram")
    wait_plot(plot, ".bin(binsfixed(")
    expr = plot.locator(".plot-expr").inner_text()
    assert expr == f'{BASE}.groupby(row => row["lat"].bin(binsfixed(5))).map(g => {{"bin": g.groupkey, "y": g.count}})'
    total = plot.locator(".plot svg .mark-rect path").count()
    assert total >= 20
    # counts over all rows: the bars add up to the table's row count
    counts = page.evaluate(
        "async (e) => (await (await fetch('/api/evaluate', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({expr: e, offset: 0, limit: 1000})})).json()).rows.map(r => r.y)",
        expr,
    )
    assert sum(counts) == N_ROWS
    plot.locator("select.plot-color").select_option("model")
    wait_plot(plot, '"series": g.groupkey[1]')
    assert plot_state(plot)["series"] == 3
    assert sorted(legend_labels(plot)) == ["m0", "m1", "m2"]
    shot(page, "plots-03-histogram-per-model")
    plot.locator("select.plot-type").select_option("bar")
    wait_plot(plot, '.groupby(row => row["model"])')
    assert plot.locator(".plot svg .mark-rect path").count() == 3
    shot(page, "plots-04-bar-by-model")


def test_range_picker_rewrites_every_panel(page, day_app):  # noqa: F811
    table, plot = open_board(page, day_app)
    wait_plot(plot, ".floor(")
    page.locator("select.time-preset").select_option("1h")
    call = '.filter(row => row["timestamp"] >= now() - 3600000)'
    expect()(table.locator(".expr-editor")).to_have_value(BASE + call)
    expect()(plot.locator(".expr-editor")).to_have_value(BASE + call)
    wait_plot(plot, BASE + call + ".groupby(")
    rows_in_hour = 3600 // STEP_S
    expect()(table.locator(".page-info")).to_have_text(
        re.compile(rf"of {rows_in_hour - 1}|of {rows_in_hour}|of {rows_in_hour + 1}$")
    )
    s = plot_state(plot)
    assert s["hi"] - s["lo"] <= 3600 * 1000, s
    assert s["marks"] >= 100, s  # re-binned for the hour
    shot(page, "plots-05-range-last-hour")
    # custom from/to
    page.locator("select.time-preset").select_option("custom")
    page.locator("input.time-from").fill("2000-01-01T00:00:00")
    page.locator("input.time-to").fill("2000-01-02T00:00:00")
    page.locator("button.time-apply").click()
    custom = '.filter(row => row["timestamp"] >= Date("2000-01-01T00:00:00Z") && row["timestamp"] < Date("2000-01-02T00:00:00Z"))'
    expect()(table.locator(".expr-editor")).to_have_value(BASE + custom)
    expect()(plot.locator(".expr-editor")).to_have_value(BASE + custom)
    page.locator("select.time-preset").select_option("all")
    expect()(table.locator(".expr-editor")).to_have_value(BASE)
    expect()(plot.locator(".expr-editor")).to_have_value(BASE)
    expect()(table.locator(".page-info")).to_have_text(f"rows 1–50 of {N_ROWS:,}")


def test_drag_to_zoom_sets_the_range_of_every_panel(page, day_app):  # noqa: F811
    table, plot = open_board(page, day_app)
    wait_plot(plot, ".floor(")
    before = plot_state(plot)
    plot.locator(".plot svg").scroll_into_view_if_needed()
    area = plot.locator(".plot svg .mark-line path").bounding_box()
    y = area["y"] + area["height"] / 2
    page.mouse.move(area["x"] + area["width"] * 0.4, y)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.5, y, steps=5)
    page.mouse.move(area["x"] + area["width"] * 0.6, y, steps=5)
    page.mouse.up()
    expect()(table.locator(".expr-editor")).to_have_value(
        re.compile(r'\.filter\(row => row\["timestamp"\] >= Date\("[^"]+"\) && row\["timestamp"\] < Date\("[^"]+"\)\)$')
    )
    expr = plot.locator(".expr-editor").input_value()
    m = re.search(r'Date\("([^"]+)"\) && row\["timestamp"\] < Date\("([^"]+)"\)', expr)
    lo, hi = (dt.datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp() * 1000 for x in m.groups())
    # about a fifth of the day, inside it
    assert 0.1 * DAY_MS < hi - lo < 0.3 * DAY_MS, (lo, hi)
    assert before["lo"] < lo < hi < before["hi"] + 600_000
    wait_plot(plot, 'Date("')
    after = plot_state(plot)
    assert after["hi"] - after["lo"] <= hi - lo
    assert after["marks"] >= 100  # re-binned finer for the narrower range
    expect()(table.locator(".page-info")).not_to_have_text(f"rows 1–50 of {N_ROWS:,}")
    shot(page, "plots-06-drag-zoomed")


def test_a_saved_board_reopens_with_its_time_range(page, day_app):  # noqa: F811
    _, plot = open_board(page, day_app)
    page.locator("select.time-preset").select_option("15m")
    call = '.filter(row => row["timestamp"] >= now() - 900000)'
    expect()(plot.locator(".expr-editor")).to_have_value(BASE + call)
    page.locator("#board-name").fill("last-15")
    page.locator("#save-board").click()
    expect()(page.locator("#board-status")).to_have_text("saved")
    page.goto(f"{day_app.base}/#/")
    page.goto(f"{day_app.base}/#/board/last-15")
    expect()(page.locator(".panel-plot .expr-editor").first).to_have_value(BASE + call)
    expect()(page.locator("select.time-preset")).to_have_value("15m")


def test_range_call_goes_before_a_group_and_replaces_the_last_one(page, day_app):  # noqa: F811
    page.goto(f"{day_app.base}/#/")
    got = page.evaluate(
        """async (b) => {
        const T = await import('/static/timerange.js');
        const grouped = b + '.groupby(row => row["model"]).map(g => {"n": g.count})';
        const hour = {kind: "last", ms: 3600000};
        const once = T.applyRange(grouped, hour);
        return {
          once,
          twice: T.applyRange(T.applyRange(once, {kind: "last", ms: 900000}), {kind: "abs", from: 0, to: 60000}),
          cleared: T.applyRange(once, {kind: "all"}),
          parsed: T.rangeOf(once),
        };
    }""",
        BASE,
    )
    hour = '.filter(row => row["timestamp"] >= now() - 3600000)'
    assert got["once"] == BASE + hour + '.groupby(row => row["model"]).map(g => {"n": g.count})'
    assert got["twice"] == (
        BASE
        + '.filter(row => row["timestamp"] >= Date("1970-01-01T00:00:00Z") && row["timestamp"] < Date("1970-01-01T00:01:00Z"))'
        + '.groupby(row => row["model"]).map(g => {"n": g.count})'
    )
    assert got["cleared"] == BASE + '.groupby(row => row["model"]).map(g => {"n": g.count})'
    assert got["parsed"] == {"kind": "last", "ms": 3600000}
