"""whylogs-v1-style constraints: every factory passing and failing on purpose."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from weave_lite.profiles import profile_table
from weave_lite.profiles.constraints import (
    Constraints,
    ConstraintsBuilder,
    DatasetComparisonConstraint,
    MetricConstraint,
    MetricsSelector,
    ReportResult,
)
from weave_lite.profiles.constraints.factories import (
    column_is_probably_unique,
    column_not_drifted,
    count_below_number,
    dataset_not_drifted,
    distinct_number_in_range,
    frequent_strings_in_reference_set,
    greater_than_number,
    is_in_range,
    is_non_negative,
    mean_between_range,
    n_most_common_items_in_set,
    no_missing_values,
    null_percentage_below_number,
    null_values_below_number,
    quantile_between_range,
    smaller_than_number,
    stddev_between_range,
)


@pytest.fixture
def profile():
    df = pd.DataFrame({
        "animal": ["cat", "hawk", "snake", "cat"],
        "legs": [4, 2, 0, 4],
        "weight": [4.3, 1.8, None, 4.1],
        "id": ["a1", "a2", "a3", "a4"],
    })
    return profile_table(df)


def check(profile, constraint) -> bool:
    c = ConstraintsBuilder(dataset_profile_view=profile).add_constraint(constraint).build()
    report = c.generate_constraints_report()
    assert len(report) == 1 and report[0].passed + report[0].failed == 1
    assert report[0].name == constraint.name
    assert c.validate() == bool(report[0].passed)
    return c.validate()


CASES = [
    (greater_than_number(column_name="weight", number=0.0), greater_than_number(column_name="legs", number=0)),
    (smaller_than_number(column_name="legs", number=5), smaller_than_number(column_name="legs", number=4)),
    (is_in_range(column_name="legs", lower=0, upper=4), is_in_range(column_name="legs", lower=1, upper=4)),
    (mean_between_range(column_name="legs", lower=2.5, upper=2.5), mean_between_range(column_name="legs", lower=3, upper=4)),
    (stddev_between_range(column_name="legs", lower=1.9, upper=2.0), stddev_between_range(column_name="legs", lower=0, upper=1)),
    (quantile_between_range(column_name="legs", quantile=0.5, lower=2, upper=4),
     quantile_between_range(column_name="legs", quantile=0.5, lower=3, upper=4)),
    (no_missing_values(column_name="legs"), no_missing_values(column_name="weight")),
    (count_below_number(column_name="legs", number=4), count_below_number(column_name="legs", number=3)),
    (null_values_below_number(column_name="weight", number=2), null_values_below_number(column_name="weight", number=1)),
    (null_percentage_below_number(column_name="weight", number=0.25),
     null_percentage_below_number(column_name="weight", number=0.2)),
    (distinct_number_in_range(column_name="animal", lower=3, upper=3),
     distinct_number_in_range(column_name="animal", lower=4, upper=10)),
    (frequent_strings_in_reference_set(column_name="animal", reference_set={"cat", "hawk", "snake"}),
     frequent_strings_in_reference_set(column_name="animal", reference_set={"cat", "hawk"})),
    (n_most_common_items_in_set(column_name="animal", n=1, reference_set={"cat"}),
     n_most_common_items_in_set(column_name="animal", n=2, reference_set={"cat"})),
    (column_is_probably_unique(column_name="id"), column_is_probably_unique(column_name="animal")),
]


@pytest.mark.parametrize("passing,failing", CASES, ids=[c[0].name for c in CASES])
def test_factory_passes_and_fails(profile, passing, failing):
    assert check(profile, passing) is True
    assert check(profile, failing) is False


def test_is_non_negative(profile):
    assert check(profile, is_non_negative(column_name="legs")) is True
    p = profile_table(pd.DataFrame({"x": [1.0, -0.5]}))
    assert check(p, is_non_negative(column_name="x")) is False


def test_whylogs_names_and_report_shape(profile):
    b = ConstraintsBuilder(profile)
    b.add_constraint(greater_than_number(column_name="weight", number=0.0))
    c = b.build()
    assert c.validate()
    assert c.report() == [("weight greater than number 0.0", 1, 0)]
    b.add_constraint(greater_than_number(column_name="legs", number=6))
    c = b.build()
    assert not c.validate()
    assert c.report() == [("weight greater than number 0.0", 1, 0), ("legs greater than number 6", 0, 1)]
    r = c.generate_constraints_report(with_summary=True)
    assert isinstance(r[0], ReportResult) and r[0].summary["metric"] == "distribution"
    assert r[1].summary["min"] == 0.0
    assert c.generate_constraints_report()[0].summary is None


def test_skip_missing_and_missing_columns(profile):
    # a string column has no distribution: passes with skip_missing (the default), fails without
    assert check(profile, greater_than_number(column_name="animal", number=0)) is True
    assert check(profile, greater_than_number(column_name="animal", number=0, skip_missing=False)) is False
    with pytest.raises(ValueError, match="not found"):
        ConstraintsBuilder(profile).add_constraint(no_missing_values(column_name="nope"))
    # frequent items of a numeric column: whylogs skips the constraint
    c = ConstraintsBuilder(profile).add_constraint(
        frequent_strings_in_reference_set(column_name="legs", reference_set={"x"})).build()
    assert c.generate_constraints_report() == []
    assert Constraints(profile).validate() is True


def test_custom_metric_constraint(profile):
    mc = MetricConstraint(name="legs max below 10", condition=lambda x: x.max < 10,
                          metric_selector=MetricsSelector(metric_name="distribution", column_name="legs"))
    counts = MetricConstraint(name="count 4", condition=lambda x: x.n.value == 4,
                              metric_selector=MetricsSelector(metric_name="counts", column_name="legs"))
    types = MetricConstraint(name="strings", condition=lambda x: x.string.value == 4 and x.integral == 0,
                             metric_selector=MetricsSelector(metric_name="types", column_name="animal"))
    c = ConstraintsBuilder(profile).add_constraints([mc, counts, types]).build()
    assert c.validate()


def test_drift_constraints():
    rng = np.random.default_rng(0)
    ref = profile_table(pa.table({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)}))
    same = profile_table(pa.table({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)}))
    moved = profile_table(pa.table({"x": rng.normal(2, 1, 5000), "c": rng.choice(["a", "b"], 5000)}))
    assert check(same, column_not_drifted(column_name="x", reference_profile=ref)) is True
    assert check(moved, column_not_drifted(column_name="x", reference_profile=ref)) is False
    assert check(moved, column_not_drifted(column_name="c", reference_profile=ref)) is True
    assert check(moved, dataset_not_drifted(reference_profile=ref)) is False
    assert check(moved, column_not_drifted(column_name="x", reference_profile=ref, threshold=10)) is True
    # without a reference: a comparison constraint using the builder's reference profile
    cmp_ = column_not_drifted(column_name="x")
    assert isinstance(cmp_, DatasetComparisonConstraint)
    with pytest.raises(ValueError, match="reference_profile_view"):
        ConstraintsBuilder(moved).add_constraint(cmp_)
    c = ConstraintsBuilder(moved, reference_profile_view=ref).add_constraint(cmp_).build()
    report = c.generate_constraints_report(with_summary=True)
    assert report[0].failed == 1 and report[0].summary["x/drift"]["drifted"] is True
