"""Independent calls at once: where every call is a round trip to AWS, a read costs its longest call,
not the sum of its calls."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

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
        try:
            for fut in futures:
                try:
                    results.append(fut.result())
                except Exception as exc:
                    error = error or exc
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM): what has not started never will; the pool waits only for
            # the calls in flight, not for a thousand queued uploads.
            for fut in futures:
                fut.cancel()
            raise
        if error is not None:
            raise error
    return results


class Background(Generic[T]):
    """One call started now on a thread of its own, for work that waits on the network while the caller
    goes on with work that needs the CPU; ``result()`` waits for it."""

    def __init__(self, call: Callable[[], T], *, name: str = "background") -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        # A daemon: a run interrupted while this waits on the network is not kept alive by it.
        self._thread = threading.Thread(target=self._run, args=(call,), name=name, daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], T]) -> None:
        try:
            self._value = call()
        except BaseException as exc:
            self._error = exc

    def result(self) -> T:
        """The call's result, or its exception raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def wait(self) -> None:
        """Wait for the call to end, whatever its outcome (the caller has a failure of its own to report)."""
        self._thread.join()

    def done(self) -> bool:
        """Whether the call has ended (``result()`` would not wait)."""
        return not self._thread.is_alive()
