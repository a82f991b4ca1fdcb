"""Fixtures of the profile tests (data helpers live in profiles_testdata.py)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from profiles_testdata import seeded_columns


@pytest.fixture(scope="session")
def columns() -> dict[str, pa.Array]:
    return seeded_columns()


@pytest.fixture(scope="session")
def table(columns) -> pa.Table:
    return pa.table(columns)
