"""Constraints checked on closed profile windows: the report and where it goes."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..dataset import DatasetProfile
from .core import (
    Constraints,
    DatasetComparisonConstraint,
    DatasetConstraint,
    MetricConstraint,
    ReportResult,
)


# --------------------------------------------------------------------------- window checks
@dataclass
class WindowReport:
    """The constraints report of one closed profile window (what ``on_violation`` receives)."""

    dataset_name: str
    start: datetime | None
    end: datetime | None
    profile_path: Path | None
    report_path: Path | None
    results: list[ReportResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.failed == 0 for r in self.results)

    @property
    def failures(self) -> list[ReportResult]:
        return [r for r in self.results if r.failed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_name": self.dataset_name,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "profile": None if self.profile_path is None else self.profile_path.name,
            "passed": self.passed,
            "results": [
                {"name": r.name, "passed": r.passed, "failed": r.failed, "summary": r.summary} for r in self.results
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, default=_json_default, allow_nan=False)


def _json_default(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "_asdict"):
        return v._asdict()
    return str(v)


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)) and not hasattr(v, "_asdict"):
        return [_clean(x) for x in v]
    return v


def as_constraint_list(constraints) -> tuple[list, DatasetProfile | None]:
    """A ``constraints=`` argument (a list of constraints, or a built :class:`Constraints`)
    as a list, and the reference profile of comparison constraints."""
    if constraints is None:
        return [], None
    if isinstance(constraints, Constraints):
        return constraints.get_constraints(), constraints.reference_profile_view
    if isinstance(constraints, (MetricConstraint, DatasetConstraint, DatasetComparisonConstraint)):
        return [constraints], None
    out = list(constraints)
    for c in out:
        if not isinstance(c, (MetricConstraint, DatasetConstraint, DatasetComparisonConstraint)):
            msg = f"constraints must be constraint objects (from the factories), not a `{type(c).__name__}`"
            raise TypeError(msg)
    return out, None


def check_window(
    profile: DatasetProfile,
    constraints: list,
    reference: DatasetProfile | None = None,
    *,
    profile_path: Path | None = None,
    report_path: Path | None = None,
) -> WindowReport:
    """Run ``constraints`` on a window's profile; a constraint that raises (a column missing
    from this window, say) counts as failed, its error in the summary."""
    results: list[ReportResult] = []
    for c in constraints:
        try:
            if isinstance(c, DatasetComparisonConstraint):
                ok, summary = c.validate_profile(profile, reference)
            else:
                ok, summary = c.validate_profile(profile)
        except Exception as e:
            ok, summary = False, {"error": f"{type(e).__name__}: {e}"}
        results.append(ReportResult(c.name, 1 if ok else 0, 0 if ok else 1, _clean(summary)))
    return WindowReport(profile.name, profile.start, profile.end, profile_path, report_path, results)


def report_path_for(profile_path: Path) -> Path:
    """Where the constraints report of a window's profile file goes: beside it,
    ``<name>_profile.<start>.bin`` -> ``<name>_profile.<start>.report.json``."""
    return profile_path.with_name(profile_path.name[: -len(".bin")] + ".report.json")
