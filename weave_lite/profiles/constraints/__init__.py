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

from . import factories
from .core import (
    AnyConstraint,
    Constraints,
    ConstraintsBuilder,
    DatasetComparisonConstraint,
    DatasetConstraint,
    FrequentItem,
    MetricConstraint,
    MetricsSelector,
    MetricView,
    MissingMetric,
    ReportResult,
)
from .factories import *  # noqa: F403 - the factories, as whylogs' ``constraints`` exports them
from .factories import FACTORIES
from .windows import WindowReport, as_constraint_list, check_window, report_path_for

__all__ = [
    "AnyConstraint",
    "Constraints",
    "ConstraintsBuilder",
    "DatasetComparisonConstraint",
    "DatasetConstraint",
    "FACTORIES",
    "FrequentItem",
    "MetricConstraint",
    "MetricView",
    "MetricsSelector",
    "MissingMetric",
    "ReportResult",
    "WindowReport",
    "as_constraint_list",
    "check_window",
    "factories",
    "report_path_for",
    *(f.__name__ for f in FACTORIES),
]
