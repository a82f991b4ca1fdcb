"""The parser's LALR tables are cached on disk across processes (Lark's ``cache=``), and a
cache that is corrupt or cannot be written never stops a parse.

Each case runs a fresh interpreter with its own ``XDG_CACHE_HOME``: in this process the parser
is already built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from weave_lite.lang.parser import cache_path, grammar_path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, logging
from lark import logger
logger.setLevel(logging.DEBUG)  # Lark logs "Loading grammar from cache" / "Saving grammar to cache"
from weave_lite.lang.parser import parse
node = parse('stream_table("e/p/t").rows().map(r => r["x"] * 2).sum()')
print(json.dumps({"node": repr(node)}))
"""


def _parse_in_child(cache_home: Path) -> tuple[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(cache_home))
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["node"], out.stderr


def _cache_file(cache_home: Path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    return cache_path(grammar_path().read_text(encoding="utf-8"))


def test_first_process_writes_the_cache_and_the_next_one_loads_it(tmp_path: Path, monkeypatch) -> None:
    cache = _cache_file(tmp_path, monkeypatch)
    assert cache.parent == tmp_path / "weave_lite"
    node, log = _parse_in_child(tmp_path)
    assert "Saving grammar to cache" in log and "Loading" not in log
    assert cache.is_file()
    written = cache.read_bytes()

    again, log = _parse_in_child(tmp_path)
    assert "Loading grammar from cache" in log and "Saving" not in log
    assert again == node and "Call(op='sum'" in node
    assert cache.read_bytes() == written


def test_a_corrupt_cache_file_is_rebuilt(tmp_path: Path, monkeypatch) -> None:
    reference, _ = _parse_in_child(tmp_path / "clean")
    cache = _cache_file(tmp_path / "corrupt", monkeypatch)
    cache.parent.mkdir(parents=True)
    for garbage in (b"not a cache\n\x80\x04garbage", b""):
        cache.write_bytes(garbage)
        node, log = _parse_in_child(tmp_path / "corrupt")
        assert node == reference
        assert "Saving grammar to cache" in log  # rebuilt and rewritten
    _, log = _parse_in_child(tmp_path / "corrupt")
    assert "Loading grammar from cache" in log and "Saving" not in log


def test_an_unusable_cache_directory_still_parses(tmp_path: Path, monkeypatch) -> None:
    reference, _ = _parse_in_child(tmp_path / "clean")
    # XDG_CACHE_HOME is a file: the cache directory cannot be made (root ignores permissions).
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    node, _ = _parse_in_child(blocked)
    assert node == reference
    # The cache file's place is taken by a directory: neither read nor written.
    cache = _cache_file(tmp_path / "taken", monkeypatch)
    cache.mkdir(parents=True)
    node, _ = _parse_in_child(tmp_path / "taken")
    assert node == reference
    assert cache.is_dir()
