"""Time as the engine sees it: an injectable clock and the progress a wait reports.

Steps wait through ``StepContext.clock`` so tests and benchmarks never sleep for real;
the AWS waiters (``aws/waiters.py``) poll with these types.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class WaitProgress:
    what: str
    state: str
    elapsed: float
    timeout: float


ProgressCallback = Callable[[WaitProgress], None]
