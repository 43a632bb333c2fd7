"""The terminal's side of a pipeline (``operations.pipelines.Face``): notices, the lock's prompts and
notice, the progress view, the line an interrupted run leaves."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.errors import UsageError

if TYPE_CHECKING:
    from tscloud_py.engine.events import EventSink
    from tscloud_py.operations.context import AppContext
    from tscloud_py.operations.workspace import Workspace
    from tscloud_py.state.lock import Holder, Lock

LOCK_STATE_NOTE = {"dead": "which is no longer running", "alive": "which is STILL RUNNING on this host",
                   "unknown": "on another host, which this host cannot check", "expired": "whose lease expired"}


def confirm_lock_break(app: AppContext, scope: str, holder: Holder | None) -> bool:
    """Ask before breaking a lock whose holder may be alive (it may still be deploying)."""
    from tscloud_py.state.lock import describe_holder

    if app.yes:
        return True
    if app.json or not sys.stdin.isatty():
        raise UsageError(f"--yes: the lock of {scope} is live (held by {describe_holder(holder)}); breaking it "
                         "asks for confirmation, so pass --yes when not on a terminal")
    return click.confirm(f"{scope} is locked by {describe_holder(holder)}, which may be alive. Break it?")


class TerminalFace:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    def _say(self, text: str) -> None:
        from tscloud_py.cli.ui import echo

        if not self.app.json:
            echo(text, err=True)

    def notices(self, lines: Sequence[str]) -> None:
        for line in lines:
            self._say(f"note: {line}")

    def took_over(self, lock: Lock) -> None:
        if lock.took_over is not None:
            self._say(f"note: took over the lock from {lock.took_over.describe()}, "
                      f"{LOCK_STATE_NOTE[lock.took_over_state]}")

    def confirm_break(self, scope: str, holder: Holder | None) -> bool:
        return confirm_lock_break(self.app, scope, holder)

    def confirm_destroy(self, target: str) -> None:
        if not sys.stdin.isatty():
            raise UsageError("--yes: destroy asks for confirmation when not on a terminal; "
                             "run `tscloud destroy --yes` (or `tscloud --yes destroy`)")
        click.confirm(f"destroy every resource of {target}?", abort=True)

    def progress(self, ws: Workspace, title: str) -> tuple[EventSink, AbstractContextManager[Any]]:
        from tscloud_py.cli.ui import make_sink

        return make_sink([s.id for s in ws.steps], output=self.app.output,
                         title=f"{title} {ws.config.app}-{ws.config.stage} ({ws.config.preset})")

    def interrupted(self, record: Path, next_command: str) -> None:
        self._say(f"note: run record {record}; to resume: {next_command}")


def rerun_command(argv: Sequence[str]) -> str:
    """The command that resumes this one: the same, without --force-unlock (a dead run of this working
    copy gives its lock up by itself)."""
    return " ".join(["tscloud", *(a for a in argv if a != "--force-unlock")])
