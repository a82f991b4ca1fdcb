"""A fresh ``weave-lite query`` process for the start-up tests: its answer and the modules it loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs the CLI as `python -m weave_lite.cli` would, then reports the modules it loaded.
CHILD = r"""
import json, runpy, sys
sys.argv = ["weave-lite", "query", sys.argv[1], "--root", sys.argv[2], "-f", "json"]
try:
    runpy.run_module("weave_lite.cli", run_name="__main__")
except SystemExit as exc:
    assert not exc.code, exc.code
print("\n" + json.dumps(sorted(sys.modules)))
"""


def run_cli(tmp_path: Path, expr: str) -> tuple[object, list[str]]:
    """The JSON result of ``expr`` over the tables under ``tmp_path / "data"`` (an empty Numba
    cache of its own), and the sorted names of every module the process loaded."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, expr, str(tmp_path / "data")], env=env, capture_output=True, text=True, check=True
    ).stdout
    result, _, modules = out.rpartition("\n\n")
    return json.loads(result), json.loads(modules)
