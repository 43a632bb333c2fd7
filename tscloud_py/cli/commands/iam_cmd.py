"""`tscloud iam policy|bootstrap`: the least-privilege policy this config's deploy needs, and the GitHub OIDC
provider and roles that let CI deploy with it and no long-lived key."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import SuggestingChoice, pass_app

if TYPE_CHECKING:
    from tscloud_py.operations.context import AppContext
    from tscloud_py.operations.iam_policy import Scope

ACCOUNT_HELP = "The account id the ARNs name (default: the credentials' account, one GetCallerIdentity)."


@click.group()
def iam() -> None:
    """The IAM policy the deploy needs (derived from the code) and the CI roles that use it."""


def _scope(app: AppContext, account: str | None) -> Scope:
    from tscloud_py.aws.state_bucket import default_bucket_name
    from tscloud_py.operations.iam_policy import Scope

    config = app.config()
    factory = app.factory()
    account = account or factory.account_id()
    bucket = config.state.bucket or default_bucket_name(account, factory.region)
    return Scope(config.app, config.stage, factory.region, account, bucket)


def policy_document(app: AppContext, purpose: str, account: str | None) -> dict[str, Any]:
    from tscloud_py.operations.iam_policy import policy_for

    scope = _scope(app, account)
    return policy_for(app.config(), app.factory(), purpose, scope)


@iam.command("policy")
@click.option("--preset", "preset_name", metavar="NAME", help="Must agree with the config's `preset`.")
@click.option("--for", "purpose", type=SuggestingChoice(["deploy", "destroy", "plan", "all", "secrets", "preview"]),
              default="deploy", show_default=True,
              help="What the role runs: plan (reads only), deploy, destroy, secrets (`tscloud secret`), all, "
                   "or preview (`tscloud preview`, its own names and state only).")
@click.option("--account", metavar="ID", help=ACCOUNT_HELP)
@pass_app
def policy(app: AppContext, preset_name: str | None, purpose: str, account: str | None) -> None:
    """Print the least-privilege IAM policy for this config: the actions its steps call, scoped to its names.

    Statements whose Resource is "*" are those AWS allows no narrower resource for; their Sid says so, and
    `--output json` gives the reason of each under "reasons".
    """
    from tscloud_py.cli.commands.lifecycle import check_preset
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.operations.iam_policy import reasons

    check_preset(app, preset_name)
    check_account(account)
    if purpose == "preview":  # a config error before the credentials' account is asked for
        from tscloud_py.operations.preview import preview_config

        preview_config(app.config())
    doc = policy_document(app, purpose, account)
    if app.json:
        print_json({"policy": doc, "reasons": reasons(doc)})
        return
    echo(json.dumps(doc, indent=2))


@iam.command("bootstrap")
@click.option("--github", "repo", required=True, metavar="OWNER/REPO", help="The repository whose workflows deploy.")
@click.option("--environment", "environments", multiple=True, metavar="NAME",
              help="A protected GitHub environment the deploy job runs in (repeatable; default: production).")
@click.option("--print", "print_only", is_flag=True, help="Show the provider, trust and policies; change nothing.")
@click.option("--account", metavar="ID", help=ACCOUNT_HELP)
@pass_app
def bootstrap(app: AppContext, repo: str, environments: tuple[str, ...], print_only: bool,
              account: str | None) -> None:
    """Create GitHub's OIDC identity provider and the roles CI assumes with it (no long-lived key).

    The plan role (reads only) trusts the repository's pull requests; the deploy role (the `iam policy`
    for deploy) trusts only its main branch and the protected environments named; with [preview], the
    preview role (`iam policy --for preview`) trusts only the `preview` environment. Each is read first and
    written only where it differs: a second run writes nothing.
    """
    from tscloud_py.aws.iam import Iam
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.operations.ci_roles import apply_roles, check_repo, plan_roles
    from tscloud_py.presets.naming import tag_dict

    check_repo(repo)
    check_account(account)
    config = app.config()
    scope = _scope(app, account)
    purposes = ("deploy", "plan", *(["preview"] if config.preview is not None else []))
    policies = {p: policy_document(app, p, scope.account) for p in purposes}
    made = plan_roles(config.app, config.stage, scope.account, repo, list(environments), policies)
    if print_only:
        print_json(made.document())
        return
    apply_roles(Iam(app.factory()), made, tag_dict(config.app, config.stage, "ci-roles"))
    if app.json:
        print_json({**made.document(), "written": made.written})
        return
    for line in made.written or ["nothing to change: the provider and the roles are as wanted"]:
        echo(line)
    for role in made.roles:
        echo(f"{role.purpose + ' role:':<12} {made.arns[role.purpose]}")


def check_account(account: str | None) -> None:
    from tscloud_py.errors import UsageError

    if account is not None and not (account.isdigit() and len(account) == 12):
        raise UsageError(f"--account {account}: expected a 12-digit AWS account id")


def register(group: click.Group) -> None:
    group.add_command(iam)
