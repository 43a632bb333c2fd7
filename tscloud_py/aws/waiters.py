"""The one polling helper every wait goes through.

A wait has a name ("distribution Deployed"), a timeout, exponential backoff
between polls, a progress callback that receives the current state and the
elapsed time (so the live view can show "database: creating (3m12s)"), and an
injectable clock so tests and benchmarks never sleep for real.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from tscloud_py.engine.clock import Clock, ProgressCallback, SystemClock, WaitProgress
from tscloud_py.errors import WaitTimeoutError

__all__ = ["Clock", "Poll", "ProgressCallback", "SystemClock", "WaitPolicy", "WaitProgress", "format_duration",
           "wait_for"]

T = TypeVar("T")


@dataclass(frozen=True)
class Poll(Generic[T]):
    """One observation: whether the wait is over, a short state word, and the value."""

    done: bool
    state: str
    value: T | None = None

    @staticmethod
    def finished(value: T, state: str = "done") -> Poll[T]:
        return Poll(True, state, value)

    @staticmethod
    def pending(state: str) -> Poll[T]:
        return Poll(False, state, None)


@dataclass
class WaitPolicy:
    timeout: float = 1800.0
    first_interval: float = 2.0
    max_interval: float = 30.0
    backoff: float = 1.5


def wait_for(
    check: Callable[[], Poll[T]],
    *,
    what: str,
    policy: WaitPolicy | None = None,
    clock: Clock | None = None,
    progress: ProgressCallback | None = None,
) -> T:
    """Poll ``check`` until it reports done; returns its value.

    Raises ``WaitTimeoutError`` naming ``what`` and the last state seen.
    """
    policy = policy or WaitPolicy()
    clock = clock or SystemClock()
    start = clock.monotonic()
    interval = policy.first_interval
    while True:
        poll = check()
        elapsed = clock.monotonic() - start
        if progress is not None:
            progress(WaitProgress(what, poll.state, elapsed, policy.timeout))
        if poll.done:
            return poll.value  # type: ignore[return-value]
        if elapsed >= policy.timeout:
            raise WaitTimeoutError(
                f"timed out after {format_duration(elapsed)} waiting for {what} (last state: {poll.state})"
            )
        clock.sleep(min(interval, max(0.0, policy.timeout - elapsed)) or interval)
        interval = min(policy.max_interval, interval * policy.backoff)


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
