"""The DAG runner: applies steps in parallel as soon as what they need is done.

Each finished step is journaled at once. A failed step fails only the steps
that need it; independent steps run on, so one bad resource does not hold up
the rest and a re-run has less left to do.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from tscloud_py.engine.events import Event
from tscloud_py.engine.graph import topo_order
from tscloud_py.engine.prefetch import MISSED, Prefetch
from tscloud_py.engine.schedule import DEFAULT_WORKERS, walk
from tscloud_py.engine.step import Outputs, Step, StepContext
from tscloud_py.errors import NotDeployedError, StateConflictError, StepFailedError, TscloudError

OK_STATUSES = {"created", "updated", "unchanged", "deleted", "absent", "kept"}


class Recorder(Protocol):
    """Where each finished step is recorded the moment it finishes (the journal, ``state/journal.py``)."""

    def record(self, step_id: str, *, status: str, outputs: dict[str, Any]) -> None: ...
    def forget(self, step_id: str) -> None: ...


@dataclass
class StepResult:
    id: str
    status: str
    seconds: float
    started: float
    ended: float
    error: TscloudError | None = None
    detail: str = ""  # traceback text, shown with -v
    selected: bool = True

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.id, "status": self.status, "seconds": round(self.seconds, 3)}
        if self.error is not None:
            doc["error"] = self.error.message
            doc["hint"] = self.error.hint
        return doc


@dataclass
class RunResult:
    results: list[StepResult] = field(default_factory=list)
    outputs: dict[str, Outputs] = field(default_factory=dict)
    started: float = 0.0
    ended: float = 0.0

    @property
    def failed(self) -> list[StepResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed


def _unusable_record(exc: BaseException) -> bool:
    """Whether a failure looks like bad input from the journal rather than an answer from AWS."""
    if isinstance(exc, (TypeError, KeyError, AttributeError, ValueError)):
        return True
    return getattr(exc, "code", None) == "ParamValidationError"


class Runner:
    def __init__(
        self,
        steps: Sequence[Step],
        ctx: StepContext,
        journal: Recorder | None,
        *,
        max_workers: int = DEFAULT_WORKERS,
        prefetch: Prefetch | None = None,
    ) -> None:
        """``prefetch``: reads started before the run (``engine/prefetch.py``), taken where they still stand."""
        self.steps = topo_order(steps)
        self.ctx = ctx
        self.journal = journal
        self.max_workers = max_workers
        self.prefetch = prefetch
        self._statuses: dict[str, str] = {}
        self._started = 0.0

    # -- deploy -----------------------------------------------------------------
    def deploy(self, selected: set[str] | None = None, *,
               settled: Callable[[RunResult, list[str]], None] | None = None) -> RunResult:
        """``settled(run so far, pending ids)``: called once, on the walk's thread, when every step has finished
        ok but some whose read settles them (``Step.settled_by_read``) are still running: what the run
        records can be written then, beside their requests. Not called when a step failed, nor when
        nothing is left pending."""
        selected = selected if selected is not None else {s.id for s in self.steps}

        def work(step: Step) -> StepResult:
            return self._deploy_step(step, step.id in selected)

        each = None
        if settled is not None:
            tail = {s.id for s in self.steps if s.settled_by_read and s.id in selected}  # applied by this run
            called = False

            def each(results: dict[str, StepResult]) -> None:
                nonlocal called
                pending = [s.id for s in self.steps if s.id not in results]
                if called or not pending or any(sid not in tail for sid in pending):
                    return
                if any(r.status not in OK_STATUSES | {"not-selected"} for r in results.values()):
                    return
                called = True
                settled(RunResult([results[s.id] for s in self.steps if s.id in results], self.ctx.outputs,
                                  self._started, time.time()), pending)

        return self._run(self.steps, lambda s: s.needs, work, each=each)

    def _deploy_step(self, step: Step, selected: bool) -> StepResult:
        ctx = self.ctx.for_step(step.id, step.needs)
        started = time.time()
        if selected:
            ctx.sink.emit(Event(step.id, "started", at=started))
        return self._attempt(step, ctx, selected, started, heal=True)

    def _attempt(self, step: Step, ctx: StepContext, selected: bool, started: float, *, heal: bool) -> StepResult:
        try:
            observed = MISSED if self.prefetch is None else self.prefetch.take(step, ctx, self._statuses)
            if observed is MISSED:
                observed = step.read(ctx)
            if not selected:
                self.ctx.outputs[step.id] = self._outputs_without_apply(step, ctx, observed)
                return self._finish(step, "not-selected", started, selected=False, emit=False)
            changes = step.diff(ctx, observed)
            if not changes:
                outputs = step.outputs(ctx, observed)
                status = "unchanged"
            else:
                outputs = step.apply(ctx, observed) or {}
                status = "created" if observed is None else "updated"
            self.ctx.outputs[step.id] = outputs
            if self.journal is not None:
                self.journal.record(step.id, status=status, outputs=outputs)
            return self._finish(step, status, started)
        except StateConflictError:
            raise  # another run owns this stage now: stop the whole run, not just this step
        except Exception as exc:  # every failure is reported per step, never a traceback
            if heal and self.journal is not None and step.id in ctx.previous and _unusable_record(exc):
                # A journal record this code cannot use (a value of the wrong type) would fail the step the
                # same way on every run: drop it and ask reality again, once.
                self.journal.forget(step.id)
                ctx.sink.emit(Event(step.id, "message", what=f"journal record unusable ({type(exc).__name__}); "
                                    "set aside, reading AWS instead"))
                healed = replace(ctx, previous={k: v for k, v in ctx.previous.items() if k != step.id})
                return self._attempt(step, healed, selected, started, heal=False)
            return self._failure(step, exc, started)

    def _outputs_without_apply(self, step: Step, ctx: StepContext, observed: Any) -> Outputs:
        if observed is not None:
            try:
                return step.outputs(ctx, observed)
            except Exception:
                pass
        recorded = ctx.previous.get(step.id)
        if recorded:
            return dict(recorded)
        raise NotDeployedError(
            f"step '{step.id}' has not been deployed, and the selected steps need its outputs",
            "run a full `tscloud deploy` first (without --only/--from)",
        )

    # -- destroy ----------------------------------------------------------------
    def destroy(self, observed_by_id: dict[str, Any]) -> RunResult:
        needed_by: dict[str, list[str]] = {s.id: [] for s in self.steps}
        for s in self.steps:
            for n in s.needs:
                needed_by[n].append(s.id)

        def work(step: Step) -> StepResult:
            started = time.time()
            ctx = self.ctx.for_step(step.id, step.needs)
            if step.id not in observed_by_id:
                if self.journal is not None:
                    self.journal.forget(step.id)
                return self._finish(step, "absent", started, emit=False)
            ctx.sink.emit(Event(step.id, "started", at=started))
            try:
                outcome = step.destroy(ctx, observed_by_id[step.id])
                if self.journal is not None:
                    self.journal.forget(step.id)
                return self._finish(step, outcome or "deleted", started)
            except StateConflictError:
                raise
            except Exception as exc:
                return self._failure(step, exc, started)

        return self._run(list(reversed(self.steps)), lambda s: tuple(needed_by[s.id]), work)

    # -- the walk --------------------------------------------------------------
    def _run(
        self,
        order: Sequence[Step],
        prerequisites: Callable[[Step], Sequence[str]],
        work: Callable[[Step], StepResult],
        *,
        each: Callable[[dict[str, StepResult]], None] | None = None,
    ) -> RunResult:
        run = RunResult(started=time.time(), outputs=self.ctx.outputs)
        self._started = run.started
        results = walk(order, prerequisites, work, max_workers=self.max_workers,
                       blocks=lambda r: r.status in ("failed", "skipped"), skip=self._skip, each=each)
        run.results = [results[s.id] for s in order if s.id in results]
        run.ended = time.time()
        return run

    def _finish(self, step: Step, status: str, started: float, *, selected: bool = True,
                emit: bool = True) -> StepResult:
        ended = time.time()
        self._statuses[step.id] = status
        if emit:
            self.ctx.sink.emit(Event(step.id, "finished", at=ended, status=status, elapsed=ended - started))
        return StepResult(step.id, status, ended - started, started, ended, selected=selected)

    def _failure(self, step: Step, exc: Exception, started: float) -> StepResult:
        ended = time.time()
        if isinstance(exc, StepFailedError):
            error: TscloudError = exc
        else:
            error = StepFailedError(step.id, exc)
        self.ctx.sink.emit(Event(step.id, "finished", at=ended, status="failed", elapsed=ended - started,
                                 error=error.message))
        return StepResult(step.id, "failed", ended - started, started, ended, error,
                          "".join(traceback.format_exception(exc)))

    def _skip(self, step: Step, blocked: list[str]) -> StepResult:
        now = time.time()
        self.ctx.sink.emit(Event(step.id, "finished", at=now, status="skipped",
                                 what=f"blocked by {', '.join(blocked)}"))
        return StepResult(step.id, "skipped", 0.0, now, now)
