"""Constraints on profiles, modelled on whylogs v1 (``whylogs.core.constraints``).

Code written for whylogs ports by changing the imports::

    from weave_lite.profiles.constraints import ConstraintsBuilder
    from weave_lite.profiles.constraints.factories import greater_than_number, no_missing_values

    builder = ConstraintsBuilder(dataset_profile_view=profile)      # a DatasetProfile
    builder.add_constraint(greater_than_number(column_name="weight", number=0.0))
    builder.add_constraint(no_missing_values(column_name="animal"))
    constraints = builder.build()
    constraints.validate()                       # True when every constraint passes
    constraints.generate_constraints_report()    # [ReportResult(name, passed, failed, summary)]

The factories keep whylogs' names, keyword arguments, constraint names and semantics:
``greater_than_number`` (min > number), ``smaller_than_number`` (max < number),
``is_non_negative``, ``is_in_range`` (lower <= min and max <= upper), ``mean_between_range``,
``stddev_between_range``, ``quantile_between_range``, ``no_missing_values``,
``count_below_number`` (n <= number), ``null_values_below_number`` (nulls < number),
``null_percentage_below_number`` (nulls / n <= number), ``distinct_number_in_range``,
``frequent_strings_in_reference_set``, ``n_most_common_items_in_set`` and
``column_is_probably_unique`` (HLL 1-sigma bounds bracket the row count), plus two drift
constraints against a reference profile: ``column_not_drifted`` and ``dataset_not_drifted``
(see :mod:`.drift`).

As in whylogs, a ``MetricConstraint``'s ``condition`` takes one metric of one column; the
metrics are ``"distribution"`` (``min``, ``max``, ``mean``, ``stddev``, ``median``, ``n``,
``kll.value.get_quantile(q)``), ``"counts"`` (``n``, ``null``, ``nan``, ``inf``, each with
``.value``), ``"types"`` (``integral``, ``fractional``, ``boolean``, ``string``, ``object``),
``"cardinality"`` (``est``, ``lower_1``, ``upper_1``, ``hll.value.get_estimate()``) and
``"frequent_items"`` (``to_summary_dict()["frequent_strings"]``, items with ``value``/``est``).
``skip_missing=True`` (the default) makes a distribution constraint pass on a column with no
numbers; a column missing from the profile raises ``ValueError`` in ``add_constraint`` (unless
``ignore_missing=True``) and fails the constraint then.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from collections import namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from .column import (
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
from .dataset import DatasetProfile

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


# --------------------------------------------------------------------------- factories
def _distribution(
    name: str, cond: Callable[[MetricView], bool], column_name: str, skip_missing: bool, params: dict
) -> MetricConstraint:
    return MetricConstraint(
        name=name,
        condition=cond,
        metric_selector=MetricsSelector(column_name=column_name, metric_name="distribution"),
        require_column_existence=not skip_missing,
        _params=params,
    )


def greater_than_number(column_name: str, number: float, skip_missing: bool = True) -> MetricConstraint:
    """Minimum value of the column must be above ``number``."""
    return _distribution(
        f"{column_name} greater than number {number}",
        lambda x: x.min > number,
        column_name,
        skip_missing,
        {"factory": "greater_than_number", "number": number, "skip_missing": skip_missing},
    )


def smaller_than_number(column_name: str, number: float, skip_missing: bool = True) -> MetricConstraint:
    """Maximum value of the column must be below ``number``."""
    return _distribution(
        f"{column_name} smaller than number {number}",
        lambda x: number > x.max,
        column_name,
        skip_missing,
        {"factory": "smaller_than_number", "number": number, "skip_missing": skip_missing},
    )


def is_non_negative(column_name: str, skip_missing: bool = True) -> MetricConstraint:
    """Minimum value of the column must be >= 0."""
    return _distribution(
        f"{column_name} is non negative",
        lambda x: x.min >= 0,
        column_name,
        skip_missing,
        {"factory": "is_non_negative", "skip_missing": skip_missing},
    )


def is_in_range(column_name: str, lower: float, upper: float, skip_missing: bool = True) -> MetricConstraint:
    """Every value in ``[lower, upper]``: min >= lower and max <= upper."""
    return _distribution(
        f"{column_name} is in range [{lower},{upper}]",
        lambda x: x.min >= lower and x.max <= upper,
        column_name,
        skip_missing,
        {"factory": "is_in_range", "lower": lower, "upper": upper, "skip_missing": skip_missing},
    )


def mean_between_range(column_name: str, lower: float, upper: float, skip_missing: bool = True) -> MetricConstraint:
    """Mean in ``[lower, upper]``."""
    return _distribution(
        f"{column_name} mean between {lower} and {upper} (inclusive)",
        lambda x: lower <= x.mean <= upper,
        column_name,
        skip_missing,
        {"factory": "mean_between_range", "lower": lower, "upper": upper, "skip_missing": skip_missing},
    )


def stddev_between_range(column_name: str, lower: float, upper: float, skip_missing: bool = True) -> MetricConstraint:
    """Standard deviation in ``[lower, upper]``."""
    return _distribution(
        f"{column_name} standard deviation between {lower} and {upper} (inclusive)",
        lambda x: x.stddev is not None and lower <= x.stddev <= upper,
        column_name,
        skip_missing,
        {"factory": "stddev_between_range", "lower": lower, "upper": upper, "skip_missing": skip_missing},
    )


def quantile_between_range(
    column_name: str, quantile: float, lower: float, upper: float, skip_missing: bool = True
) -> MetricConstraint:
    """The ``quantile``-th quantile (0.5: the median) in ``[lower, upper]``."""

    def in_range(x: MetricView) -> bool:
        v = x.kll.value.get_quantile(quantile)
        return v is not None and lower <= v <= upper

    return _distribution(
        f"{column_name} {quantile}-th quantile value between {lower} and {upper} (inclusive)",
        in_range,
        column_name,
        skip_missing,
        {
            "factory": "quantile_between_range",
            "quantile": quantile,
            "lower": lower,
            "upper": upper,
            "skip_missing": skip_missing,
        },
    )


def _counts(name: str, cond: Callable[[MetricView], bool], column_name: str, params: dict) -> MetricConstraint:
    return MetricConstraint(
        name=name,
        condition=cond,
        metric_selector=MetricsSelector(column_name=column_name, metric_name="counts"),
        _params=params,
    )


def no_missing_values(column_name: str) -> MetricConstraint:
    """No null (or NaN) values in the column."""
    return _counts(
        f"{column_name} has no missing values",
        lambda x: x.null.value == 0,
        column_name,
        {"factory": "no_missing_values"},
    )


def count_below_number(column_name: str, number: int) -> MetricConstraint:
    """At most ``number`` values (nulls included) in the column."""
    return _counts(
        f"count of {column_name} lower than {number}",
        lambda x: number >= x.n.value,
        column_name,
        {"factory": "count_below_number", "number": number},
    )


def null_values_below_number(column_name: str, number: int) -> MetricConstraint:
    """Fewer than ``number`` nulls."""
    return _counts(
        f"null values of {column_name} lower than {number}",
        lambda x: x.null.value < number,
        column_name,
        {"factory": "null_values_below_number", "number": number},
    )


def null_percentage_below_number(column_name: str, number: float) -> MetricConstraint:
    """Share of nulls (a fraction, 0.1 = 10%) at most ``number``."""

    def below(x: MetricView) -> bool:
        n = x.n.value
        return (x.null.value / n if n else 0.0) <= number

    return _counts(
        f"null percentage of {column_name} lower than {number}",
        below,
        column_name,
        {"factory": "null_percentage_below_number", "number": number},
    )


def distinct_number_in_range(column_name: str, lower: float, upper: float) -> MetricConstraint:
    """Estimated number of distinct values in ``[lower, upper]``."""

    def in_range(x: MetricView) -> bool:
        est = x.hll.value.get_estimate()
        return not lower > est and not est > upper

    return MetricConstraint(
        name=f"{column_name} distinct values estimate between {lower} and {upper} (inclusive)",
        condition=in_range,
        metric_selector=MetricsSelector(column_name=column_name, metric_name="cardinality"),
        _params={"factory": "distinct_number_in_range", "lower": lower, "upper": upper},
    )


def frequent_strings_in_reference_set(column_name: str, reference_set) -> MetricConstraint:
    """Every frequent string of the column is in ``reference_set``."""

    def in_set(x: MetricView) -> bool:
        return all(item.value in reference_set for item in x.to_summary_dict()["frequent_strings"])

    return MetricConstraint(
        name=f"{column_name} values in set {reference_set}",
        condition=in_set,
        metric_selector=MetricsSelector(metric_name="frequent_items", column_name=column_name),
        _params={"factory": "frequent_strings_in_reference_set", "reference_set": reference_set},
    )


def n_most_common_items_in_set(column_name: str, n: int, reference_set) -> MetricConstraint:
    """The ``n`` most frequent strings are in ``reference_set``."""

    def in_set(x: MetricView) -> bool:
        return all(item.value in reference_set for item in x.to_summary_dict()["frequent_strings"][:n])

    return MetricConstraint(
        name=f"{column_name} {n}-most common items in set {reference_set}",
        condition=in_set,
        metric_selector=MetricsSelector(metric_name="frequent_items", column_name=column_name),
        _params={"factory": "n_most_common_items_in_set", "n": n, "reference_set": reference_set},
    )


def column_is_probably_unique(column_name: str) -> DatasetConstraint:
    """The distinct count's 1-sigma bounds bracket the number of values (nulls count too)."""

    def cond(profile: DatasetProfile) -> tuple[bool, dict]:
        col = profile.columns.get(column_name)
        if col is None or col.distinct() is None:
            raise MissingMetric(column_name)
        counts, card = MetricView("counts", col), MetricView("cardinality", col)
        n = int(counts.n)
        return card.lower_1 <= n <= card.upper_1, {f"{column_name}/counts": counts, f"{column_name}/cardinality": card}

    return DatasetConstraint(name=f"{column_name} is probably unique", condition=cond)


def _drift_check(
    profile: DatasetProfile, reference: DatasetProfile, columns, method: str, threshold: float | None
) -> tuple[bool, dict]:
    from .drift import drift

    thresholds = None
    if threshold is not None:
        thresholds = {"ks": threshold, "wasserstein": threshold, "jensenshannon": threshold}
    table = drift(reference, profile, columns=columns, method=method, thresholds=thresholds)
    summary: dict[str, Any] = {}
    ok = True
    for row in table.to_pylist():
        if row["drifted"]:
            ok = False
        summary[f"{row['column']}/drift"] = {k: row[k] for k in ("method", "statistic", "threshold", "drifted")}
    return ok, summary


def column_not_drifted(
    column_name: str,
    reference_profile: DatasetProfile | None = None,
    *,
    method: str = "auto",
    threshold: float | None = None,
):
    """The column has not drifted from ``reference_profile`` (see :func:`.drift.drift`; the
    default method and thresholds are Evidently's). Without ``reference_profile`` this is a
    comparison constraint using the builder's ``reference_profile_view``."""
    name = f"{column_name} has not drifted from the reference"

    def cond(profile: DatasetProfile, reference: DatasetProfile) -> tuple[bool, dict]:
        if column_name not in profile.columns or column_name not in reference.columns:
            return False, {f"{column_name}/drift": "column missing"}
        return _drift_check(profile, reference, [column_name], method, threshold)

    if reference_profile is None:
        return DatasetComparisonConstraint(condition=cond, name=name)
    return DatasetConstraint(condition=lambda p: cond(p, reference_profile), name=name)


def dataset_not_drifted(
    reference_profile: DatasetProfile | None = None,
    *,
    columns=None,
    method: str = "auto",
    threshold: float | None = None,
):
    """No column (of ``columns``, default every column) has drifted from the reference."""
    name = (
        "no column has drifted from the reference"
        if columns is None
        else f"columns {list(columns)} have not drifted from the reference"
    )

    def cond(profile: DatasetProfile, reference: DatasetProfile) -> tuple[bool, dict]:
        return _drift_check(profile, reference, columns, method, threshold)

    if reference_profile is None:
        return DatasetComparisonConstraint(condition=cond, name=name)
    return DatasetConstraint(condition=lambda p: cond(p, reference_profile), name=name)


FACTORIES = (
    greater_than_number,
    smaller_than_number,
    is_non_negative,
    is_in_range,
    mean_between_range,
    stddev_between_range,
    quantile_between_range,
    no_missing_values,
    count_below_number,
    null_values_below_number,
    null_percentage_below_number,
    distinct_number_in_range,
    frequent_strings_in_reference_set,
    n_most_common_items_in_set,
    column_is_probably_unique,
    column_not_drifted,
    dataset_not_drifted,
)

# ``from weave_lite.profiles.constraints.factories import ...`` as in whylogs
factories = ModuleType(__name__ + ".factories", "The constraint factories (whylogs' names).")
for _f in FACTORIES:
    setattr(factories, _f.__name__, _f)
factories.ALL = list(FACTORIES)  # type: ignore[attr-defined]
sys.modules[factories.__name__] = factories


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
