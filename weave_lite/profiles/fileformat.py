"""The compact binary file format of a dataset profile (``*.bin``).

Layout (all integers little-endian)::

    offset  size  field
    0       8     magic  b"\\x89WLPROF\\n"  (the high byte and the newline catch text-mode mangling)
    8       2     format version (currently 1)
    10      2     flags (bit 0: body is zlib-compressed; always set by this writer)
    12      4     CRC-32 of the body as stored
    16      8     length of the body as stored
    24      ...   body

    body (after decompression):
      text   dataset name                      (text = u32 length + UTF-8 bytes)
      f64    window start, epoch seconds UTC   (NaN: none)
      f64    window end, epoch seconds UTC     (NaN: none)
      i64    records profiled
      f64    creation time, epoch seconds UTC
      u32    number of columns
      blob   each column (u32 length + bytes; see ColumnProfile.to_bytes: name, the 9 counters,
             moments n/mean/M2/min/max, then the KLL, HLL and frequent-items sketches, each
             with its own small header)

Readers refuse a bad magic, a newer version, a CRC mismatch or a truncated file with
:class:`ProfileFormatError`. Files are written atomically: to a temporary file in the same
folder, fsync'd, renamed over the target, and the folder fsync'd.

This module knows the bytes, not the :class:`~.dataset.DatasetProfile` class: it encodes
anything with the profile's fields and decodes into a :class:`DecodedProfile`, which
``DatasetProfile.from_bytes`` and :func:`~.dataset.read` turn into a profile.
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weave_lite.storage.filesystem import replace_durably

from ._binio import BinReader, BinWriter, FormatError
from .column import ColumnProfile

MAGIC = b"\x89WLPROF\n"
VERSION = 1
_HEADER = struct.Struct("<8sHHIQ")
_FLAG_ZLIB = 1

ProfileFormatError = FormatError


def _opt(v: float | None) -> float:
    return math.nan if v is None else float(v)


def _unopt(v: float) -> float | None:
    return None if math.isnan(v) else v


@dataclass(frozen=True)
class DecodedProfile:
    """The fields of a profile read back from its bytes."""

    name: str
    start_epoch: float | None
    end_epoch: float | None
    rows: int
    created_epoch: float
    columns: list[ColumnProfile]


def profile_to_bytes(profile: Any) -> bytes:
    """Encode a profile (a ``DatasetProfile``: ``name``, ``start_epoch``, ``end_epoch``,
    ``rows``, ``created_epoch`` and ``columns``, a dict of :class:`ColumnProfile`)."""
    w = BinWriter()
    w.text(profile.name)
    w.f64(_opt(profile.start_epoch))
    w.f64(_opt(profile.end_epoch))
    w.i64(profile.rows)
    w.f64(profile.created_epoch)
    cols = list(profile.columns.values())
    w.u32(len(cols))
    for col in cols:
        w.blob(col.to_bytes())
    body = zlib.compress(w.getvalue(), 6)
    header = _HEADER.pack(MAGIC, VERSION, _FLAG_ZLIB, zlib.crc32(body), len(body))
    return header + body


def decode_profile(data: bytes, *, source: str = "profile data") -> DecodedProfile:
    """Check and decode the bytes of a profile; ``source`` names them in errors."""
    if len(data) < _HEADER.size or data[:8] != MAGIC:
        msg = f"{source} is not a weave_lite profile (bad magic)"
        raise FormatError(msg)
    _, version, flags, crc, length = _HEADER.unpack_from(data)
    if version > VERSION or version < 1:
        msg = f"{source} has profile format version {version}; this weave_lite reads version {VERSION}"
        raise FormatError(msg)
    body = data[_HEADER.size :]
    if len(body) != length:
        msg = f"{source} is truncated ({len(body)} of {length} body bytes)"
        raise FormatError(msg)
    if zlib.crc32(body) != crc:
        msg = f"{source} is corrupt (checksum mismatch)"
        raise FormatError(msg)
    if flags & _FLAG_ZLIB:
        body = zlib.decompress(body)
    r = BinReader(body)
    name = r.text()
    start = _unopt(r.f64())
    end = _unopt(r.f64())
    rows = r.i64()
    created = r.f64()
    ncols = r.u32()
    columns = [ColumnProfile.from_bytes(r.blob()) for _ in range(ncols)]
    if not r.at_end():
        msg = f"{source} has trailing bytes"
        raise FormatError(msg)
    return DecodedProfile(name, start, end, rows, created, columns)


def write_atomic(data: bytes, path: str | os.PathLike) -> Path:
    """Write ``data`` to ``path`` atomically and durably (the log's own primitive)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_durably(path, data)
    return path


def write_profile(profile: Any, path: str | os.PathLike) -> Path:
    return write_atomic(profile_to_bytes(profile), path)
