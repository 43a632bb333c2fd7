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
    "tscloud_py.cli.commands.secret_cmd",
    "tscloud_py.cli.commands.local",
    "tscloud_py.cli.commands.cloudfront",
    "tscloud_py.cli.commands.preview",
    "tscloud_py.cli.commands.ssr",
    "tscloud_py.cli.commands.ssr_doctor",
    "tscloud_py.cli.commands.lambda_cmd",
    "tscloud_py.cli.commands.dns",
    "tscloud_py.cli.commands.cost_cmd",
    "tscloud_py.cli.commands.iam_cmd",
    "tscloud_py.cli.commands.ci_cmd",
    "tscloud_py.cli.commands.completion",
]


def register_all(group: click.Group) -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(group)



class SuggestingChoice(click.Choice):
    """A choice whose refusal names the closest valid value (`statik-site`: did you mean 'static-site'?)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            import difflib

            close = difflib.get_close_matches(str(value), [str(c) for c in self.choices], n=1)
            if close:
                exc.message += f" Did you mean {close[0]!r}?"
            raise
