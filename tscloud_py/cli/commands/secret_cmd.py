"""tscloud secret set|list|get|remove: the stage's own secrets, which `secret:NAME` in the config reads.

A value comes in on stdin, at a hidden prompt or from a file, never as an argument (argv is visible to
every user of the machine and lands in shell history); it goes out only through `get --reveal`, on a
terminal, after a confirmation.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tscloud_py.cli.commands import pass_app

if TYPE_CHECKING:
    from tscloud_py.operations.context import AppContext


def _read_value(from_file: Path | None) -> str:
    """The value, from the file, the terminal (hidden, asked twice) or stdin; one trailing newline (what
    `echo` and editors add) is not part of it."""
    from tscloud_py.errors import UsageError

    if from_file is not None:
        try:
            text = from_file.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--from-file: cannot read {from_file}: {exc.__class__.__name__}") from None
    elif sys.stdin.isatty():
        text = click.prompt("value", hide_input=True, confirmation_prompt=True, err=True)
    else:
        text = sys.stdin.read()
    return text.removesuffix("\n").removesuffix("\r")


@click.group()
def secret() -> None:
    """The stage's secrets (tscloud/{app}/{stage}/NAME), read by `secret:NAME` in [api.secrets],
    [ssr.environment] and a worker's environment."""


@secret.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("extra", nargs=-1, type=click.UNPROCESSED, metavar="")
@click.option("--from-file", type=click.Path(dir_okay=False, path_type=Path), help="Read the value from this file.")
@click.option("--kms-key", metavar="KEY", help="KMS key id or key ARN to encrypt with (default: AWS's key); "
              "not an alias: the roles that read it are granted Decrypt on the key itself.")
@click.option("--roll", is_flag=True, help="Restart the services that read it (a new deployment) and point the "
              "functions that read it at the new version (waited for); on a terminal you are asked.")
@pass_app
def set_cmd(app: AppContext, name: str, extra: tuple[str, ...], from_file: Path | None, kms_key: str | None,
            roll: bool) -> None:
    """Store NAME's value (from stdin, a hidden prompt or --from-file) as a new version."""
    from tscloud_py.cli.ui import WaitLines, echo, print_json
    from tscloud_py.errors import UsageError
    from tscloud_py.operations.secrets import StageSecrets, check_set, set_secret

    if extra:  # never repeated: it may be the value
        raise UsageError("secret set: a value on the command line is refused (it would stay in the shell's "
                         "history and the process list); pipe it on stdin, type it at the prompt or use --from-file")
    check_set(name, kms_key)
    stage = StageSecrets.open(app)
    value = _read_value(from_file)

    def offer(users: list[str]) -> bool:
        """On a terminal: restart now what reads it? (Elsewhere only --roll does.)"""
        if app.json or not sys.stdin.isatty():
            return False
        return click.confirm(f"{', '.join(users)} read {name}: restart the services and refresh the functions "
                             "now so they read the new value?", default=False, err=True)

    result = set_secret(stage, name, value, kms_key=kms_key, roll=roll, offer=offer,
                        progress=WaitLines(not app.json))
    if app.json:
        print_json({"name": result.name, "secret": result.secret_name, "arn": result.arn,
                    "version": result.version, "used_by": result.users, "rolled": result.rolled,
                    "notes": result.notes})
        return
    echo(f"{result.name}  version {result.version}")
    for rolled in result.rolled:
        if "service" in rolled:
            echo(f"rolled {rolled['service']}: deployment {rolled['deployment']} {rolled['state']}", err=True)
        else:
            echo(f"rolled {rolled['function']}: configuration {rolled['state']}", err=True)
    for note in result.notes:
        echo(f"note: {note}", err=True)


@secret.command("list")
@pass_app
def list_cmd(app: AppContext) -> None:
    """The stage's secrets: name, last changed, the steps that read each (never a value)."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.operations.secrets import StageSecrets, list_secrets

    stage = StageSecrets.open(app)
    items = list_secrets(stage)
    if app.json:
        print_json({"stage": stage.names.stage, "secrets": items})
        return
    if not items:
        echo(f"no secrets in {stage.names.prefix}; `tscloud secret set NAME` adds one", err=True)
        return
    width = max(len(i["name"]) for i in items)
    for item in items:
        changed = item["last_changed"] or "NOT SET"
        used = ", ".join(item["used_by"]) or "-"
        echo(f"{item['name'].ljust(width)}  {changed}  used by: {used}")


@secret.command("get")
@click.argument("name")
@click.option("--reveal", is_flag=True, help="Print the value (on a terminal only, after a confirmation).")
@pass_app
def get_cmd(app: AppContext, name: str, reveal: bool) -> None:
    """Print NAME's value: only with --reveal, on a terminal, confirmed."""
    from tscloud_py.errors import UsageError
    from tscloud_py.operations.secrets import StageSecrets, check_name
    from tscloud_py.operations.secrets import reveal as reveal_value

    check_name(name)
    if not reveal:
        raise UsageError("secret get: pass --reveal to print the value; `tscloud secret list` shows the rest")
    if not (sys.stdin.isatty() and sys.stdout.isatty()) or app.json:
        raise UsageError("--reveal: prints a value only to a terminal (not a pipe, a file or --output json)")
    stage = StageSecrets.open(app)
    click.confirm(f"print the value of {name} ({stage.names.prefix}) on this terminal?", abort=True, err=True)
    value = reveal_value(stage, name)
    # written as it is: every other output path masks it, which is why it was registered
    sys.stdout.write(value + "\n")
    sys.stdout.flush()


@secret.command("remove")
@click.argument("name")
@click.option("--recovery-days", default=30, show_default=True, type=int,
              help="Days the deleted secret stays restorable (7..30).")
@click.option("--force", is_flag=True, help="Remove it even while a step still reads it.")
@pass_app
def remove_cmd(app: AppContext, name: str, recovery_days: int, force: bool) -> None:
    """Schedule NAME's deletion, restorable during the recovery window."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.operations.secrets import StageSecrets, remove_secret

    stage = StageSecrets.open(app)
    result = remove_secret(stage, name, recovery_days=recovery_days, force=force)
    if app.json:
        print_json(result)
        return
    echo(f"{name}: deletion scheduled for {result['deletion_date']} ({recovery_days} days to restore it)")
    if result["used_by"]:
        echo(f"note: still read by {', '.join(result['used_by'])}; the next plan fails until it is set again",
             err=True)


def register(group: click.Group) -> None:
    group.add_command(secret)
