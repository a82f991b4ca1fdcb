"""Boards: a named set of panels and their expressions, one JSON file each.

A board lives at ``<root>/_boards/<name>.json``.  Its name follows the rule of a table name
part (``[A-Za-z0-9][A-Za-z0-9_.-]{0,127}``, not ``.`` or ``..``), so no board name can reach
outside the folder.  A board is::

    {"name": "latency", "panels": [
        {"id": "p1", "kind": "table", "expr": "stream_table(\\"e/p/t\\").rows", "page_size": 50},
        {"id": "p2", "kind": "plot", "expr": "...", "plot": {"type": "line", "x": "timestamp", "y": "lat"}}
    ], "saved_at": "2024-05-01T12:00:00Z"}

Only expressions are stored: a board is data, never code.  Files are written atomically
(temporary file, fsync, rename), so a reader never sees half a board.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

from weave_lite.errors import InvalidNameError, StorageError
from weave_lite.storage.filesystem import replace_durably
from weave_lite.storage.names import ObjectRoot, data_root, validate_part

BOARDS_DIR = "_boards"
MAX_BOARD_BYTES = 2 * 1024 * 1024
MAX_PANELS = 100
MAX_EXPR_CHARS = 100_000
PANEL_KINDS = ("table", "plot")


class BoardError(ValueError):
    """A board that cannot be saved as given (the message says why)."""


class BoardNotFound(LookupError):
    pass


def validate_board_name(name: object) -> str:
    try:
        return validate_part("board", name)
    except InvalidNameError as exc:
        raise BoardError(str(exc)) from None


class BoardStore:
    """Boards under ``<root>/_boards/``."""

    def __init__(self, root: str | os.PathLike | ObjectRoot | None = None):
        self.root = data_root(root)
        self.path = self.root / BOARDS_DIR

    def _folder(self) -> Path:
        """The boards folder; boards are local files (an object-store root has none yet)."""
        if not isinstance(self.path, Path):
            raise StorageError(f"boards are kept only under a local data root, not {self.root}")
        return self.path

    def _file(self, name: str) -> Path:
        return self._folder() / f"{validate_board_name(name)}.json"

    def list(self) -> list[dict]:
        folder = self._folder()
        if not folder.is_dir():
            return []
        out = []
        for f in sorted(folder.glob("*.json")):
            name = f.stem
            try:
                validate_part("board", name)
            except InvalidNameError:
                continue
            info: dict[str, Any] = {"name": name}
            try:
                board = json.loads(f.read_text(encoding="utf-8"))
                info["panels"] = len(board.get("panels", []))
                info["saved_at"] = board.get("saved_at")
            except (OSError, ValueError, AttributeError):
                info["error"] = "unreadable board file"
            out.append(info)
        return out

    def get(self, name: str) -> dict:
        f = self._file(name)
        try:
            text = f.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BoardNotFound(f"no board `{name}` under {self.path}") from None
        board = json.loads(text)
        board["name"] = name
        return board

    def save(self, name: str, board: Any) -> dict:
        f = self._file(name)
        clean = clean_board(name, board)
        data = json.dumps(clean, indent=2, ensure_ascii=False).encode("utf-8")
        if len(data) > MAX_BOARD_BYTES:
            raise BoardError(f"board is too large ({len(data)} bytes; at most {MAX_BOARD_BYTES})")
        self._folder().mkdir(parents=True, exist_ok=True)
        replace_durably(f, data)  # readers see the old board or the new one, never half of one
        return clean

    def delete(self, name: str) -> None:
        f = self._file(name)
        try:
            f.unlink()
        except FileNotFoundError:
            raise BoardNotFound(f"no board `{name}` under {self.path}") from None


def clean_board(name: str, board: Any) -> dict:
    """Check a board's shape; return it with ``name`` and ``saved_at`` set."""
    if not isinstance(board, dict):
        raise BoardError("a board must be a JSON object with a `panels` list")
    panels = board.get("panels", [])
    if not isinstance(panels, list):
        raise BoardError("`panels` must be a list")
    if len(panels) > MAX_PANELS:
        raise BoardError(f"too many panels ({len(panels)}; at most {MAX_PANELS})")
    clean_panels = []
    for i, panel in enumerate(panels):
        if not isinstance(panel, dict):
            raise BoardError(f"panel {i} must be an object")
        expr = panel.get("expr", panel.get("expression", ""))
        if not isinstance(expr, str):
            raise BoardError(f"panel {i}: `expr` must be a string (an expression)")
        if len(expr) > MAX_EXPR_CHARS:
            raise BoardError(f"panel {i}: expression too long ({len(expr)} characters)")
        kind = panel.get("kind", "table")
        if not isinstance(kind, str) or len(kind) > 40:
            raise BoardError(f"panel {i}: `kind` must be a short string such as {' or '.join(PANEL_KINDS)}")
        plot = panel.get("plot")
        if plot is not None and not isinstance(plot, dict):
            raise BoardError(f'panel {i}: `plot` must be an object like {{"type": "line", "x": ..., "y": ...}}')
        clean_panels.append(panel)  # stored as given: only checked
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    out = dict(board)
    out.update(name=name, panels=clean_panels, saved_at=now)
    return out
