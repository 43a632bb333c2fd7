"""Independent calls at once: where every call is a round trip to AWS, a read costs its longest call,
not the sum of its calls."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
U = TypeVar("U")


def together(*calls: Callable[[], Any]) -> tuple[Any, ...]:
    """Run every call at once; their results in order. If any call raises, the others are still waited
    for (none is left running behind the caller's back) and the first exception, in the calls' order,
    is raised."""
    return tuple(each(calls, lambda call: call(), workers=max(len(calls), 1)))


def each(items: Iterable[T], fn: Callable[[T], U], *, workers: int = 16) -> list[U]:
    """``fn(item)`` for every item, up to ``workers`` at once; results in the items' order, the first
    error (in order) raised once every call has ended."""
    jobs: Sequence[T] = list(items)
    if len(jobs) <= 1:
        return [fn(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="read") as pool:
        futures = [pool.submit(fn, job) for job in jobs]
        results: list[U] = []
        error: BaseException | None = None
        for fut in futures:
            try:
                results.append(fut.result())
            except Exception as exc:
                error = error or exc
        if error is not None:
            raise error
    return results
