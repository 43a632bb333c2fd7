"""plan, deploy, status, outputs, destroy."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import pass_app
from tscloud_py.config.preset_registry import PRESET_NAMES, PRESETS
from tscloud_py.errors import DeployFailedError, NotDeployedError, UsageError
from tscloud_py.state.object_store import LeaseLock

if TYPE_CHECKING:
    from collections.abc import Callable

    from tscloud_py.engine.events import RecordingSink
    from tscloud_py.engine.plan import Plan
    from tscloud_py.engine.runner import RunResult
    from tscloud_py.operations.context import AppContext
    from tscloud_py.operations.workspace import Workspace
    from tscloud_py.state.file_lock import RunLock

ACTION_STYLE = {"create": "green", "update": "yellow", "delete": "red", "none": "dim"}


PRESET_OPTION = click.option(
    "--preset", "preset_name", type=click.Choice(PRESET_NAMES), metavar="NAME",
    help="The preset this deploys; must be the config's `preset` (a guard against the wrong directory).")


def check_preset(app: AppContext, preset_name: str | None) -> None:
    """``--preset NAME``: the config decides what is deployed; the flag may only agree with it."""
    if preset_name is None:
        return
    if not app.config_path.exists():
        tables = ", ".join(f"[{t}]" for t in PRESETS[preset_name].tables.required)
        raise UsageError(f"--preset {preset_name}: needs {app.config_path} (app = ..., preset = \"{preset_name}\", "
                         f"{tables}); `tscloud init --preset {preset_name}` writes one")
    config = app.config()
    if config.preset != preset_name:
        raise UsageError(f"--preset {preset_name}: {app.config_path} says preset = {config.preset!r}; "
                         "drop the flag or use that preset's config")


@click.command()
@PRESET_OPTION
@pass_app
def plan(app: AppContext, preset_name: str | None) -> None:
    """Show, per step, what deploy would do: create, update, none or delete."""
    from tscloud_py.engine.events import NullSink
    from tscloud_py.engine.plan import Planner
    from tscloud_py.operations.workspace import Workspace

    check_preset(app, preset_name)
    ws = Workspace.open(app)
    ws.preset.validate()
    _notices(app, ws)
    ws.preset.preflight()
    result = Planner(ws.steps, ws.context(NullSink())).plan()
    result.extra.update(ws.preset.plan_extras())
    if ws.preset.notices:
        result.extra["notices"] = list(ws.preset.notices)
    from tscloud_py.cost.hooks import plan_cost, plan_cost_line

    result.extra.update(plan_cost(ws))
    result.extra["destructive_count"] = result.destructive_count
    if app.json:
        from tscloud_py.cli.ui import print_json

        print_json(result.to_json())
        return
    _print_plan(ws, result)
    cost_line = plan_cost_line(result.extra.get("cost"))
    if cost_line:
        click.echo(cost_line)


def _print_plan(ws: Workspace, result: Plan) -> None:
    from rich.console import Console
    from rich.markup import escape

    from tscloud_py.cli.ui import printable

    console = Console(highlight=False, soft_wrap=True)
    console.print(f"plan for [bold]{ws.config.app}-{ws.config.stage}[/] ({ws.config.preset}, {ws.aws.region})")
    for p in result.steps:
        style = ACTION_STYLE.get(p.action, "")
        if p.destructive:
            style = "bold red"
        console.print(f"  [{style}]{p.action:<7}[/] {p.id}" + (f"  [dim]{p.kind}[/]" if p.kind else ""))
        for change in p.changes:
            mark = "[bold red]! [/]" if change.destructive else "  "
            # what AWS or the journal reported: neither markup nor control characters reach the terminal
            console.print(f"          {mark}{escape(printable(change.describe()))}", markup=True)
    counts: dict[str, int] = {}
    for p in result.steps:
        counts[p.action] = counts.get(p.action, 0) + 1
    summary = ", ".join(f"{n} {a}" for a, n in counts.items())
    console.print(f"{summary}; [bold red]{result.destructive_count} destructive[/]" if result.destructive_count
                  else f"{summary}; 0 destructive")


@click.command()
@click.option("--only", multiple=True, metavar="STEP", help="Apply only this step (repeatable).")
@click.option("--from", "start", metavar="STEP", help="Apply this step and every step after it.")
@click.option("--force-unlock", count=True,
              help="Break a lock whose holder is gone or on another host; twice: even one running here.")
@click.option("--serve", is_flag=True, help="With --local: afterwards print each distribution's loopback URL "
              "(the emulator serves them as CloudFront would) and stay until Ctrl-C.")
@click.option("--log", "log_requests", is_flag=True, help="With --serve: one line per request served.")
@PRESET_OPTION
@click.option("--upload-concurrency", type=click.IntRange(1, 256), metavar="N",
              help="At most N file uploads (or parts of a big file) at once (default 64).")
@pass_app
def deploy(app: AppContext, only: tuple[str, ...], start: str | None, force_unlock: int, serve: bool,
           log_requests: bool, preset_name: str | None, upload_concurrency: int | None) -> None:
    """Plan and apply. Re-running after any failure or kill converges."""
    from tscloud_py.engine.graph import select
    from tscloud_py.engine.runner import Runner
    from tscloud_py.operations.workspace import Workspace
    from tscloud_py.presets import PresetOptions

    if only and start:
        raise UsageError("--only and --from exclude each other; pick one")
    if serve and not app.local:
        raise UsageError("--serve: needs --local (the local edge serves the emulator's distributions)")
    if log_requests and not serve:
        raise UsageError("--log: needs --serve")
    check_preset(app, preset_name)
    ws = Workspace.open(app, PresetOptions(verbose=app.verbose, upload_concurrency=upload_concurrency),
                        locking=True)
    selected = select(ws.steps, only, start)
    ws.preset.validate()
    ws.preset.preflight()
    with ws.lock(force=force_unlock, confirm_break=breaker(app, ws.scope)) as lock:
        _notices(app, ws)
        lock_notice(app, lock)
        ws.journal.check_writable()
        sink, live = _sink(app, ws, "deploy")
        with live:
            result = Runner(ws.steps, ws.context(sink), ws.journal).deploy(selected)
        _finish_run(app, ws, "deploy", result, sink, lock)
    if serve:
        from tscloud_py.cli.commands.local import follow_edge

        follow_edge(app, log_requests=log_requests)


def _notices(app: AppContext, ws: Workspace) -> None:
    from tscloud_py.cli.ui import echo

    if not app.json:
        for notice in [*ws.journal.notices, *ws.preset.notices]:
            echo(f"note: {notice}", err=True)


def _sink(app: AppContext, ws: Workspace, title: str) -> tuple[RecordingSink, Any]:
    from tscloud_py.cli.ui import make_sink
    from tscloud_py.engine.events import RecordingSink

    inner, live = make_sink([s.id for s in ws.steps], output=app.output,
                            title=f"{title} {ws.config.app}-{ws.config.stage} ({ws.config.preset})")
    return RecordingSink(inner), live


LOCK_STATE_NOTE = {"dead": "which is no longer running", "alive": "which is STILL RUNNING on this host",
                   "unknown": "on another host, which this host cannot check", "expired": "whose lease expired"}


def lock_notice(app: AppContext, lock: RunLock | LeaseLock) -> None:
    if lock.took_over and not app.json:
        from tscloud_py.cli.ui import echo
        from tscloud_py.state.file_lock import describe_holder

        echo(f"note: took over the lock from {describe_holder(lock.took_over)}, "
             f"{LOCK_STATE_NOTE[lock.took_over_state]}", err=True)


def breaker(app: AppContext, scope: str, *, yes: bool = False) -> Callable[[dict[str, Any]], bool]:
    """Asks before --force-unlock breaks a live lock (``yes``: already answered)."""
    from tscloud_py.cli.commands.state_cmd import confirm_lock_break

    return lambda holder: yes or confirm_lock_break(app, scope, holder)


def requests_report(ws: Workspace) -> dict[str, Any]:
    """The run's AWS requests: resource requests, and the state backend's lock and journal requests apart."""
    resource = ws.aws.requests
    doc: dict[str, Any] = {"total": resource.total, "mutating": resource.mutating,
                           "resource_writes": resource.mutating, "calls": dict(resource.calls)}
    state = ws.state.requests
    doc["state"] = {"backend": ws.state.kind, "total": state.total if state else 0,
                    "writes": state.mutating if state else 0, "calls": dict(state.calls) if state else {}}
    return doc


def _finish_run(app: AppContext, ws: Workspace, kind: str, result: RunResult, sink: RecordingSink,
                lock: RunLock | LeaseLock) -> None:
    from tscloud_py.cli.ui import echo, print_json, print_outputs

    steps = [r.to_json() for r in result.results if r.selected and r.status != "absent"]
    outputs: dict[str, Any] = {}
    if kind == "deploy":
        try:
            outputs = ws.preset.outputs(result.outputs) if result.ok else {}
        except Exception:
            outputs = {}
        from tscloud_py.operations.local_urls import with_local_urls

        outputs = with_local_urls(app, outputs)
    summary = {"kind": kind, "ok": result.ok, "started": result.started, "ended": result.ended, "steps": steps}
    from tscloud_py.cost.hooks import run_extras
    from tscloud_py.operations.timeline import after_run_record

    summary.update(run_extras(ws, kind, result))
    ws.journal.mark_run(summary)
    # The journal is final: give the lock back now, so the requests reported below include the release.
    lock.release()
    record_path = ws.write_run_record(kind, {
        **summary, "app": ws.config.app, "stage": ws.config.stage, "preset": ws.config.preset,
        "needs": {s.id: list(s.needs) for s in ws.steps},
        "timeline": [r.__dict__ | {"error": r.error.message if r.error else None} for r in result.results
                     if r.selected],
        "events": [e.__dict__ for e in sink.events],
        "requests": requests_report(ws),
    })
    after_run_record(app.json, kind, record_path)
    if app.json:
        doc: dict[str, Any] = {"app": ws.config.app, "stage": ws.config.stage, "preset": ws.config.preset,
                               "steps": steps}
        if kind == "deploy":
            doc["outputs"] = outputs
        report = requests_report(ws)
        doc["requests"] = {"resource": {"total": report["total"], "writes": report["resource_writes"]},
                           "state": {k: report["state"][k] for k in ("backend", "total", "writes")}}
        print_json(doc)
    else:
        for failure in result.failed:
            echo(f"error: {failure.error.message if failure.error else failure.id}", err=True)
            if failure.error is not None:
                echo(f"hint: {failure.error.hint}", err=True)
            if app.verbose and failure.detail:
                echo(failure.detail, err=True)
        counts: dict[str, int] = {}
        for r in steps:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        echo(f"{kind} {'finished' if result.ok else 'FAILED'} in {result.ended - result.started:.1f}s: "
             + ", ".join(f"{n} {s}" for s, n in counts.items()), err=True)
        if app.verbose:
            report = requests_report(ws)
            echo(f"AWS requests: {report['total']} ({report['resource_writes']} resource writes); "
                 f"state ({report['state']['backend']}): {report['state']['total']} "
                 f"({report['state']['writes']} writes)", err=True)
        if outputs:
            print_outputs(outputs)
    if not result.ok:
        failed = ", ".join(r.id for r in result.failed)
        raise _Reported(DeployFailedError(f"{kind} failed at: {failed}"))


class _Reported(SystemExit):
    """Exit 1 after the failure was already printed in full."""

    def __init__(self, error: DeployFailedError) -> None:
        super().__init__(error.exit_code)


@click.command()
@click.option("--timeline", is_flag=True, help="Print (and on a terminal open) the last deploy's timeline page.")
@pass_app
def status(app: AppContext, timeline: bool) -> None:
    """The journal and live state of every step."""
    if timeline:
        from tscloud_py.cli.commands.timeline_cmd import show_timeline

        show_timeline(app)
        return
    from tscloud_py.cli.ui import echo, print_json
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
    outputs = _journal_outputs(ws, required=False)
    extra = ws.preset.live_status(ws.journal.outputs()) if outputs else {}
    if app.json:
        print_json({"app": ws.config.app, "stage": ws.config.stage, "preset": ws.config.preset,
                    "steps": rows, "outputs": outputs, "last_run": ws.journal.data.get("last_run"),
                    **({"live": extra} if extra else {})})
        return
    echo(f"{ws.config.app}-{ws.config.stage} ({ws.config.preset}, {ws.aws.region})")
    for r in rows:
        echo(f"  {r['id']:<22} {r['live']:<9} last: {r['journal']}" + (f" at {r['at']}" if r["at"] else ""))
        for c in r["changes"]:
            echo(f"      {c}")
    if extra:
        echo("live:")
        for key, value in extra.items():
            echo(f"  {key}: {value}" if not isinstance(value, dict) else f"  {key}:")
            if isinstance(value, dict):
                for k, v in value.items():
                    echo(f"    {k}: {v}")
    if outputs:
        echo("outputs:")
        from tscloud_py.cli.ui import print_outputs

        print_outputs(outputs)


def _journal_outputs(ws: Workspace, *, required: bool) -> dict[str, Any]:
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


@click.command()
@pass_app
def outputs(app: AppContext) -> None:
    """The outputs of the last deploy (JSON with --output json)."""
    from tscloud_py.cli.ui import print_json, print_outputs
    from tscloud_py.operations.local_urls import with_local_urls
    from tscloud_py.operations.workspace import Workspace

    ws = Workspace.open(app)
    values = with_local_urls(app, _journal_outputs(ws, required=True))
    if app.json:
        print_json(values)
    else:
        print_outputs(values)


@click.command()
@click.option("--no-snapshot", is_flag=True, help="Do not keep a final snapshot of data stores.")
@click.option("--confirm", metavar="APP-STAGE", help="Required for prod stages: the app-stage being destroyed.")
@click.option("--force-unlock", count=True,
              help="Break a lock whose holder is gone or on another host; twice: even one running here.")
@click.option("--yes", "-y", "yes", is_flag=True, help="Ask nothing (same as the global --yes).")
@pass_app
def destroy(app: AppContext, no_snapshot: bool, confirm: str | None, force_unlock: int, yes: bool) -> None:
    """Remove everything this app and stage created, in reverse order."""
    from tscloud_py.cli.ui import echo
    from tscloud_py.engine.plan import destroy_plan
    from tscloud_py.engine.runner import Runner
    from tscloud_py.operations.workspace import Workspace
    from tscloud_py.presets import PresetOptions

    ws = Workspace.open(app, PresetOptions(no_snapshot=no_snapshot, verbose=app.verbose), locking=True)
    target = f"{ws.config.app}-{ws.config.stage}"
    if ws.config.is_production and confirm != target:
        raise UsageError(f"--confirm: destroying the production stage needs --confirm {target}")
    if confirm is not None and confirm != target:
        raise UsageError(f"--confirm: expected {target}, got {confirm}")
    if not (app.yes or yes) and not ws.config.is_production:
        if not sys.stdin.isatty():
            raise UsageError("--yes: destroy asks for confirmation when not on a terminal; "
                             "run `tscloud destroy --yes` (or `tscloud --yes destroy`)")
        click.confirm(f"destroy every resource of {target}?", abort=True)
    with ws.lock(force=force_unlock, confirm_break=breaker(app, ws.scope, yes=yes)) as lock:
        _notices(app, ws)
        lock_notice(app, lock)
        ws.journal.check_writable()
        sink, live = _sink(app, ws, "destroy")
        ctx = ws.context(sink)
        _the_plan, observed = destroy_plan(ws.steps, ctx, ws.journal.outputs())
        for step in ws.steps:  # before the first delete: a half-destroyed stage is worse than none
            refusal = step.destroy_refusal(observed[step.id]) if step.id in observed else None
            if refusal is not None:
                raise UsageError(f"{step.id}: {refusal[0]}; nothing was deleted", refusal[1])
        if not observed and not app.json:
            echo(f"nothing to destroy for {target}", err=True)
        with live:
            result = Runner(ws.steps, ctx, ws.journal).destroy(observed)
        _finish_run(app, ws, "destroy", result, sink, lock)


def register(group: click.Group) -> None:
    for command in (plan, deploy, status, outputs, destroy):
        group.add_command(command)
