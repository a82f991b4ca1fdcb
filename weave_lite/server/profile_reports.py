"""``GET /api/profiles/{entity}/{project}/{table}``: a table's rotated window profiles and
the constraint reports written beside them (the page's profile panel).

A ``StreamTable(..., profile_rotation=..., constraints=...)`` writes each closed window as
``<root>/_profiles/<e>.<p>.<t>/<e>.<p>.<t>_profile.<start>.bin`` and its report as
``....<start>.report.json`` (see :mod:`weave_lite.profiles.rotation`); this lists them, newest
window first, with each constraint's name, passed and failed counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from weave_lite.errors import InvalidNameError
from weave_lite.server.inputs import ApiError
from weave_lite.storage.names import TableName

#: at most this many windows are listed (the newest)
MAX_WINDOWS = 500
PROFILE_SUFFIX = ".bin"
REPORT_SUFFIX = ".report.json"


def _read_report(path: Path) -> dict | None:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent (not checked yet, or no constraints) or half-written
    return body if isinstance(body, dict) else None


def _window(profile: Path, dataset: str) -> dict[str, Any]:
    start = profile.name[len(f"{dataset}_profile.") : -len(PROFILE_SUFFIX)]
    report = _read_report(profile.with_name(profile.name[: -len(PROFILE_SUFFIX)] + REPORT_SUFFIX))
    out: dict[str, Any] = {"profile": profile.name, "start": start, "end": None, "report": None}
    if report is not None:
        results = [
            {"name": str(r.get("name")), "passed": int(r.get("passed") or 0), "failed": int(r.get("failed") or 0)}
            for r in report.get("results") or []
            if isinstance(r, dict)
        ]
        out["start"] = report.get("start") or start
        out["end"] = report.get("end")
        out["report"] = {"passed": all(r["failed"] == 0 for r in results), "results": results}
    return out


def profile_reports(root: Any, name_text: str) -> dict[str, Any]:
    """The window profiles of table ``name_text`` under ``root`` and their reports."""
    try:
        name = TableName.parse(name_text)
    except InvalidNameError as exc:
        raise ApiError(400, str(exc)) from None
    dataset = f"{name.entity}.{name.project}.{name.table}"
    windows: list[dict[str, Any]] = []
    if isinstance(root, Path):  # an object-store root keeps no rotated profiles here
        folder = root / "_profiles" / dataset
        files = sorted(folder.glob(f"{dataset}_profile.*{PROFILE_SUFFIX}"), reverse=True)
        windows = [_window(p, dataset) for p in files[:MAX_WINDOWS]]
    checked = [w for w in windows if w["report"] is not None]
    return {
        "table": str(name),
        "windows": windows,
        "checked": len(checked),
        "failed": sum(1 for w in checked if not w["report"]["passed"]),
    }
