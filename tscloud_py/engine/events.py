"""Progress events, flowing from the runner to a sink (live view, plain lines, or nothing)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Event:
    step_id: str
    kind: str  # started | waiting | finished | message
    at: float = field(default_factory=time.time)
    status: str = ""  # finished: created | updated | unchanged | deleted | failed | skipped
    what: str = ""  # waiting: what we wait for; message: the text
    state: str = ""  # waiting: the last state seen
    elapsed: float = 0.0  # waiting: seconds waited so far; finished: step duration
    error: str = ""


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...


class NullSink:
    def emit(self, event: Event) -> None:
        return None


class RecordingSink:
    """Keeps every event, and forwards to another sink. Feeds the timeline."""

    def __init__(self, inner: EventSink | None = None) -> None:
        self.inner = inner or NullSink()
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)
        self.inner.emit(event)
