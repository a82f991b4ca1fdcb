"""The constraint factories, with whylogs' names, keyword arguments and semantics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..dataset import DatasetProfile
from .core import (
    DatasetComparisonConstraint,
    DatasetConstraint,
    MetricConstraint,
    MetricsSelector,
    MetricView,
    MissingMetric,
)


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
    from ..drift import drift

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

ALL = list(FACTORIES)
