"""Command modules. Each exposes ``register(group)``; ``register_all`` wires them in order."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tscloud_py.app import AppContext

F = TypeVar("F", bound=Callable[..., Any])

pass_app = click.make_pass_decorator(AppContext)

# Order is the order of `tscloud --help`.
COMMAND_MODULES = [
    "tscloud_py.commands.init_cmd",
    "tscloud_py.commands.lifecycle",
    "tscloud_py.commands.state_cmd",
    "tscloud_py.commands.logs_cmd",
    "tscloud_py.commands.local",
    "tscloud_py.commands.cloudfront",
    "tscloud_py.commands.ssr",
    "tscloud_py.commands.lambda_cmd",
    "tscloud_py.commands.dns",
    "tscloud_py.commands.cost_cmd",
    "tscloud_py.commands.completion",
]


def register_all(group: click.Group) -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(group)
