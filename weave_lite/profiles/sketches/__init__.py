"""Mergeable, serialisable sketches with Numba kernels.

Each sketch updates from a whole numpy column per call (the per-value loop runs in a
``@njit(cache=True, nogil=True)`` kernel, so several columns can be profiled at once on
threads), merges with another sketch of the same shape, and round-trips through
``to_bytes()`` / ``from_bytes()``.

- :class:`KLLSketch` (``kll.py``): quantiles, Karnin-Lang-Liberty compactors.
- :class:`HLLSketch` (``hll.py``): distinct counts, exact below a threshold, HyperLogLog above.
- :class:`FrequentItemsSketch` (``frequent.py``): heavy hitters (Misra-Gries with purges).
"""

from .frequent import FrequentItemsSketch
from .hll import HLLSketch
from .kll import KLLSketch

__all__ = ["FrequentItemsSketch", "HLLSketch", "KLLSketch"]
