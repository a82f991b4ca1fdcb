"""The log on an object store: :class:`ObjectStoreFileSystem`, the log's I/O interface over
S3 (and GCS) requests.

The commit protocol of :mod:`weave_lite.storage.log` needs one primitive a plain file system
lacks, a create-only write, and on an object store that is a conditional PUT:

* **Segments** are plain PUTs under unique names (``_segments/<uuid>.arrow``): until a commit
  names one, no reader looks at it.
* **Commit** ``v`` is a create-only PUT of ``_log/<v>.json`` (S3 ``If-None-Match: *``; GCS
  ``ifGenerationMatch=0``).  ``pyarrow.fs`` cannot make a conditional write, so commits (and
  the other small requests: HEAD, GET of small files, LIST, DELETE) go through a maintained
  client (boto3 for S3, google-cloud-storage for GCS).  A *412 Precondition Failed* means the
  version is taken: :meth:`ObjectStoreFileSystem.put_if_absent` returns ``False`` and
  :meth:`CommitLog.commit <weave_lite.storage.log.CommitLog.commit>` reads that version back:
  if it carries our batch id an earlier try landed (its answer was lost), else it moves on to
  the next version.  A *409 Conflict* (a concurrent conditional write of the same key), a
  timeout, a 5xx or a dropped connection is retried here a few times on the *same* version,
  then raised: the writer retries later, and its read-back by batch id
  (:meth:`CommitLog.find_batch <weave_lite.storage.log.CommitLog.find_batch>`) tells whether a
  try whose answer was lost had landed.  No row is ever committed twice.
* The **latest version** is found with HEAD requests, galloping forward from the version a
  reader holds (S3 and GCS are strongly consistent for reads after writes and for HEADs):
  one HEAD when nothing changed.
* **Checkpoints and the hint** are plain PUTs (a PUT replaces an object atomically); they are
  hints only.
* **Reads** of segments go through ``pyarrow.fs`` (``S3FileSystem``/``GcsFileSystem``): one
  GET of the whole immutable file, no memory map.
* ``fsync_folder`` and ``makedirs`` are no-ops: an acknowledged PUT is durable, and an object
  store has no folders (a "folder" exists while it holds an object).
* **Vacuum** deletes only segments no commit names and older than
  :attr:`ObjectStoreFileSystem.orphan_grace_seconds` (1 h), far longer than the slowest
  commit: a writer re-uploads a segment it wrote more than
  :attr:`~ObjectStoreFileSystem.segment_reuse_seconds` ago instead of committing it.

Credentials and the endpoint come the standard way: the ``AWS_*`` variables (``AWS_ENDPOINT_URL``
and ``AWS_ENDPOINT_URL_S3`` included) and the usual AWS configuration for S3, Application
Default Credentials (and ``STORAGE_EMULATOR_HOST``) for GCS, or a ``pyarrow.fs.FileSystem``
given with the root (:func:`weave_lite.storage.names.object_root`), whose settings the commit
client then uses too.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from weave_lite.errors import (
    ConditionalConflict,
    CorruptTableError,
    ObjectStoreError,
    RequestTimeout,
    StorageError,
)
from weave_lite.storage.names import ObjectRoot

# Attempts per request (the first try included) before a transient failure is raised to the
# caller, and the back-off between them.
DEFAULT_ATTEMPTS = 4
_BACKOFF_START = 0.02
_BACKOFF_CAP = 1.0


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    mtime: float  # epoch seconds


# -- the requests, per store --------------------------------------------------------------------


class S3Objects:
    """The few S3 requests the log makes, over a boto3 S3 client (or any object with the same
    methods: ``head_object``, ``get_object``, ``put_object`` (with ``IfNoneMatch``),
    ``list_objects_v2``, ``delete_object``), with errors mapped to Python's."""

    def __init__(self, client: Any, bucket: str):
        self.client = client
        self.bucket = bucket

    def head(self, key: str) -> ObjectInfo | None:
        try:
            r = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            error = _s3_error(exc, key)
            if isinstance(error, FileNotFoundError):
                return None
            raise error from exc
        return ObjectInfo(int(r["ContentLength"]), _epoch(r.get("LastModified")))

    def get(self, key: str) -> bytes:
        try:
            r = self.client.get_object(Bucket=self.bucket, Key=key)
            return r["Body"].read()
        except Exception as exc:
            raise _s3_error(exc, key) from exc

    def put(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        except Exception as exc:
            raise _s3_error(exc, key) from exc

    def put_if_absent(self, key: str, data: bytes) -> bool:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, IfNoneMatch="*")
        except Exception as exc:
            if _s3_status(exc)[0] == 412:
                return False
            raise _s3_error(exc, key) from exc
        return True

    def list(self, prefix: str, max_keys: int | None = None) -> Iterator[tuple[str, bool]]:
        """``(name, is_folder)`` of the objects and folders right under ``prefix`` (which ends
        with ``/`` or is empty), page by page."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "Delimiter": "/"}
        if max_keys is not None:
            kwargs["MaxKeys"] = max_keys
        while True:
            try:
                r = self.client.list_objects_v2(**kwargs)
            except Exception as exc:
                raise _s3_error(exc, prefix) from exc
            for obj in r.get("Contents") or ():
                name = obj["Key"][len(prefix) :]
                if name:  # skip a folder marker object ("prefix/")
                    yield name, False
            for p in r.get("CommonPrefixes") or ():
                yield p["Prefix"][len(prefix) :].rstrip("/"), True
            token = r.get("NextContinuationToken")
            if not r.get("IsTruncated") or not token or max_keys is not None:
                return
            kwargs["ContinuationToken"] = token

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            error = _s3_error(exc, key)
            if not isinstance(error, FileNotFoundError):
                raise error from exc


def _s3_status(exc: BaseException) -> tuple[int | None, str]:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None, ""
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    code = str((response.get("Error") or {}).get("Code", ""))
    if status is None and code.isdigit():
        status = int(code)
    return status, code


def _s3_error(exc: BaseException, key: str) -> OSError:
    """The ``OSError`` for a failed S3 request (botocore's exceptions are not ``OSError``)."""
    if isinstance(exc, OSError) and not _is_botocore(exc):
        return exc
    status, code = _s3_status(exc)
    where = f"{key}: {exc}"
    if status == 404 or code in ("NoSuchKey", "NotFound", "404"):
        return FileNotFoundError(2, "no such object", key)
    if code == "NoSuchBucket":
        return FileNotFoundError(2, f"no such bucket ({exc})", key)
    if status == 409:
        return ConditionalConflict(f"conflicting concurrent write of {where}")
    if status in (401, 403):
        return PermissionError(13, f"access denied ({exc})", key)
    if status is not None and (status >= 500 or status == 429 or code in ("SlowDown", "RequestTimeout")):
        return ObjectStoreError(f"object store unavailable for {where}")
    if status is not None:
        error = OSError(f"object store request failed for {where}")
        error.transient = False  # type: ignore[attr-defined]
        return error
    name = type(exc).__name__
    if "Timeout" in name:
        return RequestTimeout(f"request timed out for {where}")
    return ObjectStoreError(f"object store request failed for {where}")


def _is_botocore(exc: BaseException) -> bool:
    return type(exc).__module__.startswith(("botocore", "urllib3"))


def _epoch(value: Any) -> float:
    if value is None:
        return time.time()
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)


class GCSObjects:
    """The same requests on Google Cloud Storage (google-cloud-storage); a create-only write
    is an upload with ``if_generation_match=0``."""

    def __init__(self, client: Any, bucket: str):
        self.client = client
        self.bucket_name = bucket
        self.bucket = client.bucket(bucket)

    def _error(self, exc: BaseException, key: str) -> OSError:
        code = getattr(exc, "code", None)
        if code == 404:
            return FileNotFoundError(2, "no such object", key)
        if code == 409:
            return ConditionalConflict(f"conflicting concurrent write of {key}: {exc}")
        if code in (401, 403):
            return PermissionError(13, f"access denied ({exc})", key)
        if "Timeout" in type(exc).__name__ or "DeadlineExceeded" in type(exc).__name__:
            return RequestTimeout(f"request timed out for {key}: {exc}")
        if isinstance(exc, OSError):
            return exc
        return ObjectStoreError(f"object store request failed for {key}: {exc}")

    def head(self, key: str) -> ObjectInfo | None:
        try:
            blob = self.bucket.get_blob(key)
        except Exception as exc:
            raise self._error(exc, key) from exc
        if blob is None:
            return None
        return ObjectInfo(int(blob.size or 0), _epoch(blob.updated))

    def get(self, key: str) -> bytes:
        try:
            return self.bucket.blob(key).download_as_bytes()
        except Exception as exc:
            raise self._error(exc, key) from exc

    def put(self, key: str, data: bytes) -> None:
        try:
            self.bucket.blob(key).upload_from_string(data, content_type="application/octet-stream")
        except Exception as exc:
            raise self._error(exc, key) from exc

    def put_if_absent(self, key: str, data: bytes) -> bool:
        try:
            self.bucket.blob(key).upload_from_string(
                data, content_type="application/octet-stream", if_generation_match=0
            )
        except Exception as exc:
            if getattr(exc, "code", None) == 412:
                return False
            raise self._error(exc, key) from exc
        return True

    def list(self, prefix: str, max_keys: int | None = None) -> Iterator[tuple[str, bool]]:
        try:
            blobs = self.client.list_blobs(self.bucket_name, prefix=prefix, delimiter="/", max_results=max_keys)
            for blob in blobs:
                name = blob.name[len(prefix) :]
                if name:
                    yield name, False
            for p in sorted(blobs.prefixes):
                yield p[len(prefix) :].rstrip("/"), True
        except Exception as exc:
            raise self._error(exc, prefix) from exc

    def delete(self, key: str) -> None:
        try:
            self.bucket.blob(key).delete()
        except Exception as exc:
            error = self._error(exc, key)
            if not isinstance(error, FileNotFoundError):
                raise error from exc


# -- the log's I/O interface -------------------------------------------------------------------


class ObjectStoreFileSystem:
    """The log's I/O interface (see :class:`weave_lite.storage.filesystem.LogFileSystem`) on an
    object store location.  Paths are relative to the location and use ``/``."""

    is_local = False
    # Never delete a segment no commit names younger than this (see the module docstring).
    orphan_grace_seconds = 3600.0
    # A writer re-uploads a segment older than this rather than commit it (so that no commit
    # can name a segment vacuum may already consider an orphan).
    segment_reuse_seconds = 900.0
    # Segments read are held in memory (no memory map): bound the table's cache.
    segment_cache_bytes = 1 << 30

    def __init__(
        self,
        location: ObjectRoot,
        objects: S3Objects | GCSObjects | Any | None = None,
        arrow_fs: Any = None,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
    ):
        self.location = location
        self.base = location.uri
        self.objects = objects if objects is not None else _objects_for(location)
        if arrow_fs is None:
            arrow_fs = location.filesystem
            if arrow_fs is None and location.client is None:
                arrow_fs = _arrow_fs_for(location)
        # None when a client was given without a filesystem: everything goes through it.
        self.arrow_fs = arrow_fs
        self.attempts = max(1, attempts)
        self._dirs: set[str] = set()  # folders known to hold objects (they never go away)

    # -- paths ---------------------------------------------------------------------------------

    def full(self, rel: str) -> str:
        return f"{self.base}/{rel}" if rel else self.base

    def key(self, rel: str) -> str:
        return self.location.key(rel)

    def arrow_path(self, rel: str) -> str:
        """``rel`` as a path of :attr:`arrow_fs` (``bucket/prefix/rel``)."""
        key = self.key(rel)
        return f"{self.location.bucket}/{key}" if key else self.location.bucket

    def arrow_filesystem(self):
        if self.arrow_fs is None:
            raise StorageError(f"{self.base}: no pyarrow filesystem for this object store (give one with the root)")
        return self.arrow_fs

    def exists(self, rel: str) -> bool:
        return self._retry(self.objects.head, self.key(rel)) is not None

    def is_dir(self, rel: str) -> bool:
        """True when the folder ``rel`` holds at least one object (one LIST; cached once true)."""
        if rel in self._dirs:
            return True
        prefix = self._prefix(rel)
        found = self._retry(lambda: next(iter(self.objects.list(prefix, max_keys=1)), None)) is not None
        if found:
            self._dirs.add(rel)
        return found

    def makedirs(self, rel: str) -> None:
        """A no-op: an object store has no folders."""

    def list_dir(self, rel: str) -> list[str]:
        """Names of the objects and folders right under ``rel`` (empty when there are none)."""
        prefix = self._prefix(rel)
        return self._retry(lambda: [name for name, _ in self.objects.list(prefix)])

    def list_dirs(self, rel: str) -> list[str]:
        """Names of the folders right under ``rel``."""
        prefix = self._prefix(rel)
        return self._retry(lambda: [name for name, folder in self.objects.list(prefix) if folder])

    def mtime(self, rel: str) -> float:
        info = self._retry(self.objects.head, self.key(rel))
        if info is None:
            raise FileNotFoundError(2, "no such object", self.full(rel))
        return info.mtime

    def _prefix(self, rel: str) -> str:
        key = self.key(rel)
        return f"{key}/" if key else ""

    # -- small files ---------------------------------------------------------------------------

    def read_bytes(self, rel: str) -> bytes:
        return self._retry(self.objects.get, self.key(rel))

    def put_if_absent(self, rel: str, data: bytes) -> bool:
        """Create ``rel`` holding ``data`` unless it exists (a conditional PUT); ``False`` when
        it exists (412).  A 409, a timeout or a lost answer is retried on the same key: a retry
        of a try that landed gets 412, and the caller's read-back finds its own commit."""
        return self._retry(self.objects.put_if_absent, self.key(rel), bytes(data))

    def replace(self, rel: str, data: bytes) -> None:
        """A plain PUT (atomic: readers see the old object or the new one)."""
        self._retry(self.objects.put, self.key(rel), bytes(data))

    def delete(self, rel: str) -> None:
        self._retry(self.objects.delete, self.key(rel))

    # -- segments ------------------------------------------------------------------------------

    def write_segment(self, rel: str, batches: list[pa.RecordBatch], schema: pa.Schema) -> tuple[int, str]:
        """Upload an uncompressed Arrow IPC file under its final (unique) name; return its size
        and checksum."""
        from weave_lite.storage.segments import segment_checksum

        sink = pa.BufferOutputStream()
        with ipc.new_file(sink, schema) as writer:
            for b in batches:
                writer.write_batch(b)
        data = sink.getvalue()
        self._retry(self.objects.put, self.key(rel), data.to_pybytes())
        return data.size, segment_checksum(data)

    def read_segment(self, rel: str, expected_bytes: int | None = None) -> pa.Table:
        """One GET of the whole segment, read as Arrow IPC (no memory map).

        Raises :class:`CorruptTableError` naming the file when it is missing, has another size
        than its commit recorded, or is not a readable Arrow IPC file.
        """
        full = self.full(rel)
        try:
            data = self._read_object(rel)
        except FileNotFoundError:
            raise CorruptTableError(full, "segment file is missing") from None
        if expected_bytes is not None and data.size != expected_bytes:
            raise CorruptTableError(full, f"segment is {data.size} bytes, its commit recorded {expected_bytes}")
        try:
            table = ipc.open_file(data).read_all()
            table.validate()
            return table
        except pa.ArrowException as exc:
            raise CorruptTableError(full, f"not a readable Arrow IPC file ({exc})") from None

    def _read_object(self, rel: str) -> pa.Buffer:
        if self.arrow_fs is None:
            return pa.py_buffer(self._retry(self.objects.get, self.key(rel)))

        def read() -> pa.Buffer:
            with self.arrow_fs.open_input_stream(self.arrow_path(rel)) as f:
                return f.read_buffer()

        return self._retry(read)

    def checksum(self, rel: str) -> str:
        from weave_lite.storage.segments import segment_checksum

        return segment_checksum(self._read_object(rel))

    def fsync_folder(self, rel: str) -> None:
        """A no-op: an acknowledged PUT is durable."""

    # -- retries -------------------------------------------------------------------------------

    def _retry(self, fn, *args):
        """``fn(*args)``, retried on transient failures (timeouts, 409, 5xx, lost connections)
        up to :attr:`attempts` times with jittered exponential back-off; then the error is
        raised (the caller retries later)."""
        delay = _BACKOFF_START
        for attempt in range(1, self.attempts + 1):
            try:
                return fn(*args)
            except OSError as exc:
                if attempt >= self.attempts or not _transient(exc):
                    raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(_BACKOFF_CAP, delay * 2)
        raise AssertionError("unreachable")  # pragma: no cover


def _transient(exc: OSError) -> bool:
    if isinstance(exc, (FileNotFoundError, PermissionError, FileExistsError, IsADirectoryError, NotADirectoryError)):
        return False
    flag = getattr(exc, "transient", None)
    if flag is not None:
        return bool(flag)
    # pyarrow.fs errors: network trouble has no errno; a local-disk error would have one.
    return exc.errno is None or isinstance(exc, (TimeoutError, ConnectionError))


# -- clients from the environment --------------------------------------------------------------

_CLIENTS: dict[tuple, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def s3_settings(filesystem: Any = None) -> dict:
    """Endpoint, region and credentials for S3: those of ``filesystem`` (a
    ``pyarrow.fs.S3FileSystem``) when given, else the environment's (``AWS_ENDPOINT_URL_S3``,
    ``AWS_ENDPOINT_URL``, ``AWS_REGION``/``AWS_DEFAULT_REGION``; credentials from the usual AWS
    chain)."""
    if filesystem is not None and getattr(filesystem, "type_name", None) == "s3":
        kw = filesystem.__reduce__()[1][0]
        endpoint = kw.get("endpoint_override") or None
        if endpoint and "://" not in endpoint:
            endpoint = f"{kw.get('scheme') or 'https'}://{endpoint}"
        return {
            "endpoint_url": endpoint or _env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
            "region_name": kw.get("region") or _env("AWS_REGION", "AWS_DEFAULT_REGION"),
            "aws_access_key_id": kw.get("access_key") or None,
            "aws_secret_access_key": kw.get("secret_key") or None,
            "aws_session_token": kw.get("session_token") or None,
        }
    return {
        "endpoint_url": _env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
        "region_name": _env("AWS_REGION", "AWS_DEFAULT_REGION"),
        "aws_access_key_id": None,
        "aws_secret_access_key": None,
        "aws_session_token": None,
    }


def _env_key() -> tuple:
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "STORAGE_EMULATOR_HOST")
    return tuple(os.environ.get(n) for n in names)


def s3_client(filesystem: Any = None):
    """A boto3 S3 client (cached per process and settings; boto3 clients are thread-safe)."""
    settings = s3_settings(filesystem)
    key = ("s3", os.getpid(), tuple(sorted(settings.items())), _env_key())
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError:
                raise StorageError(
                    "s3:// data roots need boto3 for their commits: pip install 'weave_lite[s3]'"
                ) from None
            config = Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                max_pool_connections=32,
            )
            session = boto3.session.Session()
            client = _CLIENTS[key] = session.client(
                "s3", config=config, **{k: v for k, v in settings.items() if v is not None}
            )
        return client


def _s3_arrow_fs():
    import pyarrow.fs as pafs

    settings = s3_settings()
    key = ("s3-arrow", os.getpid(), tuple(sorted(settings.items())), _env_key())
    with _CLIENTS_LOCK:
        fs = _CLIENTS.get(key)
        if fs is None:
            kwargs: dict[str, Any] = {"connect_timeout": 5, "request_timeout": 60}
            if settings["endpoint_url"]:
                kwargs["endpoint_override"] = settings["endpoint_url"]
                if settings["endpoint_url"].startswith("http://"):
                    kwargs["scheme"] = "http"
            if settings["region_name"]:
                kwargs["region"] = settings["region_name"]
            fs = _CLIENTS[key] = pafs.S3FileSystem(**kwargs)
        return fs


def _gcs_client():
    key = ("gcs", os.getpid(), _env_key())
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            try:
                from google.cloud import storage
            except ImportError:
                raise StorageError(
                    "gs:// data roots need google-cloud-storage for their commits: pip install 'weave_lite[gcs]'"
                ) from None
            client = _CLIENTS[key] = storage.Client()
        return client


def _gcs_arrow_fs():
    import pyarrow.fs as pafs

    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    key = ("gcs-arrow", os.getpid(), _env_key())
    with _CLIENTS_LOCK:
        fs = _CLIENTS.get(key)
        if fs is None:
            if emulator:
                scheme, _, host = emulator.rpartition("://")
                fs = pafs.GcsFileSystem(anonymous=True, endpoint_override=host, scheme=scheme or "http")
            else:
                fs = pafs.GcsFileSystem()
            _CLIENTS[key] = fs
        return fs


def _objects_for(location: ObjectRoot):
    if location.scheme == "s3":
        return S3Objects(
            location.client if location.client is not None else s3_client(location.filesystem), location.bucket
        )
    return GCSObjects(location.client if location.client is not None else _gcs_client(), location.bucket)


def _arrow_fs_for(location: ObjectRoot):
    return _s3_arrow_fs() if location.scheme == "s3" else _gcs_arrow_fs()
