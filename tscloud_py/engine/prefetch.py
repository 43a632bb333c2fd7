"""Every step's read at once, before the run reaches it: one wave of reads instead of a chain.

A step reads only after the steps it needs are done, because its read may use their outputs (an id, an
ARN). Where the journal recorded those outputs, and a run will most likely find them unchanged, the read
can go out at once with the recorded values: ``Prefetch`` starts every step's read at the same moment,
each with its needs' recorded outputs standing in for theirs. When the run reaches a step, ``take`` gives
it the early read only if that read asked exactly what the step would ask now:

- the run's outputs of every step it needs equal the recorded ones it was read with;
- every step it depends on, directly or not, finished unchanged (none wrote anything that its read
  could have seen before or after);
- the caller vouches that the journal the reads were made from is the one the run holds
  (``Prefetch.confirm``; a run that finds another journal drops every early read).

Otherwise the step reads again, as it would have without this. A read that failed early is read again
too: its error is reported, if it happens, from the run's own read.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from tscloud_py.engine.events import RecordingSink
from tscloud_py.engine.step import Outputs, Step, StepContext

MISSED = object()  # what ``take`` returns when the step must read for itself
AFTER_AT_MOST = 1.0  # seconds early reads wait for what they are to follow


class Prefetch:
    def __init__(self, steps: Sequence[Step], previous: Mapping[str, Outputs], *, journal_current: bool,
                 workers: int = 16, after: threading.Event | None = None, roots: bool = True) -> None:
        """``after``: the reads go out once it is set (the lock's write is on the wire, so theirs do not
        delay it), or after ``AFTER_AT_MOST`` seconds. ``roots``: read the steps that need nothing too (for
        reads that go out before the walk starts; once it has, it reads those itself at once)."""
        self._previous = previous
        self._needs = {s.id: tuple(s.needs) for s in steps}
        self._confirmed = False
        self._lock = threading.Lock()
        self._sinks: dict[str, RecordingSink] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prefetch")
        self._reads: dict[str, Future[Any]] = {}
        outputs = {sid: dict(values) for sid, values in previous.items()}
        for step in steps:
            if any(n not in previous for n in step.needs):
                continue  # a need never recorded: its outputs are this run's to make
            if not step.needs and not roots:
                continue
            sink = RecordingSink()
            ctx = StepContext(outputs, previous, sink, step_id=step.id, needs=frozenset(step.needs),
                              journal_current=journal_current)
            self._sinks[step.id] = sink
            self._reads[step.id] = self._pool.submit(self._read, step, ctx, after)
        self._pool.shutdown(wait=False)

    @staticmethod
    def _read(step: Step, ctx: StepContext, after: threading.Event | None) -> Any:
        if after is not None:
            after.wait(AFTER_AT_MOST)
        return step.read(ctx)

    def confirm(self, holds: bool) -> None:
        """Whether the run holds the journal these reads were made from; until confirmed, nothing is taken."""
        self._confirmed = holds

    def take(self, step: Step, ctx: StepContext, statuses: Mapping[str, str] | None) -> Any:
        """The early read of ``step`` if it stands for the one the run would make now (``statuses``: each
        finished step's status; None for a walk that writes nothing, a plan), else ``MISSED``. Its events
        (a read's messages) go to ``ctx``'s sink."""
        with self._lock:
            read = self._reads.pop(step.id, None)
        if read is None:
            return MISSED
        # Ended first, taken or not: a step is never read by two threads at once (a read may fill the
        # step's own caches, such as the upload's hashes).
        wait([read])
        if not self._confirmed:
            return MISSED
        for need in self._needs[step.id]:
            if ctx.outputs.get(need) != self._previous.get(need):
                return MISSED
        if statuses is not None and any(statuses.get(sid) != "unchanged" for sid in self._ancestors(step.id)):
            return MISSED
        try:
            observed = read.result()
        except Exception:
            return MISSED
        for event in self._sinks[step.id].events:
            ctx.sink.emit(event)
        return observed

    def _ancestors(self, step_id: str) -> set[str]:
        seen: set[str] = set()
        todo = list(self._needs.get(step_id, ()))
        while todo:
            sid = todo.pop()
            if sid not in seen:
                seen.add(sid)
                todo += self._needs.get(sid, ())
        return seen
