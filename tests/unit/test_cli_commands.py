"""The top-level commands: listed without importing their modules, each module imported when one of its
commands runs, global options hoisted across the lazily loaded groups."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import click

from tests.conftest import REPO
from tscloud_py.cli.commands import COMMANDS, LazyGroup
from tscloud_py.cli.global_options import hoist
from tscloud_py.cli.main import cli


def test_commands_are_what_their_modules_register() -> None:
    registered: dict[str, set[str]] = {}
    for modules in COMMANDS.values():
        for module in modules:
            group = click.Group()
            importlib.import_module(f"tscloud_py.cli.commands.{module}").register(group)
            registered[module] = set(group.commands)
    for name, modules in COMMANDS.items():
        assert any(name in registered[m] for m in modules), f"{name}: not registered by {modules}"
    every = set().union(*registered.values())
    assert every == set(COMMANDS), f"registered but not listed: {every - set(COMMANDS)}"


def test_help_lists_every_command_in_order() -> None:
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == list(COMMANDS)
    assert all(cli.get_command(ctx, name) is not None for name in COMMANDS)
    ssr = cli.get_command(ctx, "ssr")
    assert isinstance(ssr, click.Group) and "doctor" in ssr.commands  # from its second module
    assert LazyGroup().get_command(ctx, "no-such-command") is None


def test_a_command_imports_only_its_own_module() -> None:
    code = ("import json, sys\n"
            "from tscloud_py.cli.global_options import hoist\n"
            "from tscloud_py.cli.main import cli\n"
            "args = hoist(cli, ['deploy', '--local'])\n"
            "print(json.dumps([args, sorted(m for m in sys.modules if m.startswith('tscloud_py.cli.commands.'))]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    args, loaded = json.loads(out.stdout)
    assert args == ["--local", "deploy"]
    assert loaded == ["tscloud_py.cli.commands.lifecycle"]


def test_global_options_hoist_through_lazy_subgroups() -> None:
    assert hoist(cli, ["state", "show", "--local"]) == ["--local", "state", "show"]
    assert hoist(cli, ["ssr", "doctor", "--region", "eu-west-1"]) == ["--region", "eu-west-1", "ssr", "doctor"]
    # destroy has a --yes of its own: it stays where it was typed
    assert hoist(cli, ["destroy", "--yes", "--local"]) == ["--local", "destroy", "--yes"]
