from hypothesis import given, settings, HealthCheck
from tests.engine.test_differential_reference import test_engine_equals_reference as base
import tests.engine.test_differential_reference as m
from tests.reference.strategies import tables_and_expressions

@given(tables_and_expressions(max_rows=40, depth=3))
@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzz(case):
    base.hypothesis.inner_test(case)
