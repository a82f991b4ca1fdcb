"""An in-process S3 for the object store tests: the boto3 calls the log makes, atomic, with
faults injected at chosen requests.

moto checks ``If-None-Match`` and writes without a lock, so it cannot show that a commit is
exactly-once under races and lost answers; this fake can.  It implements the methods of a
boto3 S3 client that :class:`weave_lite.storage.objectstore.S3Objects` calls
(``head_object``, ``get_object``, ``put_object`` with ``IfNoneMatch``, ``list_objects_v2``,
``delete_object``) and raises botocore's own exceptions, so the error mapping is tested too.

Faults, by the number of the request they hit (``fake.faults[n] = kind``) or at random
(``fake.fault_rate``):

* ``timeout`` - the request is not performed; the caller gets a read timeout;
* ``lost`` - the request is performed, then the caller gets a read timeout (a lost answer);
* ``409`` - ``ConditionalRequestConflict``, not performed;
* ``500`` - ``InternalError``, not performed;
* ``landed-412`` - performed, then answered 412 (as when a proxy or the SDK retried a PUT
  that had landed: the caller sees its own commit as "taken");
* ``steal`` - just before the request, :attr:`stealer` runs (another writer commits), so a
  conditional PUT of the next version meets a real 412.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import threading

from botocore.exceptions import ClientError, ReadTimeoutError

KINDS = ("timeout", "lost", "409", "500", "landed-412", "steal")


def client_error(status: int, code: str, op: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, op)


class FakeS3:
    def __init__(self, bucket: str = "bucket", page_size: int = 7, seed: int = 0):
        self.bucket = bucket
        self.page_size = page_size
        self.objects: dict[str, tuple[bytes, dt.datetime]] = {}
        self.lock = threading.Lock()
        self.requests = 0
        self.faults: dict[int, str] = {}
        self.fault_rate = 0.0
        self.fault_kinds: tuple[str, ...] = ("timeout", "lost", "409", "500", "landed-412")
        self.injected: dict[str, int] = {}
        self.stealer = None  # called for "steal" faults (its own requests are never faulted)
        self.rng = random.Random(seed)
        self._quiet = threading.local()
        self.ops: list[tuple[str, str]] = []

    # -- fault machinery ---------------------------------------------------------------------

    def _fault(self, op: str, key: str) -> str | None:
        if getattr(self._quiet, "on", False):
            return None
        with self.lock:
            self.requests += 1
            self.ops.append((op, key))
            kind = self.faults.pop(self.requests, None)
            if kind is None and self.fault_rate and self.rng.random() < self.fault_rate:
                kind = self.rng.choice(self.fault_kinds)
        if kind is not None:
            self.injected[kind] = self.injected.get(kind, 0) + 1
        return kind

    def _run(self, op: str, key: str, perform):
        kind = self._fault(op, key)
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url=f"http://fake/{key}")
        if kind == "409":
            raise client_error(409, "ConditionalRequestConflict", op)
        if kind == "500":
            raise client_error(500, "InternalError", op)
        if kind == "steal" and self.stealer is not None:
            self._quiet.on = True
            try:
                self.stealer()
            finally:
                self._quiet.on = False
        with self.lock:
            result = perform()
        if kind == "lost":
            raise ReadTimeoutError(endpoint_url=f"http://fake/{key}")
        if kind == "landed-412" and op == "PutObject":
            raise client_error(412, "PreconditionFailed", op)
        return result

    def quietly(self, fn, *args, **kwargs):
        """Run ``fn`` with this thread's requests neither counted nor faulted."""
        self._quiet.on = True
        try:
            return fn(*args, **kwargs)
        finally:
            self._quiet.on = False

    def _check_bucket(self, bucket: str) -> None:
        if bucket != self.bucket:
            raise client_error(404, "NoSuchBucket", "Any")

    # -- the boto3 surface ---------------------------------------------------------------------

    def head_object(self, Bucket: str, Key: str) -> dict:
        self._check_bucket(Bucket)

        def perform():
            if Key not in self.objects:
                raise client_error(404, "404", "HeadObject")
            data, mtime = self.objects[Key]
            return {"ContentLength": len(data), "LastModified": mtime}

        return self._run("HeadObject", Key, perform)

    def get_object(self, Bucket: str, Key: str) -> dict:
        self._check_bucket(Bucket)

        def perform():
            if Key not in self.objects:
                raise client_error(404, "NoSuchKey", "GetObject")
            data, mtime = self.objects[Key]
            return {"Body": io.BytesIO(data), "ContentLength": len(data), "LastModified": mtime}

        return self._run("GetObject", Key, perform)

    def put_object(self, Bucket: str, Key: str, Body: bytes, IfNoneMatch: str | None = None) -> dict:
        self._check_bucket(Bucket)
        data = bytes(Body)

        def perform():
            if IfNoneMatch == "*" and Key in self.objects:
                raise client_error(412, "PreconditionFailed", "PutObject")
            self.objects[Key] = (data, dt.datetime.now(dt.UTC))
            return {"ETag": '"x"'}

        return self._run("PutObject", Key, perform)

    def delete_object(self, Bucket: str, Key: str) -> dict:
        self._check_bucket(Bucket)

        def perform():
            self.objects.pop(Key, None)
            return {}

        return self._run("DeleteObject", Key, perform)

    def list_objects_v2(self, Bucket: str, Prefix: str = "", Delimiter: str | None = None, MaxKeys: int = 1000, ContinuationToken: str | None = None) -> dict:
        self._check_bucket(Bucket)

        def perform():
            entries: dict[str, tuple] = {}
            for key, (data, mtime) in self.objects.items():
                if not key.startswith(Prefix):
                    continue
                rest = key[len(Prefix) :]
                if Delimiter and Delimiter in rest:
                    name = Prefix + rest.split(Delimiter, 1)[0] + Delimiter
                    entries[name] = ("prefix",)
                else:
                    entries[key] = ("key", len(data), mtime)
            names = sorted(entries)
            if ContinuationToken:
                names = [n for n in names if n > ContinuationToken]
            page = names[: min(MaxKeys, self.page_size)]
            truncated = len(names) > len(page)
            out = {
                "Contents": [{"Key": n, "Size": entries[n][1], "LastModified": entries[n][2]} for n in page if entries[n][0] == "key"],
                "CommonPrefixes": [{"Prefix": n} for n in page if entries[n][0] == "prefix"],
                "IsTruncated": truncated,
            }
            if truncated:
                out["NextContinuationToken"] = page[-1]
            return out

        return self._run("ListObjectsV2", Prefix, perform)

    # -- test helpers --------------------------------------------------------------------------

    def age(self, key: str, seconds: float) -> None:
        """Make ``key`` look ``seconds`` older."""
        data, mtime = self.objects[key]
        self.objects[key] = (data, mtime - dt.timedelta(seconds=seconds))
