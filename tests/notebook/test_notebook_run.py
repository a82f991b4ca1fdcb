"""A notebook executed headless (nbclient, a real ipykernel): its saved outputs hold the
empty table, the rows right after ``log``, the live view's initial HTML (and its in-place
update), the profile HTML and the drift report. The executed notebook goes to
test-artifacts/ for review."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"

CELLS = [
    # 0: an empty table
    """import time
import pyarrow as pa
import weave_lite
from weave_lite import StreamTable
from weave_lite.profiles import drift, profile_table
st = StreamTable("acme/prod/preds", root=ROOT, batch_rows=1_000_000, batch_interval=60)
st""",
    # 1: right after log (the writer would wait a minute on its own)
    """st.log([{"model": f"m{i % 3}", "latency": float(i)} for i in range(12)])
st""",
    # 2: the live view
    """view = st.panel(".count", interval=0.1)
view""",
    # 3: rows arrive; wait until the view saw them
    """st.log([{"model": "m9", "latency": 100.0 + i} for i in range(30)])
st.flush()
deadline = time.monotonic() + 60
while view.value != 42 and time.monotonic() < deadline:
    time.sleep(0.05)
time.sleep(0.3)  # the update of the output goes out after the value is set
print("view value", view.value)""",
    # 4: profile HTML
    """profile_table(st.to_arrow().select(["model", "latency"]), name="preds")""",
    # 5: drift report
    """ref = profile_table(pa.table({"latency": [float(i) for i in range(100)]}))
cur = profile_table(pa.table({"latency": [float(i) + 300 for i in range(100)]}))
weave_lite.show(drift(ref, cur))""",
    # 6: a live view of a table that gets no more rows: its output stays the initial HTML
    """other = StreamTable("acme/prod/other", root=ROOT)
other.log([{"k": "first"}, {"k": "second"}, {"k": "third"}])
other.flush()
tail = other.panel(max_rows=2)
tail""",
    # 7
    """st.finish()
other.finish()""",  # the views' threads end with the kernel
]


def html_of(cell) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook, executed once (a kernel start costs seconds)."""
    tmp_path = tmp_path_factory.mktemp("notebook")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"ROOT = {str(tmp_path)!r}")]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in CELLS]
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        client.execute()
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        nbformat.write(nb, ARTIFACTS / "notebook_live_view.ipynb")
    return nb


def test_notebook_outputs(executed):
    nb = executed
    cells = nb.cells[1:]
    errors = [o for c in nb.cells for o in c.outputs if o.output_type == "error"]
    assert not errors, errors

    empty = html_of(cells[0])
    assert "acme/prod/preds (0 rows)" in empty and ">no rows<" in empty and "<td></td>" not in empty

    logged = html_of(cells[1])
    assert "acme/prod/preds (12 rows)" in logged and "<td>m2</td>" in logged

    live = cells[2].outputs
    assert [o.output_type for o in live] == ["display_data"]
    shown = live[0].data["text/html"]
    # The output was first the 12 rows counted, then updated in place to 42 as rows arrived,
    # by the view's thread (nbclient applies the kernel's update_display_data to the saved
    # output, as a front end does).
    assert "wl-live" in shown and "live ·" in shown and "<code>42</code>" in shown, shown
    assert "view value 42" in cells[3].outputs[0].text

    initial = html_of(cells[6])  # never updated: the initial HTML of a live view
    assert "wl-live" in initial and "live · updated" in initial
    assert "acme/prod/other (3 rows)" in initial and "showing the last 2 of 3 rows" in initial
    assert "<td>second</td>" in initial and "<td>third</td>" in initial and "<td>first</td>" not in initial

    profile = html_of(cells[4])
    assert "wl-profile" in profile and "profile preds (42 rows, 2 columns)" in profile
    assert "m9 (30)" in profile and "<td>latency</td><td>42</td><td>0</td>" in profile

    drifted = html_of(cells[5])
    assert "1 of 1 columns drifted: latency" in drifted and '<tr class="drifted">' in drifted


def test_notebook_outputs_in_a_browser(executed, tmp_path):
    """The saved HTML outputs as a page in Chromium, screenshot for review; the tables are laid
    out (a drifted row has its highlight), not just present as text."""
    from tests.server.test_browser import CHROMIUM_ARGS, chromium_path

    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium is not installed")
    page_html = "<html><body>" + "<hr>".join(html_of(c) for c in executed.cells if html_of(c)) + "</body></html>"
    page_path = tmp_path / "outputs.html"
    page_path.write_text(page_html, encoding="utf-8")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(page_path.as_uri())
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "notebook_outputs.png"), full_page=True)
            assert page.locator(".wl-live").count() == 2 and page.locator(".wl-profile table").count() == 1
            drifted = page.locator(".wl-drift tr.drifted td").first
            assert drifted.evaluate("td => getComputedStyle(td).backgroundColor") == "rgb(253, 226, 226)"
            assert page.locator("td.empty").first.inner_text() == "no rows"
        finally:
            browser.close()
