"""``python -m weave_lite.cli``: the ``weave-lite`` command line."""

from weave_lite.cli.commands import main

main()
