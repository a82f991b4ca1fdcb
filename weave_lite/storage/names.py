"""Table names and the data root.

A table is named ``entity/project/table``; each part matches
``[A-Za-z0-9][A-Za-z0-9_.-]{0,127}`` so that no name can reach outside the data root
(``..`` and ``/`` are impossible) and no entity can collide with weave_lite's own folders,
which start with ``_``.

A data root is a local folder or a URI (SPEC section 1):

* a local path, or ``file:///abs/path``: :func:`data_root` returns a :class:`~pathlib.Path`,
  exactly as it always did;
* ``s3://bucket/prefix`` or ``gs://bucket/prefix``: :func:`data_root` returns an
  :class:`ObjectRoot`, a small immutable value that joins like a path (``root / "e" / "p"``)
  but has no ``__fspath__``, so nothing can mistake it for a local folder.  Credentials and the
  endpoint come the standard way (the ``AWS_*`` variables, ``AWS_ENDPOINT_URL`` and
  ``AWS_ENDPOINT_URL_S3`` included), or from a ``pyarrow.fs.FileSystem`` given with the root:
  ``object_root("s3://b/p", filesystem=fs)`` or ``pyarrow.fs.SubTreeFileSystem("b/p", fs)``;
* any other scheme (``http://``, ``foo://``) raises :class:`~weave_lite.errors.InvalidNameError`
  (a ``ValueError``): it never becomes a local folder named ``foo:``.
"""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from pathlib import Path

from weave_lite.errors import InvalidNameError

NAME_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


OBJECT_STORE_SCHEMES = ("s3", "gs")
_URI = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", re.S)
# "s3:/bucket/p": a URI that lost a slash on its way through a Path (Path("s3://b") == "s3:/b").
_MANGLED_URI = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):/(?!/)")
_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,221}")


class ObjectRoot:
    """A location on an object store, ``<scheme>://<bucket>/<prefix>``, used like a path.

    ``filesystem`` (a ``pyarrow.fs.FileSystem`` for the store) and ``client`` (a boto3 S3
    client, or anything with the same methods) are optional: without them both are built from
    the environment.  They are carried along by ``/`` but are not part of equality.
    """

    __slots__ = ("scheme", "bucket", "prefix", "filesystem", "client")

    def __init__(self, scheme: str, bucket: str, prefix: str = "", *, filesystem=None, client=None):
        if scheme not in OBJECT_STORE_SCHEMES:
            raise InvalidNameError(f"unsupported object store scheme `{scheme}://` (use s3:// or gs://)")
        if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket):
            raise InvalidNameError(f"invalid bucket name {bucket!r} in a {scheme}:// data root")
        parts = [p for p in prefix.split("/") if p]
        for part in parts:
            if part in (".", ".."):
                raise InvalidNameError(f"a data root may not contain {part!r}: {scheme}://{bucket}/{prefix}")
        self.scheme = scheme
        self.bucket = bucket
        self.prefix = "/".join(parts)
        self.filesystem = filesystem
        self.client = client

    @classmethod
    def parse(cls, uri: str, *, filesystem=None, client=None) -> ObjectRoot:
        """``s3://bucket/prefix`` or ``gs://bucket/prefix`` as an :class:`ObjectRoot`."""
        m = _URI.fullmatch(uri)
        if not m or m.group(1).lower() not in OBJECT_STORE_SCHEMES:
            raise InvalidNameError(
                f"not an object store URI: {uri!r} (expected s3://bucket/prefix or gs://bucket/prefix)"
            )
        rest = m.group(2)
        if "?" in rest or "#" in rest:
            raise InvalidNameError(
                f"data root {uri!r}: query parameters are not supported; set the endpoint and credentials "
                "with the AWS_* variables (AWS_ENDPOINT_URL, ...) or pass a pyarrow.fs.FileSystem"
            )
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise InvalidNameError(f"data root {uri!r} names no bucket (expected {m.group(1)}://bucket/prefix)")
        return cls(m.group(1).lower(), bucket, prefix, filesystem=filesystem, client=client)

    # -- path-like ----------------------------------------------------------------------------

    def __truediv__(self, part: str | os.PathLike) -> ObjectRoot:
        text = os.fspath(part) if not isinstance(part, str) else part
        pieces = [p for p in text.split("/") if p]
        if not pieces or any(p in (".", "..") for p in pieces):
            raise InvalidNameError(f"cannot join {text!r} to the data root {self}")
        prefix = "/".join([self.prefix, *pieces]) if self.prefix else "/".join(pieces)
        return ObjectRoot(self.scheme, self.bucket, prefix, filesystem=self.filesystem, client=self.client)

    @property
    def name(self) -> str:
        return self.prefix.rsplit("/", 1)[-1] if self.prefix else self.bucket

    @property
    def parts(self) -> tuple[str, ...]:
        return (f"{self.scheme}://{self.bucket}", *(self.prefix.split("/") if self.prefix else ()))

    @property
    def uri(self) -> str:
        return f"{self.scheme}://{self.bucket}/{self.prefix}" if self.prefix else f"{self.scheme}://{self.bucket}"

    def key(self, rel: str = "") -> str:
        """The object key of ``rel`` (a ``/``-separated path below this location)."""
        if not rel:
            return self.prefix
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def expanduser(self) -> ObjectRoot:  # so code written for Path keeps working
        return self

    def absolute(self) -> ObjectRoot:
        return self

    def __str__(self) -> str:
        return self.uri

    def __repr__(self) -> str:
        return f"ObjectRoot({self.uri!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObjectRoot):
            return NotImplemented
        return (self.scheme, self.bucket, self.prefix) == (other.scheme, other.bucket, other.prefix)

    def __hash__(self) -> int:
        return hash((self.scheme, self.bucket, self.prefix))


def object_root(uri: str, *, filesystem=None, client=None) -> ObjectRoot:
    """An object store data root with an explicit ``pyarrow.fs.FileSystem`` (reads, and the
    credentials and endpoint of the commit client) and/or client (conditional writes)."""
    return ObjectRoot.parse(uri, filesystem=filesystem, client=client)


def data_root(root: str | os.PathLike | ObjectRoot | None = None) -> Path | ObjectRoot:
    """The data root: ``root`` if given, else ``$WEAVE_LITE_ROOT``, else ``~/.weave_lite``.

    A local root is returned as an absolute :class:`~pathlib.Path`; ``s3://`` and ``gs://``
    roots as an :class:`ObjectRoot`; ``file://`` URIs as the local path they name.  Any other
    scheme raises :class:`InvalidNameError` (a ``ValueError``).
    """
    if root is None:
        env = os.environ.get("WEAVE_LITE_ROOT")
        if not env:
            return Path.home() / ".weave_lite"
        root = env
    if isinstance(root, ObjectRoot):
        return root
    if not isinstance(root, (str, os.PathLike)):
        return _filesystem_root(root)
    text = os.fspath(root)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    m = _URI.match(text)
    if m:
        scheme = m.group(1).lower()
        if scheme in OBJECT_STORE_SCHEMES:
            return ObjectRoot.parse(text)
        if scheme == "file":
            return _file_uri(text)
        raise InvalidNameError(
            f"unsupported data root {_shown(text)}: the scheme `{m.group(1)}://` is not one of "
            "file://, s3://, gs:// (a local folder is given as a plain path)"
        )
    if _MANGLED_URI.match(text):
        raise InvalidNameError(
            f"data root {_shown(text)} looks like a URI that lost a slash (write s3://bucket/prefix); "
            "a local folder named after a URI scheme is never created"
        )
    return Path(text).expanduser().absolute()


def _file_uri(text: str) -> Path:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(text)
    if parts.netloc not in ("", "localhost"):
        raise InvalidNameError(f"data root {_shown(text)}: a file:// URI must name a local path (file:///path)")
    if parts.query or parts.fragment:
        raise InvalidNameError(f"data root {_shown(text)}: a file:// URI takes no query or fragment")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise InvalidNameError(f"data root {_shown(text)}: a file:// URI needs an absolute path (file:///path)")
    return Path(path)


def _filesystem_root(fs) -> Path | ObjectRoot:
    """A ``pyarrow.fs.SubTreeFileSystem`` over S3, GCS or the local disk, as a data root."""
    try:
        import pyarrow.fs as pafs
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pafs = None
    if pafs is not None and isinstance(fs, pafs.SubTreeFileSystem):
        base, inner = fs.base_path.strip("/"), fs.base_fs
        kind = inner.type_name
        if kind == "local":
            return Path("/" + base)
        scheme = {"s3": "s3", "gcs": "gs"}.get(kind)
        if scheme is not None:
            bucket, _, prefix = base.partition("/")
            return ObjectRoot(scheme, bucket, prefix, filesystem=inner)
        raise InvalidNameError(f"unsupported filesystem for a data root: {kind} (use S3, GCS or the local disk)")
    if pafs is not None and isinstance(fs, pafs.FileSystem):
        raise InvalidNameError(
            f"a {fs.type_name} filesystem alone names no bucket: pass object_root('s3://bucket/prefix', "
            "filesystem=fs) or pyarrow.fs.SubTreeFileSystem('bucket/prefix', fs) as the root"
        )
    raise InvalidNameError(f"a data root must be a path or a URI, not {type(fs).__name__}")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def validate_part(kind: str, value: object) -> str:
    """Check one name part; raise :class:`InvalidNameError` naming the part otherwise."""
    if not isinstance(value, str):
        raise InvalidNameError(f"{kind} name must be a string, not {type(value).__name__}")
    if not NAME_PART.fullmatch(value) or value in (".", ".."):
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise InvalidNameError(
            f"invalid {kind} name {shown!r}: use 1-128 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return value


def _default_entity() -> str:
    env = os.environ.get("WEAVE_LITE_ENTITY")
    if env:
        return env
    try:
        login = getpass.getuser()
    except Exception:  # no login name in some containers
        login = "local"
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", login).lstrip("_.-") or "local"
    return cleaned[:128]


@dataclass(frozen=True)
class TableName:
    """A validated ``entity/project/table`` name."""

    entity: str
    project: str
    table: str

    def __str__(self) -> str:
        return f"{self.entity}/{self.project}/{self.table}"

    def path(self, root: Path | ObjectRoot) -> Path | ObjectRoot:
        """The table's folder under ``root`` (a local path or an object store location)."""
        return root / self.entity / self.project / self.table

    @classmethod
    def parse(
        cls,
        table_name: str,
        project_name: str | None = None,
        entity_name: str | None = None,
    ) -> TableName:
        """Parse ``"t"``, ``"p/t"`` or ``"e/p/t"``, filling parts from the arguments and defaults.

        A part given both in the path and as an argument with a different value raises
        ``ValueError``.
        """
        if not isinstance(table_name, str):
            raise InvalidNameError(f"table name must be a string, not {type(table_name).__name__}")
        parts = table_name.split("/")
        if len(parts) > 3:
            raise InvalidNameError(
                f"invalid table name {table_name[:60]!r}: expected 'table', 'project/table' or 'entity/project/table'"
            )
        table = parts[-1]
        path_project = parts[-2] if len(parts) >= 2 else None
        path_entity = parts[-3] if len(parts) == 3 else None
        project = _pick("project", path_project, project_name)
        entity = _pick("entity", path_entity, entity_name)
        if project is None:
            project = os.environ.get("WEAVE_LITE_PROJECT") or "default"
        if entity is None:
            entity = _default_entity()
        return cls(
            validate_part("entity", entity),
            validate_part("project", project),
            validate_part("table", table),
        )


def _pick(kind: str, from_path: str | None, from_arg: str | None) -> str | None:
    if from_path is not None and from_arg is not None and from_path != from_arg:
        raise InvalidNameError(
            f"{kind} given twice with different values: {from_path!r} in the table name and {from_arg!r} as {kind}_name"
        )
    return from_path if from_path is not None else from_arg
