"""`tscloud completion bash|zsh|fish`: the shell completion script (Click's `_TSCLOUD_COMPLETE`)."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
INSTALL = {
    "bash": "eval \"$(tscloud completion bash)\"   # in ~/.bashrc",
    "zsh": "eval \"$(tscloud completion zsh)\"    # in ~/.zshrc",
    "fish": "tscloud completion fish > ~/.config/fish/completions/tscloud.fish",
}


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash: eval "$(tscloud completion bash)"   (in ~/.bashrc)
    zsh:  eval "$(tscloud completion zsh)"    (in ~/.zshrc)
    fish: tscloud completion fish > ~/.config/fish/completions/tscloud.fish
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - Click ships all three
        raise click.UsageError(f"no completion support for {shell}")
    root = ctx.find_root().command
    click.echo(cls(root, {}, "tscloud", "_TSCLOUD_COMPLETE").source())


def register(group: click.Group) -> None:
    group.add_command(completion)
