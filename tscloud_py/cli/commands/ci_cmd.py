"""`tscloud ci init github`: a GitHub Actions workflow that plans pull requests and deploys main with no
long-lived key (the roles `tscloud iam bootstrap` makes, through GitHub's OIDC tokens)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tscloud_py.cli.commands import pass_app

if TYPE_CHECKING:
    from tscloud_py.operations.context import AppContext


@click.group()
def ci() -> None:
    """CI workflows that deploy this config with no stored AWS key."""


@ci.group("init")
def init() -> None:
    """Write a CI workflow for this config."""


@init.command("github")
@click.option("--environment", default="production", show_default=True, metavar="NAME",
              help="The protected GitHub environment the deploy job runs in (the deploy role trusts it).")
@click.option("--account", metavar="ID",
              help="The account id the role ARNs name (default: the credentials' account).")
@click.option("--force", is_flag=True, help="Replace a workflow file that exists.")
@pass_app
def github(app: AppContext, environment: str, account: str | None, force: bool) -> None:
    """Write .github/workflows/tscloud.yml: plan on pull requests (posted as the job summary), deploy on main
    in a protected environment, preview stages per pull request when [preview] is configured."""
    from tscloud_py import __version__
    from tscloud_py.cli.commands.iam_cmd import check_account
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.errors import UsageError
    from tscloud_py.operations.ci_workflow import WORKFLOW, Workflow, render, repository_root

    check_account(account)
    config = app.config()
    root = repository_root(app.project_dir)
    path = root / WORKFLOW
    if path.exists() and not force:
        raise UsageError(f"--force: {path} already exists; pass --force to overwrite it")
    workflow = Workflow(config.app, config.stage, config.region, account or app.factory().account_id(),
                        __version__, environment, preview=config.preview is not None,
                        directory=app.project_dir.relative_to(root).as_posix() or ".")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(workflow), encoding="utf-8")
    if app.json:
        print_json({"path": str(path)})
        return
    echo(f"wrote {path}")
    echo(f"next: tscloud iam bootstrap --github OWNER/REPO --environment {environment}")


def register(group: click.Group) -> None:
    group.add_command(ci)
