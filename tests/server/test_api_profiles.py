"""``GET /api/profiles/{table}``: rotated window profiles and their constraint reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.reports_data import log_rotated_windows


@pytest.fixture(scope="module")
def server(server_root: Path, start_server):
    log_rotated_windows(server_root)
    return start_server(server_root)


def test_lists_windows_newest_first_with_reports(server):
    status, body = server.get("/api/profiles/e/p/monitored")
    assert status == 200
    assert body["table"] == "e/p/monitored"
    windows = body["windows"]
    assert len(windows) == 2 and body["checked"] == 2 and body["failed"] == 1
    assert windows[0]["start"] > windows[1]["start"]
    newest, oldest = windows
    assert oldest["report"]["passed"] is True and newest["report"]["passed"] is False
    by_name = {r["name"]: r for r in newest["report"]["results"]}
    assert by_name["latency_ms smaller than number 100"] == {
        "name": "latency_ms smaller than number 100", "passed": 0, "failed": 1}
    assert by_name["latency_ms has no missing values"]["failed"] == 0
    assert all(r["failed"] == 0 for r in oldest["report"]["results"])
    assert newest["profile"].startswith("e.p.monitored_profile.") and newest["profile"].endswith(".bin")


def test_a_window_without_report_and_unknown_tables(server):
    folder = server.root / "_profiles" / "e.p.monitored"
    extra = folder / "e.p.monitored_profile.2000-01-01_00-00-00.bin"
    extra.write_bytes((next(folder.glob("*.bin"))).read_bytes())
    try:
        windows = server.get("/api/profiles/e/p/monitored")[1]["windows"]
        assert windows[-1]["profile"] == extra.name and windows[-1]["report"] is None
        assert windows[-1]["start"] == "2000-01-01_00-00-00"
    finally:
        extra.unlink()
    status, body = server.get("/api/profiles/e/p/none")
    assert status == 200 and body["windows"] == [] and body["failed"] == 0
    status, body = server.get("/api/profiles/%2E%2E/p/t")
    assert status == 400 and "invalid" in body["error"]
