"""`tscloud completion bash|zsh|fish` prints Click's completion script; the script's protocol works."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("shell,marker", [("bash", "complete -o nosort -F"), ("zsh", "#compdef tscloud"),
                                          ("fish", "complete --no-files --command tscloud")])
def test_each_shell_gets_a_script(cli: Any, shell: str, marker: str) -> None:
    result = cli("completion", shell)
    assert result.code == 0, result.output
    assert result.stdout.strip() and "tscloud" in result.stdout and "_TSCLOUD_COMPLETE" in result.stdout
    assert marker in result.stdout


def test_unknown_shell_is_a_usage_error(cli: Any) -> None:
    result = cli("completion", "powershell")
    assert result.code == 2 and "powershell" in result.stderr


def test_the_completion_protocol_completes_commands_and_options(cli: Any) -> None:
    commands = cli(env={"_TSCLOUD_COMPLETE": "bash_complete", "COMP_WORDS": "tscloud co", "COMP_CWORD": "1"})
    assert commands.code == 0, commands.output
    assert {"config", "cost", "completion"} <= set(commands.stdout.replace("plain,", "").split())
    options = cli(env={"_TSCLOUD_COMPLETE": "bash_complete", "COMP_WORDS": "tscloud cost --req",
                       "COMP_CWORD": "2"})
    assert "--requests-per-month" in options.stdout
