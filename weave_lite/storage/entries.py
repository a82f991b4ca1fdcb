"""The bytes of the log's small files: commit entries and checkpoints, checked on every read.

Each file is one JSON object carrying an XXH3 ``checksum`` of its own canonical encoding (the
object without that key, keys sorted, no spaces), so that a garbled file is told apart from a
valid one even when it still parses.  Decoding validates the whole shape (types of every field,
segment paths inside ``_segments/``) and raises :class:`CorruptTableError` naming the file:
a commit replaced by ``{}`` is damage, never an empty commit.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeGuard

import xxhash

from weave_lite.errors import CorruptTableError

ENTRY_OPS = ("append", "compact", "repair")
_SEGMENT_PATH = re.compile(r"_segments/[0-9a-f]{32}\.arrow")
_SEGMENT_FIELDS = {"path": str, "rows": int, "bytes": int, "schema": str, "stats": dict}


def encode(obj: dict) -> bytes:
    """``obj`` plus its checksum, as compact JSON bytes."""
    body = _canonical(obj)
    return json.dumps(dict(obj, checksum=_digest(body)), separators=(",", ":"), sort_keys=True).encode()


def decode_json(path: str, data: bytes) -> dict:
    """Parse one small log file and verify its checksum (files without one are accepted)."""
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, absurd nesting
        raise CorruptTableError(path, f"not valid JSON ({exc.__class__.__name__}: {str(exc)[:80]})") from None
    if not isinstance(obj, dict):
        raise CorruptTableError(path, f"holds a JSON {type(obj).__name__}, not an object")
    checksum = obj.pop("checksum", None)
    if checksum is not None and not _written_canonical(data, checksum) and checksum != _digest(_canonical(obj)):
        raise CorruptTableError(path, "checksum mismatch (the file was modified or damaged)")
    return obj


def _written_canonical(data: bytes, checksum: Any) -> bool:
    """Whether ``data`` is :func:`encode`'s bytes carrying ``checksum``: the file without its
    one ``"checksum"`` member is then the canonical body, hashed as read (no re-encoding:
    about half of a commit's decode, on every live poll).  False leaves the check to the
    re-encoded body (a file written another way, or damaged)."""
    if not isinstance(checksum, str) or not isinstance(data, bytes):
        return False
    member = b'"checksum":"' + checksum.encode() + b'"'
    if data.count(member) != 1:  # (a segment's checksum is another value: never this member)
        return False
    body = data.replace(b"," + member, b"", 1) if b"," + member in data else data.replace(member + b",", b"", 1)
    return _digest(body) == checksum


def decode_entry(path: str, data: bytes) -> dict:
    """A commit entry, validated: ``op``, ``add`` (segments), optional ``remove`` (paths)."""
    entry = decode_json(path, data)
    op = entry.get("op")
    if op not in ENTRY_OPS:
        raise CorruptTableError(path, f"commit has no valid `op` (got {_short(op)})")
    _expect(path, entry, "add", list)
    for seg in entry["add"]:
        check_segment_json(path, seg)
    remove = entry.get("remove", [])
    if not isinstance(remove, list) or not all(isinstance(p, str) for p in remove):
        raise CorruptTableError(path, "commit's `remove` is not a list of segment paths")
    if op == "append" and (remove or not entry["add"]):
        raise CorruptTableError(path, "an append commit must add segments and remove none")
    for key in ("time_us",):
        if key in entry and not _is_int(entry[key]):
            raise CorruptTableError(path, f"commit's `{key}` is not an integer")
    if "batch_id" in entry and not isinstance(entry["batch_id"], str):
        raise CorruptTableError(path, "commit's `batch_id` is not a string")
    return entry


def decode_checkpoint(path: str, data: bytes) -> dict:
    """A checkpoint, validated: ``version``, ``segments`` (with their versions), ``tombstones``."""
    obj = decode_json(path, data)
    if not _is_int(obj.get("version")) or obj["version"] < 1:
        raise CorruptTableError(path, "checkpoint has no valid `version`")
    _expect(path, obj, "segments", list)
    for seg in obj["segments"]:
        check_segment_json(path, seg)
        if not _is_int(seg.get("version")):
            raise CorruptTableError(path, "checkpoint segment has no `version`")
    _expect(path, obj, "tombstones", dict)
    if not all(_is_int(v) for v in obj["tombstones"].values()):
        raise CorruptTableError(path, "checkpoint `tombstones` are not integers")
    return obj


def decode_hint(path: str, data: bytes) -> int:
    """The version named by the latest-checkpoint hint."""
    obj = decode_json(path, data)
    if set(obj) != {"version"}:
        raise CorruptTableError(path, "hint must hold only a `version`")
    version = obj.get("version")
    if not _is_int(version) or version < 0:
        raise CorruptTableError(path, "hint has no valid `version`")
    return version


def check_segment_json(path: str, seg: Any) -> None:
    """Raise unless ``seg`` is a well-formed segment record whose file is inside ``_segments/``."""
    if not isinstance(seg, dict):
        raise CorruptTableError(path, "a segment record is not an object")
    for key, kind in _SEGMENT_FIELDS.items():
        value = seg.get(key)
        if not isinstance(value, kind) or (kind is int and not _is_int(value)):
            raise CorruptTableError(path, f"a segment record's `{key}` is missing or not {kind.__name__}")
    if not _SEGMENT_PATH.fullmatch(seg["path"]):
        raise CorruptTableError(path, f"segment path {_short(seg['path'])} is not a file under _segments/")
    if seg["rows"] < 0 or seg["bytes"] < 0:
        raise CorruptTableError(path, "a segment record has a negative size")
    if "checksum" in seg and not isinstance(seg["checksum"], str):
        raise CorruptTableError(path, "a segment record's `checksum` is not a string")


def _expect(path: str, obj: dict, key: str, kind: type) -> None:
    if not isinstance(obj.get(key), kind):
        raise CorruptTableError(path, f"`{key}` is missing or not a {kind.__name__}")


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _canonical(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def _digest(body: bytes) -> str:
    return xxhash.xxh3_64_hexdigest(body)
