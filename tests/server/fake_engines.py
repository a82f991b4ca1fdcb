"""Stand-ins for ``weave_lite.evaluate`` that evaluation workers load by name in
``tests/server/test_hardening.py``, to drive the pool's own budgets, kills and crash handling
deterministically (the real engine stops most expressions itself first)."""

from __future__ import annotations

import os
import time

HOG_CEILING = 3 * 1024**3  # never more than this, even if the server failed to stop it


def answer(expr, *, root=None):
    """Answers at once."""
    return 42


def spin(expr, *, root=None):
    """Burns CPU forever and takes no budget: only a kill stops it."""
    while True:
        sum(range(10_000))


def hog(expr, *, root=None):
    """Takes 64 MiB after 64 MiB of real (touched) memory and takes no budget."""
    held = []
    while len(held) * 64 * 1024**2 < HOG_CEILING:
        held.append(b"x" * (64 * 1024**2))
        time.sleep(0.005)
    while True:
        time.sleep(1)


def crash(expr, *, root=None):
    """The process dies, as in a segfault of a native kernel."""
    os._exit(3)


def cooperative(expr, *, root=None, budget=None):
    """Spins, but checks its budget the way the engine does between kernels."""
    while True:
        budget.check()
        sum(range(10_000))
