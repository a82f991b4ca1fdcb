"""Panel expressions in the form Weave's boards and notebooks print them.

Sources (wandb/weave): the StreamTable docs print a table's panel as
``get(\\n    "wandb-artifact:///stacey/mesa/my_stream_table:latest/obj")\\n  .rows``
(examples/experimental/ProductionMonitoring/StreamTable.md, weave_query/... copy), and the
OpenAI monitoring board (weave/legacy/weave/panels_py/panel_llm_monitor.py, with
panel_autoboard.timeseries) builds its panels from ``row["output.model"]``,
``row["summary.prompt_tokens"]``, ``row["inputs.messages"][-1]["content"]``,
``row["output.choices"][-1]["message.content"]``, a time-window filter
``row["timestamp"] >= range[0] and row["timestamp"] <= range[1]``, a per-model cost, and
timeseries groupings ``row["timestamp"].bin(timestampBinsNice(range, n))``. Lambdas are printed
as ``(row) => ...`` by weave-js. The expected results are derived by hand from ``ROWS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .corpus import ts

TABLE = "stacey/mesa/my_stream_table"  # entity/project/table of the stream table


def _row(t: Any, model: str | None, pt: int, ct: int, lat: float, msgs: list[tuple[str, str]], out: str) -> dict:
    return {
        "timestamp": t,
        "inputs": {"messages": [{"role": r, "content": c} for r, c in msgs]},
        "output": {"model": model, "choices": [{"message": {"role": "assistant", "content": out}}]},
        "summary": {"prompt_tokens": pt, "completion_tokens": ct, "latency_s": lat},
    }


ROWS = [
    _row(ts(2024, 5, 1, 12, 0, 10), "gpt-4", 10, 5, 1.0, [("user", "hi")], "hello"),
    _row(ts(2024, 5, 1, 12, 0, 40), "gpt-3.5-turbo", 20, 10, 0.5, [("system", "be nice"), ("user", "sum 2+2")], "4"),
    _row(ts(2024, 5, 1, 12, 1, 30), None, 5, 0, 2.0, [("user", "x")], "y"),
    _row(ts(2024, 5, 1, 12, 2, 5), "gpt-4", 30, 15, 3.0, [("user", "yo")], "sup"),
]


@dataclass(frozen=True)
class Panel:
    id: str
    source: str
    expr: str
    expected: Any
    check: str = "equal"  # "equal" | "unordered" | "rows_subset" (compare only the expected keys)


G = 'get(\n    "wandb-artifact:///stacey/mesa/my_stream_table:latest/obj")\n  '
NICE = 'timestampBinsNice([Date("2020-01-01T08:30:01Z"), Date("2020-01-01T12:30:00Z")], 100)'
DOCS = "examples/experimental/ProductionMonitoring/StreamTable.md"
LLM = "weave/legacy/weave/panels_py/panel_llm_monitor.py"

PANELS = [
    Panel("docs_rows", DOCS + " (the URL a StreamTable prints)", G + ".rows",
          [{"output": {"model": r["output"]["model"], "choices": r["output"]["choices"]}} for r in ROWS], "rows_subset"),
    Panel("docs_rows_call", DOCS + " (.rows() op)", G + ".rows().count", 4),
    Panel("alias_version", DOCS + " (any :alias)",
          'get("wandb-artifact:///stacey/mesa/my_stream_table:v0/obj").rows.count', 4),
    Panel("filter_not_null", "README panel example / FilterEditor `!= null`",
          G + '.rows.filter((row) => row["output.model"] != null).count', 3),
    Panel("group_by_model", LLM + "::board grouping_fn + GroupingEditor",
          G + '.rows.groupby((row) => row["output.model"]).map((row) => {model: row.groupkey, n: row.count})',
          [{"model": "gpt-4", "n": 2}, {"model": "gpt-3.5-turbo", "n": 1}, {"model": None, "n": 1}], "unordered"),
    Panel("avg_latency", LLM + "::board latency panel", G + '.rows["summary.latency_s"].avg', 1.625),
    Panel("avg_prompt_tokens", LLM + "::board avg_prompt_tokens_per_req", G + '.rows["summary.prompt_tokens"].avg', 16.25),
    Panel("window_filter", LLM + "::board window_data",
          G + '.rows.filter((row) => row["timestamp"] >= Date("2024-05-01T12:00:30Z") && '
          'row["timestamp"] <= Date("2024-05-01T12:01:59Z")).count', 2),
    Panel("gpt4_cost", LLM + "::openai_request_cost (gpt-4 branch) summed",
          G + '.rows.filter((row) => row["output.model"] == "gpt-4")'
          '.map((row) => (row["summary.prompt_tokens"] * 0.03 + row["summary.completion_tokens"] * 0.06) / 1000).sum',
          0.0024),
    Panel("last_prompt", LLM + "::board requests_table 'Last Prompt'",
          G + '.rows.map((row) => row["inputs.messages"][-1]["content"])', ["hi", "sum 2+2", "x", "yo"]),
    Panel("completion", LLM + "::board requests_table 'Completion'",
          G + '.rows.map((row) => row["output.choices"][-1]["message.content"])', ["hello", "4", "y", "sup"]),
    Panel("latest_models", LLM + "::board requests_table (Timestamp sort desc)",
          G + '.rows.sort((row) => [row["timestamp"]], ["desc"]).limit(2)["output.model"]', ["gpt-4", None]),
    Panel("request_count_timeseries", LLM + " + panel_autoboard.timeseries (request_count, n_bins=100)",
          G + f'.rows.groupby((row) => {{x: row["timestamp"].bin({NICE})}})'
          '.map((row) => {x: row.groupkey["x"]["start"], n: row.count})',
          [{"x": ts(2024, 5, 1, 12, 0), "n": 2}, {"x": ts(2024, 5, 1, 12, 1), "n": 1}, {"x": ts(2024, 5, 1, 12, 2), "n": 1}],
          "unordered"),
]

# Panels that fail on a stream table opened by get(...): those needing a feature still missing.
KNOWN_FAILURES_GET: dict[str, str] = {
}
# The same panels with get(...) replaced by table("t"): what else is missing.
KNOWN_FAILURES_BODY: dict[str, str] = dict(KNOWN_FAILURES_GET)
