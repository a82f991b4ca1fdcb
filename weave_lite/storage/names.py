"""Table names and the data root.

A table is named ``entity/project/table``; each part matches
``[A-Za-z0-9][A-Za-z0-9_.-]{0,127}`` so that no name can reach outside the data root
(``..`` and ``/`` are impossible) and no entity can collide with weave_lite's own folders,
which start with ``_``.
"""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from pathlib import Path

from weave_lite.errors import InvalidNameError

NAME_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$WEAVE_LITE_ROOT``, else ``~/.weave_lite``."""
    if root is not None:
        return Path(root).expanduser().absolute()
    env = os.environ.get("WEAVE_LITE_ROOT")
    if env:
        return Path(env).expanduser().absolute()
    return Path.home() / ".weave_lite"


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

    def path(self, root: Path) -> Path:
        """The table's folder under ``root``."""
        return root / self.entity / self.project / self.table

    @classmethod
    def parse(
        cls,
        table_name: str,
        project_name: str | None = None,
        entity_name: str | None = None,
    ) -> "TableName":
        """Parse ``"t"``, ``"p/t"`` or ``"e/p/t"``, filling parts from the arguments and defaults.

        A part given both in the path and as an argument with a different value raises
        ``ValueError``.
        """
        if not isinstance(table_name, str):
            raise InvalidNameError(f"table name must be a string, not {type(table_name).__name__}")
        parts = table_name.split("/")
        if len(parts) > 3:
            raise InvalidNameError(
                f"invalid table name {table_name[:60]!r}: expected 'table', 'project/table' "
                "or 'entity/project/table'"
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
            f"{kind} given twice with different values: {from_path!r} in the table name "
            f"and {from_arg!r} as {kind}_name"
        )
    return from_path if from_path is not None else from_arg
