"""End to end in chromium: boards as a grid (gridstack.js), links between panels, and cells.

Uses the fixtures of ``test_browser.py`` (a ``weave-lite serve`` subprocess, system chromium).
Screenshots go to ``test-artifacts/``.
"""

# The fixtures (app, browser, page) are imported from test_browser.py and used as parameters.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import json

from tests.server.test_browser import (  # noqa: F401  (fixtures used by name)
    BASE_EXPR,
    N_ROWS,
    TABLE,
    app,
    browser,
    expect,
    open_table,
    page,
    run_expr,
    shot,
    table_panel,
)
from weave_lite import StreamTable

NESTED_TABLE = "acme/prod/nested"


def panels(page):
    return page.locator("section.panel")


def panel_named(page, title: str):
    return page.locator("section.panel", has=page.locator(".panel-title", has_text=title)).first


def grid_box(page, panel):
    return page.evaluate(
        "(el) => { const n = el.closest('.grid-stack-item').gridstackNode; return [n.x, n.y, n.w, n.h]; }",
        panel.element_handle(),
    )


def by_id(page, panel_id: str):
    return page.locator(f"section.panel[data-panel-id='{panel_id}']")


def test_grid_edits_are_saved_and_reopened_with_the_layout(page, app, browser):
    page.set_viewport_size({"width": 1280, "height": 2000})  # every panel on screen, for the mouse
    open_table(page, app)
    assert page.locator(".grid-stack .grid-stack-item").count() == 2
    ids = [panels(page).nth(i).get_attribute("data-panel-id") for i in range(2)]
    first, plot = by_id(page, ids[0]), by_id(page, ids[1])
    # meaningful default names, not "p1"
    expect()(first.locator(".panel-title")).to_have_text("preds rows")
    expect()(plot.locator(".panel-title")).to_have_text("preds plot")

    # rename by double-click
    first.locator(".panel-title").dblclick()
    first.locator("input.panel-rename").fill("latest predictions")
    first.locator("input.panel-rename").press("Enter")
    expect()(first.locator(".panel-title")).to_have_text("latest predictions")

    # add a panel: it lands in the grid, half width, with its own name
    page.locator("#add-table-panel").click()
    expect()(panels(page)).to_have_count(3)
    ids.append(panels(page).nth(2).get_attribute("data-panel-id"))
    added = by_id(page, ids[2])
    expect()(added.locator(".panel-title")).to_have_text("preds rows")
    assert grid_box(page, added)[2] == 6

    # resize the first panel with the mouse (its east handle) to about half width
    item = page.locator(".grid-stack-item", has=first)
    item.hover()
    hb = item.locator(".ui-resizable-e").bounding_box()
    page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
    page.mouse.down()
    page.mouse.move(hb["x"] - 480, hb["y"] + hb["height"] / 2, steps=8)
    page.mouse.up()
    x, y, w, h = grid_box(page, first)
    assert w < 12, (x, y, w, h)

    # move the added panel by dragging its head to the top right corner of the grid
    before = grid_box(page, added)
    b = added.locator(".panel-head .panel-title").bounding_box()
    gb = page.locator("#panels").bounding_box()
    page.mouse.move(b["x"] + 5, b["y"] + 5)
    page.mouse.down()
    page.mouse.move(gb["x"] + gb["width"] - 300, gb["y"] + 15, steps=15)
    page.mouse.up()
    moved = grid_box(page, added)
    assert moved[0] > 0 and moved[1] < before[1], (before, moved)

    # duplicate, hide an editor, remove
    first.locator(".panel-duplicate").click()
    expect()(panels(page)).to_have_count(4)
    copy = page.locator("section.panel", has=page.locator(".panel-title", has_text="latest predictions copy"))
    expect()(copy).to_have_count(1)
    ids.append(copy.get_attribute("data-panel-id"))
    copy.locator(".panel-editor-toggle").click()
    expect()(copy.locator(".editor-wrap")).to_be_hidden()
    plot.locator(".panel-remove").click()
    expect()(panels(page)).to_have_count(3)
    kept = [ids[0], ids[2], ids[3]]
    layouts = [grid_box(page, by_id(page, i)) for i in kept]
    shot(page, "grid-01-edited")

    page.locator("#board-name").fill("grid-board")
    page.locator("#save-board").click()
    expect()(page.locator("#board-status")).to_have_text("saved")
    stored = json.loads((app.server.root / "_boards" / "grid-board.json").read_text())
    assert stored["format"] == 2
    assert [p["id"] for p in stored["panels"]] == kept
    assert [p["title"] for p in stored["panels"]] == ["latest predictions", "preds rows", "latest predictions copy"]
    assert [p["editor_hidden"] for p in stored["panels"]] == [False, False, True]
    assert [[p["layout"][k] for k in "xywh"] for p in stored["panels"]] == [list(t) for t in layouts]

    other = browser.new_context(viewport={"width": 1280, "height": 2000}).new_page()
    try:
        other.goto(f"{app.base}/#/board/grid-board")
        expect()(panels(other)).to_have_count(3)
        expect()(by_id(other, kept[0]).locator(".panel-title")).to_have_text("latest predictions")
        expect()(by_id(other, kept[2]).locator(".editor-wrap")).to_be_hidden()
        expect()(by_id(other, kept[0]).locator(".page-info")).to_have_text(f"rows 1–50 of {N_ROWS}")
        assert [grid_box(other, by_id(other, i)) for i in kept] == layouts
        shot(other, "grid-02-reopened")
    finally:
        other.context.close()


def test_an_old_format_board_file_opens(page, app):
    folder = app.server.root / "_boards"
    folder.mkdir(exist_ok=True)
    old = {
        "name": "old-board",
        "panels": [
            {"id": "p1", "kind": "table", "expr": f'{BASE_EXPR}.filter(row => row["n"] < 5)', "page_size": 25},
            {"id": "p2", "kind": "plot", "expr": BASE_EXPR, "plot": {"type": "bar", "x": "model", "y": "count"}},
        ],
        "saved_at": "2024-05-01T12:00:00Z",
    }
    (folder / "old-board.json").write_text(json.dumps(old))
    page.goto(f"{app.base}/#/board/old-board")
    expect()(panels(page)).to_have_count(2)
    expect()(panels(page).nth(0).locator(".page-info")).to_have_text("rows 1–5 of 5")
    expect()(panels(page).nth(1).locator(".plot")).to_have_attribute("data-marks", "3")
    # stacked full width, one under the other
    a, b = grid_box(page, panels(page).nth(0)), grid_box(page, panels(page).nth(1))
    assert a[2] == b[2] == 12 and b[1] >= a[1] + a[3], (a, b)
    expect()(panels(page).nth(0).locator(".panel-title")).to_have_text("preds rows")
    shot(page, "grid-03-old-board")


def test_selected_group_filters_a_linked_panel(page, app):
    open_table(page, app)
    source = panels(page).nth(0)
    source.locator("select.group-by").select_option("model")
    expect()(source.locator(".page-info")).to_have_text("rows 1–3 of 3", timeout=20_000)
    page.locator("#add-table-panel").click()
    target = panels(page).nth(2)
    run_expr(page, target, BASE_EXPR)
    expect()(target.locator(".page-info")).to_have_text(f"rows 1–50 of {N_ROWS}")
    target_id = target.get_attribute("data-panel-id")
    source.locator("select.link-target").focus()
    source.locator("select.link-target").select_option(target_id)
    source.locator("select.link-column").select_option("model")
    source.locator("button.link-add").click()
    expect()(source.locator(".link-chip")).to_have_count(1)

    source.locator("tbody tr[data-row]", has=page.locator("td[data-column='model']", has_text="m1")).click()
    expect()(target.locator(".expr-editor")).to_have_value(f'{BASE_EXPR}.filter(row => row["model"] == "m1")')
    expect()(target.locator(".page-info")).to_have_text(f"rows 1–{N_ROWS // 3} of {N_ROWS // 3}")
    assert set(target.locator("tbody td[data-column='model']").all_inner_texts()) == {"m1"}
    shot(page, "grid-04-link")

    # the link is saved with the board and still works after reopening
    page.locator("#board-name").fill("linked-board")
    page.locator("#save-board").click()
    expect()(page.locator("#board-status")).to_have_text("saved")
    stored = json.loads((app.server.root / "_boards" / "linked-board.json").read_text())
    assert stored["links"] == [{"from": source.get_attribute("data-panel-id"), "to": target_id, "column": "model"}]
    page.goto(f"{app.base}/#/")
    page.goto(f"{app.base}/#/board/linked-board")
    src = panels(page).nth(0)
    expect()(src.locator(".page-info")).to_have_text("rows 1–3 of 3", timeout=20_000)
    src.locator("tbody tr[data-row]", has=page.locator("td[data-column='model']", has_text="m2")).click()
    expect()(panels(page).nth(2).locator(".expr-editor")).to_have_value(
        f'{BASE_EXPR}.filter(row => row["model"] == "m2")'
    )


def test_cells_nested_values_groups_types_and_time_zone(browser, app):
    st = StreamTable(NESTED_TABLE, root=app.server.root)
    st.log(
        [
            {
                "id": i,
                "meta": {"user": f"u{i}", "scores": [i, i + 1, i + 2], "deep": {"k": "v" * 5}},
                "tags": ["a", "b"][: 1 + i % 2],
                "timestamp": dt.datetime(2024, 5, 1, 12, 0, i, tzinfo=dt.UTC),
            }
            for i in range(4)
        ]
    )
    st.finish()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="America/New_York")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{app.base}/#/table/{NESTED_TABLE}")
        panel = panels(page).nth(0)
        expect()(panel.locator(".page-info")).to_have_text("rows 1–4 of 4", timeout=20_000)
        # column types in the header
        expect()(panel.locator("tr.headers th[data-column='id'] .col-type")).to_have_text("int")
        assert "timestamp" in panel.locator("tr.headers th[data-column='timestamp'] .col-type").inner_text()
        # nested dict: a summary that opens inline, nested within nested
        cell = panel.locator("tbody td[data-column='meta']").first
        expect()(cell.locator("summary").first).to_have_text("{user, scores, deep}")
        cell.locator("summary").first.click()
        expect()(cell.locator("table.cell-kv th").first).to_have_text("user")
        expect()(cell.locator("table.cell-kv td").first).to_have_text("u0")
        cell.locator("details details summary").first.click()  # scores: [3 items]
        expect()(cell.locator("details details table.cell-kv").first).to_contain_text("2")
        expect()(panel.locator("tbody td[data-column='tags']").nth(1).locator("summary")).to_have_text("[2 items]")
        # timestamps: UTC by default, local (New York, UTC-4 in May) on the switch
        ts = panel.locator("tbody td[data-column='timestamp']").first
        expect()(ts).to_have_text("2024-05-01T12:00:00Z")
        page.locator("#tz-switch").select_option("local")
        expect()(ts).to_have_text("2024-05-01T08:00:00-04:00")
        shot(page, "grid-05-cells")
        page.locator("#tz-switch").select_option("utc")
        expect()(ts).to_have_text("2024-05-01T12:00:00Z")

        # groups expand to their rows: a `groups` result ...
        run_expr(page, panel, f'stream_table("{TABLE}").rows.groupby(row => row["model"])')
        # (a `groups` page may not know its total: only the rows on it are checked)
        expect()(panel.locator("tbody tr[data-row]")).to_have_count(3, timeout=20_000)
        toggle = panel.locator("tbody td[data-column='rows'] button.group-toggle").first
        expect()(toggle).to_have_text(f"▸ [{N_ROWS // 3} rows]")
        toggle.click()
        drill = panel.locator("tr.drill-row").first
        expect()(drill.locator("table.drill-table tbody tr")).to_have_count(5)
        expect()(drill.locator(".drill-note")).to_have_text(f"5 of {N_ROWS // 3} rows")
        # ... and a UI group (group-by menu): its count opens the group's rows, fetched
        run_expr(page, panel, f'stream_table("{TABLE}").rows')
        expect()(panel.locator(".page-info")).to_have_text(f"rows 1–50 of {N_ROWS}")
        panel.locator("select.group-by").select_option("model")
        expect()(panel.locator(".page-info")).to_have_text("rows 1–3 of 3", timeout=20_000)
        panel.locator("tbody td[data-column='count'] button.group-toggle").first.click()
        drill = panel.locator("tr.drill-row").first
        expect()(drill.locator("table.drill-table tbody tr")).to_have_count(N_ROWS // 3)
        shot(page, "grid-06-group-drill")
        drill.locator("button.drill-all").click()
        expect()(panel.locator(".expr-editor")).to_have_value(
            f'stream_table("{TABLE}").rows.filter(row => row["model"] == "m0")'
        )

        # an empty result: one "no rows" line, no blank rows
        run_expr(page, panel, f'stream_table("{TABLE}").rows.filter(row => row["n"] < 0)')
        expect()(panel.locator(".page-info")).to_have_text("rows 0–0 of 0")
        expect()(panel.locator("tbody tr")).to_have_count(1)
        expect()(panel.locator("tbody tr.no-rows")).to_have_text("no rows")
    finally:
        context.close()
    assert not errors, errors
