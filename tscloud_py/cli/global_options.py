"""Global options after the command: `tscloud plan --local` is `tscloud --local plan`.

Click reads a group's options only before its subcommand. People type them after it too, and
the README's own examples invite it; each global option found after the command (and before a
``--``) is moved in front of it, unless the command has an option of that name itself
(`deploy --yes`, `init --yes`).
"""

from __future__ import annotations

import click


def hoist(group: click.Group, args: list[str]) -> list[str]:
    takes_value = _option_names(group)
    front: list[str] = []
    rest: list[str] = []
    command: click.Command | None = None
    own: dict[str, bool] = {}
    ctx = click.Context(group)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0]
        if arg.startswith("-") and name in takes_value and (command is None or name not in own):
            width = 2 if takes_value[name] and "=" not in arg and i + 1 < len(args) else 1
            front.extend(args[i:i + width])
            i += width
            continue
        if command is None and not arg.startswith("-"):
            command = group.get_command(ctx, arg)
        elif isinstance(command, click.Group) and not arg.startswith("-") and command.get_command(ctx, arg):
            command = command.get_command(ctx, arg)
        if command is not None:
            own = _option_names(command)
        rest.append(arg)
        i += 1
    return front + rest


def _option_names(command: click.Command) -> dict[str, bool]:
    """{"--name" or "-n": whether it takes a value} for each option of ``command``."""
    names: dict[str, bool] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            for opt in (*param.opts, *param.secondary_opts):
                names[opt] = not param.is_flag and not param.count
    return names
