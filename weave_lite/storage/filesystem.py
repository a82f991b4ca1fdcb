"""The one narrow I/O interface of the log.

Everything the log reads or writes goes through :class:`LogFileSystem`: small metadata files
(commits, checkpoints, hints), immutable segment files, listing and deletion.  Reads of data go
through ``pyarrow.fs`` and Arrow's memory maps; the two primitives ``pyarrow.fs`` lacks are
added here:

* :meth:`LogFileSystem.put_if_absent` - create a file with the given bytes *only if it does not
  exist*, atomically and durably.  This is how a commit claims its version number; exactly one
  writer wins.  Locally: write a temp file, fsync it, ``link()`` it to the final name (fails if
  the name exists), fsync the folder.  On an object store it is a conditional put
  (``If-None-Match: *`` on S3, GCS and Azure), which a subclass can provide.
* durable writes (``fsync`` of the file and of its folder), which ``pyarrow.fs`` does not expose.

Keeping the interface this small is what lets an object store back the log:
:class:`weave_lite.storage.objectstore.ObjectStoreFileSystem` implements the same methods on
S3 and GCS (conditional PUTs for commits, HEAD/GET/LIST for the rest, reads through
``pyarrow.fs``), and :func:`open_filesystem` picks the implementation for a table's location.
"""

from __future__ import annotations

import contextlib
import functools
import mmap
import os
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.ipc as ipc
import xxhash

from weave_lite.errors import CorruptTableError
from weave_lite.lazy import lazy_module
from weave_lite.storage.segments import segment_checksum as segment_checksum  # re-exported (check.py)

if TYPE_CHECKING:
    import pyarrow.fs as pafs_types

pafs = lazy_module("pyarrow.fs")  # loaded by the first query, not at import weave_lite

# Segments up to this size are checked on the map they are read through (see read_segment).
SMALL_SEGMENT_BYTES = 4 << 20


def open_filesystem(location):
    """The log's I/O interface for a table's location: a local :class:`~pathlib.Path`, or an
    :class:`~weave_lite.storage.names.ObjectRoot` (S3, GCS)."""
    from weave_lite.storage.names import ObjectRoot

    if isinstance(location, ObjectRoot):
        from weave_lite.storage.objectstore import ObjectStoreFileSystem

        return ObjectStoreFileSystem(location)
    return LogFileSystem(location)


class LogFileSystem:
    """Durable local-disk implementation of the log's I/O interface.

    Paths are relative to ``base`` and use ``/``.
    """

    is_local = True
    # Vacuum never deletes a segment file no commit names that is younger than this: it may
    # belong to a writer about to commit it.
    orphan_grace_seconds = 300.0
    # A writer whose commit keeps failing writes its segment anew once the one it holds is this
    # old, so that no commit can name a file vacuum may take for an orphan.
    segment_reuse_seconds = 75.0
    # Segments are memory-mapped: the table's segment cache needs no bound in bytes.
    segment_cache_bytes: int | None = None

    def __init__(self, base: str | os.PathLike):
        self.base = Path(base)
        self._prefix = str(self.base) + os.sep  # full() joins text: pathlib costs ~5 us a call

    @functools.cached_property
    def arrow_fs(self) -> pafs_types.LocalFileSystem:
        """Arrow's view of the local disk (for Arrow datasets), made on first use: importing
        pyarrow.fs (with ssl, ~15 ms) is not needed to read the log (issue 15: start-up)."""
        return pafs.LocalFileSystem(use_mmap=True)

    def arrow_path(self, rel: str) -> str:
        """``rel`` as a path of :attr:`arrow_fs`."""
        return self.full(rel)

    def arrow_filesystem(self) -> pafs_types.FileSystem:
        return self.arrow_fs

    def is_dir(self, rel: str) -> bool:
        return os.path.isdir(self.full(rel))

    def list_dirs(self, rel: str) -> list[str]:
        """Names of the folders in a folder; empty when it is missing."""
        try:
            with os.scandir(self.full(rel)) as it:
                return [e.name for e in it if e.is_dir()]
        except (FileNotFoundError, NotADirectoryError):
            return []

    # -- paths ---------------------------------------------------------------------------------

    def full(self, rel: str) -> str:
        return self._prefix + rel if rel else str(self.base)

    def exists(self, rel: str) -> bool:
        return os.path.exists(self.full(rel))

    def makedirs(self, rel: str) -> None:
        path = self.base / rel
        if path.is_dir():
            return
        missing = [p for p in [path, *path.parents] if not p.exists()]
        path.mkdir(parents=True, exist_ok=True)
        # A new folder is durable once its parent's entry for it is fsync'd.
        for folder in missing:
            _fsync_dir(folder.parent)

    def list_dir(self, rel: str) -> list[str]:
        """Names in a folder (not recursive); empty when the folder is missing."""
        try:
            return os.listdir(self.full(rel))
        except FileNotFoundError:
            return []

    def mtime(self, rel: str) -> float:
        return os.stat(self.full(rel)).st_mtime

    # -- small files ---------------------------------------------------------------------------

    def read_bytes(self, rel: str) -> bytes:
        # os.read, not open(): no buffered file object per read (~5 us of every poll's two).
        fd = os.open(self.full(rel), os.O_RDONLY)
        try:
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(fd)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def put_if_absent(self, rel: str, data: bytes) -> bool:
        """Atomically create ``rel`` holding ``data``; ``False`` if it already exists.

        Once ``link()`` succeeded the file is in place: a later failure (the folder's fsync)
        still raises, and the caller must then read the file back to learn whether its
        commit landed (see :meth:`CommitLog.find_batch`).  Removing the temp file is
        best-effort: a leftover is garbage that vacuum deletes, never a reason to fail.
        """
        final = self.full(rel)
        folder = os.path.dirname(final)
        tmp = os.path.join(folder, f".tmp-{uuid.uuid4().hex}")
        try:
            _write_durably(tmp, data)
            os.link(tmp, final)
        except FileExistsError:
            _unlink_quietly(tmp)
            return False
        except BaseException:
            _unlink_quietly(tmp)
            raise
        _unlink_quietly(tmp)
        _fsync_dir(folder)
        return True

    def replace(self, rel: str, data: bytes) -> None:
        """Atomically replace ``rel`` with ``data`` (hints and checkpoints)."""
        replace_durably(self.full(rel), data)

    def delete(self, rel: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.full(rel))

    # -- segments ------------------------------------------------------------------------------

    def write_segment(self, rel: str, batches: list[pa.RecordBatch], schema: pa.Schema) -> tuple[int, str]:
        """Write an uncompressed Arrow IPC file durably; return its size and checksum.

        The file is written under its final (unique) name: until a commit names it, no reader
        looks at it.  Arrow hands the IPC writer's buffers to :class:`_HashingSink` without a
        copy, so every byte reaches the disk through the same few primitives as the commits
        (``os.write``/``os.fsync``), the checksum is taken over exactly the bytes written, and
        no serialised copy of the segment is held in memory (fresh memory is what a large
        write spends most of its time on, notably in a VM).  A failed write removes its
        partial file, so that an outage leaves no litter.
        """
        path = self.full(rel)
        try:
            return _write_segment_file(path, batches, schema)
        except FileNotFoundError:
            # The segment folder is missing (a table whose creation was interrupted).
            self.makedirs(os.path.dirname(rel))
            return _write_segment_file(path, batches, schema)

    def read_segment(self, rel: str, expected_bytes: int | None = None) -> pa.Table:
        """Memory-map a segment and return it as a table (zero-copy).

        Raises :class:`CorruptTableError` naming the file when it is missing, has another size
        than its commit recorded, or is not a readable Arrow IPC file.
        """
        full = self.full(rel)
        try:
            # The structural check (buffer sizes, string offsets), so that damage cannot crash a
            # kernel, runs on a map of its own that is closed after: the pages it touches (the
            # offsets of every string column) then leave this process's memory, and the table
            # returned maps in only what a query reads.
            if expected_bytes is not None and expected_bytes <= SMALL_SEGMENT_BYTES:
                # A small segment (a live append): the pages the check touches are few, so
                # it checks the table it returns (one open, not two: ~0.1 ms a poll).
                table = ipc.open_file(_map_small(full, expected_bytes)).read_all()
                table.validate()
                return table
            with self._open_segment(full, expected_bytes) as source:
                ipc.open_file(source).read_all().validate()
            return ipc.open_file(self._open_segment(full, expected_bytes)).read_all()
        except OSError as exc:
            if exc.errno is not None:  # a real I/O error, not damage: the caller reports it
                raise
            raise CorruptTableError(full, f"not a readable Arrow IPC file ({exc})") from None
        except pa.ArrowException as exc:  # ArrowInvalid, ArrowTypeError, ... on damaged bytes
            raise CorruptTableError(full, f"not a readable Arrow IPC file ({exc})") from None

    def _open_segment(self, full: str, expected_bytes: int | None) -> pa.NativeFile:
        try:
            mapped = pa.memory_map(full)
        except FileNotFoundError:
            raise CorruptTableError(full, "segment file is missing") from None
        size = mapped.size()
        if expected_bytes is not None and size != expected_bytes:
            mapped.close()
            raise CorruptTableError(full, f"segment is {size} bytes, its commit recorded {expected_bytes}")
        # The IPC reader over a buffer of the whole map (still zero-copy: pages fault in as a
        # query touches them) reads the footer synchronously; over the file itself it goes
        # through Arrow's I/O thread pool, a thread hand-off that cost 1-10 ms per open on a
        # loaded machine, the bulk of a live query's update after a small append.
        return pa.BufferReader(mapped.read_buffer())

    def checksum(self, rel: str) -> str:
        """The checksum of a file's bytes (read in full: used by ``weave-lite check``)."""
        with open(self.full(rel), "rb") as f:
            digest = xxhash.xxh3_64()
            while chunk := f.read(1 << 22):
                digest.update(chunk)
        return digest.hexdigest()

    def fsync_folder(self, rel: str) -> None:
        _fsync_dir(self.full(rel))


# Write-behind: once this many bytes of a segment wait in the page cache, the kernel is asked to
# start writing them out (while Arrow serialises the rest), so that the final fsync waits only
# for the tail: a 70 MB segment's write + fsync took ~95 ms instead of ~120 (a loaded VM).
WRITE_BEHIND_BYTES = 4 << 20
_START_WRITEBACK = getattr(os, "POSIX_FADV_DONTNEED", None) if sys.platform.startswith("linux") else None


class _HashingSink:
    """The file object Arrow's IPC writer writes to: ``os.write`` to ``fd``, hashing as it goes."""

    closed = False

    def __init__(self, fd: int):
        self.fd = fd
        self.size = 0
        self.started = 0  # bytes whose writeback was started
        self.digest = xxhash.xxh3_64()

    def write(self, data: bytes | pa.Buffer) -> int:
        view = memoryview(data)
        self.digest.update(view)
        size = len(view)
        while view:
            written = os.write(self.fd, view[: 1 << 26])
            view = view[written:]
        self.size += size
        if _START_WRITEBACK is not None and self.size - self.started >= WRITE_BEHIND_BYTES:
            # On Linux, DONTNEED on dirty pages starts their writeback and does not wait for it;
            # pages under writeback stay cached (a query right after reads them from memory).
            # Only a hint: durability is still the fsync after the last byte.
            os.posix_fadvise(self.fd, self.started, self.size - self.started, _START_WRITEBACK)
            self.started = self.size
        return size

    def flush(self) -> None:
        pass

    def close(self) -> None:  # the fd is closed by its owner
        pass


def _write_segment_file(path: str, batches: list[pa.RecordBatch], schema: pa.Schema) -> tuple[int, str]:
    """Create ``path`` as the IPC file of ``batches``, fsync it; its size and checksum (on
    failure the partial file is removed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    sink = _HashingSink(fd)
    try:
        with ipc.new_file(pa.PythonFile(sink, mode="w"), schema) as writer:
            for b in batches:
                writer.write_batch(b)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink_quietly(path)
        raise
    os.close(fd)
    return sink.size, sink.digest.hexdigest()


def _map_small(full: str, expected_bytes: int) -> pa.Buffer:
    """A small segment's bytes as a buffer over a Python ``mmap`` of the file (zero-copy: the
    map lives while Arrow holds the buffer).  ~40 us less than ``pa.memory_map`` and a
    ``BufferReader`` on every live poll's new segment (measured on a 20k-row segment)."""
    try:
        fd = os.open(full, os.O_RDONLY)
    except FileNotFoundError:
        raise CorruptTableError(full, "segment file is missing") from None
    try:
        size = os.fstat(fd).st_size
        if size != expected_bytes:
            raise CorruptTableError(full, f"segment is {size} bytes, its commit recorded {expected_bytes}")
        if size == 0:  # (mmap refuses an empty file; a zero-byte segment is no IPC file)
            raise CorruptTableError(full, "not a readable Arrow IPC file (empty)")
        mapped = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)
    return pa.py_buffer(mapped)


def replace_durably(path: str | os.PathLike, data: bytes) -> None:
    """Atomically (re)place the file ``path`` with ``data``, durably: temp file, fsync, rename,
    fsync of the folder. Readers see the old file or the new one, never a partial one."""
    folder = os.path.dirname(os.fspath(path))
    tmp = os.path.join(folder, f".tmp-{uuid.uuid4().hex}")
    try:
        _write_durably(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    _fsync_dir(folder)


def _write_durably(path: str, data: bytes | pa.Buffer) -> None:
    """Create ``path`` holding ``data`` and fsync it; on failure remove the partial file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view[: 1 << 26])
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink_quietly(path)
        raise
    os.close(fd)


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _fsync_dir(path: str | os.PathLike) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
