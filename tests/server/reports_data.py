"""A rotated StreamTable with constraints: one window that passes, one that fails."""

from __future__ import annotations

import time
from pathlib import Path

from weave_lite import StreamTable
from weave_lite.profiles.constraints.factories import no_missing_values, smaller_than_number


def log_rotated_windows(root: Path, name: str = "e/p/monitored") -> StreamTable:
    """Two one-second windows of ``latency_ms``: the first below 100 (passes), the second not."""
    constraints = [
        smaller_than_number(column_name="latency_ms", number=100),
        no_missing_values(column_name="latency_ms"),
    ]
    st = StreamTable(name, root=root, profile_rotation="s", batch_interval=0.01, constraints=constraints)
    st.log([{"latency_ms": float(i)} for i in range(1, 50)])
    st.flush()
    time.sleep(1.2)  # the next rows fall in a later window: the first one closes
    st.log([{"latency_ms": 500.0}, {"latency_ms": 20.0}])
    st.flush()
    st.finish()  # writes (and checks) the open window
    return st
