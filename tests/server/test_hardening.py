"""The panel server under hostile input (issue 10), against a real ``weave-lite serve`` process.

The threat: a web page in the user's browser can reach the loopback server (cross-site simple
requests, DNS rebinding) and can send any bytes. Each test talks raw HTTP (``http.client`` or a
socket) so that headers such as ``Host``, ``Origin`` and ``Content-Type`` are exactly as given.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from weave_lite import StreamTable

SLOW_ROWS = 20_000
SMALL = 'stream_table("e/p/small").rows'
# ~3 ms of CPU per group: about 15 s in all, but only as long as a test lets it run.
SLOW_EXPR = 'stream_table("e/p/slow").rows.groupby(row => row["n"] % 5000).map(g => g.profile).count'
# The example: 400 million floats, over 6 GB when nothing stops it.
HUNGRY_EXPR = 'stream_table("e/p/slow").rows.map(a => stream_table("e/p/slow").rows["lat"]).flatten.count'
BUDGET_TIMEOUT = 1.5
BUDGET_MEMORY = 500 * 1024**2
FOREIGN = "http://evil.example"
LIMIT_ERRORS = ("ResourceLimitError", "MemoryLimitError", "TimeLimitError")


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """``os.environ`` with ``values`` set (the server subprocess copies it at start)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def make_tables(root: Path) -> None:
    with StreamTable("e/p/small", root=root) as st:
        st.log([{"model": f"m{i % 3}", "lat": i * 1.5, "n": i} for i in range(30)])
    with StreamTable("e/p/slow", root=root) as st:
        st.log(pa.table({"n": pa.array(range(SLOW_ROWS), pa.int64()), "lat": pa.array([i * 0.5 for i in range(SLOW_ROWS)])}))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_server):
    root = tmp_path_factory.mktemp("hardening-root")
    make_tables(root)
    srv = start_server(root)
    wait_for_workers(srv)
    return srv


@pytest.fixture(scope="module")
def budget_server(tmp_path_factory: pytest.TempPathFactory, start_server):
    """A server started with small budgets from the environment."""
    root = tmp_path_factory.mktemp("budget-root")
    make_tables(root)
    with environment(WEAVE_LITE_TIMEOUT=str(BUDGET_TIMEOUT), WEAVE_LITE_MAX_MEMORY=str(BUDGET_MEMORY)):
        srv = start_server(root)
    wait_for_workers(srv)
    return srv


# -- raw HTTP ---------------------------------------------------------------------------------------


class Answer:
    def __init__(self, status: int, headers: dict[str, str], payload: bytes):
        self.status = status
        self.headers = headers
        self.payload = payload
        try:
            self.json: Any = json.loads(payload)
        except ValueError:
            self.json = None

    def __repr__(self) -> str:
        return f"<{self.status} {self.payload[:300]!r}>"


def call(
    server,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str | None] | None = None,
    timeout: float = 60,
) -> Answer:
    """One request with exactly these headers (``Host`` defaults to the server's own; a value
    of ``None`` leaves a header out)."""
    all_headers: dict[str, str | None] = {"Host": f"127.0.0.1:{server.port}"}
    all_headers.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in all_headers.items():
            if value is not None:
                conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def post_json(server, path: str, value: Any, method: str = "POST", **headers: str) -> Answer:
    body = value if isinstance(value, bytes) else json.dumps(value).encode()
    return call(server, method, path, body, {"Content-Type": "application/json", **headers})


def pool_status(server) -> dict:
    answer = call(server, "GET", "/api/evaluations")
    assert answer.status == 200, answer
    return answer.json


def completed_evaluations(server) -> int:
    """How many evaluations the server's pool has finished (0 for a server without a pool)."""
    answer = call(server, "GET", "/api/evaluations")
    return answer.json["completed"] if answer.status == 200 else 0


def wait_for_workers(server, timeout: float = 60) -> None:
    """Until every evaluation worker is ready (old servers without the endpoint: at once)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = call(server, "GET", "/api/evaluations")
        if answer.status != 200:
            return
        if answer.json["ready"] >= answer.json["workers"] and answer.json["busy"] == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"evaluation workers not ready: {answer}")


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def assert_json_error(answer: Answer, low: int = 400, high: int = 499) -> None:
    assert low <= answer.status <= high, answer
    assert answer.headers.get("content-type", "").startswith("application/json"), answer
    assert isinstance(answer.json, dict) and isinstance(answer.json.get("error"), str) and answer.json["error"], answer
    assert b"Traceback" not in answer.payload


class SlowEvaluation:
    """``SLOW_EXPR`` posted on its own connection, in a thread; ``close()`` hangs up."""

    def __init__(self, server, expr: str = SLOW_EXPR):
        body = json.dumps({"expr": expr}).encode()
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=120)
        request = (
            f"POST /api/evaluate HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        self.sock.sendall(request)
        self.answer: bytes | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            self.answer = self.sock.recv(65536)
        except OSError:
            self.answer = b""

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


# -- 1. cross-origin requests ------------------------------------------------------------------------


def test_text_plain_post_from_a_foreign_origin_neither_saves_a_board_nor_evaluates(server):
    before = completed_evaluations(server)
    board = json.dumps({"panels": [{"kind": "table", "expr": SMALL}]}).encode()
    for method in ("PUT", "POST"):
        answer = call(server, method, "/api/boards/stolen", board, {"Content-Type": "text/plain", "Origin": FOREIGN})
        assert answer.status == 403, answer
        assert_json_error(answer)
    assert not (server.root / "_boards" / "stolen.json").exists()
    assert call(server, "GET", "/api/boards/stolen").status == 404

    started = time.monotonic()
    expr = json.dumps({"expr": SLOW_EXPR}).encode()
    answer = call(server, "POST", "/api/evaluate", expr, {"Content-Type": "text/plain", "Origin": FOREIGN})
    assert answer.status == 403, answer
    assert_json_error(answer)
    assert "kind" not in answer.json and time.monotonic() - started < 1.0  # nothing was evaluated
    assert completed_evaluations(server) == before and pool_status(server)["busy"] == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": FOREIGN},
        {"Origin": "null"},  # sandboxed iframes, file: pages
        {"Origin": "https://127.0.0.1"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port of localhost
    ],
    ids=["foreign", "null", "https", "cross-site", "same-site"],
)
def test_cross_origin_json_requests_are_refused(server, headers):
    board = {"panels": [{"kind": "table", "expr": SMALL}]}
    assert post_json(server, "/api/boards/keep", board, method="PUT").status == 200
    for method in ("PUT", "POST"):
        answer = post_json(server, "/api/boards/overwritten", board, method=method, **headers)
        assert answer.status == 403, (method, answer)
        assert_json_error(answer)
    answer = call(server, "DELETE", "/api/boards/keep", headers=headers)
    assert answer.status == 403, answer
    assert call(server, "GET", "/api/boards/keep").status == 200
    answer = post_json(server, "/api/evaluate", {"expr": SMALL + ".count"}, **headers)
    assert answer.status == 403, answer
    answer = call(server, "GET", "/api/evaluate?expr=1%2B1", headers=headers)  # GET evaluates too
    assert answer.status == 403, answer
    assert not (server.root / "_boards" / "overwritten.json").exists()


def test_wrong_port_origin_is_foreign(server):
    answer = post_json(server, "/api/evaluate", {"expr": "1 + 1"}, Origin=f"http://127.0.0.1:{server.port + 1}")
    assert answer.status == 403, answer


def test_the_servers_own_origin_is_accepted(server):
    for origin in (f"http://127.0.0.1:{server.port}", f"http://localhost:{server.port}"):
        answer = post_json(server, "/api/evaluate", {"expr": "1 + 1"}, Origin=origin, **{"Sec-Fetch-Site": "same-origin"})
        assert answer.status == 200 and answer.json["value"] == 2, answer
    answer = post_json(server, "/api/evaluate", {"expr": "1 + 1"}, **{"Sec-Fetch-Site": "none"})
    assert answer.status == 200, answer


def test_links_from_other_sites_still_open_the_page(server):
    answer = call(server, "GET", "/", headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status == 200 and b"<title>" in answer.payload


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"],
)
def test_a_body_must_be_sent_as_application_json(server, content_type):
    board = json.dumps({"panels": []}).encode()
    answer = call(server, "PUT", "/api/boards/typed", board, {"Content-Type": content_type})
    assert answer.status == 415, answer
    assert_json_error(answer)
    assert not (server.root / "_boards" / "typed.json").exists()
    answer = call(server, "POST", "/api/evaluate", b'{"expr": "1 + 1"}', {"Content-Type": content_type})
    assert answer.status == 415, answer
    answer = call(server, "POST", "/api/evaluate", b'{"expr": "1 + 1"}', {"Content-Type": "application/json; charset=utf-8"})
    assert answer.status == 200, answer


# -- 2. the body limit, while streaming --------------------------------------------------------------


def _upload(server, headers: str, chunks: Iterator[bytes], sent: list[int]) -> tuple[bytes, float]:
    """Send the request head and then ``chunks`` from a thread; return the first bytes of the
    answer and when they came (seconds after the head was sent)."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)

    def pump() -> None:
        try:
            for chunk in chunks:
                sock.sendall(chunk)
                sent[0] += len(chunk)
        except OSError:
            pass  # the server answered and closed: expected

    sock.sendall(headers.encode())
    started = time.monotonic()
    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    try:
        answer = _read_answer(sock)
        elapsed = time.monotonic() - started
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    thread.join(20)
    return answer, elapsed


def _read_answer(sock: socket.socket) -> bytes:
    """One HTTP answer (head and ``Content-Length`` body), or what came before the close."""
    data = b""
    while True:
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            lengths = [line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
            if lengths and len(body) >= int(lengths[0]):
                return data
        try:
            chunk = sock.recv(65536)
        except OSError:
            return data
        if not chunk:
            return data
        data += chunk


def _zeros(total: int, chunk: int, chunked: bool) -> Iterator[bytes]:
    block = b"0" * chunk
    for _ in range(total // chunk):
        yield (f"{chunk:x}\r\n".encode() + block + b"\r\n") if chunked else block
    if chunked:
        yield b"0\r\n\r\n"


HUGE = 768 * 1024 * 1024


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_768_mb_body_is_refused_fast_without_buffering(server, chunked):
    before = rss_mb(server.proc.pid)
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUGE}"
    head = f"POST /api/evaluate HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n{length}\r\n\r\n"
    sent = [0]
    answer, elapsed = _upload(server, head, _zeros(HUGE, 1 << 20, chunked), sent)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert "too large" in body["error"]
    assert elapsed < 2.0, elapsed
    assert sent[0] < 128 * 1024 * 1024, f"the server read {sent[0]} bytes before refusing"
    assert rss_mb(server.proc.pid) - before < 64, (before, rss_mb(server.proc.pid))
    assert call(server, "GET", "/api/tables").status == 200  # and it goes on serving


def test_a_body_just_over_the_limit_is_413_json(server):
    answer = post_json(server, "/api/evaluate", b'{"expr": "' + b"1" * (5 * 1024 * 1024) + b'"}')
    assert answer.status == 413, answer
    assert_json_error(answer)


# -- 3. malformed input: 4xx JSON, never 500 ---------------------------------------------------------


DEEP = b"[" * 100_000
MALFORMED_BODIES = {
    "deep-array": DEEP,
    "deep-closed": b"[" * 100_000 + b"]" * 100_000,
    "deep-in-field": b'{"expr": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "deep-objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "nested-65": b'{"expr": "1", "limit": ' + b"[" * 65 + b"]" * 65 + b"}",
    "limit-1e400": b'{"expr": "1 + 1", "limit": 1e400}',
    "limit--1e400": b'{"expr": "1 + 1", "limit": -1e400}',
    "offset-1e400": b'{"expr": "1 + 1", "offset": 1e400}',
    "limit-NaN": b'{"expr": "1 + 1", "limit": NaN}',
    "limit-Infinity": b'{"expr": "1 + 1", "limit": Infinity}',
    "expr-NaN": b'{"expr": NaN}',
    "offset-huge": b'{"expr": "1 + 1", "offset": 1' + b"0" * 40 + b"}",
    "offset-2**63": b'{"expr": "1 + 1", "offset": 9223372036854775808}',
    "limit-5000-digits": b'{"expr": "1 + 1", "limit": 1' + b"0" * 5000 + b"}",
    "lone-surrogate-expr": b'{"expr": "\\ud800"}',
    "lone-surrogate-in-name": b'{"expr": "stream_table(\\"e/p/\\udfff\\").rows"}',
    "lone-surrogate-key": b'{"expr": "1", "\\ud800": 1}',
    "expr-int": b'{"expr": 1}',
    "expr-null": b'{"expr": null}',
    "expr-list": b'{"expr": ["1"]}',
    "expr-object": b'{"expr": {"a": 1}}',
    "expr-bool": b'{"expr": true}',
    "expr-empty": b'{"expr": "  "}',
    "limit-string": b'{"expr": "1", "limit": "5"}',
    "limit-bool": b'{"expr": "1", "limit": true}',
    "limit-list": b'{"expr": "1", "limit": [5]}',
    "limit-object": b'{"expr": "1", "limit": {}}',
    "limit-fraction": b'{"expr": "1", "limit": 1.5}',
    "offset-negative": b'{"expr": "1", "offset": -1}',
    "offset-string": b'{"expr": "1", "offset": "x"}',
    "unknown-field": b'{"expr": "1", "limt": 5}',
    "body-list": b"[1, 2]",
    "body-string": b'"1 + 1"',
    "body-number": b"12",
    "body-null": b"null",
    "invalid-utf8": b'{"expr": "\xff\xfe"}',
    "invalid-utf8-only": b"\xff\xff\xff",
    "utf16": '{"expr": "1"}'.encode("utf-16"),
    "bom": b'\xef\xbb\xbf{"expr": "1"}',
    "truncated": b'{"expr": "1',
    "trailing": b'{"expr": "1"} x',
    "expr-too-long": json.dumps({"expr": "1" * 200_000}).encode(),
    "expr-deep-brackets": json.dumps({"expr": "(" * 100_000}).encode(),
    "expr-deep-lists": json.dumps({"expr": "[" * 5_000 + "]" * 5_000}).encode(),
}


@pytest.mark.parametrize("body", list(MALFORMED_BODIES.values()), ids=list(MALFORMED_BODIES))
def test_malformed_evaluate_bodies_are_4xx_json(server, body):
    assert_json_error(post_json(server, "/api/evaluate", body))


MALFORMED_BOARDS = {
    "deep": DEEP,
    "deep-panels": b'{"panels": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
    "lone-surrogate-expr": b'{"panels": [{"kind": "table", "expr": "\\ud800"}]}',
    "lone-surrogate-value": b'{"panels": [{"kind": "table", "expr": "1", "title": "\\udc00x"}]}',
    "nan": b'{"panels": [{"kind": "table", "expr": "1", "page_size": NaN}]}',
    "1e400": b'{"panels": [{"kind": "table", "expr": "1", "page_size": 1e400}]}',
    "panels-object": b'{"panels": {}}',
    "panel-number": b'{"panels": [1]}',
    "expr-number": b'{"panels": [{"expr": 5}]}',
    "kind-list": b'{"panels": [{"kind": [], "expr": "1"}]}',
    "plot-string": b'{"panels": [{"expr": "1", "plot": "bar"}]}',
    "unknown-field": b'{"panels": [], "owner": "me"}',
    "list": b"[]",
    "invalid-utf8": b'{"panels": [{"expr": "\xc3\x28"}]}',
}


@pytest.mark.parametrize("case", list(MALFORMED_BOARDS))
def test_malformed_boards_are_4xx_json_and_not_saved(server, case):
    name = f"malformed-{case}"
    assert_json_error(post_json(server, f"/api/boards/{name}", MALFORMED_BOARDS[case], method="PUT"))
    assert not (server.root / "_boards" / f"{name}.json").exists()


MALFORMED_PATHS = [
    "/api/evaluate?expr=1&limit=1e400",
    "/api/evaluate?expr=1&offset=99999999999999999999999999999",
    "/api/evaluate?expr=1&offset=" + "9" * 5000,
    "/api/evaluate?expr=1&limit=NaN",
    "/api/evaluate?expr=1&limit=-Infinity",
    "/api/evaluate?expr=%ED%A0%80",  # a lone surrogate, UTF-8 encoded
    "/api/evaluate?expr=%FF%FE",
    "/api/evaluate?expr=1&bogus=2",
    "/api/evaluate?expr=" + "%5B" * 10_000,
    "/api/boards/%ED%A0%80",
    "/api/boards/%FF",
    "/api/tables/%ED%A0%80/p/t",
    "/api/schema?table=%ED%A0%80%2Fp%2Ft",
    "/api/events?table=%ED%A0%80",
    "/api/events?table=..%2F..%2Fetc",
]


@pytest.mark.parametrize("path", MALFORMED_PATHS)
def test_malformed_query_strings_and_paths_are_4xx_json(server, path):
    assert_json_error(call(server, "GET", path))


def test_mutated_bodies_are_never_a_500(server):
    """A small seeded fuzz: byte mutations of valid evaluate and board bodies."""
    rng = random.Random(10)
    seeds = [
        (b'{"expr": "stream_table(\\"e/p/small\\").rows.count", "limit": 5, "offset": 0}', "POST", "/api/evaluate"),
        (b'{"panels": [{"id": "p1", "kind": "table", "expr": "1 + 1", "page_size": 5}]}', "PUT", "/api/boards/fuzzed"),
    ]
    specials = [b"\\ud800", b"1e400", b"NaN", b"[", b"{", b"\xff", b"\x00", b'"', b"\\", b"-0", b"9" * 40, b"null", b"true"]
    for i in range(300):
        body, method, path = seeds[i % 2]
        data = bytearray(body)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data) + 1)
            if rng.random() < 0.5:
                data[pos:pos + rng.randint(0, 3)] = rng.choice(specials)
            else:
                data[pos:pos] = bytes([rng.randrange(256)])
        answer = post_json(server, path, bytes(data), method=method)
        assert answer.status < 500, (bytes(data), answer)
        assert isinstance(answer.json, dict), (bytes(data), answer)


def test_huge_limits_are_capped_not_errors(server):
    answer = post_json(server, "/api/evaluate", b'{"expr": "stream_table(\\"e/p/small\\").rows", "limit": 1' + b"0" * 400 + b"}")
    assert answer.status == 200 and answer.json["limited"] is True and answer.json["returned"] == 30, answer
    answer = call(server, "GET", "/api/evaluate?expr=1%2B1&limit=" + "9" * 25)
    assert answer.status == 200 and answer.json["value"] == 2, answer


# -- 4. the evaluation pool ----------------------------------------------------------------------------


def test_a_slow_evaluation_never_blocks_the_metadata_endpoints(server):
    slow = SlowEvaluation(server)
    try:
        time.sleep(1.0)  # well into the evaluation
        assert slow.running, slow.answer
        for path in ["/api/tables", "/api/tables/e/p/small", "/api/boards", "/api/ops", "/api/evaluations", "/"]:
            for _ in range(3):
                started = time.monotonic()
                answer = call(server, "GET", path, timeout=10)
                elapsed = time.monotonic() - started
                assert answer.status == 200, (path, answer)
                assert elapsed < 0.5, (path, elapsed)
        # and a quick evaluation does not queue behind the slow one (two workers)
        started = time.monotonic()
        answer = post_json(server, "/api/evaluate", {"expr": SMALL + ".count"})
        assert answer.status == 200 and answer.json["value"] == 30, answer
        assert time.monotonic() - started < 2.0
        assert slow.running
    finally:
        slow.close()
    wait_until(lambda: pool_status(server)["busy"] == 0, 5, "the slow evaluation to be cancelled")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` so far (``None`` once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    if fields[0] == "Z":
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_an_evaluation_whose_client_hung_up_is_cancelled(server):
    before = pool_status(server)
    slow = SlowEvaluation(server)
    wait_until(lambda: pool_status(server)["busy"] == 1, 10, "the evaluation to start")
    (pid,) = pool_status(server)["busy_pids"]
    time.sleep(0.5)
    assert slow.running and cpu_seconds(pid) is not None
    slow.close()
    hung_up = time.monotonic()
    wait_until(lambda: pool_status(server)["busy"] == 0, 3, "the evaluation to be cancelled")
    assert time.monotonic() - hung_up < 1.5
    # stopped, not left running: its worker is gone (killed) or idle (cancelled through its budget)
    spent = cpu_seconds(pid)
    time.sleep(1.0)
    later = cpu_seconds(pid)
    assert later is None or spent is None or later - spent < 0.2, (spent, later)
    status = pool_status(server)
    assert status["cancelled"] == before["cancelled"] + 1
    assert len(status["pids"]) == status["workers"]
    wait_for_workers(server)
    answer = post_json(server, "/api/evaluate", {"expr": SMALL + ".count"})
    assert answer.status == 200 and answer.json["value"] == 30


def test_budgets_come_from_the_environment(server, budget_server):
    assert pool_status(server)["budgets"] == {"max_memory": 2 * 1024**3, "timeout": 30.0}
    assert pool_status(budget_server)["budgets"] == {"max_memory": BUDGET_MEMORY, "timeout": BUDGET_TIMEOUT}


def test_an_evaluation_over_its_time_budget_is_stopped(budget_server):
    started = time.monotonic()
    answer = post_json(budget_server, "/api/evaluate", {"expr": SLOW_EXPR})
    elapsed = time.monotonic() - started
    assert_json_error(answer)
    assert answer.json["type"] in LIMIT_ERRORS, answer
    assert BUDGET_TIMEOUT - 0.1 < elapsed < BUDGET_TIMEOUT + 4.0, elapsed
    wait_until(lambda: pool_status(budget_server)["busy"] == 0, 3, "the worker to be free")
    wait_for_workers(budget_server)
    answer = post_json(budget_server, "/api/evaluate", {"expr": SMALL + ".count"})
    assert answer.status == 200 and answer.json["value"] == 30


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="memory is measured from /proc (Linux)")
def test_an_evaluation_over_its_memory_budget_is_stopped(budget_server):
    started = time.monotonic()
    answer = post_json(budget_server, "/api/evaluate", {"expr": HUNGRY_EXPR})
    assert_json_error(answer)
    assert answer.json["type"] in LIMIT_ERRORS, answer
    assert time.monotonic() - started < BUDGET_TIMEOUT + 4.0
    assert rss_mb(budget_server.proc.pid) < 400  # the server process itself never held it
    wait_for_workers(budget_server)
    answer = post_json(budget_server, "/api/evaluate", {"expr": SMALL + ".count"})
    assert answer.status == 200 and answer.json["value"] == 30


# The pool's own backstops, with stand-in engines (tests/server/fake_engines.py) that ignore
# budgets: the real engine usually stops first, so these paths need a deterministic driver.


def run_in_pool(
    tmp_path: Path,
    engine: str,
    *,
    timeout: float | None = 30.0,
    max_memory: int | None = None,
    hang_up_after: float | None = None,
    await_replacement: bool = False,
):
    """``(status, body or "gone", pool status, seconds)`` of one evaluation by a stand-in engine in
    a one-worker pool; ``hang_up_after``: the client disconnects that long after it started."""
    from weave_lite.server.evaluator import Budgets, ClientGone, EvalPool

    pool = EvalPool(tmp_path, Budgets(max_memory=max_memory, timeout=timeout), size=1, engine=f"tests.server.fake_engines:{engine}")
    pool.start()
    wait_until(lambda: pool.status()["ready"] == 1, 60, "the worker to start")
    began: list[float] = []

    async def is_disconnected() -> bool:
        if not began:
            began.append(time.monotonic())
        return hang_up_after is not None and time.monotonic() - began[0] > hang_up_after

    async def main():
        try:
            return await pool.evaluate("x", 0, 10, is_disconnected)
        except ClientGone:
            return None, "gone"

    started = time.monotonic()
    try:
        status, body = asyncio.run(main())
        elapsed = time.monotonic() - started
        if await_replacement:
            wait_until(lambda: pool.status()["ready"] == 1, 60, "a replacement worker")
        return status, body, pool.status(), elapsed
    finally:
        pool.close()


def test_pool_answers_with_a_stand_in_engine(tmp_path):
    status, body, pool, _ = run_in_pool(tmp_path, "answer")
    assert status == 200 and body["value"] == 42 and pool["completed"] == 1 and pool["killed"] == 0


def test_pool_kills_an_evaluation_past_its_deadline(tmp_path):
    status, body, pool, elapsed = run_in_pool(tmp_path, "spin", timeout=0.5)
    assert status == 400 and body["type"] == "ResourceLimitError" and "time" in body["error"]
    assert 0.5 <= elapsed < 2.0 and pool["timed_out"] == 1 and pool["killed"] == 1


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="memory is measured from /proc (Linux)")
def test_pool_kills_an_evaluation_past_its_memory_budget(tmp_path):
    status, body, pool, elapsed = run_in_pool(tmp_path, "hog", max_memory=300 * 1024**2)
    assert status == 400 and body["type"] == "ResourceLimitError" and "memory" in body["error"]
    assert elapsed < 5.0 and pool["over_memory"] == 1 and pool["killed"] == 1


def test_pool_kills_an_evaluation_whose_client_hung_up(tmp_path):
    _status, body, pool, elapsed = run_in_pool(tmp_path, "spin", hang_up_after=0.3)
    assert body == "gone" and elapsed < 2.0
    assert pool["cancelled"] == 1 and pool["killed"] == 1


def test_pool_cancels_a_cooperative_evaluation_without_a_kill(tmp_path):
    pytest.importorskip("weave_lite.budgets", reason="the engine has no cancellable budgets yet")
    _status, body, pool, elapsed = run_in_pool(tmp_path, "cooperative", hang_up_after=0.3)
    assert body == "gone" and elapsed < 2.0
    assert pool["cancelled"] == 1 and pool["killed"] == 0  # the worker stopped and was reused


def test_pool_survives_a_crashing_engine(tmp_path):
    status, body, pool, _ = run_in_pool(tmp_path, "crash", await_replacement=True)
    assert status == 500 and body["type"] == "InternalError" and "Traceback" not in body["error"]
    assert pool["crashed"] == 1 and pool["ready"] == 1


# -- 5. the Host header ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["testserver", "evil.example", "evil.example:{port}", "localhost", "127.0.0.1:{other}", "127.0.0.1.nip.io:{port}", "[::2]:{port}", "localhost:x"],
)
def test_only_loopback_hosts_with_the_servers_port_are_answered(server, host):
    value = host.format(port=server.port, other=server.port + 1)
    for method, path, body in [("GET", "/api/tables", None), ("GET", "/", None), ("PUT", "/api/boards/rebound", b'{"panels": []}')]:
        answer = call(server, method, path, body, {"Host": value, "Content-Type": "application/json"})
        assert answer.status == 400, (value, path, answer)
        assert_json_error(answer)
    assert not (server.root / "_boards" / "rebound.json").exists()


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}"])
def test_loopback_hosts_are_answered(server, host):
    answer = call(server, "GET", "/api/tables", headers={"Host": host.format(port=server.port)})
    assert answer.status == 200, answer


def asgi_get(app, path: str, host: str = "testserver") -> Answer:
    """``GET path`` straight through the ASGI app, the way Starlette's TestClient calls it
    (``Host: testserver``, server ``("testserver", 80)``); no lifespan, no network."""
    messages: list[dict] = []
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict:
        return requests.pop() if requests else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        messages.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", host.encode())], "server": (host, 80), "client": ("127.0.0.1", 50000),
    }

    async def run() -> None:
        with contextlib.suppress(Exception):  # Starlette re-raises after answering a 500
            await app(scope, receive, send)

    asyncio.run(run())
    start = next(m for m in messages if m["type"] == "http.response.start")
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return Answer(start["status"], headers, b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body"))


def test_testserver_only_when_the_app_opts_in(tmp_path):
    from weave_lite.server import create_app

    answer = asgi_get(create_app(tmp_path), "/api/tables")
    assert answer.status == 400, answer
    assert_json_error(answer)
    assert asgi_get(create_app(tmp_path, allowed_hosts=["testserver"]), "/api/tables").status == 200


# -- 6. errors ------------------------------------------------------------------------------------------


def test_engine_errors_are_4xx_json_with_the_message(server):
    answer = post_json(server, "/api/evaluate", {"expr": SMALL + '.filter(row => row["nope"] > 1)'})
    assert_json_error(answer)
    assert "nope" in answer.json["error"] and answer.json["type"]
    answer = post_json(server, "/api/evaluate", {"expr": 'stream_table("e/p/absent").rows'})
    assert_json_error(answer)
    assert "absent" in answer.json["error"]


def test_a_damaged_board_file_is_500_json_without_a_traceback(server):
    boards = server.root / "_boards"
    boards.mkdir(exist_ok=True)
    (boards / "damaged.json").write_text("[1, 2, 3]")
    (boards / "garbled.json").write_bytes(b"\xff{")
    for name in ("damaged", "garbled"):
        answer = call(server, "GET", f"/api/boards/{name}")
        assert_json_error(answer, 500, 500)
        assert name in answer.json["error"]
    assert call(server, "GET", "/api/boards").status == 200


def test_unexpected_exceptions_are_500_json_without_a_traceback(tmp_path, monkeypatch):
    from weave_lite.server import app as server_app

    def broken(self):
        raise RuntimeError("secret detail in /home/user/path")

    monkeypatch.setattr(server_app.PanelServer, "tables", broken)
    answer = asgi_get(server_app.create_app(tmp_path, allowed_hosts=["testserver"]), "/api/tables")
    assert_json_error(answer, 500, 500)
    assert answer.json["type"] == "InternalError"
    assert b"secret" not in answer.payload


def test_an_engine_crash_in_a_worker_is_500_json_without_a_traceback():
    from weave_lite.server.worker import Engine, EvalJob, run_job

    def crashing(expr, *, root=None):
        raise KeyError("boom")

    status, body = run_job(Engine(crashing), EvalJob(1, "1", 0, 10), "/nonexistent")
    assert status == 500 and body["type"] == "InternalError" and "KeyError" in body["error"]
    assert "Traceback" not in json.dumps(body)


# -- the event stream (a bug: a table created after the stream started raised TypeError) ---------------


def _events(server, query: str = ""):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/api/events" + query)
    resp = conn.getresponse()
    assert resp.status == 200

    def next_event() -> tuple[str, Any]:
        event = None
        while True:
            raw = resp.fp.readline()
            if not raw:
                raise AssertionError("the event stream ended")
            line = raw.decode().rstrip("\n")
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data = json.loads(line.split(":", 1)[1])
            elif line == "" and event:
                return event, data

    return conn, next_event


@pytest.mark.parametrize("filtered", [False, True], ids=["all-tables", "one-table"])
def test_events_announce_a_table_created_after_the_stream_started(server, filtered):
    name = f"e/p/created_later_{int(filtered)}"
    conn, next_event = _events(server, f"?table={name}" if filtered else "")
    try:
        event, hello = next_event()
        assert event == "hello" and name not in hello["tables"]
        with StreamTable(name, root=server.root) as st:
            st.log({"model": "m0", "lat": 1.0})
            st.flush()
        deadline = time.monotonic() + 5
        while True:
            event, data = next_event()
            if event == "commit" and data["table"] == name:
                break
            assert time.monotonic() < deadline
        assert data["num_rows"] == 1 and data.get("new_table") is True
        with StreamTable(name, root=server.root) as st:  # and the stream goes on
            st.log({"model": "m1", "lat": 2.0})
        event, data = next_event()
        assert event == "commit" and data["table"] == name and data["num_rows"] == 2
    finally:
        conn.close()
