"""Strict reading of request input: JSON bodies, typed fields, query parameters.

Everything here turns hostile or malformed input into an :class:`ApiError` (a 4xx status and a
human message), never into an unexpected exception that would become a 500:

* a body must be UTF-8 JSON (no BOM, no ``NaN``/``Infinity`` literals) nested at most
  :data:`MAX_JSON_DEPTH` deep, and no string in it (key or value) may hold a lone surrogate;
* fields have one JSON type each (``limit``/``offset`` are integers; ``1e400``, ``true`` and
  ``"3"`` in a body are refused) and unknown fields are refused, so a typo is an error;
* integers are bounded (:data:`MAX_OFFSET`), so no huge number reaches Arrow or the engine.

Only the standard library is used.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

MAX_JSON_DEPTH = 64
# Offsets beyond this cannot address a row of any table (and would overflow Arrow's int64).
MAX_OFFSET = 2**53
_SURROGATE = re.compile("[\ud800-\udfff]")


class ApiError(Exception):
    """An error answered as ``{"error": message, **extra}`` with HTTP ``status``."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"`{name}` is not JSON (numbers must be finite)")


def parse_json(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value in ``body``; an empty body is ``None``.

    Raises :class:`ApiError` (400) for anything but strict UTF-8 JSON of finite numbers,
    nested at most ``max_depth`` deep, whose strings are valid Unicode text.
    """
    if not body:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"the body is not UTF-8 text (byte {exc.start} is invalid)") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ApiError(400, f"the JSON body is nested too deeply (at most {max_depth} levels)") from None
    except ValueError as exc:  # JSONDecodeError, a refused constant, an integer of too many digits
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    check_json_value(value, max_depth=max_depth)
    return value


def check_json_value(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse (400) a parsed JSON value nested deeper than ``max_depth``, holding a lone
    surrogate in a string, or a non-finite float (``1e400`` parses as infinity)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                raise ApiError(400, f"the JSON body is nested too deeply (at most {max_depth} levels)")
            children: Iterable[Any] = item.values() if isinstance(item, dict) else item
            if isinstance(item, dict):
                for key in item:
                    check_text(key, "a JSON key")
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, str):
            check_text(item, "a JSON string")
        elif isinstance(item, float) and not math.isfinite(item):
            raise ApiError(400, "a number in the body is out of range (numbers must be finite)")


def check_text(text: str, what: str) -> str:
    """``text`` if it is valid Unicode text (no lone surrogates: it can be encoded as UTF-8)."""
    match = _SURROGATE.search(text)
    if match is not None:
        raise ApiError(400, f"{what} holds a lone surrogate (U+{ord(match.group()):04X}) at character {match.start()}")
    return text


def check_fields(params: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Refuse (400) any key of ``params`` not in ``allowed``."""
    allowed = list(allowed)
    unknown = sorted(k for k in params if k not in allowed)
    if unknown:
        shown = ", ".join(f"`{k}`" for k in unknown[:5])
        raise ApiError(400, f"unknown field(s) {shown} in {where}; known: {', '.join(allowed)}")


def str_field(params: Mapping[str, Any], keys: Iterable[str], *, what: str, max_chars: int) -> str:
    """The first present of ``keys`` as a non-blank string of at most ``max_chars``."""
    keys = list(keys)
    raw = next((params[k] for k in keys if k in params), None)
    if not isinstance(raw, str) or not raw.strip():
        raise ApiError(400, f"missing {what}: give `{keys[0]}` as a non-empty string")
    if len(raw) > max_chars:
        raise ApiError(400, f"`{keys[0]}` is too long ({len(raw)} characters; at most {max_chars})")
    return check_text(raw, f"`{keys[0]}`")


def int_field(
    params: Mapping[str, Any],
    key: str,
    default: int,
    *,
    minimum: int = 0,
    maximum: int | None = None,
    from_query: bool = False,
) -> int:
    """``params[key]`` as an integer in ``[minimum, maximum]`` (``default`` when absent).

    From a JSON body only a JSON integer (or an integral float such as ``100.0``) is accepted;
    from a query string (``from_query``), decimal digits. Beyond ``maximum`` is an error.
    """
    raw = params.get(key)
    if raw is None or (from_query and raw == ""):
        return default
    value = _query_int(key, raw) if from_query else _json_int(key, raw)
    if value < minimum:
        raise ApiError(400, f"`{key}` must be an integer >= {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ApiError(400, f"`{key}` is too large (at most {maximum})")
    return value


def _json_int(key: str, raw: Any) -> int:
    if isinstance(raw, bool):
        raise ApiError(400, f"`{key}` must be an integer, not a boolean")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        return int(raw)
    raise ApiError(400, f"`{key}` must be an integer, not {_json_type(raw)}")


def _query_int(key: str, raw: Any) -> int:
    text = str(raw).strip()
    if not re.fullmatch(r"[+-]?[0-9]{1,30}", text):
        raise ApiError(400, f"`{key}` must be an integer, not {text[:40]!r}")
    return int(text)


def _json_type(value: Any) -> str:
    if isinstance(value, float):
        return f"the number {value!r}"
    names = {str: "a string", list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)
