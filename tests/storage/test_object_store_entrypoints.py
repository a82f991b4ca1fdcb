"""The command line and the panel server on an ``s3://`` root (moto on loopback): the same
answers as ``evaluate``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.parse

import pytest
from click.testing import CliRunner

pytest.importorskip("moto")
pytest.importorskip("starlette")

from tests.storage.test_object_store import moto_endpoint, s3_root  # noqa: F401  (fixtures)
from weave_lite import StreamTable, evaluate
from weave_lite.cli import commands


@pytest.fixture
def s3_table(s3_root):  # noqa: F811
    with StreamTable("e/p/t", root=s3_root) as st:
        st.log([{"model": "a" if i % 3 else "b", "lat": float(i)} for i in range(60)])
    return s3_root


def test_cli_query_and_tables_on_s3(s3_table):
    runner = CliRunner()
    result = runner.invoke(commands.main, ["query", "--root", s3_table, "--format", "json", 'stream_table("e/p/t").rows.filter(r => r["model"] == "b").count'])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == evaluate('stream_table("e/p/t").rows.filter(r => r["model"] == "b").count', root=s3_table) == 20
    listed = runner.invoke(commands.main, ["tables", "--root", s3_table, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert "e/p/t" in listed.output


def _asgi_get(app, path: str, query: str = "") -> tuple[int, bytes]:
    messages: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        messages.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", b"testserver")], "server": ("testserver", 80), "client": ("127.0.0.1", 50000),
    }  # fmt: skip

    async def run() -> None:
        with contextlib.suppress(Exception):
            await app(scope, receive, send)

    asyncio.run(run())
    start = next(m for m in messages if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")


def test_server_lists_and_evaluates_on_s3(s3_table):
    from weave_lite.server import create_app

    app = create_app(s3_table, allowed_hosts=["testserver"], eval_workers=1)
    status, body = _asgi_get(app, "/api/tables")
    assert status == 200, body
    assert "e/p/t" in body.decode()
    expr = 'stream_table("e/p/t").rows["lat"].sum'
    status, body = _asgi_get(app, "/api/evaluate", urllib.parse.urlencode({"expr": expr}))
    assert status == 200, body
    answer = json.loads(body)
    assert answer["kind"] == "scalar" and answer["value"] == evaluate(expr, root=s3_table) == float(sum(range(60)))

