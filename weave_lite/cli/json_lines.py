"""``weave-lite log``'s input: JSON lines from stdin as rows, and its progress line."""

from __future__ import annotations

import datetime as _dt
import json
import sys
import time
from typing import Any


def parse_lines(lines: list[bytes], first_line: int, skip_bad: bool, bad: list[int]) -> tuple[list[dict], str | None]:
    """JSON lines -> (row dicts, error). ``first_line`` is the 1-based number of ``lines[0]``.

    Without ``skip_bad`` the rows stop before the first bad line and ``error`` names it.
    """
    body = [raw for raw in lines if raw.strip()]
    rows = None
    try:  # fast path: one C-level parse for the whole chunk
        rows = json.loads(b"[" + b",".join(body) + b"]") if body else []
        if len(rows) != len(body) or not all(type(r) is dict for r in rows):
            rows = None
    except ValueError:
        rows = None
    if rows is None:
        rows = []
        for i, raw in enumerate(lines):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
                if not isinstance(row, dict):
                    raise ValueError(f"expected a JSON object, got {type(row).__name__}")
            except ValueError as exc:
                if skip_bad:
                    bad.append(first_line + i)
                    continue
                error = f"stdin line {first_line + i}: not a JSON object row: {exc}"
                return _with_timestamps(rows), error
            rows.append(row)
    return _with_timestamps(rows), None


def _with_timestamps(rows: list[dict]) -> list[dict]:
    for row in rows:
        ts = row.get("timestamp")
        if isinstance(ts, str):
            row["timestamp"] = _parse_timestamp(ts)
    return rows


def _parse_timestamp(text: str) -> Any:
    try:
        value = _dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    return value


class Progress:
    """A progress line on stderr: redrawn in place on a terminal, a line a second otherwise."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def update(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < (0.2 if self.tty else 1.0):
            return
        self.last = now
        if self.tty:
            self.stream.write("\r\033[K" + text)
            self.drawn = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self, text: str) -> None:
        if self.tty and self.drawn:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()
