"""What every ``weave-lite`` command shares: the data root option and turning errors into a
message on stderr and an exit status."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from weave_lite.errors import WeaveError

FORMATS = ["table", "json", "csv", "arrow"]
ROOT_HELP = "data root (default: $WEAVE_LITE_ROOT, else ~/.weave_lite)"


def resolve_root(ctx: click.Context, root: str | None) -> str | None:
    if root is not None:
        return root
    obj = ctx.find_root().obj or {}
    return obj.get("root")


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}" if "\n" not in message else message, err=True)
    sys.exit(code)


def run(fn: Callable[[], Any]) -> Any:
    """Run ``fn``, turning weave_lite's errors into a message and exit status 1."""
    try:
        return fn()
    except WeaveError as exc:
        fail(str(exc))
    except BrokenPipeError:
        # `weave-lite query ... | head`: stop quietly.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit
        sys.exit(0)
