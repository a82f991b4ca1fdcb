"""The panel server's JSON API, over real HTTP against ``weave-lite serve`` in a subprocess."""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.parse
from pathlib import Path

import pyarrow as pa
import pytest

from weave_lite import StreamTable

HUGE_ROWS = 200_000


@pytest.fixture(scope="module")
def server(server_root: Path, start_server):
    with StreamTable("e/p/small", root=server_root) as st:
        st.log([{"model": f"m{i % 3}", "lat": i * 1.5, "n": i, "note": None if i % 5 else "x"} for i in range(30)])
    with StreamTable("e/p/huge", root=server_root) as st:
        st.log(pa.table({"n": pa.array(range(HUGE_ROWS), pa.int64()), "x": pa.array([i * 0.5 for i in range(HUGE_ROWS)])}))
    with StreamTable("e/p/live", root=server_root) as st:
        st.log({"model": "m0", "lat": 1.0})
    return start_server(server_root)


def evaluate(server, expr: str, **params):
    return server.request("POST", "/api/evaluate", {"expr": expr, **params})


# -- tables and schema ------------------------------------------------------------------------------


def test_tables_lists_row_counts(server):
    status, body = server.get("/api/tables")
    assert status == 200
    counts = {t["name"]: t["num_rows"] for t in body["tables"]}
    assert counts["e/p/small"] == 30 and counts["e/p/huge"] == HUGE_ROWS
    assert all(t["version"] >= 1 for t in body["tables"])


def test_schema_of_a_table(server):
    status, body = server.get("/api/tables/e/p/small")
    assert status == 200
    assert body["name"] == "e/p/small" and body["num_rows"] == 30
    types = {c["name"]: c["type"] for c in body["columns"]}
    assert types["model"] == "string" and types["lat"] == "float" and types["n"] == "int"
    assert types["timestamp"] == "timestamp" and "_client_id" in types


def test_schema_errors(server):
    assert server.get("/api/tables/e/p/missing")[0] == 404
    status, body = server.get("/api/tables/e/..%2F..%2Fetc/passwd")
    assert status in (400, 404) and "error" in body
    status, body = server.get("/api/tables/%2E%2E/p/t")
    assert status == 400 and "invalid" in body["error"]


# -- evaluate -------------------------------------------------------------------------------------------


def test_evaluate_rows(server):
    status, body = evaluate(server, 'stream_table("e/p/small").rows.filter(row => row["n"] < 4)')
    assert status == 200
    assert body["kind"] == "rows" and body["total"] == 4
    assert [r["n"] for r in body["rows"]] == [0, 1, 2, 3]
    assert body["rows"][0]["timestamp"].endswith("Z")
    assert [c["name"] for c in body["columns"]][:4] == ["model", "lat", "n", "note"]


def test_evaluate_by_get(server):
    q = urllib.parse.urlencode({"expr": 'stream_table("e/p/small").rows.count'})
    status, body = server.get(f"/api/evaluate?{q}")
    assert status == 200 and body["kind"] == "scalar" and body["value"] == 30


def test_evaluate_values_and_groups(server):
    status, body = evaluate(server, 'stream_table("e/p/small").rows["n"]', limit=5)
    assert status == 200 and body["kind"] == "values"
    assert body["values"] == [0, 1, 2, 3, 4] and body["total"] == 30
    status, body = evaluate(server, 'stream_table("e/p/small").rows.groupby(row => row["model"])')
    assert status == 200 and body["kind"] == "groups" and body["total"] == 3
    assert {g["groupkey"]: g["count"] for g in body["rows"]} == {"m0": 10, "m1": 10, "m2": 10}
    assert all(len(g["rows"]) <= 5 for g in body["rows"])  # a preview, the count is exact


def test_malformed_expression_is_400_with_the_error_text(server):
    status, body = evaluate(server, 'stream_table("e/p/small").rows.sort(')
    assert status == 400
    assert body["type"] == "ParseError"
    assert body["line"] == 1 and body["column"] >= 1 and body["expected"]
    assert "^" in body["error"] and "stream_table" in body["error"]  # the caret snippet


def test_unknown_op_and_type_errors_are_400(server):
    status, body = evaluate(server, 'stream_table("e/p/small").rows.cout')
    assert status == 400 and "count" in body["error"] and "count" in body.get("suggestions", [])
    status, body = evaluate(server, 'stream_table("e/p/small").rows.filter(row => row["nope"] > 1)')
    assert status == 400 and "nope" in body["error"]
    status, body = evaluate(server, 'stream_table("e/p/nothere").rows')
    assert status == 400 and "nothere" in body["error"]


def test_bad_requests(server):
    assert server.request("POST", "/api/evaluate", {"limit": 3})[0] == 400
    assert server.request("POST", "/api/evaluate", raw=b"{not json")[0] == 400
    assert server.request("POST", "/api/evaluate", {"expr": "1 + 1", "limit": -1})[0] == 400
    assert server.request("POST", "/api/evaluate", {"expr": "1 + 1", "offset": "x"})[0] == 400
    assert server.get("/api/nothing")[0] == 404


def test_evaluates_expressions_never_python(server):
    for expr in ['__import__("os").system("true")', "open('/etc/passwd')", "().__class__"]:
        status, body = evaluate(server, expr)
        assert status == 400, body


def test_paths_outside_the_root_are_refused(server):
    for name in ["../x", "../../etc/passwd", "/etc/passwd", "e/../p", "a/b/c/d", ".."]:
        status, body = evaluate(server, f"stream_table({json.dumps(name)}).rows")
        assert status == 400, (name, body)
        assert body["error"]
    assert not (server.root.parent / "x").exists()


def test_huge_result_is_limited_and_paged(server):
    expr = 'stream_table("e/p/huge").rows'
    status, body = evaluate(server, expr)
    assert status == 200 and body["total"] == HUGE_ROWS
    assert body["returned"] == 100 and body["next_offset"] == 100  # the default page
    status, body = evaluate(server, expr, limit=10_000_000)
    assert status == 200 and body["limited"] is True
    assert body["returned"] == body["limit"] == 10_000
    # paging: consecutive pages join up exactly
    seen = []
    offset = HUGE_ROWS - 2_500
    while offset is not None:
        status, body = evaluate(server, expr, offset=offset, limit=1_000)
        assert status == 200
        seen.extend(r["n"] for r in body["rows"])
        offset = body["next_offset"]
    assert seen == list(range(HUGE_ROWS - 2_500, HUGE_ROWS))
    status, body = evaluate(server, expr, offset=HUGE_ROWS + 5, limit=10)
    assert status == 200 and body["rows"] == [] and body["next_offset"] is None


def test_ops_for_completion(server):
    status, body = server.get("/api/ops")
    assert status == 200
    assert {"count", "filter", "groupby", "sort", "avg", "stream_table"} <= set(body["names"])


# -- boards ---------------------------------------------------------------------------------------------


def test_boards_roundtrip(server):
    board = {
        "panels": [
            {"id": "p1", "kind": "table", "expr": 'stream_table("e/p/small").rows', "page_size": 25},
            {"id": "p2", "kind": "plot", "expr": 'stream_table("e/p/small").rows', "plot": {"type": "bar", "x": "model", "y": "count"}},
        ]
    }
    status, saved = server.request("PUT", "/api/boards/latency", board)
    assert status == 200 and saved["name"] == "latency"
    on_disk = json.loads((server.root / "_boards" / "latency.json").read_text())
    assert on_disk["panels"] == board["panels"]
    status, got = server.get("/api/boards/latency")
    assert status == 200 and got["panels"] == board["panels"]
    status, listed = server.get("/api/boards")
    assert "latency" in [b["name"] for b in listed["boards"]]
    board["panels"][0]["expr"] = 'stream_table("e/p/small").rows.count'
    assert server.request("POST", "/api/boards/latency", board)[0] == 200  # overwrite
    assert server.get("/api/boards/latency")[1]["panels"][0]["expr"].endswith(".count")
    assert server.request("DELETE", "/api/boards/latency")[0] == 200
    assert server.get("/api/boards/latency")[0] == 404


def test_board_names_cannot_leave_the_root(server):
    board = {"panels": []}
    for name in ["..%2F..%2Fetc", "..", ".hidden", "a%2Fb", "%00x", "x" * 200, "_boards"]:
        status, body = server.request("PUT", f"/api/boards/{name}", board)
        assert status == 400, (name, body)
        assert "board name" in body["error"]
        assert server.get(f"/api/boards/{name}")[0] == 400
    assert not list(server.root.parent.glob("*.json"))


def test_invalid_boards_are_refused(server):
    assert server.request("PUT", "/api/boards/b1", [1, 2])[0] == 400
    assert server.request("PUT", "/api/boards/b1", {"panels": [{"kind": "table", "expr": 3}]})[0] == 400
    assert server.request("PUT", "/api/boards/b1", {"panels": [{"kind": 5, "expr": "1"}]})[0] == 400
    assert server.request("PUT", "/api/boards/b1", {"panels": "not a list"})[0] == 400
    assert server.request("PUT", "/api/boards/b1", {"panels": [{"expr": "1", "plot": "bar"}]})[0] == 400
    assert server.request("PUT", "/api/boards/b1", raw=b"nope")[0] == 400


# -- the page, hosts, live updates ----------------------------------------------------------------------


def test_index_page_and_static_files_need_no_internet(server):
    status, html = server.request("GET", "/")
    assert status == 200 and "<title>" in html
    for path in ["/static/app.js", "/static/expr.js", "/static/plots.js", "/static/timerange.js", "/static/style.css"]:
        status, text = server.request("GET", path)
        assert status == 200
        assert "https://" not in text and "cdn" not in text.lower()
    # the plot libraries are vendored: every script the page loads comes from /static/
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert "/static/vendor/vega-lite.min.js" in scripts
    for src in scripts:
        assert src.startswith("/static/")
        status, text = server.request("GET", src)
        assert status == 200 and len(text) > 1000


def test_foreign_host_header_is_refused(server):
    status, _ = server.request("GET", "/api/tables", headers={"Host": "evil.example.com"})
    assert status == 400


def test_events_announce_new_commits(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/api/events?table=e/p/live")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("content-type").startswith("text/event-stream")

    def next_event():
        event, data = None, None
        while True:
            line = resp.fp.readline().decode().rstrip("\n")
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data = json.loads(line.split(":", 1)[1])
            elif line == "" and event:
                return event, data

    assert next_event()[0] == "hello"
    with StreamTable("e/p/live", root=server.root) as st:
        st.log({"model": "m9", "lat": 1.0, "n": 99})
        st.flush()
        flushed = time.monotonic()
    event, data = next_event()
    assert event == "commit" and data["table"] == "e/p/live" and data["num_rows"] == 2
    assert time.monotonic() - flushed < 2.0
    conn.close()
