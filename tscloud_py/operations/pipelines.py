"""The plan, deploy and destroy pipelines, each read top to bottom in one function.

A command parses its flags into a request, calls one of these with a ``Face`` (what the user is shown and
asked while the pipeline runs), and renders what it returns. The order is the promise: everything that
can be checked without writing is checked before the lock is taken; the journal is read once the lock is
held; the lock is given back before the run record is written; an interrupt writes the run record too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tscloud_py.errors import JournalDisagreesError, NotDeployedError, UsageError
from tscloud_py.operations import exit_guard

if TYPE_CHECKING:
    from tscloud_py.concurrency import Background
    from tscloud_py.engine.events import Event, EventSink, RecordingSink
    from tscloud_py.engine.plan import Plan
    from tscloud_py.engine.runner import RunResult
    from tscloud_py.operations.context import AppContext
    from tscloud_py.operations.workspace import Target, Workspace
    from tscloud_py.state.lock import Holder, Lock


class Face(Protocol):
    """What a pipeline shows and asks while it runs (the CLI's terminal, or a test's recorder)."""

    def notices(self, lines: Sequence[str]) -> None: ...
    def took_over(self, lock: Lock) -> None: ...
    def confirm_break(self, scope: str, holder: Holder | None) -> bool: ...
    def confirm_destroy(self, target: str) -> None: ...  # raises to say no
    def progress(self, ws: Workspace, title: str) -> tuple[EventSink, AbstractContextManager[Any]]: ...
    def interrupted(self, record: Path, next_command: str) -> None: ...


@dataclass
class DeployRequest:
    only: tuple[str, ...] = ()
    start: str | None = None
    force_unlock: int = 0
    upload_concurrency: int | None = None
    wait_invalidation: bool = False
    rerun: str = "tscloud deploy"  # the command that resumes this one, named in an interrupted run's record


@dataclass
class DestroyRequest:
    no_snapshot: bool = False
    confirm: str | None = None  # --confirm APP-STAGE
    force_unlock: int = 0
    yes: bool = False
    rerun: str = "tscloud destroy --yes"


@dataclass
class PlanOutcome:
    ws: Workspace
    plan: Plan


@dataclass
class RunOutcome:
    ws: Workspace
    kind: str  # deploy | destroy
    result: RunResult
    steps: list[dict[str, Any]]  # as the JSON document lists them
    outputs: dict[str, Any]
    requests: dict[str, Any]
    record: Path
    timeline: tuple[Path, str] | None = None  # the page and its critical-path line, after a deploy
    nothing_to_destroy: bool = False
    notes: list[str] = field(default_factory=list)


def plan(app: AppContext, face: Face, target: Target | None = None) -> PlanOutcome:
    from tscloud_py.cost.hooks import plan_cost
    from tscloud_py.engine.events import NullSink
    from tscloud_py.engine.plan import Planner
    from tscloud_py.operations.workspace import Workspace

    ws = Workspace.open(app, target=target)
    ws.preset.validate()
    face.notices([*ws.journal.notices, *ws.preset.notices])
    ws.preset.preflight()
    # No lock: a dead run's lock is not looked for, so the journal's own word on its last run decides.
    current = ws.journal.finished()
    result = Planner(ws.steps, ws.context(NullSink(), current=current),
                     prefetch=ws.early_reads(current=current)).plan()
    result.extra.update(ws.preset.plan_extras())
    result.extra["preflight"] = list(ws.preset.checks)  # what deploy checks first, and found
    readers = ws.preset.secret_readers()
    if readers:  # which secrets each step reads, as the config names them (never a value)
        result.extra["secrets"] = {step: {"key": r.key, "refs": dict(r.refs)} for step, r in readers.items()}
    if ws.preset.notices:
        result.extra["notices"] = list(ws.preset.notices)
    result.extra.update(plan_cost(ws))
    result.extra["destructive_count"] = result.destructive_count
    return PlanOutcome(ws, result)


def deploy(app: AppContext, face: Face, request: DeployRequest, target: Target | None = None) -> RunOutcome:
    from tscloud_py.concurrency import Background
    from tscloud_py.cost.hooks import run_extras
    from tscloud_py.engine.graph import select
    from tscloud_py.engine.runner import Runner
    from tscloud_py.operations.workspace import Workspace
    from tscloud_py.presets import PresetOptions

    ws = Workspace.open(app, PresetOptions(verbose=app.verbose, upload_concurrency=request.upload_concurrency,
                                           wait_invalidation=request.wait_invalidation),
                        locking=True, target=target)
    selected = select(ws.steps, request.only, request.start)
    ws.preset.validate()
    ws.preset.preflight()
    foreseen = ws.foresee()  # the reads go out with the lock's write, not after it
    with ws.lock(force=request.force_unlock, confirm_break=lambda h: face.confirm_break(ws.scope, h)) as lock:
        face.notices([*ws.journal.notices, *ws.preset.notices])
        face.took_over(lock)
        ws.journal.check_writable()
        sink = _recording(face, ws, "deploy")
        current = lock.took_over is None and ws.journal.finished()
        # The summary's extras (the cost inputs: a walk of the site's sizes) are gathered while the steps run.
        extras = Background(lambda: run_extras(ws, "deploy", None), name="run-extras")
        written: list[Background[None]] = []

        def settled(so_far: RunResult, pending: list[str]) -> None:
            # Only steps settled by their read are left (the invalidation): nothing trusts the journal's
            # record of them, so the summary and the lock's release go out beside their requests. On a
            # thread of its own: the walk goes on to start them meanwhile.
            def summary() -> None:
                ws.journal.mark_run(_summary("deploy", so_far, extras.result(), pending=pending),
                                    release=lock.release)

            written.append(Background(summary, name="summary"))

        with _recorded_if_interrupted(ws, face, "deploy", sink, request.rerun):
            result = Runner(ws.steps, ws.context(sink.events, current=current), ws.journal,
                            prefetch=ws.confirm(foreseen, current=current)).deploy(selected, settled=settled)
        return _finish(ws, "deploy", result, sink.events, lock, extras=extras.result(),
                       written=written[0] if written else None)


def destroy(app: AppContext, face: Face, request: DestroyRequest, target: Target | None = None) -> RunOutcome:
    from tscloud_py.engine.plan import destroy_plan
    from tscloud_py.engine.runner import Runner
    from tscloud_py.operations.workspace import Workspace
    from tscloud_py.presets import PresetOptions

    ws = Workspace.open(app, PresetOptions(no_snapshot=request.no_snapshot, verbose=app.verbose), locking=True,
                        target=target)
    named = f"{ws.config.app}-{ws.config.stage}"
    if ws.config.is_production and request.confirm != named:
        raise UsageError(f"--confirm: destroying the production stage needs --confirm {named}")
    if request.confirm is not None and request.confirm != named:
        raise UsageError(f"--confirm: expected {named}, got {request.confirm}")
    if not (app.yes or request.yes) and not ws.config.is_production:
        face.confirm_destroy(named)
    breaker = (lambda _h: True) if request.yes else (lambda h: face.confirm_break(ws.scope, h))
    with ws.lock(force=request.force_unlock, confirm_break=breaker) as lock:
        face.notices([*ws.journal.notices, *ws.preset.notices])
        face.took_over(lock)
        ws.journal.check_writable()
        sink = _recording(face, ws, "destroy")
        ctx = ws.context(sink.events)
        _the_plan, observed = destroy_plan(ws.steps, ctx, ws.journal.outputs())
        for step in ws.steps:  # before the first delete: a half-destroyed stage is worse than none
            if step.id not in observed:
                continue
            refusal = step.destroy_refusal(observed[step.id])
            if refusal is not None:
                raise UsageError(f"{step.id}: {refusal[0]}; nothing was deleted", refusal[1])
            differs = step.destroy_disagreement(ctx.for_step(step.id, step.needs), observed[step.id])
            if differs is not None:
                raise JournalDisagreesError(f"{step.id}: {differs}; nothing was changed")
        with _recorded_if_interrupted(ws, face, "destroy", sink, request.rerun):
            result = Runner(ws.steps, ctx, ws.journal).destroy(observed)
        outcome = _finish(ws, "destroy", result, sink.events, lock)
        outcome.nothing_to_destroy = not observed
        return outcome


def status(app: AppContext) -> dict[str, Any]:
    """Each step's journal record beside what AWS says now, the outputs, and the preset's live view."""
    from tscloud_py.engine.events import NullSink
    from tscloud_py.engine.plan import Planner
    from tscloud_py.operations.workspace import Workspace

    ws = Workspace.open(app)
    live = Planner(ws.steps, ws.context(NullSink())).plan().by_id()
    rows = []
    for step in ws.steps:
        rec = ws.journal.steps.get(step.id, {})
        p = live[step.id]
        state = {"none": "in sync", "create": "missing", "update": "drifted"}.get(p.action, p.action)
        rows.append({"id": step.id, "journal": rec.get("status", "never"), "at": rec.get("at"),
                     "live": state, "changes": [c.describe() for c in p.changes]})
    outputs = journal_outputs(ws, required=False)
    recorded = ws.journal.outputs()
    extra = {**ws.preset.live_status(recorded), **ws.preset.watch_status(recorded)} if outputs else {}
    return {"app": ws.config.app, "stage": ws.config.stage, "preset": ws.config.preset, "region": ws.aws.region,
            "steps": rows, "outputs": outputs, "last_run": ws.journal.data.get("last_run"), "live": extra}


def outputs(app: AppContext) -> dict[str, Any]:
    from tscloud_py.operations.local_urls import with_local_urls
    from tscloud_py.operations.workspace import Workspace

    return with_local_urls(app, journal_outputs(Workspace.open(app), required=True))


def journal_outputs(ws: Workspace, *, required: bool) -> dict[str, Any]:
    recorded = ws.journal.outputs()
    if not recorded:
        if required:
            raise NotDeployedError(f"{ws.config.app}-{ws.config.stage} has no recorded deploy here")
        return {}
    try:
        return ws.preset.outputs(recorded)
    except (KeyError, TypeError):
        if required:
            raise NotDeployedError(f"{ws.config.app}-{ws.config.stage} has not been fully deployed") from None
        return {}


def requests_report(ws: Workspace) -> dict[str, Any]:
    """The run's AWS requests: resource requests, and the state backend's lock and journal requests apart."""
    from tscloud_py.operations.state import state_requests

    resource = ws.aws.requests
    doc: dict[str, Any] = {"total": resource.total, "mutating": resource.mutating,
                           "resource_writes": resource.mutating, "calls": dict(resource.calls)}
    state = state_requests(ws.state)
    doc["state"] = {"backend": ws.state.kind, "total": state.total if state else 0,
                    "writes": state.mutating if state else 0, "calls": dict(state.calls) if state else {}}
    return doc


# -- the run's record ----------------------------------------------------------------------------------------
@dataclass
class _Recording:
    events: RecordingSink
    live: AbstractContextManager[Any]


def _recording(face: Face, ws: Workspace, title: str) -> _Recording:
    from tscloud_py.engine.events import RecordingSink

    inner, live = face.progress(ws, title)
    return _Recording(RecordingSink(inner), live)


@contextmanager
def _recorded_if_interrupted(ws: Workspace, face: Face, kind: str, sink: _Recording, rerun: str) -> Iterator[None]:
    """Runs the walk inside the progress view; on Ctrl-C or SIGTERM, writes the run record (and timeline)
    with the steps done, the steps interrupted and the command that resumes, then lets the signal unwind."""
    started = time.time()
    ws.steps_started = True
    try:
        with sink.live:
            yield
    except KeyboardInterrupt as exc:
        try:
            signal = "SIGTERM" if isinstance(exc, exit_guard.Terminated) else "SIGINT"
            path = _write_interrupted(ws, kind, sink.events.events, started, rerun, signal)
        except Exception:  # a record must never stand in the way of a signal
            raise exc from None
        face.interrupted(path, rerun)
        raise


def _write_interrupted(ws: Workspace, kind: str, events: list[Event], started: float, rerun: str,
                       signal: str) -> Path:
    from tscloud_py.operations.timeline import write_timeline

    ended = time.time()
    began: dict[str, float] = {}
    rows: dict[str, dict[str, Any]] = {}
    for e in list(events):
        if e.kind == "started":
            began[e.step_id] = e.at
        elif e.kind == "finished":
            rows[e.step_id] = {"id": e.step_id, "status": e.status, "started": began.get(e.step_id, e.at - e.elapsed),
                               "ended": e.at, "seconds": e.elapsed, "selected": True, "error": e.error or None}
    interrupted = [sid for sid in began if sid not in rows]
    for sid in interrupted:
        rows[sid] = {"id": sid, "status": "interrupted", "started": began[sid], "ended": ended,
                     "seconds": ended - began[sid], "selected": True, "error": None}
    done = [{"id": r["id"], "status": r["status"], "seconds": round(r["seconds"], 3)} for r in rows.values()
            if r["status"] != "interrupted"]
    path = ws.write_run_record(kind, {
        "kind": kind, "ok": False, "started": started, "ended": ended, "steps": done,
        "interrupted": {"signal": signal, "steps": interrupted, "next": rerun},
        "app": ws.config.app, "stage": ws.config.stage, "preset": ws.config.preset,
        "needs": {s.id: list(s.needs) for s in ws.steps},
        "timeline": list(rows.values()), "events": [e.__dict__ for e in events],
        "requests": requests_report(ws),
    })
    write_timeline(path)
    return path


def _summary(kind: str, result: RunResult, extras: dict[str, Any], *, pending: Sequence[str] = ()) -> dict[str, Any]:
    """The run's summary as the journal keeps it (``last_run``); ``pending``: steps still in flight."""
    steps = [r.to_json() for r in result.results if r.selected and r.status != "absent"]
    summary = {"kind": kind, "ok": result.ok, "started": result.started, "ended": result.ended, "steps": steps,
               **extras}
    if pending:
        summary["pending"] = list(pending)
    return summary


def _finish(ws: Workspace, kind: str, result: RunResult, sink: RecordingSink, lock: Lock, *,
            extras: dict[str, Any] | None = None, written: Background[None] | None = None) -> RunOutcome:
    """``extras``: the summary's extra fields, when gathered already (``run_extras``); ``written``: the
    journal's summary, when it went out before the last steps ended (``Runner.deploy``'s ``settled``)."""
    outputs: dict[str, Any] = {}
    if kind == "deploy":
        try:
            outputs = ws.preset.outputs(result.outputs) if result.ok else {}
        except Exception:
            outputs = {}
        from tscloud_py.operations.local_urls import with_local_urls

        outputs = with_local_urls(ws.app, outputs)
    if extras is None:
        from tscloud_py.cost.hooks import run_extras

        extras = run_extras(ws, kind, result)
    summary = _summary(kind, result, extras)
    steps = summary["steps"]
    # The journal is final: the lock goes back beside its last write, so the requests reported below
    # include the release.
    if written is not None:
        written.result()
    else:
        ws.journal.mark_run(summary, release=lock.release)
    record = ws.write_run_record(kind, {
        **summary, "app": ws.config.app, "stage": ws.config.stage, "preset": ws.config.preset,
        "needs": {s.id: list(s.needs) for s in ws.steps},
        "timeline": [r.__dict__ | {"error": r.error.message if r.error else None} for r in result.results
                     if r.selected],
        "events": [e.__dict__ for e in sink.events],
        "requests": requests_report(ws),
    })
    from tscloud_py.operations.timeline import after_run_record

    return RunOutcome(ws, kind, result, steps, outputs, requests_report(ws), record,
                      timeline=after_run_record(kind, record))
