"""Independent calls at once (tscloud_py/concurrency.py) and the per-run read cache (aws/session.ReadCache)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tscloud_py.aws.session import ReadCache
from tscloud_py.concurrency import Background, each, together


def test_together_runs_calls_at_once_and_keeps_their_order() -> None:
    # Three calls that can only pass a three-party barrier together: run one after another, they deadlock.
    meet = threading.Barrier(3, timeout=30)

    def call(value: int) -> Any:
        return lambda: (meet.wait(), value)[1]

    assert together(call(1), call(2), call(3)) == (1, 2, 3)
    assert together() == ()
    assert together(lambda: "one") == ("one",)


def test_together_raises_the_first_error_after_every_call_has_ended() -> None:
    finished = threading.Event()

    def slow() -> str:
        finished.wait(0.2)
        finished.set()
        return "done"

    def broken() -> str:
        raise ValueError("AccessDenied")

    with pytest.raises(ValueError, match="AccessDenied"):
        together(broken, slow)
    assert finished.is_set()  # nothing was left running behind the caller


def test_each_bounds_the_calls_in_flight_and_keeps_order() -> None:
    lock = threading.Lock()
    running = peak = 0
    release = threading.Barrier(4, timeout=30)

    def work(item: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        release.wait()  # four at a time exactly: a fifth in flight would never be let through alone
        with lock:
            running -= 1
        return item * 2

    assert each(range(8), work, workers=4) == [0, 2, 4, 6, 8, 10, 12, 14]
    assert peak == 4
    with pytest.raises(KeyError):
        each([1, 2, 3], lambda i: dict[int, int]()[i])


def test_background_runs_beside_the_caller_and_hands_over_its_result_or_error() -> None:
    started, go_on = threading.Event(), threading.Event()

    def waits() -> str:
        started.set()
        assert go_on.wait(10)
        return "answer"

    call = Background(waits)
    assert started.wait(10)  # running while the caller goes on
    go_on.set()
    assert call.result() == "answer"

    def fails() -> str:
        raise LookupError("no account")

    failed = Background(fails)
    failed.wait()  # whatever the outcome
    with pytest.raises(LookupError, match="no account"):
        failed.result()


def test_read_cache_one_request_per_resource_and_copies() -> None:
    cache = ReadCache()
    fetched: list[str] = []

    def fetch() -> dict[str, Any]:
        fetched.append("x")
        return {"Origins": ["site"]}

    first = cache.get("cloudfront", ("GetDistributionConfig", "E1"), fetch)
    first["Origins"].append("api")  # a step changing what it was given ...
    second = cache.get("cloudfront", ("GetDistributionConfig", "E1"), fetch)
    assert second == {"Origins": ["site"]}  # ... does not change what the next step reads
    assert fetched == ["x"]
    cache.get("cloudfront", ("GetDistributionConfig", "E2"), fetch)
    assert len(fetched) == 2


def test_read_cache_a_write_to_the_service_makes_the_next_read_fresh() -> None:
    cache = ReadCache()
    value = {"status": "InProgress"}
    cache.get("cloudfront", "E1", lambda: dict(value))
    value["status"] = "Deployed"
    cache.invalidate("secretsmanager")  # another service: kept
    assert cache.get("cloudfront", "E1", lambda: dict(value)) == {"status": "InProgress"}
    cache.invalidate("cloudfront")
    assert cache.get("cloudfront", "E1", lambda: dict(value)) == {"status": "Deployed"}


def test_read_cache_does_not_keep_a_read_that_overlapped_a_write() -> None:
    cache = ReadCache()

    def fetch_while_someone_writes() -> str:
        cache.invalidate("cloudfront")  # the write lands while this read is in flight
        return "before the write"

    assert cache.get("cloudfront", "E1", fetch_while_someone_writes) == "before the write"
    assert cache.get("cloudfront", "E1", lambda: "after the write") == "after the write"


def test_read_cache_concurrent_askers_share_one_request_and_errors_are_not_kept() -> None:
    cache = ReadCache()
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        started.set()
        release.wait(30)
        return "value"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(cache.get("s3", "k", slow)))
    first.start()
    started.wait(30)
    second = threading.Thread(target=lambda: results.append(cache.get("s3", "k", slow)))
    second.start()
    release.set()
    first.join(30)
    second.join(30)
    assert results == ["value", "value"] and calls == [1]

    def failing() -> str:
        raise RuntimeError("Throttling")

    with pytest.raises(RuntimeError):
        cache.get("s3", "other", failing)
    assert cache.get("s3", "other", lambda: "retried") == "retried"
