"""A fault injector for the log's filesystem primitives.

Every byte the log writes reaches the disk through a few ``os`` functions (``open``, ``write``,
``fsync``, ``link``, ``replace``, ``unlink``, ``mkdir``) and every small file is read through
``LogFileSystem.read_bytes``.  :class:`Fault` replaces one of them so that its ``nth`` call and
every later one raise ``OSError(errno)`` until the fault is freed: a disk that fills up (ENOSPC)
or a device that starts failing (EIO) at any step of a commit, checkpoint, compaction, creation
or vacuum.
"""

from __future__ import annotations

import errno as errno_codes
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from weave_lite.storage.filesystem import LogFileSystem

OS_PRIMITIVES = ("open", "write", "fsync", "link", "replace", "unlink", "mkdir")
PRIMITIVES = (*OS_PRIMITIVES, "read_bytes")
ERRNOS = {"ENOSPC": errno_codes.ENOSPC, "EIO": errno_codes.EIO}


class Fault:
    """Makes the ``nth`` and later calls of ``primitive`` fail with ``errno`` while active."""

    def __init__(self, primitive: str, nth: int, errno: int):
        self.primitive = primitive
        self.nth = nth
        self.errno = errno
        self.calls = 0
        self.injected = 0
        self.active = False
        self._lock = threading.Lock()

    def _should_fail(self) -> bool:
        with self._lock:
            if not self.active:
                return False
            self.calls += 1
            if self.calls >= self.nth:
                self.injected += 1
                return True
            return False

    def _wrap(self, original: Callable) -> Callable:
        def faulty(*args, **kwargs):
            if self._should_fail():
                raise OSError(self.errno, f"injected {os.strerror(self.errno)} in {self.primitive}")
            return original(*args, **kwargs)

        return faulty

    @contextmanager
    def installed(self) -> Iterator[Fault]:
        """Patch the primitive for the duration (the fault starts inactive: call ``arm``)."""
        if self.primitive in OS_PRIMITIVES:
            owner, name = os, self.primitive
        else:
            owner, name = LogFileSystem, self.primitive
        original = getattr(owner, name)
        setattr(owner, name, self._wrap(original))
        try:
            yield self
        finally:
            setattr(owner, name, original)

    def arm(self) -> None:
        with self._lock:
            self.calls = 0
            self.active = True

    def free(self) -> None:
        with self._lock:
            self.active = False
