"""The error classes of weave_lite.

Every error a user can see derives from :class:`WeaveError`.  Errors about an
expression carry the source text and the offending span, and their message is
written for people: one line saying what is wrong, then the expression with a
caret line under the offending part::

    unknown op `cout`; did you mean `count`?
      rows.cout
           ^^^^
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A half-open character range ``[start, end)`` of an expression's source text.

    ``line`` and ``column`` are 1-based and locate ``start``.
    """

    start: int
    end: int
    line: int = 1
    column: int = 1


def caret_snippet(source: str, span: Span | None) -> str:
    """Return the source line holding ``span`` with a caret line under it.

    Long lines are cut to a window around the span so that the snippet stays
    readable for 1 MB expressions too.
    """
    if span is None or source is None:
        return ""
    line_start = source.rfind("\n", 0, span.start) + 1
    line_end = source.find("\n", span.start)
    if line_end == -1:
        line_end = len(source)
    line = source[line_start:line_end]
    col = span.start - line_start
    width = max(1, min(span.end, line_end) - span.start)
    window = 100
    if len(line) > window:
        lo = max(0, col - window // 2)
        hi = min(len(line), lo + window)
        prefix = "..." if lo > 0 else ""
        suffix = "..." if hi < len(line) else ""
        line = prefix + line[lo:hi] + suffix
        col = col - lo + len(prefix)
        width = min(width, hi - (span.start - line_start))
    return f"  {line}\n  {' ' * col}{'^' * max(1, width)}"


def quoted(names: Sequence[str]) -> str:
    """``"`a`"``, ``"`a` or `b`"``, ``"`a`, `b` or `c`"``."""
    names = [f"`{n}`" for n in names]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def did_you_mean(name: str, known: Sequence[str]) -> str:
    """``"; did you mean `x`?"`` for the closest of ``known``, or ``""``."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    return f"; did you mean {quoted(close)}?" if close else ""


class WeaveError(Exception):
    """Root of every weave_lite error."""


class ExpressionError(WeaveError):
    """An error tied to a place in an expression's source text."""

    def __init__(self, message: str, *, source: str | None = None, span: Span | None = None):
        self.message = message
        self.source = source
        self.span = span
        super().__init__(self._render())

    def _render(self) -> str:
        snippet = caret_snippet(self.source, self.span) if self.source is not None else ""
        return f"{self.message}\n{snippet}" if snippet else self.message

    def with_source(self, source: str) -> ExpressionError:
        """Attach the expression text (when the error was raised below the parser)."""
        if self.source is None:
            self.source = source
            self.args = (self._render(),)
        return self

    def __str__(self) -> str:
        return self._render()


class ParseError(ExpressionError):
    """The expression text is not valid syntax.

    ``line`` and ``column`` are 1-based; ``expected`` lists what would have been
    valid at that point.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        span: Span | None = None,
        expected: tuple[str, ...] = (),
    ):
        self.expected = tuple(expected)
        super().__init__(message, source=source, span=span)

    @property
    def line(self) -> int:
        return self.span.line if self.span else 1

    @property
    def column(self) -> int:
        return self.span.column if self.span else 1


class UnknownOpError(ExpressionError):
    """An op name that does not exist; ``suggestions`` holds the closest names."""

    def __init__(self, message: str, *, suggestions: tuple[str, ...] = (), **kw):
        self.suggestions = tuple(suggestions)
        super().__init__(message, **kw)


class WeaveTypeError(ExpressionError, TypeError):
    """An op applied to arguments of types it does not accept."""


class UnknownColumnError(WeaveTypeError, KeyError):
    """A column or dict key that the input's type does not have."""

    def __init__(self, message: str, *, suggestions: tuple[str, ...] = (), **kw):
        self.suggestions = tuple(suggestions)
        super().__init__(message, **kw)

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self._render()


class UnboundVariableError(ExpressionError, NameError):
    """A free variable that was not bound through ``vars=``."""


class TableNotFoundError(WeaveError, LookupError):
    """A table name that does not exist under the data root (or in ``tables=``)."""


class InvalidNameError(WeaveError, ValueError):
    """A table, project or entity name that is not allowed."""


class BackgroundWriterError(WeaveError, RuntimeError):
    """The background writer of a StreamTable failed; the cause is chained."""


class ExecutionError(ExpressionError):
    """A value that only shows up while running (lists of different lengths, say)."""


class ResourceLimitError(ExpressionError):
    """An expression too large or too deeply nested to be evaluated safely."""


class MemoryLimitError(ResourceLimitError):
    """An evaluation would pass (or has passed) its ``max_memory`` budget.

    ``limit`` is the budget in bytes; ``estimate`` the bytes it would have needed (or had in use).
    """

    def __init__(self, message: str, *, limit: int | None = None, estimate: int | None = None, **kw):
        self.limit = limit
        self.estimate = estimate
        super().__init__(message, **kw)


class TimeLimitError(ResourceLimitError):
    """An evaluation ran past its ``timeout``; ``limit`` and ``elapsed`` are in seconds."""

    def __init__(self, message: str, *, limit: float | None = None, elapsed: float | None = None, **kw):
        self.limit = limit
        self.elapsed = elapsed
        super().__init__(message, **kw)


class EvaluationCancelled(ResourceLimitError):
    """An evaluation was cancelled from outside (``Budget.cancel()``, e.g. its client left)."""


class InternalError(ExpressionError):
    """A bug in weave_lite met while evaluating an expression; the original exception is chained
    (``__cause__``). The expression may be fine: please report it."""


class StorageError(WeaveError, OSError):
    """The table's files could not be read or written (a full disk, an I/O error); the
    ``OSError`` is chained. Nothing acknowledged is lost: retry once the cause is fixed."""


class CorruptTableError(WeaveError):
    """A file of a table's log is damaged; ``path`` names it and ``problem`` says how.

    Raised by whatever reached the file (open, read, query, write, compact); never skipped
    silently. ``weave-lite check TABLE`` lists every damaged file of a table.
    """

    def __init__(self, path: str, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"corrupt table file {path}: {problem}")


class CorruptHintWarning(UserWarning):
    """A checkpoint or the latest-version hint is damaged: it was skipped (they are only
    hints; the commits themselves are replayed instead)."""


# -- rows that cannot be logged ------------------------------------------------------------------


class RowError(WeaveError, TypeError):
    """A value that cannot be logged (``TypeError`` as SPEC section 1 asks).

    ``key`` is the offending key (a dotted path for nested keys) and ``row`` the index of the
    row in the call, when known.
    """

    key: str | None = None
    row: int | None = None


class RowValueError(RowError, ValueError):
    """A value of an accepted type that cannot be stored: out of range, too large or too deep."""


class BatchTooLargeError(WeaveError, ValueError):
    """A column of these rows would hold more than ``MAX_ARRAY_BYTES`` in one Arrow array.

    Not a problem of any one row (``log`` refuses rows that could not fit alone): split the
    rows and convert the parts separately (``rows_to_batches`` does). ``column`` names the
    column when known.
    """

    def __init__(self, message: str, column: str | None = None):
        super().__init__(message)
        self.column = column


# -- storage -------------------------------------------------------------------------------------


class ObjectStoreError(StorageError):
    """A request to the object store failed in a way that may pass (5xx, throttling, a dropped
    connection): retry it.  An ``OSError`` (through :class:`StorageError`)."""

    transient = True


class RequestTimeout(ObjectStoreError, TimeoutError):
    """A request timed out: it may or may not have taken effect (a lost answer)."""


class ConditionalConflict(ObjectStoreError):
    """409: another conditional write of the same key was in progress; retry the same version."""


class ConflictError(WeaveError):
    """A compaction's input segments were taken by a concurrent commit."""


# -- profiles and SQL ----------------------------------------------------------------------------


class FormatError(WeaveError, ValueError):
    """A profile file or a serialised sketch is truncated, corrupt or of an unknown version."""


class SqlError(WeaveError):
    """A SQL query that DuckDB rejected (the message is DuckDB's)."""
