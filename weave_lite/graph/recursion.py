"""Enough Python stack for the deepest graph the parser accepts.

The parser refuses expressions nested deeper than ``weave_lite.lang.MAX_DEPTH`` (200) levels.
Below that limit every layer must work, and several of them recurse over the graph or over
types (the planner, the rewrites, the executor, printing types): about three Python frames per
level, four for nested lambdas (a lambda's body runs through ``run`` -> ``_run_call`` ->
``apply`` -> the kernel -> the function -> ``run``; measured with 199-deep dicts, lists, unary
chains, member chains and lambdas).  Python's default limit of 1000 frames is not enough for 200
levels plus whatever the caller's own stack holds (a test runner, a web server's threads).

:func:`ensure_headroom` raises the interpreter's recursion limit, when needed, so that the
current stack has room for ``levels`` levels more.  It only ever raises the limit (lowering it
could break another thread that is deep at that moment); the C stack is not at risk at these
depths since Python-to-Python calls do not grow it.  :func:`recursion_guard` is the last line
of defence: a ``RecursionError`` that escapes anyway becomes a ``ResourceLimitError``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from weave_lite.errors import ResourceLimitError

__all__ = ["FRAMES_PER_LEVEL", "ensure_headroom", "recursion_guard"]

#: Python frames one level of nesting may cost in the deepest-recursing layer (four measured,
#: plus a margin).
FRAMES_PER_LEVEL = 6
#: Frames kept free beyond that (library calls made at the deepest point: pyarrow, numpy; and
#: the types of tables= columns, which may nest up to 64 levels under the expression's).
_SLACK = 600
# The levels to make room for when no number is given: the parser's nesting limit (the value of
# weave_lite.lang.MAX_DEPTH; not imported, since the language package imports this one).
DEFAULT_LEVELS = 200
# The limit is raised in steps of this many frames, so that it changes rarely.
_STEP = 1000


def _stack_depth() -> int:
    frame: FrameType | None = sys._getframe(1)
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def ensure_headroom(levels: int = DEFAULT_LEVELS) -> None:
    """Make room on the stack for ``levels`` levels of nesting (see the module docstring)."""
    needed = _stack_depth() + levels * FRAMES_PER_LEVEL + _SLACK
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(-(-needed // _STEP) * _STEP)


@contextmanager
def recursion_guard(what: str = "evaluate") -> Iterator[None]:
    """Turn a ``RecursionError`` raised inside into a :class:`ResourceLimitError`."""
    try:
        yield
    except RecursionError:
        msg = f"expression is nested too deeply to {what}"
        raise ResourceLimitError(msg) from None
