"""plan, deploy, status, outputs, destroy: flags in, the pipeline (``operations/pipelines.py``) run, its
outcome rendered."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import SuggestingChoice, pass_app
from tscloud_py.config.preset_registry import PRESET_NAMES, PRESETS
from tscloud_py.errors import DeployFailedError, UsageError

if TYPE_CHECKING:
    from tscloud_py.engine.plan import Plan
    from tscloud_py.operations.context import AppContext
    from tscloud_py.operations.pipelines import PlanOutcome, RunOutcome
    from tscloud_py.operations.workspace import Workspace

ACTION_STYLE = {"create": "green", "update": "yellow", "delete": "red", "none": "dim"}


PRESET_OPTION = click.option(
    "--preset", "preset_name", type=SuggestingChoice(PRESET_NAMES), metavar="NAME",
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
    from tscloud_py.cli.face import TerminalFace
    from tscloud_py.operations import pipelines

    check_preset(app, preset_name)
    print_plan(app, pipelines.plan(app, TerminalFace(app)))


def print_plan(app: AppContext, outcome: PlanOutcome) -> None:
    """A plan as one JSON document, or per step with its changes and the cost line."""
    from tscloud_py.cost.hooks import plan_cost_line

    if app.json:
        from tscloud_py.cli.ui import print_json

        print_json(outcome.plan.to_json())
        return
    _print_plan(outcome.ws, outcome.plan)
    cost_line = plan_cost_line(outcome.plan.extra.get("cost"))
    if cost_line:
        click.echo(cost_line)


def _print_plan(ws: Workspace, result: Plan) -> None:
    from rich.console import Console
    from rich.markup import escape

    from tscloud_py.cli.ui import printable

    console = Console(highlight=False, soft_wrap=True)
    console.print(f"plan for [bold]{ws.config.app}-{ws.config.stage}[/] ({ws.config.preset}, {ws.aws.region})")
    for check in result.extra.get("preflight") or []:
        console.print(f"  [dim]checked[/] {escape(printable(check))}")
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


# CloudFront finishes an invalidation on its own, within seconds to minutes: a deploy ends without waiting
# for it unless asked (a pipeline that checks the live site next).
WAIT_INVALIDATION = click.option("--wait-invalidation", is_flag=True,
                                 help="End only once CloudFront has finished invalidating the changed files.")


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
@WAIT_INVALIDATION
@pass_app
def deploy(app: AppContext, only: tuple[str, ...], start: str | None, force_unlock: int, serve: bool,
           log_requests: bool, preset_name: str | None, upload_concurrency: int | None,
           wait_invalidation: bool) -> None:
    """Plan and apply. Re-running after any failure or kill converges."""
    from tscloud_py.cli.face import TerminalFace, rerun_command
    from tscloud_py.operations import pipelines

    if only and start:
        raise UsageError("--only and --from exclude each other; pick one")
    if serve and not app.local:
        raise UsageError("--serve: needs --local (the local edge serves the emulator's distributions)")
    if log_requests and not serve:
        raise UsageError("--log: needs --serve")
    check_preset(app, preset_name)
    _runtime_client_for_local(app)
    outcome = pipelines.deploy(app, TerminalFace(app), pipelines.DeployRequest(
        only=only, start=start, force_unlock=force_unlock, upload_concurrency=upload_concurrency,
        wait_invalidation=wait_invalidation, rerun=rerun_command(sys.argv[1:])))
    render_run(app, outcome)
    if serve:
        from tscloud_py.cli.commands.local import follow_edge

        follow_edge(app, log_requests=log_requests)


def _runtime_client_for_local(app: AppContext) -> None:
    """The user's emulator runs an ssr-app's server under AWS's runtime client: installed into tscloud's cache
    on the first local deploy (one progress line), so the page renders through the local edge."""
    if not app.config_path.exists() or app.config().preset != "ssr-app" or not app.at_user_emulator():
        return
    from tscloud_py.cli.ui import echo
    from tscloud_py.lambda_runtime import ensure_ric

    ensure_ric(app.project_dir, progress=lambda line: None if app.json else echo(line, err=True))


def render_run(app: AppContext, outcome: RunOutcome) -> None:
    """A finished deploy or destroy: one JSON document, or the failures, a summary line and the outputs."""
    from tscloud_py.cli.ui import echo, print_json, print_outputs

    ws, kind, result = outcome.ws, outcome.kind, outcome.result
    if outcome.timeline is not None and not app.json:
        page, summary = outcome.timeline
        echo(f"{summary} (timeline: {page})", err=True)
    if app.json:
        doc: dict[str, Any] = {"app": ws.config.app, "stage": ws.config.stage, "preset": ws.config.preset,
                               "steps": outcome.steps}
        if kind == "deploy":
            doc["outputs"] = outcome.outputs
        report = outcome.requests
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
        for r in outcome.steps:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        echo(f"{kind} {'finished' if result.ok else 'FAILED'} in {result.ended - result.started:.1f}s: "
             + (", ".join(f"{n} {s}" for s, n in counts.items()) or "nothing to do"), err=True)
        if app.verbose:
            report = outcome.requests
            echo(f"AWS requests: {report['total']} ({report['resource_writes']} resource writes); "
                 f"state ({report['state']['backend']}): {report['state']['total']} "
                 f"({report['state']['writes']} writes)", err=True)
        if outcome.outputs:
            print_outputs(outcome.outputs)
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
    from tscloud_py.cli.ui import echo, print_json, print_outputs
    from tscloud_py.operations import pipelines

    doc = pipelines.status(app)
    extra, outputs = doc.pop("live"), doc["outputs"]
    region = doc.pop("region")
    if app.json:
        print_json({**doc, **({"live": extra} if extra else {})})
        return
    echo(f"{doc['app']}-{doc['stage']} ({doc['preset']}, {region})")
    for r in doc["steps"]:
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
        print_outputs(outputs)


@click.command()
@pass_app
def outputs(app: AppContext) -> None:
    """The outputs of the last deploy (JSON with --output json)."""
    from tscloud_py.cli.ui import print_json, print_outputs
    from tscloud_py.operations import pipelines

    values = pipelines.outputs(app)
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
    from tscloud_py.cli.face import TerminalFace, rerun_command
    from tscloud_py.cli.ui import echo
    from tscloud_py.operations import pipelines

    outcome = pipelines.destroy(app, TerminalFace(app), pipelines.DestroyRequest(
        no_snapshot=no_snapshot, confirm=confirm, force_unlock=force_unlock, yes=yes,
        rerun=rerun_command(sys.argv[1:])))
    if outcome.nothing_to_destroy and not app.json:
        echo(f"nothing to destroy for {outcome.ws.config.app}-{outcome.ws.config.stage}", err=True)
    render_run(app, outcome)


def register(group: click.Group) -> None:
    for command in (plan, deploy, status, outputs, destroy):
        group.add_command(command)
