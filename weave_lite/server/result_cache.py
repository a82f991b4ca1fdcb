"""Results kept by an evaluation worker between the pages of one expression.

Paging a sorted 1M-row result used to evaluate (and sort) the whole expression again for every
page. A worker now keeps the last few results, keyed by the expression text and a fingerprint of
the data root's commit logs: the next page of the same expression over the same data is a slice
of the kept result. Any commit to any table changes the fingerprint (a commit adds a file to its
table's ``_log`` folder, which changes that folder's modification time and entry count), so a
kept result is never served for newer data.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOG_DIR = "_log"
MAX_ENTRIES = 4
# Results larger than this are not kept (a worker's memory budget also covers what it keeps).
MAX_KEPT_BYTES = 1024**3


def root_fingerprint(root: str | os.PathLike) -> tuple | None:
    """``(log folder, mtime_ns, entries)`` of every table under a local ``root``; ``None`` for a
    root that is not a local folder (nothing is kept then)."""
    base = Path(root)
    if not base.is_dir():
        return None
    out = []
    # Tables live at <root>/<entity>/<project>/<table>/_log.
    for log in sorted(base.glob(f"*/*/*/{LOG_DIR}")):
        try:
            st = log.stat()
            out.append((str(log), st.st_mtime_ns, len(os.listdir(log))))
        except OSError:
            continue
    return tuple(out)


def _nbytes(result: Any) -> int:
    return int(getattr(result, "nbytes", 0) or 0)


class ResultCache:
    """The last :data:`MAX_ENTRIES` results of one worker, newest last."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_KEPT_BYTES):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._kept: OrderedDict[tuple, Any] = OrderedDict()
        self.evaluations = 0  # how many times ``compute`` ran (tests read it)

    def get(self, expr: str, root: str, compute: Callable[[], Any]) -> Any:
        """The result of ``expr`` over ``root``: kept, or ``compute()`` (then kept)."""
        fingerprint = root_fingerprint(root)
        key = (expr, str(root), fingerprint)
        if fingerprint is not None and key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        self.evaluations += 1
        result = compute()
        if fingerprint is not None and _nbytes(result) <= self.max_bytes:
            # Drop older fingerprints of the same expression: they can never be asked again.
            for old in [k for k in self._kept if k[:2] == key[:2]]:
                del self._kept[old]
            self._kept[key] = result
            while len(self._kept) > self.max_entries:
                self._kept.popitem(last=False)
        return result
