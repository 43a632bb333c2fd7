"""Command modules. Each exposes ``register(group)``; ``LazyGroup`` calls it when one of its commands is
asked for."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tscloud_py.operations.context import AppContext

F = TypeVar("F", bound=Callable[..., Any])

pass_app = click.make_pass_decorator(AppContext)

# Each top-level command and the modules that define it (a module's ``register`` adds all of its
# commands), in the order of `tscloud --help`. A command's modules are imported only when it runs (or
# `--help` lists it): `tscloud deploy` does not pay for the other fifteen.
COMMANDS: dict[str, tuple[str, ...]] = {
    "init": ("init_cmd",),
    "config": ("init_cmd",),
    "plan": ("lifecycle",),
    "deploy": ("lifecycle",),
    "status": ("lifecycle",),
    "outputs": ("lifecycle",),
    "destroy": ("lifecycle",),
    "state": ("state_cmd",),
    "logs": ("logs_cmd",),
    "secret": ("secret_cmd",),
    "local": ("local",),
    "cloudfront": ("cloudfront",),
    "preview": ("preview",),
    "ssr": ("ssr", "ssr_doctor"),  # ``ssr doctor`` lives in its own module
    "lambda": ("lambda_cmd",),
    "dns": ("dns",),
    "cert": ("dns",),
    "cost": ("cost_cmd",),
    "iam": ("iam_cmd",),
    "ci": ("ci_cmd",),
    "completion": ("completion",),
}


class LazyGroup(click.Group):
    """The top-level group: commands listed from ``COMMANDS``, their modules imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            for module in COMMANDS.get(cmd_name, ()):
                importlib.import_module(f"{__name__}.{module}").register(self)
        return self.commands.get(cmd_name)


class SuggestingChoice(click.Choice):
    """A choice whose refusal names the closest valid value (`statik-site`: did you mean 'static-site'?)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            from tscloud_py.errors import closest

            close = closest(str(value), self.choices)
            if close:
                exc.message += f" Did you mean {close!r}?"
            raise
