"""Parser/planner/executor fuzzing in CI (see tests/lang/fuzzing.py; benchmarks/fuzz.py runs more).

5,000 seeded cases, half generated from the grammar and the op catalog, half mutated from the
expressions of the tests and the README, each evaluated with ``timeout`` and ``max_memory``:
every outcome must be a result or a WeaveError (an InternalError counts as a crash), and no
case may take more than a second.  The first evaluations of a process load the parser and the
kernels' compiled code; that is done before timing (``warm_up``).  A case over a second is run
again before it fails the test, so that a machine busy with other work does not fail it; a case
slow twice is slow.

``WEAVE_LITE_FUZZ_CASES`` and ``WEAVE_LITE_FUZZ_SEED`` change the number of cases and the seed.
Below: regression tests of what the fuzzer found.
"""

from __future__ import annotations

import os
import time

import pyarrow as pa
import pytest

import weave_lite
from weave_lite.errors import InternalError, ResourceLimitError, TimeLimitError, WeaveError, WeaveTypeError

from . import fuzzing

CASES = int(os.environ.get("WEAVE_LITE_FUZZ_CASES", "5000"))
SEED = int(os.environ.get("WEAVE_LITE_FUZZ_SEED", "20240501"))


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz") / "data"
    fuzzing.make_stream_table(root)
    tables = fuzzing.fuzz_tables()
    fuzzing.warm_up(tables, root)
    return tables, root


@pytest.fixture(scope="module")
def corpus():
    return fuzzing.corpus()


def _describe(outcome: fuzzing.Outcome) -> str:
    error = outcome.error
    cause = error.__cause__ if isinstance(error, InternalError) and error.__cause__ is not None else error
    return f"{outcome.kind} ({type(cause).__name__}: {str(cause)[:200]}) in {outcome.seconds:.2f} s: {outcome.expr!r}"


@pytest.mark.timeout(300)
def test_fuzz(fuzz_env, corpus):
    tables, root = fuzz_env
    outcomes = fuzzing.run_cases(fuzzing.cases(SEED, CASES, corpus), tables, root)

    crashes = [o for o in outcomes if o.crashed]
    assert not crashes, f"{len(crashes)} case(s) raised something other than a WeaveError:\n" + "\n".join(
        _describe(o) for o in crashes[:20]
    )
    slow = [o for o in outcomes if o.seconds > fuzzing.MAX_CASE_SECONDS]
    slow_again = [o for o in slow if fuzzing.run_case(o.expr, tables, root).seconds > fuzzing.MAX_CASE_SECONDS]
    assert not slow_again, f"{len(slow_again)} case(s) took over {fuzzing.MAX_CASE_SECONDS} s twice:\n" + "\n".join(
        _describe(o) for o in slow_again[:20]
    )

    # The fuzzer must reach past the parser: results, type errors and budgets all occur.
    counts = fuzzing.summary(outcomes)
    assert counts["result"] > CASES // 10, counts
    assert counts["ParseError"] > CASES // 20, counts
    assert counts["WeaveTypeError"] + counts["UnknownColumnError"] > CASES // 20, counts
    assert counts["ResourceLimitError"] > 0, counts


def test_cases_are_deterministic(corpus):
    assert fuzzing.cases(SEED, 200, corpus) == fuzzing.cases(SEED, 200, corpus)
    assert fuzzing.cases(SEED, 200, corpus) != fuzzing.cases(SEED + 1, 200, corpus)


def test_corpus_holds_the_tests_expressions(corpus):
    assert len(corpus) > 300
    assert 'table("t").rows.count' in corpus or any("rows.count" in text for text in corpus)


def test_generated_expressions_cover_the_grammar():
    """Every operator and most of the op catalog appear in a few thousand generated cases."""
    import random

    generator = fuzzing.Generator(random.Random(1))
    text = "\n".join(generator.expression() for _ in range(3000))
    for symbol in ("+", "-", "*", "/", "%", "**", "==", "!=", "<", ">=", "&&", "||", "??", "!", "? ", "=>", "[", "{"):
        assert symbol in text, symbol
    used = {op for op in weave_lite.graph.registry.all_ops() if f"{op}(" in text or f".{op}" in text}
    assert len(used) > 0.8 * len(weave_lite.graph.registry.all_ops()), sorted(set(weave_lite.graph.registry.all_ops()) - used)


# -- regressions found by the fuzzer ------------------------------------------------------------


def test_vars_of_mixed_kinds_are_unions():
    """``vars={"mixed": [1, "a", None]}`` failed in every expression (ArrowInvalid)."""
    values = {"mixed": [1, "a", None, 2.5], "cfg": {"a": (1, 2), "b": {"c": None}}}
    assert weave_lite.to_python(weave_lite.evaluate("mixed", vars=values)) == [1.0, "a", None, 2.5]
    assert weave_lite.to_python(weave_lite.evaluate("mixed.map(x => x).count", vars=values)) == 4
    assert weave_lite.evaluate('cfg["a"].sum', vars=values) == 3


def test_vars_that_do_not_fit_are_type_errors():
    with pytest.raises(WeaveTypeError, match="variable `x`"):
        weave_lite.evaluate("x + 1", vars={"x": 2**64})


def test_int64_minimum_and_the_literal_above_int64():
    """``2**63`` is parsed only so that ``-2**63`` can be written: alone it raised OverflowError
    deep in the executor, and ``-9223372036854775808`` itself failed."""
    assert weave_lite.evaluate("-9223372036854775808") == -(2**63)
    assert weave_lite.to_python(weave_lite.evaluate("[1, 2].map(x => -9223372036854775808)")) == [-(2**63)] * 2
    for text in ("9223372036854775808", "[1].map(x => true ? 9223372036854775808 : 1)", "9223372036854775808 + 1"):
        with pytest.raises(WeaveTypeError, match="does not fit in 64 bits"):
            weave_lite.evaluate(text)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 199 + "1" + "]" * 199,
        "{a: " * 199 + "1" + "}" * 199,
        "{a: [" * 99 + "1" + "]}" * 99,
        "[1]" + ".abs" * 198,
    ],
    ids=["lists", "dicts", "dicts-of-lists", "member-chain"],
)
def test_deep_literals_are_fast(text):
    """Nested list literals copied every level below them (quadratic: 3 s at 199 levels); the
    memory charge walked every level after every kernel (quadratic again)."""
    start = time.perf_counter()
    weave_lite.to_python(weave_lite.evaluate(text, timeout=5, max_memory=256 * 1024**2))
    assert time.perf_counter() - start < 2.5  # about 0.1 s; generous: CI machines are shared


def test_the_deadline_reaches_into_parsing():
    """A text of the maximum length takes seconds to parse on a busy machine; the timeout
    stops it there instead of after."""
    text = "[" + ",".join(["1"] * 49_000) + "]"
    start = time.perf_counter()
    with pytest.raises(TimeLimitError):
        weave_lite.evaluate(text, timeout=0.05)
    assert time.perf_counter() - start < 5.0  # generous: CI machines are shared


def test_constant_folding_keeps_to_its_own_budget():
    """``"ab".replace("a", "aa")`` sixty times was folded while planning, with no budget:
    83 s and 5 GB before the evaluation's timeout could apply."""
    text = '"ab"' + '.replace("a", "aa")' * 60
    start = time.perf_counter()
    with pytest.raises(ResourceLimitError):
        weave_lite.evaluate(text, timeout=2, max_memory=256 * 1024**2)
    assert time.perf_counter() - start < 5


def test_tables_values_that_are_not_tables():
    with pytest.raises(TypeError):  # a WeaveTypeError, which is a TypeError too
        weave_lite.evaluate('table("t").rows.count', tables={"t": object()})
    with pytest.raises(WeaveError):
        weave_lite.evaluate('table("t").rows.count', tables={"t": 42})


def test_exponential_types_are_refused_while_planning():
    """``{a: x, b: x}`` doubles its argument's type: 20 nested maps made a type (and a result)
    of a million parts, which never finished converting."""
    text = "[1]" + ".map(x => {a: x, b: x})" * 20
    with pytest.raises(ResourceLimitError, match="type of more than"):
        weave_lite.evaluate(text)
    assert weave_lite.evaluate("[1]" + ".map(x => {a: x, b: x})" * 5).num_rows == 1


def test_tables_nested_too_deeply_are_refused():
    t: pa.DataType = pa.int64()
    for _ in range(70):
        t = pa.list_(t)
    value = 1
    for _ in range(70):
        value = [value]
    table = pa.table({"deep": pa.array([value], type=t)})
    with pytest.raises(ResourceLimitError, match="nested more than"):
        weave_lite.evaluate('table("t").rows.count', tables={"t": table})


def test_nested_unions_print_at_once():
    """Union members are sorted by their texts, and each text sorted the unions inside it
    again: ``{a: (x ?? 1)}`` nested 35 deep never finished printing its type."""
    text = "{a: (" * 90 + "1" + " ?? 1)}" * 90
    start = time.perf_counter()
    weave_lite.compile(text).explain()
    weave_lite.to_python(weave_lite.evaluate(text, timeout=5))
    assert time.perf_counter() - start < 10  # about 0.3 s (the bug never finished)


def test_sort_directions_that_are_not_a_list():
    """``sort(f, cfg["b"])`` with a dict of directions raised a raw KeyError."""
    for dirs in ("{c: null}", "5"):
        with pytest.raises(WeaveError, match='sort directions are a list of "asc" and "desc"'):
            weave_lite.evaluate(f"[3, 1, 2].sort(x => x, {dirs})")
    assert weave_lite.to_python(weave_lite.evaluate('[3, 1, 2].sort(x => x, "desc")')) == [3, 2, 1]


def test_constants_of_union_type_convert():
    """A constant typed as a union (``100 ?? "a"``) had the null Arrow type: converting a group
    key of it raised ArrowInvalid ("Invalid null value")."""
    result = weave_lite.to_python(weave_lite.evaluate('["a", "b"].groupby(x => 100 ?? "z")'))
    assert result == [{"groupkey": 100, "rows": ["a", "b"]}]
    assert weave_lite.to_python(weave_lite.evaluate('[1, 2].map(x => 1 ?? "a")')) == [1, 1]


def test_lone_surrogates_in_the_text_are_parse_errors():
    """A raw lone surrogate inside a string literal parsed, then failed in Arrow with a raw
    UnicodeEncodeError; a message quoting it could not even be printed."""
    for text in ('["s\ud800"]', "\udc00", 'table("t").rows.filter(r => r["s"] == "a\ud800b")'):
        with pytest.raises(weave_lite.ParseError, match=r"U\+D[8C]00 .*lone surrogate") as info:
            weave_lite.evaluate(text)
        str(info.value).encode("utf-8")  # printable
    with pytest.raises(WeaveTypeError, match="variable `s`"):
        weave_lite.evaluate("s.len", vars={"s": "a\ud800"})
