"""Parse expression text into graph nodes.

``parse(text)`` is the one entry point.  The grammar is ``grammar/weave.lark``,
compiled once (lazily, on first use) into a Lark LALR(1) parser with the
contextual lexer (its analysed tables cached on disk across processes, see
:func:`cache_path`); :class:`~weave_lite.lang.transformer.NodeBuilder` is passed
to Lark as ``transformer=`` so that nodes are built during the parse, without
an intermediate tree.  The parser has no per-parse state and can be used from
many threads at once.

Before Lark sees the text, cheap checks enforce the resource limits: at most
:data:`MAX_LENGTH` characters and at most :data:`MAX_DEPTH` levels of brackets
(a scan that only runs when the text has more than ``MAX_DEPTH`` opening
brackets at all).  After the parse, trees nested deeper than ``MAX_DEPTH``
operators/calls are refused too (only texts longer than ``MAX_DEPTH`` can
build one, since every operator or call takes at least one character), so
that no consumer of the nodes ever recurses into a ``RecursionError``.  The
LALR parser and the transformer themselves never recurse.

A long text takes a while to parse (tens of microseconds a token: a second for
the longest texts accepted), so an evaluation's deadline reaches into the
parse: inside ``with deadline(check):`` every token the lexer produces calls
``check()``, which raises once the time is up.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import cast

import lark
from lark import Lark
from lark.exceptions import UnexpectedInput

from weave_lite.errors import ExpressionError, ParseError, ResourceLimitError
from weave_lite.graph.nodes import Call, Lambda, Node
from weave_lite.lang import messages
from weave_lite.lang.transformer import NodeBuilder

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "cache_path", "deadline", "grammar_path", "parse"]

#: Longest expression text accepted, in characters.
MAX_LENGTH = 100_000
#: Deepest nesting accepted, in brackets and in operators/calls.
MAX_DEPTH = 200

_GRAMMAR_FILE = "weave.lark"
_lock = threading.Lock()
_parser: Lark | None = None


def grammar_path() -> Path:
    """Where ``weave.lark`` is: inside the installed package, else in the source checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "grammar" / _GRAMMAR_FILE, package.parent / "grammar" / _GRAMMAR_FILE):
        if candidate.is_file():
            return candidate
    msg = f"cannot find the grammar file `{_GRAMMAR_FILE}` under {package} or {package.parent / 'grammar'}"
    raise FileNotFoundError(msg)


# The check of the evaluation being parsed in this context (see `deadline`), else None.
_CHECK: ContextVar[Callable[[], None] | None] = ContextVar("weave_lite_parse_check", default=None)


@contextmanager
def deadline(check: Callable[[], None] | None) -> Iterator[None]:
    """Call ``check()`` for every token lexed by parses run inside (it raises to stop them)."""
    token = _CHECK.set(check)
    try:
        yield
    finally:
        _CHECK.reset(token)


def _on_token(tok):
    check = _CHECK.get()
    if check is not None:
        check()
    return tok


def cache_path(grammar: str) -> Path:
    """The file that caches the LALR tables of ``grammar`` across processes (building them
    takes ~0.5 s; loading them ~30 ms): in ``$XDG_CACHE_HOME/weave_lite`` (default
    ``~/.cache/weave_lite``), named by a hash of the grammar, Lark's version and Python's, so
    that installs of other versions sharing the directory each keep their own file.  (Lark
    checks the same hash again inside the file, and rebuilds on a mismatch or a corrupt file.)"""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    key = f"{grammar}\0{lark.__version__}\0{sys.version_info[:2]}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
    return Path(base) / "weave_lite" / f"parser-{digest}.lark"


def _cache_target(final: Path) -> str | bool:
    """What to pass as Lark's ``cache=``: the cache file's path (Lark loads it; builds and
    writes it when missing, stale or corrupt, and carries on uncached when it cannot write),
    or False when its directory cannot be made.  The path itself is part of the hash Lark
    checks, so the file is written in place, not renamed from a temporary file: a process
    reading it half-written fails to unpickle it and rebuilds."""
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return str(final)


def _build_parser() -> Lark:
    grammar = grammar_path().read_text(encoding="utf-8")
    final = cache_path(grammar)
    target = _cache_target(final)
    parser = Lark(
        grammar,
        cache=target,
        parser="lalr",
        lexer="contextual",
        transformer=NodeBuilder(),
        keep_all_tokens=True,  # the transformer computes spans from every token
        maybe_placeholders=False,
        propagate_positions=False,
        start="start",
        lexer_callbacks={name: _on_token for name in messages.TERMINAL_NAMES if not name.startswith("$")},
    )
    # Lark names rules with Token objects (a str subclass with a Python-level
    # __eq__); its LALR loop looks the name of every reduced rule up in a dict
    # keyed by plain str.  Plain str names make each reduction cheaper (about
    # 10% of a parse).  Nothing else changes: the names are equal and hash alike.
    for rule in getattr(parser, "rules", ()):
        origin = rule.origin
        if type(origin.name) is not str:
            origin.name = str(origin.name)
    return parser


def get_parser() -> Lark:
    """The process-wide Lark parser, built on first use."""
    global _parser
    parser = _parser
    if parser is None:
        with _lock:
            if _parser is None:
                _parser = _build_parser()
            parser = _parser
    return parser


def parse(text: str) -> Node:
    """Parse an expression (SPEC section 3) into a graph node.

    Raises :class:`~weave_lite.errors.ParseError` for invalid syntax and
    :class:`~weave_lite.errors.ResourceLimitError` for a text too long or
    nested too deeply.
    """
    if not isinstance(text, str):
        msg = f"an expression must be a str, not {type(text).__name__}"
        raise TypeError(msg)
    _check_size(text)
    _check_text(text)
    if not text or text.isspace():
        raise ParseError(
            "empty expression", source=text, span=messages.span_at(text, 0, 0), expected=("an expression",)
        )
    try:
        node = cast(Node, get_parser().parse(text))  # lark types it a Tree; the inline transformer made it a Node
    except UnexpectedInput as exc:
        raise messages.from_lark(exc, text) from None
    except ExpressionError as exc:  # raised by the transformer, without the source
        raise exc.with_source(text) from None
    if len(text) > MAX_DEPTH:
        _check_tree_depth(node, text)
    return node


def _check_size(text: str) -> None:
    if len(text) > MAX_LENGTH:
        msg = f"expression is too long: {len(text):,} characters; the limit is {MAX_LENGTH:,}"
        raise ResourceLimitError(msg)
    if text.count("(") + text.count("[") + text.count("{") > MAX_DEPTH:
        pos = messages.first_too_deep_bracket(text, MAX_DEPTH)
        if pos is not None:
            span = messages.span_at(text, pos)
            msg = (
                f"expression is nested too deeply at line {span.line}, column {span.column}: "
                f"more than {MAX_DEPTH} levels of brackets"
            )
            raise ResourceLimitError(msg, source=text, span=span)


def _check_text(text: str) -> None:
    """Refuse a lone surrogate (a str that is not Unicode text: it cannot be encoded, so no
    string holding it could reach Arrow, and no message quoting it could be printed)."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        span = messages.span_at(text, exc.start)
        shown = text.encode("utf-8", "replace").decode("utf-8")  # same offsets: one "?" per surrogate
        msg = (
            f"invalid character U+{ord(text[exc.start]):04X} at line {span.line}, column {span.column}; "
            "a lone surrogate is not text"
        )
        raise ParseError(msg, source=shown, span=span) from None


def _check_tree_depth(root: Node, text: str) -> None:
    """Refuse trees with more than MAX_DEPTH nested calls/lambdas (iteratively)."""
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if type(node) is Call:
            children = node.args
        elif type(node) is Lambda:
            children = (node.body,)
        else:
            continue
        if depth > MAX_DEPTH:
            span = node.span
            where = f" at line {span.line}, column {span.column}" if span else ""
            msg = f"expression is nested too deeply{where}: more than {MAX_DEPTH} levels of operators and calls"
            raise ResourceLimitError(msg, source=text, span=span)
        for child in children:
            stack.append((child, depth + 1))
