"""HTML for notebooks (``_repr_html_``): tables, results, profiles, drift reports, live views.

Modules: ``tables`` (Arrow tables), ``stats`` (profiles and drift reports), ``results`` (any
result of ``evaluate``; :func:`show`), and, beside them, :mod:`weave_lite.live_view` (``StreamTable.panel()``: a live view).
"""

from weave_lite.display.results import Shown, result_html, show
from weave_lite.display.stats import DriftView, drift_html, profile_html
from weave_lite.display.tables import MAX_ROWS, table_html

__all__ = ["MAX_ROWS", "DriftView", "Shown", "drift_html", "profile_html", "result_html", "show", "table_html"]
