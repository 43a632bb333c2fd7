"""tscloud logs: the API's (or the worker's) container output from CloudWatch Logs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tscloud_py.cli.commands import pass_app

if TYPE_CHECKING:
    from tscloud_py.operations.context import AppContext


@click.command()
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until interrupted.")
@click.option("--since", default="10m", show_default=True, metavar="DURATION", help="How far back: 30s, 10m, 2h, 1d.")
@click.option("--filter", "filter_text", metavar="TEXT", help="Only events containing TEXT.")
@click.option("--service", "role", type=click.Choice(["api", "worker"]), default="api", show_default=True,
              help="Whose output to show.")
@pass_app
def logs(app: AppContext, follow: bool, since: str, filter_text: str | None, role: str) -> None:
    """Container output of a fullstack-app's API or worker (CloudWatch Logs)."""
    from tscloud_py.aws.logs import Logs
    from tscloud_py.cli.ui import echo
    from tscloud_py.errors import UsageError
    from tscloud_py.presets.fullstack_app.operate import parse_since, tail
    from tscloud_py.presets.naming import Names

    config = app.config()
    if config.preset != "fullstack-app":
        raise UsageError(f"logs: supported for the fullstack-app preset, this app is '{config.preset}'")
    if role == "worker" and (config.queue is None or config.queue.worker != "service"):
        raise UsageError("--service worker: this app has no worker service ([queue] worker = \"service\")")
    seconds = parse_since(since)
    factory = app.factory(config.region)
    logs_client = Logs(factory)
    group = Names(config.app, config.stage, factory.region).log_group()
    if logs_client.group(group) is None:
        raise UsageError(f"logs: no log group {group}; run `tscloud deploy` first")
    try:
        printed = tail(logs_client, group, role=role, since=seconds, filter_text=filter_text, follow=follow,
                       emit=echo)
    except KeyboardInterrupt:
        return
    if not printed:
        matching = f" matching {filter_text!r}" if filter_text else ""
        echo(f"no {role} log events{matching} in {group} in the last {since}", err=True)


def register(group: click.Group) -> None:
    group.add_command(logs)
