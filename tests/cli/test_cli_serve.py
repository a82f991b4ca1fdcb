"""`weave-lite serve --max-memory/--timeout`: the panel server's evaluation budgets from the
command line (the environment's defaults otherwise)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

pytest.importorskip("starlette")

from weave_lite.cli import commands


@pytest.fixture
def started(monkeypatch):
    calls = []
    import weave_lite.server.app as app

    monkeypatch.setattr(app, "serve", lambda root, **kw: calls.append(kw))
    return calls


def test_serve_passes_its_budgets_to_the_server(started, tmp_path):
    result = CliRunner().invoke(commands.main, ["serve", "--root", str(tmp_path), "--max-memory", "512M", "--timeout", "7"])
    assert result.exit_code == 0, result.output
    assert started[0]["max_memory"] == 512 * 2**20 and started[0]["timeout"] == 7.0


def test_serve_defaults_to_the_environment(started, tmp_path, monkeypatch):
    monkeypatch.setenv("WEAVE_LITE_MAX_MEMORY", "1G")
    monkeypatch.setenv("WEAVE_LITE_TIMEOUT", "none")
    result = CliRunner().invoke(commands.main, ["serve", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert started[0]["max_memory"] == 2**30 and started[0]["timeout"] is None


def test_serve_refuses_a_malformed_budget(started, tmp_path):
    result = CliRunner().invoke(commands.main, ["serve", "--root", str(tmp_path), "--max-memory", "lots"])
    assert result.exit_code != 0 and "--max-memory" in result.output and not started
