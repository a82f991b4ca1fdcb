"""The grammar file and the parser object."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import lark
import pytest
from lark import Lark

from weave_lite.graph.nodes import Call, Const, Var
from weave_lite.lang import parse
from weave_lite.lang import parser as parser_module
from weave_lite.lang.transformer import NodeBuilder

REPO = Path(__file__).resolve().parents[2]


def test_grammar_is_found_in_the_checkout():
    path = parser_module.grammar_path()
    assert path.name == "weave.lark"
    assert path.is_file()
    assert path.resolve() in {
        (REPO / "grammar" / "weave.lark").resolve(),
        (REPO / "weave_lite" / "grammar" / "weave.lark").resolve(),
    }


def test_in_package_grammar_is_tried_first(tmp_path, monkeypatch):
    # Simulate an installed wheel: weave_lite/grammar/weave.lark next to weave_lite/lang/.
    package = tmp_path / "weave_lite"
    (package / "lang").mkdir(parents=True)
    (package / "grammar").mkdir()
    (package / "grammar" / "weave.lark").write_text("// installed copy\n")
    fake_file = package / "lang" / "parser.py"
    monkeypatch.setattr(parser_module, "__file__", str(fake_file))
    assert parser_module.grammar_path() == package / "grammar" / "weave.lark"


def test_missing_grammar_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(parser_module, "__file__", str(tmp_path / "weave_lite" / "lang" / "parser.py"))
    with pytest.raises(FileNotFoundError, match=r"weave.lark"):
        parser_module.grammar_path()


def test_grammar_is_lalr_without_conflicts(caplog):
    """Lark resolves shift/reduce conflicts silently; with debug=True it logs them."""
    text = parser_module.grammar_path().read_text()
    with caplog.at_level(logging.DEBUG, logger="lark"):
        Lark(text, parser="lalr", lexer="contextual", keep_all_tokens=True, maybe_placeholders=False, debug=True)
    conflicts = [r.getMessage() for r in caplog.records if "conflict" in r.getMessage().lower()]
    assert conflicts == []


def test_grammar_conventions():
    text = parser_module.grammar_path().read_text()
    assert "%import" not in text  # self-contained
    g = Lark(text, parser="lalr")
    for rule in g.rules:
        assert rule.origin.name == rule.origin.name.lower()
    for terminal in g.terminals:
        assert terminal.name == terminal.name.upper()


def test_parser_is_built_once_and_is_lalr():
    first = parser_module.get_parser()
    assert parser_module.get_parser() is first
    assert first.options.parser == "lalr"
    assert first.options.lexer == "contextual"
    assert isinstance(first.options.transformer, NodeBuilder)


def test_parser_is_thread_safe():
    texts = [f"rows.filter(row => row[\"x\"] > {i}).limit({i})" for i in range(50)]
    expected = [parse(t) for t in texts]
    results: dict[int, list] = {}

    def work(k: int) -> None:
        results[k] = [parse(t) for t in texts]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[k] == expected for k in range(4))


def test_parse_builds_only_nodes():
    # Python names are just op names and variables; nothing is looked up or run.
    assert parse("__import__('os').system('ls')") == Call(
        "system", (Call("__import__", (Const("os"),)), Const("ls"))
    )
    assert parse("x.__class__") == Call("__class__", (Var("x"),))


def test_lark_version_is_supported():
    major, minor = (int(p) for p in lark.__version__.split(".")[:2])
    assert (major, minor) >= (1, 2)
