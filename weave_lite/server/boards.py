"""Boards: a named set of panels and their expressions, one JSON file each.

A board lives at ``<root>/_boards/<name>.json``.  Its name follows the rule of a table name
part (``[A-Za-z0-9][A-Za-z0-9_.-]{0,127}``, not ``.`` or ``..``), so no board name can reach
outside the folder.  A board is::

    {"name": "latency", "panels": [
        {"id": "p1", "kind": "table", "expr": "stream_table(\\"e/p/t\\").rows", "page_size": 50},
        {"id": "p2", "kind": "plot", "expr": "...", "plot": {"type": "line", "x": "timestamp", "y": "lat"}}
    ], "saved_at": "2024-05-01T12:00:00Z"}

Format 2 (``"format": 2``) adds, per panel, ``title``, ``layout`` (``{"x", "y", "w", "h"}`` grid
cells of a 12-column grid) and ``editor_hidden``, and per board ``links``
(``[{"from": "p1", "to": "p2", "column": "model"}]``: the row or group selected in panel ``from``
filters panel ``to`` on ``column``).  A board file without ``format`` (format 1) opens as a
board whose panels are stacked full width, one under the other.

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
BOARD_FORMAT = 2
GRID_COLUMNS = 12
DEFAULT_PANEL_HEIGHT = 6
MAX_GRID_ROWS = 10_000


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
        board = upgrade_board(json.loads(text))
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
        _check_layout(i, panel.get("layout"))
        title = panel.get("title")
        if title is not None and (not isinstance(title, str) or len(title) > 200):
            raise BoardError(f"panel {i}: `title` must be a string of at most 200 characters")
        plot = panel.get("plot")
        if plot is not None and not isinstance(plot, dict):
            raise BoardError(f'panel {i}: `plot` must be an object like {{"type": "line", "x": ..., "y": ...}}')
        clean_panels.append(panel)  # stored as given: only checked
    links = board.get("links", [])
    if not isinstance(links, list) or len(links) > MAX_PANELS * 4:
        raise BoardError("`links` must be a list of {from, to, column}")
    for i, link in enumerate(links):
        if not isinstance(link, dict) or not all(isinstance(link.get(k), str) for k in ("from", "to", "column")):
            raise BoardError(f'link {i} must be an object like {{"from": "p1", "to": "p2", "column": "model"}}')
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    out = dict(board)
    out.update(name=name, format=BOARD_FORMAT, panels=clean_panels, links=links, saved_at=now)
    return out


def _check_layout(i: int, layout: Any) -> None:
    if layout is None:
        return
    if not isinstance(layout, dict):
        raise BoardError(f'panel {i}: `layout` must be an object like {{"x": 0, "y": 0, "w": 6, "h": 6}}')
    for key in ("x", "y", "w", "h"):
        v = layout.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_GRID_ROWS:
            raise BoardError(f"panel {i}: layout `{key}` must be a whole number of grid cells")
    if not 1 <= layout["w"] <= GRID_COLUMNS or layout["x"] + layout["w"] > GRID_COLUMNS or layout["h"] < 1:
        raise BoardError(f"panel {i}: layout does not fit a {GRID_COLUMNS}-column grid")


def upgrade_board(board: Any) -> Any:
    """A board read from a file, in the current format.

    A format 1 board (no ``format`` key: a plain list of panels) gets its panels stacked full
    width, in order, and no links; newer boards are returned as stored.
    """
    if not isinstance(board, dict) or board.get("format", 1) >= BOARD_FORMAT:
        return board
    out = dict(board)
    panels = []
    y = 0
    for panel in board.get("panels", []):
        if isinstance(panel, dict):
            panel = dict(panel)
            if not isinstance(panel.get("layout"), dict):
                panel["layout"] = {"x": 0, "y": y, "w": GRID_COLUMNS, "h": DEFAULT_PANEL_HEIGHT}
            y = panel["layout"].get("y", y) + panel["layout"].get("h", DEFAULT_PANEL_HEIGHT)
        panels.append(panel)
    out.update(format=BOARD_FORMAT, panels=panels, links=list(board.get("links", [])))
    return out
