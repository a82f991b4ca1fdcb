"""The ``weave-lite`` command line, run as a real subprocess (``python -m weave_lite.cli``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from weave_lite import StreamTable, evaluate, to_python
from weave_lite.storage import open_table

ROWS = [
    {"model": "m0", "lat": 12.5, "n": 0, "tags": ["a", "b"], "meta": {"lang": "fr"}},
    {"model": "m1", "lat": 40.25, "n": 1, "tags": [], "meta": {"lang": "en"}},
    {"model": "m0", "lat": None, "n": 2, "tags": ["c"], "meta": {"lang": "en"}},
    {"model": "m2", "lat": 8.0, "n": 3, "tags": ["a"], "meta": {"lang": "de"}},
    {"model": "m1", "lat": 99.75, "n": 4, "tags": [], "meta": {"lang": "fr"}},
]


def cli(*args: str, root: Path, stdin: bytes | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, WEAVE_LITE_ROOT=str(root))
    return subprocess.run(
        [sys.executable, "-m", "weave_lite.cli", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=timeout,
    )


def text(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.decode()


def json_out(proc: subprocess.CompletedProcess):
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-root")
    with StreamTable("e/p/t", root=root) as st:
        st.log(ROWS)
    return root


def test_help_lists_every_command(data_root):
    proc = cli("--help", root=data_root)
    assert proc.returncode == 0
    for command in ("query", "tables", "log", "compact", "serve", "profile"):
        assert command in text(proc)


def test_query_prints_a_readable_table(data_root):
    proc = cli("query", 'stream_table("e/p/t").rows', "--root", str(data_root), root=data_root)
    assert proc.returncode == 0, proc.stderr
    lines = text(proc).splitlines()
    assert lines[0].split()[:5] == ["model", "lat", "n", "tags", "meta"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split()[:3] == ["m0", "12.5", "0"]
    assert "null" in lines[4]  # the missing latency
    assert lines[-1] == "(5 rows)"


def test_query_table_limit_and_scalars(data_root):
    proc = cli("query", 'stream_table("e/p/t").rows', "--limit", "2", root=data_root)
    assert proc.returncode == 0
    out = text(proc).splitlines()
    assert len(out) == 2 + 2 + 1 and "showing the first 2" in out[-1]
    proc = cli("query", 'stream_table("e/p/t").rows.count', root=data_root)
    assert text(proc).strip() == "5"
    proc = cli("query", 'stream_table("e/p/t").rows.groupby(row => row["model"])', root=data_root)
    assert "groupkey" in text(proc) and "(3 groups)" in text(proc)


def test_query_json(data_root):
    proc = cli("query", 'stream_table("e/p/t").rows.map(row => {n: row["n"], lat: row["lat"], meta: row["meta"]})', "--format", "json", root=data_root)
    assert json_out(proc) == [{"n": r["n"], "lat": r["lat"], "meta": r["meta"]} for r in ROWS]
    proc = cli("query", 'stream_table("e/p/t").rows["n"]', "-f", "json", root=data_root)
    assert json_out(proc) == [0, 1, 2, 3, 4]
    proc = cli("query", 'stream_table("e/p/t").rows["lat"].avg', "-f", "json", root=data_root)
    assert json_out(proc) == pytest.approx((12.5 + 40.25 + 8.0 + 99.75) / 4)
    proc = cli("query", 'stream_table("e/p/t").rows', "-f", "json", root=data_root)
    rows = json_out(proc)
    assert len(rows) == 5 and rows[0]["timestamp"].endswith("Z") and rows[0]["tags"] == ["a", "b"]


def test_query_csv(data_root):
    proc = cli("query", 'stream_table("e/p/t").rows', "--format", "csv", root=data_root)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(text(proc))))
    assert [r["model"] for r in rows] == [r["model"] for r in ROWS]
    assert rows[0]["lat"] == "12.5" and rows[2]["lat"] == ""
    assert json.loads(rows[0]["tags"]) == ["a", "b"] and json.loads(rows[0]["meta"]) == {"lang": "fr"}


def test_query_arrow_ipc_stream(data_root):
    expr = 'stream_table("e/p/t").rows.filter(row => row["n"] > 1)'
    proc = cli("query", expr, "--format", "arrow", root=data_root)
    assert proc.returncode == 0, proc.stderr
    table = pa.ipc.open_stream(io.BytesIO(proc.stdout)).read_all()
    assert table.equals(evaluate(expr, root=data_root))
    proc = cli("query", 'stream_table("e/p/t").rows.count', "-f", "arrow", root=data_root)
    assert pa.ipc.open_stream(io.BytesIO(proc.stdout)).read_all().to_pylist() == [{"value": 5}]


def test_query_errors_are_readable(data_root):
    proc = cli("query", 'stream_table("e/p/t").rows.sort(', root=data_root)
    assert proc.returncode == 1 and proc.stdout == b""
    err = proc.stderr.decode()
    assert "line 1" in err and "^" in err and "Traceback" not in err
    proc = cli("query", 'stream_table("e/p/nope").rows', root=data_root)
    assert proc.returncode == 1 and "nope" in proc.stderr.decode() and "Traceback" not in proc.stderr.decode()
    proc = cli("query", 'stream_table("../x").rows', root=data_root)
    assert proc.returncode == 1 and "invalid" in proc.stderr.decode()


def test_tables_with_row_counts(data_root):
    proc = cli("tables", root=data_root)
    assert proc.returncode == 0
    lines = text(proc).splitlines()
    assert lines[0].split() == ["table", "rows"]
    assert ["e/p/t", "5"] in [line.split() for line in lines[2:]]
    proc = cli("--root", str(data_root), "tables", "--format", "json", root=data_root)
    assert {"table": "e/p/t", "rows": 5} in [{k: t[k] for k in ("table", "rows")} for t in json_out(proc)]


def test_log_100k_json_lines_from_a_pipe(tmp_path):
    root = tmp_path / "root"
    n = 100_000
    payload = "".join(
        json.dumps({"model": f"m{i % 4}", "latency_ms": i * 0.25, "i": i, "ok": i % 7 != 0}) + "\n" for i in range(n)
    ).encode()
    proc = cli("log", "acme/prod/stream", root=root, stdin=payload)
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode()
    assert "logged 100,000 rows to acme/prod/stream" in err  # the final progress line
    assert evaluate('stream_table("acme/prod/stream").rows.count', root=root) == n
    assert evaluate('stream_table("acme/prod/stream").rows["i"].sum', root=root) == n * (n - 1) // 2
    first = to_python(evaluate('stream_table("acme/prod/stream").rows.limit(2)', root=root))
    assert [r["i"] for r in first] == [0, 1] and first[1]["model"] == "m1" and first[0]["ok"] is False
    assert isinstance(first[0]["timestamp"], dt.datetime) and first[0]["_client_id"]


def test_log_keeps_timestamps_and_stops_at_a_bad_line(tmp_path):
    root = tmp_path / "root"
    lines = [
        json.dumps({"a": 1, "timestamp": "2024-05-01T12:00:00Z"}),
        "",
        json.dumps({"a": 2, "timestamp": "2024-05-01T12:00:01+00:00"}),
        "{not json",
        json.dumps({"a": 3}),
    ]
    proc = cli("log", "t1", "--root", str(root), root=root, stdin="\n".join(lines).encode())
    assert proc.returncode == 1
    assert "line 4" in proc.stderr.decode()
    rows = to_python(evaluate('stream_table("t1").rows', root=root))
    assert [r["a"] for r in rows] == [1, 2]  # the rows before the bad line are kept
    assert rows[0]["timestamp"] == dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    proc = cli("log", "t2", "--skip-bad", root=root, stdin="\n".join([*lines, "[1, 2]"]).encode())
    assert proc.returncode == 0
    assert "skipped 2 bad lines: 4, 6" in proc.stderr.decode()
    assert evaluate('stream_table("t2").rows["a"]', root=root).to_pylist() == [1, 2, 3]


def test_log_refuses_bad_table_names(tmp_path):
    proc = cli("log", "../../etc", root=tmp_path, stdin=b'{"a": 1}\n')
    assert proc.returncode == 1 and "invalid" in proc.stderr.decode()
    assert not (tmp_path.parent / "etc").exists()


def test_compact_with_a_progress_bar(tmp_path):
    root = tmp_path / "root"
    st = StreamTable("e/p/many", root=root)
    for i in range(12):
        st.log([{"i": i * 10 + j, "s": f"v{j}"} for j in range(10)])
        st.flush()
    st.finish()
    before = evaluate('stream_table("e/p/many").rows', root=root)
    assert len(open_table("e/p/many", root).snapshot().segments) == 12
    proc = cli("compact", "e/p/many", root=root)
    assert proc.returncode == 0, proc.stderr
    assert "12 segments -> 1" in text(proc)
    assert "[" in proc.stderr.decode() and "1/1 runs" in proc.stderr.decode()
    assert len(open_table("e/p/many", root).snapshot().segments) == 1
    assert evaluate('stream_table("e/p/many").rows', root=root).equals(before)
    proc = cli("compact", "e/p/many", root=root)
    assert proc.returncode == 0 and "nothing to compact" in text(proc)
    proc = cli("compact", "e/p/absent", root=root)
    assert proc.returncode == 1 and "absent" in proc.stderr.decode()


def test_profile_prints_a_per_column_summary(data_root):
    proc = cli("profile", "e/p/t", root=data_root)
    assert proc.returncode == 0, proc.stderr
    out = text(proc)
    if "profiles not available" in proc.stderr.decode():
        pytest.skip("weave_lite.profiles.profile_table is not there")
    header = out.splitlines()[0].split()
    assert header[:3] == ["column", "count", "null_count"] and "mean" in header
    by_column = {line.split()[0]: line.split() for line in out.splitlines()[2:-1]}
    assert {"model", "lat", "n"} <= set(by_column)
    assert by_column["lat"][1:3] == ["5", "1"]  # 5 values, 1 null
    proc = cli("profile", "e/p/t", "--format", "json", root=data_root)
    summary = {r["column"]: r for r in json_out(proc)}
    assert summary["lat"]["mean"] == pytest.approx((12.5 + 40.25 + 8.0 + 99.75) / 4)
    assert summary["n"]["max"] == 4


def test_serve_help(data_root):
    proc = cli("serve", "--help", root=data_root)
    assert proc.returncode == 0
    assert "--port" in text(proc) and "--root" in text(proc) and "127.0.0.1" in text(proc)
