"""tscloud preview setup | deploy NAME | destroy NAME | list | prune: preview stages sharing one distribution,
routed by host through a CloudFront KeyValueStore (``operations/preview.py``)."""

from __future__ import annotations

import sys

import click

from tscloud_py.cli.commands import pass_app
from tscloud_py.cli.commands.lifecycle import WAIT_INVALIDATION
from tscloud_py.operations.context import AppContext

FORCE_UNLOCK = click.option("--force-unlock", count=True,
                            help="Break a lock whose holder is gone or on another host; twice: even one running here.")


@click.group()
def preview() -> None:
    """Preview stages at NAME.<[preview] domain>: one distribution, a key per stage."""


@preview.command()
@click.option("--plan", "plan_only", is_flag=True, help="Show what setup would do, and do nothing.")
@FORCE_UNLOCK
@pass_app
def setup(app: AppContext, plan_only: bool, force_unlock: int) -> None:
    """Make the preview host once: bucket, distribution, wildcard certificate and record, store, router."""
    from tscloud_py.cli.commands.lifecycle import print_plan, render_run
    from tscloud_py.cli.face import TerminalFace, rerun_command
    from tscloud_py.operations import pipelines
    from tscloud_py.operations import preview as ops

    if plan_only:
        planned = ops.plan_setup(app, TerminalFace(app))
        print_plan(app, planned)
        return
    render_run(app, ops.setup(app, TerminalFace(app), pipelines.DeployRequest(
        force_unlock=force_unlock, rerun=rerun_command(sys.argv[1:]))))


@preview.command()
@click.argument("name")
@FORCE_UNLOCK
@click.option("--upload-concurrency", type=click.IntRange(1, 256), metavar="N",
              help="At most N file uploads (or parts of a big file) at once (default 64).")
@WAIT_INVALIDATION
@pass_app
def deploy(app: AppContext, name: str, force_unlock: int, upload_concurrency: int | None,
           wait_invalidation: bool) -> None:
    """Upload the build to NAME's prefix, then route NAME.<domain> to it."""
    from tscloud_py.cli.commands.lifecycle import render_run
    from tscloud_py.cli.face import TerminalFace, rerun_command
    from tscloud_py.operations import pipelines
    from tscloud_py.operations import preview as ops

    ops.checked_name(name)
    render_run(app, ops.deploy(app, TerminalFace(app), name, pipelines.DeployRequest(
        force_unlock=force_unlock, upload_concurrency=upload_concurrency, wait_invalidation=wait_invalidation,
        rerun=rerun_command(sys.argv[1:]))))


@preview.command()
@click.argument("name")
@FORCE_UNLOCK
@pass_app
def destroy(app: AppContext, name: str, force_unlock: int) -> None:
    """Remove NAME's key (its host answers 404 at once), then its files. Asks nothing: a preview is disposable."""
    from tscloud_py.cli.commands.lifecycle import render_run
    from tscloud_py.cli.face import TerminalFace, rerun_command
    from tscloud_py.operations import pipelines
    from tscloud_py.operations import preview as ops

    ops.checked_name(name)
    render_run(app, ops.destroy(app, TerminalFace(app), name, pipelines.DestroyRequest(
        force_unlock=force_unlock, yes=True, rerun=rerun_command(sys.argv[1:]))))


@preview.command(name="list")
@pass_app
def list_cmd(app: AppContext) -> None:
    """Every preview stage: its URL, its size and its last deploy."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.operations import preview as ops

    rows = ops.list_stages(app)
    if app.json:
        print_json({"stages": [r.to_json() for r in rows]})
        return
    if not rows:
        echo("no preview stages", err=True)
        return
    for r in rows:
        echo(f"{r.name:<16} {r.url:<48} {_size(r.size):>9} {r.files:>6} files  last deploy {_when(r.deployed_at)}")


@preview.command()
@click.option("--older-than", "older_than", required=True, metavar="AGE",
              help="Destroy the stages last deployed longer ago than this (14d, 36h, 2w).")
@click.option("--dry-run", is_flag=True, help="Name the stages that would go, and destroy nothing.")
@pass_app
def prune(app: AppContext, older_than: str, dry_run: bool) -> None:
    """Destroy stale preview stages, each under its own lock."""
    from tscloud_py.cli.face import TerminalFace
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.operations import pipelines
    from tscloud_py.operations import preview as ops

    age = ops.parse_age(older_than)
    gone = ops.stale(ops.list_stages(app), age)
    if not dry_run:
        for row in gone:
            outcome = ops.destroy(app, TerminalFace(app), row.name, pipelines.DestroyRequest(yes=True))
            if not outcome.result.ok:
                from tscloud_py.cli.commands.lifecycle import render_run

                render_run(app, outcome)
    if app.json:
        print_json({"pruned" if not dry_run else "would_prune": [r.name for r in gone]})
        return
    verb = "would destroy" if dry_run else "destroyed"
    echo(f"{verb} {len(gone)} stage(s) last deployed over {older_than} ago" +
         (": " + ", ".join(r.name for r in gone) if gone else ""), err=True)


def _size(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KB", "MB"):
        if amount < 1024:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GB"


def _when(at: int | None) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at)) if at else "unknown"


def register(group: click.Group) -> None:
    group.add_command(preview)
