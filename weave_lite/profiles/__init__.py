"""Streaming statistical profiles (whylogs-style) on Numba sketches (SPEC section 5).

```python
from weave_lite.profiles import get_or_create_session, read, profile_table
session = get_or_create_session()
with session.logger(dataset_name="dataset", with_rotation_time="h") as logger:
    logger.log({"x": 1.5, "label": "cat"})     # a dict, a list of dicts, a pyarrow/pandas batch
profile = read(path)                            # one window's profile
profile.to_pandas()                             # one row per column, one column per metric
profile.quantile("x", 0.5); profile.distinct("label"); profile.merge(other)
```

Modules: ``sketches/`` (KLL, HLL, frequent items: Numba kernels), ``moments.py``,
``column.py`` (one column's profile), ``dataset.py`` (a dataset's profile, ``profile_table``),
``fileformat.py`` (the ``.bin`` format), ``rotation.py`` (windows and the rotating writer),
``session.py`` (the whylogs-v0-style API), ``drift.py`` (drift between two profiles),
``constraints.py`` (whylogs-v1-style constraints).
"""

from ._binio import FormatError as ProfileFormatError
from .column import METRICS, QUANTILES, ColumnProfile
from .dataset import DatasetProfile, profile_table, read
from .drift import drift, drift_tables
from .rotation import RotatingProfileWriter, parse_rotation
from .session import Logger, Session, get_or_create_session

__all__ = [
    "METRICS",
    "QUANTILES",
    "ColumnProfile",
    "DatasetProfile",
    "Logger",
    "ProfileFormatError",
    "RotatingProfileWriter",
    "drift",
    "drift_tables",
    "Session",
    "get_or_create_session",
    "parse_rotation",
    "profile_table",
    "read",
]
