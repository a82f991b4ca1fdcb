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

Keeping the interface this small is what lets an object store back the log later.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.ipc as ipc


class LogFileSystem:
    """Durable local-disk implementation of the log's I/O interface.

    Paths are relative to ``base`` and use ``/``.
    """

    def __init__(self, base: str | os.PathLike):
        self.base = Path(base)
        self.arrow_fs = pafs.LocalFileSystem(use_mmap=True)

    # -- paths ---------------------------------------------------------------------------------

    def full(self, rel: str) -> str:
        return str(self.base / rel)

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
        with open(self.full(rel), "rb") as f:
            return f.read()

    def put_if_absent(self, rel: str, data: bytes) -> bool:
        """Atomically create ``rel`` holding ``data``; ``False`` if it already exists."""
        final = self.full(rel)
        folder = os.path.dirname(final)
        tmp = os.path.join(folder, f".tmp-{uuid.uuid4().hex}")
        _write_durably(tmp, data)
        try:
            os.link(tmp, final)
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)
        _fsync_dir(folder)
        return True

    def replace(self, rel: str, data: bytes) -> None:
        """Atomically replace ``rel`` with ``data`` (hints and checkpoints)."""
        replace_durably(self.full(rel), data)

    def delete(self, rel: str) -> None:
        try:
            os.unlink(self.full(rel))
        except FileNotFoundError:
            pass

    # -- segments ------------------------------------------------------------------------------

    def write_segment(self, rel: str, batches: list[pa.RecordBatch], schema: pa.Schema) -> int:
        """Write an uncompressed Arrow IPC file durably; return its size in bytes.

        The file is written under its final (unique) name: until a commit names it, no reader
        looks at it, and a crash leaves only an orphan that vacuum removes.
        """
        path = self.full(rel)
        with pa.OSFile(path, "wb") as sink:
            with ipc.new_file(sink, schema) as writer:
                for b in batches:
                    writer.write_batch(b)
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        return size

    def read_segment(self, rel: str) -> pa.Table:
        """Memory-map a segment and return it as a table (zero-copy)."""
        source = self.arrow_fs.open_input_file(self.full(rel))  # a memory map (use_mmap=True)
        return ipc.open_file(source).read_all()

    def fsync_folder(self, rel: str) -> None:
        _fsync_dir(self.full(rel))


def replace_durably(path: str | os.PathLike, data: bytes) -> None:
    """Atomically (re)place the file ``path`` with ``data``, durably: temp file, fsync, rename,
    fsync of the folder. Readers see the old file or the new one, never a partial one."""
    folder = os.path.dirname(os.fspath(path))
    tmp = os.path.join(folder, f".tmp-{uuid.uuid4().hex}")
    try:
        _write_durably(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(folder)


def _write_durably(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str | os.PathLike) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
