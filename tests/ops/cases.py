"""Reading ``tests/ops/*.cases`` files (the format is described in tests/ops/README.md).

A file is a sequence of blocks separated by blank lines; ``#`` starts a comment line.

* ``table NAME`` then one JSON object a line: an in-memory table for ``table("NAME")``.
* ``stream NAME`` then JSON rows: a stream table ``stream_table("NAME")`` in a fresh data root.
* ``case TITLE`` then ``expr EXPRESSION`` (continued on lines indented by two spaces), optional
  ``vars JSON-OBJECT``, optional ``tolerance REL``, optional ``xfail REASON`` (a known bug:
  the case must fail until it is fixed), then ``expect JSON`` (continued likewise) or
  ``error ErrorClass: message substring``.

JSON values may hold ``{"$ts": "2024-01-01T00:00:00Z"}`` (a UTC timestamp; fractions of a second
allowed), ``{"$bytes": "text"}`` (its UTF-8 bytes) and Python's JSON extensions ``NaN``,
``Infinity`` and ``-Infinity``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TOLERANCE = 1e-9


@dataclass
class TableDef:
    name: str
    rows: list[dict]
    stream: bool
    line: int


@dataclass
class Case:
    path: Path
    line: int
    title: str
    expr: str
    expect: Any = None
    error: tuple[str, str] | None = None  # (class name, message substring)
    vars: dict | None = None
    tolerance: float = DEFAULT_TOLERANCE
    xfail: str | None = (
        None  # a known bug: the case must fail (strictly) until it is fixed
    )
    tables: dict[str, TableDef] = field(default_factory=dict)  # the tables in scope

    @property
    def id(self) -> str:
        return f"{self.path.stem}:{self.line}"


def _hook(obj: dict) -> Any:
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key == "$ts":
            return parse_timestamp(value)
        if key == "$bytes":
            return value.encode("utf-8")
    return obj


def parse_timestamp(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_hook)


class CaseFileError(ValueError):
    pass


def read_cases(path: Path) -> list[Case]:
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        if raw.startswith("#"):
            continue
        if raw.strip():
            current.append((number, raw.rstrip()))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)

    tables: dict[str, TableDef] = {}
    cases: list[Case] = []
    for block in blocks:
        number, head = block[0]
        word, _, rest = head.partition(" ")
        where = f"{path.name}:{number}"
        if word in ("table", "stream"):
            try:
                rows = [loads(text) for _, text in block[1:]]
            except json.JSONDecodeError as exc:
                raise CaseFileError(f"{where}: a row is not JSON: {exc}") from None
            tables[rest.strip()] = TableDef(
                rest.strip(), rows, word == "stream", number
            )
        elif word == "case":
            cases.append(_read_case(path, block, dict(tables), where))
        else:
            raise CaseFileError(
                f"{where}: a block starts with `table`, `stream` or `case`, not {head!r}"
            )
    return cases


def _read_case(
    path: Path, block: list[tuple[int, str]], tables: dict, where: str
) -> Case:
    number, head = block[0]
    case = Case(path, number, head.partition(" ")[2].strip(), "", tables=tables)
    fields: dict[str, str] = {}
    last = None
    for _, text in block[1:]:
        if text.startswith("  ") and last is not None:
            fields[last] += "\n" + text.strip()
            continue
        word, _, rest = text.partition(" ")
        if (
            word not in ("expr", "expect", "error", "vars", "tolerance", "xfail")
            or word in fields
        ):
            raise CaseFileError(f"{where}: unexpected line {text!r}")
        fields[word] = rest.strip()
        last = word
    if "expr" not in fields or ("expect" in fields) == ("error" in fields):
        raise CaseFileError(
            f"{where}: a case needs `expr` and one of `expect` / `error`"
        )
    case.expr = fields["expr"]
    try:
        if "expect" in fields:
            case.expect = loads(fields["expect"])
        if "vars" in fields:
            case.vars = loads(fields["vars"])
    except json.JSONDecodeError as exc:
        raise CaseFileError(f"{where}: not JSON: {exc}") from None
    if "error" in fields:
        name, _, message = fields["error"].partition(":")
        case.error = (name.strip(), message.strip())
    if "tolerance" in fields:
        case.tolerance = float(fields["tolerance"])
    case.xfail = fields.get("xfail")
    return case


def same(expected: Any, actual: Any, tol: float = DEFAULT_TOLERANCE) -> bool:
    """Equal values: kinds must agree (an int is not a float, a bool not an int), floats within
    ``tol`` relative (NaN equals NaN), dicts with the same keys in the same order."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, float) and isinstance(actual, float):
        if math.isnan(expected) or math.isnan(actual):
            return math.isnan(expected) and math.isnan(actual)
        if math.isinf(expected) or math.isinf(actual):
            return expected == actual
        return math.isclose(expected, actual, rel_tol=tol, abs_tol=tol) and (
            expected != 0
            or actual != 0
            or math.copysign(1, expected) == math.copysign(1, actual)
        )
    if isinstance(expected, (list, tuple)) and isinstance(actual, (list, tuple)):
        return len(expected) == len(actual) and all(
            same(e, a, tol) for e, a in zip(expected, actual)
        )
    if isinstance(expected, dict) and isinstance(actual, dict):
        return list(expected) == list(actual) and all(
            same(expected[k], actual[k], tol) for k in expected
        )
    return type(expected) is type(actual) and expected == actual
