"""Optional modules a one-shot ``weave-lite`` process never uses, kept out of it (issue 15:
a fresh ``weave-lite query`` <= 2x a fresh python+DuckDB process).

Two libraries import an optional module just in case, at import time:

- pyarrow imports ``cloudpickle`` (when installed, e.g. with the dask extra) as its ``pickle``,
  and uses it for nothing but ``pickle.PickleBuffer``, which the standard module has: ~5 ms;
- Lark imports ``regex`` (when installed) for grammars with Unicode categories (``\\p{..}``)
  and ``Lark(regex=True)``; weave_lite's grammar has neither: ~12 ms.

:func:`preload` imports pyarrow and Lark with those modules hidden; a process that already
imported either library is left alone, and the hidden modules stay importable afterwards (only
the two libraries' own optional imports are skipped).  Library users (``import weave_lite``)
are not affected: only the command line calls it, before anything imports pyarrow.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class _Hide:
    """An import finder that makes the top-level imports of ``names`` fail."""

    def __init__(self, names: frozenset[str]):
        self.names = names

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name in self.names:
            raise ImportError(f"{name} is kept out of the weave-lite command line")


@contextmanager
def hidden(*names: str) -> Iterator[None]:
    """Inside, ``import <name>`` raises ImportError for each of ``names`` not yet imported."""
    finder = _Hide(frozenset(n for n in names if n not in sys.modules))
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def preload() -> None:
    """Import pyarrow without ``cloudpickle`` and Lark without ``regex`` (see the module doc)."""
    if "pyarrow" not in sys.modules:
        with hidden("cloudpickle"):
            import pyarrow  # noqa: F401
    if "lark" not in sys.modules:
        with hidden("regex"):
            import lark  # noqa: F401
