"""Start the real panel server (``python -m weave_lite.cli serve``) in a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_serve_extra() -> None:
    for module in ("starlette", "uvicorn"):
        try:
            __import__(module)
        except ImportError:
            pytest.skip(f'the panel server needs the "serve" extra ({module} is not installed)')


class ServerProcess:
    """``weave-lite serve --root ROOT --port PORT`` running in a subprocess."""

    def __init__(self, root: Path, log_path: Path):
        self.root = root
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, WEAVE_LITE_ROOT=str(root), WEAVE_LITE_PORT=str(self.port))
        self.log_file = open(log_path, "wb")  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "weave_lite.cli", "serve", "--root", str(root), "--port", str(self.port)],
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.log_path = log_path
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{log_path.read_text()}")
            try:
                self.get("/api/tables")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the server did not start:\n{log_path.read_text()}") from None
                time.sleep(0.1)

    def request(self, method: str, path: str, body: object = None, *, raw: bytes | None = None, headers: dict | None = None):
        """``(status, parsed JSON body)``; error statuses are returned, not raised."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                payload = resp.read()
                status = resp.status
        except urllib.error.HTTPError as err:
            payload = err.read()
            status = err.code
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode("utf-8", "replace")

    def get(self, path: str):
        status, body = self.request("GET", path)
        if status >= 500:
            raise RuntimeError(body)
        return status, body

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log_file.close()


@pytest.fixture(scope="module")
def server_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("panel-root")


@pytest.fixture(scope="module")
def start_server(tmp_path_factory: pytest.TempPathFactory):
    """A factory: ``start_server(root)`` -> a running :class:`ServerProcess` (stopped at the end)."""
    need_serve_extra()
    started: list[ServerProcess] = []

    def start(root: Path) -> ServerProcess:
        log_path = tmp_path_factory.mktemp("server-log") / "serve.log"
        server = ServerProcess(root, log_path)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
