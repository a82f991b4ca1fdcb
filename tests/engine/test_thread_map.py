"""weave_lite.threads.map_in_order: the calling thread and ``threads - 1`` pool helpers take
items from a shared counter; results come back in item order, the first error in item order
is raised, and maps nested in an item run inline."""

from __future__ import annotations

import threading
import time

import pytest

from weave_lite.threads import map_in_order


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
@pytest.mark.parametrize("n", [0, 1, 2, 5, 40])
def test_results_in_item_order(threads, n):
    def slow_square(x: int) -> int:
        time.sleep(0.0005 * (x % 3))
        return x * x

    assert map_in_order(slow_square, list(range(n)), threads) == [x * x for x in range(n)]


def test_items_run_on_the_caller_and_the_helpers():
    seen: set[str] = set()
    lock = threading.Lock()

    def record(x: int) -> int:
        with lock:
            seen.add(threading.current_thread().name)
        time.sleep(0.005)
        return x

    assert map_in_order(record, list(range(8)), 2) == list(range(8))
    assert threading.current_thread().name in seen  # the caller worked
    assert len(seen) <= 2  # and at most one helper: two threads in all


def test_the_first_error_in_item_order_is_raised_and_later_items_are_skipped():
    ran: list[int] = []

    def fail(x: int) -> int:
        ran.append(x)
        if x in (3, 5):
            time.sleep(0.01 if x == 3 else 0.0)
            raise ValueError(f"item {x}")
        time.sleep(0.001)
        return x

    with pytest.raises(ValueError, match="item 3"):
        map_in_order(fail, list(range(200)), 2)
    assert len(ran) < 200  # items not started when the error came were skipped


def test_nested_maps_run_inline_without_deadlock():
    def inner(x: int) -> tuple[int, list[int]]:
        return x, map_in_order(lambda y: y + x, list(range(4)), 2)

    got = map_in_order(inner, list(range(6)), 2)
    assert got == [(x, [y + x for y in range(4)]) for x in range(6)]


def test_concurrent_callers_share_the_pool():
    out: dict[int, list[int]] = {}

    def caller(k: int) -> None:
        out[k] = map_in_order(lambda x: x * k, list(range(50)), 2)

    workers = [threading.Thread(target=caller, args=(k,)) for k in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert out == {k: [x * k for x in range(50)] for k in range(6)}
