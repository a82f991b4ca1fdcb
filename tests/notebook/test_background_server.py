"""``weave_lite.serve(background=True)``: a real panel server in a daemon thread, reached over
HTTP, and the URL ``StreamTable.log`` returns answering."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request

import pytest

import weave_lite
from weave_lite import StreamTable

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str):
    with urllib.request.urlopen(url, timeout=60) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), resp.read()


@pytest.fixture
def server(tmp_path, monkeypatch):
    port = free_port()
    monkeypatch.setenv("WEAVE_LITE_PORT", str(port))
    handle = weave_lite.serve(tmp_path, background=True, eval_workers=1)
    yield handle
    handle.stop()


def test_log_url_answers_once_a_background_server_runs(tmp_path, server):
    assert server.url.startswith("http://127.0.0.1:") and not server.external
    st = StreamTable("acme/prod/preds", root=tmp_path)
    url = st.log({"model": "m1", "latency": 3.0})
    st.log({"model": "m2", "latency": 5.0})
    st.flush()
    assert url == f"{server.url}/#/table/acme/prod/preds" == st.url
    status, kind, page = get(url)  # the fragment stays in the browser; the page is served
    assert status == 200 and kind.startswith("text/html") and b"<html" in page.lower()
    _, _, schema = get(f"{server.url}/api/tables/acme/prod/preds")
    assert json.loads(schema)["num_rows"] == 2
    expr = urllib.parse.quote('stream_table("acme/prod/preds").rows["latency"].sum')
    _, _, body = get(f"{server.url}/api/evaluate?expr={expr}")
    assert json.loads(body)["value"] == 8.0
    st.finish()


def test_idempotent_and_stoppable(tmp_path, server):
    assert weave_lite.serve(tmp_path, background=True) is server
    assert server.running
    server.stop()
    server.stop()  # twice is fine
    assert not server.running
    with pytest.raises(urllib.error.URLError):
        get(f"{server.url}/api/tables")
    again = weave_lite.serve(tmp_path, background=True, eval_workers=1)
    try:
        assert again is not server and get(f"{again.url}/api/tables")[0] == 200
    finally:
        again.stop()


def test_a_taken_port_moves_the_server_and_the_urls(tmp_path, monkeypatch):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        monkeypatch.setenv("WEAVE_LITE_PORT", str(taken))
        handle = weave_lite.serve(tmp_path, background=True, eval_workers=1)
        try:
            assert handle.port != taken
            st = StreamTable("t", root=tmp_path)
            assert st.url.startswith(handle.url + "/#/table/")
            assert get(f"{handle.url}/api/tables")[0] == 200
        finally:
            handle.stop()
    assert StreamTable("t", root=tmp_path).url.startswith(f"http://127.0.0.1:{taken}/")  # stopped: back to the default


def test_loopback_only(tmp_path):
    with pytest.raises(ValueError, match="loopback"):
        weave_lite.serve(tmp_path, background=True, host="0.0.0.0")


def test_a_weave_lite_serve_of_the_same_root_is_reused(tmp_path, monkeypatch):
    from tests.server.conftest import ServerProcess

    external = ServerProcess(tmp_path, tmp_path / "serve.log")  # `weave-lite serve` in a subprocess
    try:
        monkeypatch.setenv("WEAVE_LITE_PORT", str(external.port))
        handle = weave_lite.serve(tmp_path, background=True)
        assert handle.external and handle.url == external.base and handle.running
        st = StreamTable("t", root=tmp_path)
        url = st.log({"a": 1})
        st.finish()
        assert url.startswith(external.base + "/#/table/") and get(url)[0] == 200
        handle.stop()  # leaves the other process's server alone
        assert external.proc.poll() is None and get(f"{external.base}/api/tables")[0] == 200
    finally:
        external.stop()
