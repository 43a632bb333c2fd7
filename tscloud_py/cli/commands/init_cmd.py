"""`tscloud init` (a commented tscloud.toml) and `tscloud config schema` (its JSON Schema)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import SuggestingChoice, pass_app
from tscloud_py.config.preset_registry import PRESET_NAMES
from tscloud_py.errors import UsageError

if TYPE_CHECKING:
    from tscloud_py.operations.context import AppContext

SITE_DIRS = ("dist", "build", "out", "public", "_site")


@click.command()
@click.option("--preset", type=SuggestingChoice(PRESET_NAMES), help="What to deploy (asked on a terminal; "
              "default static-site).")
@click.option("--app", "app_name", metavar="NAME", help="The app name (default: from the directory name).")
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@click.option("--yes", "-y", "yes", is_flag=True, help="Ask nothing (same as the global --yes).")
@pass_app
def init(app: AppContext, preset: str | None, app_name: str | None, force: bool, yes: bool) -> None:
    """Write a commented tscloud.toml for a preset (asks nothing with --yes or without a terminal)."""
    import re

    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.config.docs import default_app_name, init_toml
    from tscloud_py.config.load import config_from_dict

    path = app.config_path
    if path.exists() and not force:
        raise UsageError(f"--force: {path} already exists; pass --force to overwrite it",
                         "or write elsewhere with --config PATH")
    project = path.resolve().parent
    interactive = not (app.yes or yes) and not app.json and sys.stdin.isatty()
    if preset is None:
        preset = click.prompt("preset", type=SuggestingChoice(PRESET_NAMES), default="static-site") if interactive \
            else "static-site"
    if app_name is None:
        guess = default_app_name(project)
        app_name = click.prompt("app name", default=guess) if interactive else guess
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,28}[a-z0-9]", app_name or ""):
        raise UsageError(f"--app: expected 2-30 chars of a-z, 0-9 and '-', starting with a letter, got {app_name!r}")
    region = app.region or "us-east-1"
    overrides: dict[str, Any] = {}
    notes: list[str] = []
    if preset == "static-site":
        found = next((d for d in SITE_DIRS if (project / d / "index.html").is_file()), None)
        overrides["site.dir"] = found or "dist"
        if found is None:
            notes.append("build your site into dist/ (with an index.html) before `tscloud deploy`")
    elif preset == "ssr-app" and not (project / ".output" / "nitro.json").is_file():
        notes.append("build first (`npx vite build` writes .output/); `tscloud ssr doctor` checks the build")
    elif preset == "api-domain":
        notes.append("set api_domain.api_id (or load_balancer) to your API, and [dns] to who serves the domain")
    text = init_toml(preset, app_name, region=region, stage=app.stage or "dev", overrides=overrides)
    # The generated file must load: anything else is a bug here, not the user's.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    config_from_dict(tomllib.loads(text), str(path), base_dir=project)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if app.json:
        print_json({"path": str(path), "preset": preset, "app": app_name, "notes": notes})
        return
    echo(f"wrote {path} ({preset}, app {app_name})")
    for note in notes:
        echo(f"next: {note}")
    echo("next: `tscloud plan --local` to try it against the embedded emulator, `tscloud cost` for a monthly "
         "estimate")


@click.group("config")
def config_group() -> None:
    """The config file's schema."""


@config_group.command("schema")
def schema() -> None:
    """Print a JSON Schema (draft 2020-12) of tscloud.toml, for editors (e.g. Even Better TOML, taplo)."""
    import json

    from tscloud_py.config.docs import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


def register(group: click.Group) -> None:
    group.add_command(init)
    group.add_command(config_group)
