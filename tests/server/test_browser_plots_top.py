"""Plot panels in chromium: top N plus "other" series, sampled scatter, the range picker in local
time, and the plot's first queries going out together.

A table holds 20 models with distinct row counts (model k has 30 * (20 - k) + k rows) over a day,
so the top 5 and the size of "other" are known in Python. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.server.test_browser import browser, expect, page, shot  # noqa: F401 - fixtures
from weave_lite import StreamTable

TABLE = "acme/prod/many"
BASE = f'stream_table("{TABLE}").rows'
MODELS = [f"model-{k:02d}" for k in range(20)]
COUNTS = {m: 30 * (20 - k) + k for k, m in enumerate(MODELS)}
N_ROWS = sum(COUNTS.values())
WAIT = 90_000  # the machine is shared: generous waits, no timing assertions


def rows() -> list[dict]:
    models = [m for m, c in COUNTS.items() for _ in range(c)]
    # interleave the models over the day (a fixed permutation, not sorted by model)
    order = sorted(range(len(models)), key=lambda i: (i * 7919) % len(models))
    end = dt.datetime.now(dt.UTC).replace(microsecond=0)
    step = 86_400 / len(models)
    return [
        {
            "model": models[j],
            "a": float(i % 97),
            "b": float((i * 31) % 89) + 0.5,
            "timestamp": end - dt.timedelta(seconds=step * (len(models) - 1 - i)),
        }
        for i, j in enumerate(order)
    ]


@pytest.fixture(scope="module")
def many_app(tmp_path_factory: pytest.TempPathFactory, start_server):
    root: Path = tmp_path_factory.mktemp("plots-top-root")
    server = start_server(root)
    st = StreamTable(TABLE, root=root)
    st.log(rows())
    st.finish()
    return server


def open_plot(page, server):  # noqa: F811 - the page fixture
    page.set_default_timeout(WAIT)
    page.goto(f"{server.base}/#/table/{TABLE}")
    plot = page.locator(".panel-plot").first
    expect()(plot.locator(".plot")).to_have_attribute("data-rendered", "1", timeout=WAIT)
    return plot


def wait_plot(plot, expr_part: str) -> str:
    expect()(plot.locator(".plot-expr").last).to_contain_text(expr_part, timeout=WAIT)
    expect()(plot.locator(".plot")).to_have_attribute("data-rendered", "1", timeout=WAIT)
    expect()(plot.locator(".plot svg")).to_be_visible(timeout=WAIT)
    return plot.locator(".plot-expr").last.inner_text()


def svg_texts(plot, selector: str) -> list[str]:
    return plot.locator(f".plot svg {selector}").evaluate_all("els => els.map(e => e.textContent)")


def evaluate(page, expr: str) -> list[dict]:  # noqa: F811
    return page.evaluate(
        "async (e) => (await (await fetch('/api/evaluate', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({expr: e, offset: 0, limit: 20000})})).json()).rows",
        expr,
    )


def test_top_n_series_fold_the_rest_into_other(page, many_app):  # noqa: F811
    top5 = [m for m, _ in Counter(COUNTS).most_common(5)]
    other = N_ROWS - sum(COUNTS[m] for m in top5)
    plot = open_plot(page, many_app)
    plot.locator("select.plot-y").select_option("count")
    wait_plot(plot, '"y": g.count')
    plot.locator("select.plot-color").select_option("model")
    # the default N is 10: 20 models become 10 series plus "other"
    expr = wait_plot(plot, '"other"')
    expect()(plot.locator("select.plot-top")).to_have_value("10")
    assert len(svg_texts(plot, ".role-legend-label text")) == 11
    plot.locator("select.plot-top").select_option("5")
    keys = "[" + ", ".join(json.dumps(m) for m in top5) + "]"
    expr = wait_plot(plot, f'{keys}.contains(row["model"]) ? row["model"] : "other"')
    # the top-N query is shown too
    top_line = plot.locator(".plot-top-expr")
    expect()(top_line).to_be_visible()
    assert "top 5 of 20 model values" in top_line.inner_text()
    assert '.groupby(row => row["model"]).map(g => {"key": g.groupkey, "n": g.count})' in top_line.inner_text()
    # the legend: exactly N + 1 entries, the top 5 most frequent first, then "other"
    assert svg_texts(plot, ".role-legend-label text") == [*top5, "other"]
    assert plot.locator(".plot svg .mark-line path").count() == 6
    got = evaluate(page, expr)
    per_series = Counter()
    for r in got:
        per_series[r["series"]] += r["y"]
    assert per_series["other"] == other
    assert {m: per_series[m] for m in top5} == {m: COUNTS[m] for m in top5}
    shot(page, "plots-top-01-line-top5-other")

    # histogram per group: the same N + 1 series
    plot.locator("select.plot-type").select_option("histogram")
    wait_plot(plot, "binsfixed(")
    plot.locator("select.plot-color").select_option("model")
    plot.locator("select.plot-top").select_option("5")
    expr = wait_plot(plot, f'{keys}.contains(row["model"])')
    assert svg_texts(plot, ".role-legend-label text") == [*top5, "other"]
    assert sum(r["y"] for r in evaluate(page, expr) if r["series"] == "other") == other
    shot(page, "plots-top-02-histogram-top5-other")

    # bar by group (no series): the top 5 bars and one "other" bar with the rest's count
    plot.locator("select.plot-type").select_option("bar")
    wait_plot(plot, ".groupby(row => ")
    plot.locator("select.plot-top").select_option("5")
    expr = wait_plot(plot, f'.groupby(row => {keys}.contains(row["model"]) ? row["model"] : "other")')
    assert plot.locator(".plot svg .mark-rect path").count() == 6
    bars = {r["x"]: r["y"] for r in evaluate(page, expr)}
    assert bars == {**{m: COUNTS[m] for m in top5}, "other": other}
    assert svg_texts(plot, ".role-axis-label text")[:6] == [*top5, "other"]
    shot(page, "plots-top-03-bar-top5-other")


def test_scatter_samples_with_randomly_downsample(page, many_app):  # noqa: F811
    plot = open_plot(page, many_app)
    plot.locator("select.plot-type").select_option("scatter")
    expr = wait_plot(plot, ".randomlyDownsample(")
    assert expr == f'{BASE}.randomlyDownsample(2000).map(row => {{"x": row["a"], "y": row["b"]}})'
    canvas = plot.locator(".plot")
    expect()(canvas).to_have_attribute("data-sampled", "2000")
    expect()(canvas).to_have_attribute("data-total", str(N_ROWS))
    expect()(plot.locator(".plot-note")).to_have_text(f"2,000 points sampled of {N_ROWS:,} rows")
    assert plot.locator(".plot svg .mark-symbol path").count() == 2000
    assert svg_texts(plot, ".role-axis-title text")[:2] == ["a", "b"]
    # colour by series (top 5 + other), then a timestamp x
    plot.locator("select.plot-color").select_option("model")
    wait_plot(plot, '"series": [')  # the default top 10 first: wait for it, then choose 5
    plot.locator("select.plot-top").select_option("5")
    top5 = [m for m, _ in Counter(COUNTS).most_common(5)]
    expr = wait_plot(plot, "[" + ", ".join(json.dumps(m) for m in top5) + "].contains(")
    assert ".randomlyDownsample(2000)" in expr
    assert len(svg_texts(plot, ".role-legend-label text")) == 6
    plot.locator("select.plot-x").select_option("timestamp")
    wait_plot(plot, '"x": row["timestamp"]')
    assert svg_texts(plot, ".role-axis-title text")[0] == "timestamp (UTC)"
    # hover values
    plot.locator(".plot svg").scroll_into_view_if_needed()
    box = plot.locator(".plot svg .mark-symbol path").nth(10).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect()(page.locator("#vg-tooltip-element")).to_contain_text("model")
    shot(page, "plots-top-04-scatter-sampled")


def test_range_picker_in_local_time_writes_the_same_instant(browser, many_app):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="Asia/Kolkata")
    page = context.new_page()  # noqa: F811
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        plot = open_plot(page, many_app)
        page.locator("#tz-switch").select_option("local")
        expect()(page.locator(".time-range .time-zone")).to_have_text("local")
        page.locator("select.time-preset").select_option("custom")
        # 05:30 in Kolkata (UTC+05:30) is midnight UTC
        page.locator("input.time-from").fill("2000-01-01T05:30:00")
        page.locator("input.time-to").fill("2000-01-02T05:30:00")
        page.locator("button.time-apply").click()
        utc = '.filter(row => row["timestamp"] >= Date("2000-01-01T00:00:00Z") && row["timestamp"] < Date("2000-01-02T00:00:00Z"))'
        expect()(plot.locator(".expr-editor")).to_have_value(BASE + utc)
        # switching to UTC keeps the instant and shows it in UTC
        page.locator("#tz-switch").select_option("utc")
        expect()(page.locator("input.time-from")).to_have_value(re.compile(r"^2000-01-01T00:00(:00)?$"))
        expect()(page.locator(".time-range .time-zone")).to_have_text("UTC")
        page.locator("#tz-switch").select_option("local")
        expect()(page.locator("input.time-from")).to_have_value(re.compile(r"^2000-01-01T05:30(:00)?$"))
        # a drag-zoomed (absolute) range shows in local time; the time axis says local
        page.locator("select.time-preset").select_option("24h")
        wait_plot(plot, "now() - 86400000")
        expect()(plot.locator(".plot svg .role-axis-title text").first).to_contain_text("(local", timeout=WAIT)
        shot(page, "plots-top-05-local-time-axis")
    finally:
        context.close()
    assert not errors, errors


RECORD = """
window.__evals = [];
const orig = window.fetch;
window.fetch = async (url, opts) => {
  if (String(url).includes('/api/evaluate')) {
    const body = JSON.parse(opts.body);
    const rec = {expr: body.expr, limit: body.limit, t0: performance.now(), t1: null};
    window.__evals.push(rec);
    try { return await orig(url, opts); } finally { rec.t1 = performance.now(); }
  }
  return orig(url, opts);
};
"""


def test_first_plot_queries_go_out_together(page, many_app):  # noqa: F811
    page.add_init_script(RECORD)
    open_plot(page, many_app)
    evals = page.evaluate("window.__evals")
    head = next(e for e in evals if e["expr"] == BASE and e["limit"] == 0)
    span = next(e for e in evals if e["expr"].startswith('{"lo": ') and '["timestamp"].min' in e["expr"])
    plot = next(e for e in evals if ".floor(" in e["expr"])
    # the columns and the time span are asked at once: the span does not wait for the columns
    assert span["t0"] < head["t1"], (head, span)
    assert plot["t0"] >= max(head["t1"], span["t1"])
    # three evaluations for the first drawing, two rounds
    first = [e for e in evals if e["t0"] <= plot["t0"] and e is not plot and e["limit"] != 50]
    assert len(first) == 2, first
