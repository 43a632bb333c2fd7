"""Command modules. Each exposes ``register(group)``; ``register_all`` wires them in order."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tscloud_py.operations.context import AppContext

F = TypeVar("F", bound=Callable[..., Any])

pass_app = click.make_pass_decorator(AppContext)

# Order is the order of `tscloud --help`.
COMMAND_MODULES = [
    "tscloud_py.cli.commands.init_cmd",
    "tscloud_py.cli.commands.lifecycle",
    "tscloud_py.cli.commands.state_cmd",
    "tscloud_py.cli.commands.logs_cmd",
    "tscloud_py.cli.commands.local",
    "tscloud_py.cli.commands.cloudfront",
    "tscloud_py.cli.commands.ssr",
    "tscloud_py.cli.commands.lambda_cmd",
    "tscloud_py.cli.commands.dns",
    "tscloud_py.cli.commands.cost_cmd",
    "tscloud_py.cli.commands.completion",
]


def register_all(group: click.Group) -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(group)
