"""The ``weave-lite`` command line.

::

    weave-lite query 'stream_table("acme/prod/predictions").rows.count'
    weave-lite query EXPR --format table|json|csv|arrow [--limit N]
    weave-lite tables
    consumer | weave-lite log acme/prod/predictions      # JSON lines from stdin
    weave-lite compact acme/prod/predictions
    weave-lite profile acme/prod/predictions
    weave-lite serve --port 8765

Every command takes ``--root DIR`` (else ``$WEAVE_LITE_ROOT``, else ``~/.weave_lite``), before or
after the command's name.  Errors print a readable message on stderr and exit with status 1.
"""

from weave_lite.cli.commands import main
from weave_lite.cli.output import cell, format_table

__all__ = ["main", "cell", "format_table"]
