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


def skip_pandas_shim() -> None:
    """Keep pyarrow from importing pandas (~0.3-0.4 s) in this process.

    pyarrow's lazy pandas shim imports pandas on the first ``pa.array``/``pa.scalar`` (to ask
    whether the input is a pandas object).  A command-line process never holds pandas objects,
    so the shim is primed once with pandas unimportable: it records "no pandas" for those
    checks, while an explicit conversion (``to_pandas``) still imports pandas when asked.  A
    process that has already imported pandas is left alone."""
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    sys.meta_path.insert(0, _NoPandas)
    try:
        pa.array([0])  # the shim tries pandas once, here
    finally:
        sys.meta_path.remove(_NoPandas)


class _NoPandas:
    """An import finder that makes ``import pandas`` fail (while the shim is primed)."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "pandas":
            raise ImportError("pandas is kept out of the weave-lite command line")


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
