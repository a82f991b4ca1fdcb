"""Constraints, metric views and the builder (whylogs v1's ``metric_constraints``)."""

from __future__ import annotations

import logging
from collections import namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..column import (
    _BOOL,
    _COUNT,
    _FRAC,
    _INF,
    _INT,
    _NAN,
    _NULL,
    _OBJ,
    _STR,
    QUANTILES,
    ColumnProfile,
)
from ..dataset import DatasetProfile

logger = logging.getLogger(__name__)

ReportResult = namedtuple("ReportResult", "name passed failed summary")
FrequentItem = namedtuple("FrequentItem", "value est upper lower")


# --------------------------------------------------------------------------- metric views
class _Component(int):
    """An integer counter that also answers ``.value`` (whylogs' metric components)."""

    @property
    def value(self) -> int:
        return int(self)


class _Value:
    def __init__(self, value: Any) -> None:
        self.value = value


class _KllView:
    def __init__(self, col: ColumnProfile) -> None:
        self._kll = col.kll

    def get_quantile(self, q: float) -> float | None:
        return self._kll.quantile(float(q))

    def get_quantiles(self, qs) -> list:
        return [float(v) for v in self._kll.quantiles(qs)]

    def get_rank(self, value: float) -> float:
        return self._kll.rank(value)

    def get_n(self) -> int:
        return self._kll.n

    def is_empty(self) -> bool:
        return self._kll.n == 0

    def get_min_value(self) -> float | None:
        return self._kll.min

    def get_max_value(self) -> float | None:
        return self._kll.max


class _HllView:
    def __init__(self, col: ColumnProfile) -> None:
        self._hll = col.hll

    def get_estimate(self) -> float:
        return self._hll.estimate()

    def get_lower_bound(self, sigmas: int = 1) -> float:
        return _hll_bounds(self._hll, sigmas)[0]

    def get_upper_bound(self, sigmas: int = 1) -> float:
        return _hll_bounds(self._hll, sigmas)[1]


def _hll_bounds(hll, sigmas: float) -> tuple[float, float]:
    est = hll.estimate()
    rse = hll.relative_standard_error()
    return est * (1.0 - sigmas * rse), est * (1.0 + sigmas * rse)


class MetricView:
    """One metric of one column (``namespace``: distribution, counts, types, cardinality,
    frequent_items); attributes as in whylogs, and ``to_summary_dict()``."""

    # which attributes exist depends on the namespace (as whylogs' metric classes)
    n: Any
    min: Any
    max: Any
    mean: Any
    avg: Any
    stddev: Any
    median: Any
    est: Any
    lower_1: Any
    upper_1: Any

    def __init__(self, namespace: str, col: ColumnProfile) -> None:
        self.namespace = namespace
        self.column = col
        c = col.counters
        if namespace == "counts":
            self.n = _Component(c[_COUNT])
            self.null = _Component(c[_NULL])
            self.nan = _Component(c[_NAN])
            self.inf = _Component(c[_INF])
        elif namespace == "types":
            self.integral = _Component(c[_INT])
            self.fractional = _Component(c[_FRAC])
            self.boolean = _Component(c[_BOOL])
            self.string = _Component(c[_STR])
            self.object = _Component(c[_OBJ])
            self.tensor = _Component(0)
        elif namespace == "distribution":
            m = col.moments
            has = col.kll.n > 0
            self.kll = _Value(_KllView(col))
            self.n = col.kll.n
            self.min = float(m.min) if has else None
            self.max = float(m.max) if has else None
            self.mean = float(m.mean) if has else None
            self.avg = self.mean
            self.stddev = m.stddev if has else None
            self.median = col.kll.quantile(0.5) if has else None
        elif namespace == "cardinality":
            self.hll = _Value(_HllView(col))
            self.est = col.hll.estimate()
            self.lower_1, self.upper_1 = _hll_bounds(col.hll, 1)
        elif namespace == "frequent_items":
            off = 0 if col.freq is None else col.freq.offset
            self.frequent_strings = [
                FrequentItem(d["value"], d["est"], d["est"], d["est"] - off) for d in (col.frequent_items() or [])
            ]
        else:
            msg = f"unknown metric {namespace!r}"
            raise KeyError(msg)

    def to_summary_dict(self, cfg: object = None) -> dict[str, Any]:
        ns = self.namespace
        if ns == "counts":
            return {"n": int(self.n), "null": int(self.null), "nan": int(self.nan), "inf": int(self.inf)}
        if ns == "types":
            return {k: int(getattr(self, k)) for k in ("integral", "fractional", "boolean", "string", "object")}
        if ns == "distribution":
            out: dict[str, Any] = {
                "mean": self.mean,
                "stddev": self.stddev,
                "n": self.n,
                "max": self.max,
                "min": self.min,
            }
            qs = self.column.summary() if self.n else {}
            for name, _ in QUANTILES:
                out[name] = qs.get(name)
            return out
        if ns == "cardinality":
            return {"est": self.est, "upper_1": self.upper_1, "lower_1": self.lower_1}
        return {"frequent_strings": self.frequent_strings}

    def __repr__(self) -> str:
        return f"MetricView({self.namespace!r}, column={self.column.name!r})"


def _metric(col: ColumnProfile, namespace: str) -> MetricView | None:
    """The metric, or None when the column has none of it (as whylogs: no distribution for a
    column without numbers, no frequent items without strings)."""
    if namespace == "frequent_items" and col.freq is None:
        return None
    if namespace == "cardinality" and col.distinct() is None:
        return None
    return MetricView(namespace, col)


def _pretty(metric: MetricView) -> dict[str, Any]:
    out: dict[str, Any] = {"metric": metric.namespace}
    for k, v in metric.to_summary_dict().items():
        if k == "frequent_strings":
            out["frequent_strings_top_10"] = [f"{x.value}:{x.est}" for x in v[:10]]
        else:
            out[k] = v
    return out


# --------------------------------------------------------------------------- constraints
@dataclass
class MetricsSelector:
    metric_name: str
    column_name: str | None = None
    metrics_resolver: Callable[[DatasetProfile], list] | None = None

    def column_profile(self, profile: DatasetProfile | None) -> ColumnProfile | None:
        if profile is None or self.column_name is None:
            return None
        col = profile.columns.get(self.column_name)
        if col is None:
            logger.warning(
                "No column name %s found in profile, available columns are: %s", self.column_name, list(profile.columns)
            )
        return col

    def apply(self, profile: DatasetProfile) -> list[MetricView]:
        if self.metrics_resolver is not None:
            out = self.metrics_resolver(profile)
            if not isinstance(out, list):
                msg = "metrics_resolver must return a list of Metrics if defined!"
                raise ValueError(msg)
            return out
        col = self.column_profile(profile)
        if col is None:
            return []
        m = _metric(col, self.metric_name)
        return [] if m is None else [m]


@dataclass
class MetricConstraint:
    condition: Callable[[MetricView], bool]
    name: str
    metric_selector: MetricsSelector
    require_column_existence: bool = True
    _params: dict[str, Any] | None = None

    def _validate_metrics(self, metrics: list) -> bool:
        return all(bool(self.condition(m)) for m in metrics)

    def validate_profile(self, profile: DatasetProfile) -> tuple[bool, dict | None]:
        sel = self.metric_selector
        if sel.metrics_resolver is not None:
            metrics = sel.apply(profile)
            return self._validate_metrics(metrics), (_pretty(metrics[0]) if len(metrics) == 1 else None)
        col = sel.column_profile(profile)
        if col is None:
            if self.require_column_existence:
                msg = f"Could not get column {sel.column_name} from columns {list(profile.columns)}"
                raise ValueError(msg)
            return True, None
        metrics = sel.apply(profile)
        if not metrics:
            return (not self.require_column_existence), None
        if sel.metric_name == "distribution" and metrics[0].n == 0:
            return (not self.require_column_existence), None
        return self._validate_metrics(metrics), _pretty(metrics[0])

    validate = validate_profile


class MissingMetric(Exception):
    """Raised by a DatasetConstraint condition when a column or metric it needs is missing."""


@dataclass(frozen=True)
class DatasetConstraint:
    """A constraint on the whole profile: ``condition(profile) -> (passed, {path: metric})``."""

    condition: Callable[[DatasetProfile], tuple[bool, dict]]
    name: str
    require_column_existence: bool = True

    def validate_profile(self, profile: DatasetProfile) -> tuple[bool, dict | None]:
        try:
            ok, metrics = self.condition(profile)
        except MissingMetric:
            return (not self.require_column_existence), None
        summary: dict[str, Any] = {}
        for path, m in (metrics or {}).items():
            if isinstance(m, MetricView):
                for k, v in _pretty(m).items():
                    summary[f"{path}/{k}"] = v
            else:
                summary[path] = m
        return bool(ok), summary


@dataclass(frozen=True)
class DatasetComparisonConstraint:
    """A constraint comparing the profile with a reference profile:
    ``condition(profile, reference) -> (passed, summary)``."""

    condition: Callable[[DatasetProfile, DatasetProfile], tuple[bool, dict]]
    name: str

    def validate_profile(self, profile: DatasetProfile, reference: DatasetProfile | None) -> tuple[bool, dict | None]:
        if reference is None:
            msg = f"{self.name}: no reference profile to compare with"
            raise ValueError(msg)
        ok, summary = self.condition(profile, reference)
        return bool(ok), summary


AnyConstraint = MetricConstraint | DatasetConstraint | DatasetComparisonConstraint


def _report(name: str, ok: bool, with_summary: bool, summary) -> ReportResult:
    return ReportResult(name, 1 if ok else 0, 0 if ok else 1, summary if with_summary else None)


class Constraints:
    """Constraints built by :class:`ConstraintsBuilder`, bound to a profile (or given one)."""

    def __init__(
        self,
        dataset_profile_view: DatasetProfile | None = None,
        column_constraints: dict[str, dict[str, MetricConstraint]] | None = None,
        reference_profile_view: DatasetProfile | None = None,
    ) -> None:
        self.column_constraints = column_constraints or {}
        self.dataset_constraints: list[DatasetConstraint] = []
        self.dataset_comparison_constraints: list[DatasetComparisonConstraint] = []
        self.dataset_profile_view = dataset_profile_view
        self.reference_profile_view = reference_profile_view

    def get_constraints(self) -> list:
        out: list = list(self.dataset_constraints)
        for d in self.column_constraints.values():
            out.extend(d.values())
        out.extend(self.dataset_comparison_constraints)
        return out

    def set_reference_profile_view(self, profile_view: DatasetProfile) -> None:
        self.reference_profile_view = profile_view

    def _resolve(self, profile_view):
        if profile_view is None and self.dataset_profile_view is None:
            msg = (
                "Constraints need to be initialized on a profile or have a profile passed in "
                "before calling validate or report."
            )
            raise ValueError(msg)
        return profile_view if profile_view is not None else self.dataset_profile_view

    def _results(self, profile) -> Iterable[tuple[str, bool, dict | None]]:
        for constraints in self.column_constraints.values():
            for name, c in constraints.items():
                ok, summary = c.validate_profile(profile)
                yield name, ok, summary
        for d in self.dataset_constraints:
            ok, summary = d.validate_profile(profile)
            yield d.name, ok, summary
        for cmp_ in self.dataset_comparison_constraints:
            ok, summary = cmp_.validate_profile(profile, self.reference_profile_view)
            yield cmp_.name, ok, summary

    def validate(self, profile_view: DatasetProfile | None = None) -> bool:
        """True when every constraint passes (and when there are none, as whylogs)."""
        profile = self._resolve(profile_view)
        for name, ok, _ in self._results(profile):
            if not ok:
                logger.info("%s failed", name)
                return False
        return True

    def generate_constraints_report(
        self, profile_view: DatasetProfile | None = None, with_summary: bool = False
    ) -> list[ReportResult]:
        """``[ReportResult(name, passed, failed, summary)]``, one per constraint."""
        profile = self._resolve(profile_view)
        return [_report(n, ok, with_summary, s) for n, ok, s in self._results(profile)]

    def report(self, profile_view: DatasetProfile | None = None) -> list[tuple[str, int, int]]:
        """whylogs' deprecated ``report()``: ``[(name, passed, failed)]``."""
        return [(r.name, r.passed, r.failed) for r in self.generate_constraints_report(profile_view)]


class ConstraintsBuilder:
    """Collects constraints for a profile: ``add_constraint(...)`` (chainable), ``build()``."""

    def __init__(
        self,
        dataset_profile_view: DatasetProfile,
        constraints: Constraints | None = None,
        reference_profile_view: DatasetProfile | None = None,
    ) -> None:
        self._dataset_profile_view = dataset_profile_view
        self._constraints = constraints if constraints is not None else Constraints(dataset_profile_view)
        self._reference_profile_view = reference_profile_view
        if reference_profile_view is not None:
            self._constraints.set_reference_profile_view(reference_profile_view)

    def get_metric_selectors(self) -> list[MetricsSelector]:
        out = []
        for name, col in self._dataset_profile_view.columns.items():
            for ns in ("counts", "types", "distribution", "cardinality", "frequent_items"):
                if _metric(col, ns) is not None:
                    out.append(MetricsSelector(metric_name=ns, column_name=name))
        return out

    def add_constraints(self, constraints: Iterable[AnyConstraint]) -> ConstraintsBuilder:
        for c in constraints:
            self.add_constraint(c)
        return self

    def add_constraint(self, constraint: AnyConstraint, ignore_missing: bool = False) -> ConstraintsBuilder:
        if isinstance(constraint, MetricConstraint):
            sel = constraint.metric_selector
            column = sel.column_name
            profile = self._dataset_profile_view
            if (
                column is not None
                and column not in profile.columns
                and not ignore_missing
                and sel.metrics_resolver is None
            ):
                msg = (
                    f"Column '{column}' was not found in this profile, the available columns "
                    f"are: {list(profile.columns)}"
                )
                raise ValueError(msg)
            if column is not None and column in profile.columns and not sel.apply(profile) and not ignore_missing:
                logger.warning("metrics not found for %s. Skipping %s.", column, constraint.name)
                return self
            if column is None:
                self._constraints.dataset_constraints.append(
                    DatasetConstraint(
                        condition=_MetricConstraintWrapper(constraint),
                        name=constraint.name,
                        require_column_existence=constraint.require_column_existence,
                    )
                )
            else:
                self._constraints.column_constraints.setdefault(column, {})[constraint.name] = constraint
        elif isinstance(constraint, DatasetConstraint):
            self._constraints.dataset_constraints.append(constraint)
        elif isinstance(constraint, DatasetComparisonConstraint):
            if self._reference_profile_view is None:
                msg = "ConstraintsBuilder: reference_profile_view must be set when adding DatasetComparisonConstraint"
                raise ValueError(msg)
            self._constraints.dataset_comparison_constraints.append(constraint)
        else:
            msg = f"not a constraint: a `{type(constraint).__name__}`"
            raise TypeError(msg)
        return self

    def build(self) -> Constraints:
        return _copy_constraints(self._constraints)


def _copy_constraints(c: Constraints) -> Constraints:
    out = Constraints(
        c.dataset_profile_view, {k: dict(v) for k, v in c.column_constraints.items()}, c.reference_profile_view
    )
    out.dataset_constraints = list(c.dataset_constraints)
    out.dataset_comparison_constraints = list(c.dataset_comparison_constraints)
    return out


class _MetricConstraintWrapper:
    def __init__(self, constraint: MetricConstraint) -> None:
        self.constraint = constraint

    def __call__(self, profile: DatasetProfile) -> tuple[bool, dict]:
        ok, _ = self.constraint.validate_profile(profile)
        return ok, {}
