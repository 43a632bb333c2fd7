"""What every fullstack step shares: its config and names, JSON comparison, and where the worker runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tscloud_py.config.schema import Config
from tscloud_py.engine.step import Change, Step
from tscloud_py.presets.diffing import canonical
from tscloud_py.presets.naming import Names

ORIGIN_HEADER = "X-Origin-Verify"


def worker_in_vpc(config: Config) -> bool:
    """[queue] worker = "lambda" attached to the stage's VPC: asked for, or (auto) when there is a database
    or Redis to reach."""
    queue = config.queue
    if queue is None or queue.worker != "lambda" or queue.worker_network == "none":
        return False
    return queue.worker_network == "vpc" or config.database is not None or config.cache is not None


class FsStep(Step):
    """A fullstack step: its id and needs as the preset lists them, the config it is made from and the
    names it gives; each step takes the clients it calls as its own arguments."""

    def __init__(self, step_id: str, config: Config, names: Names, *, needs: Sequence[str] = ()) -> None:
        self.id = step_id
        self.needs = tuple(needs)
        self.config = config
        self.names = names

    @property
    def tags(self) -> dict[str, str]:
        return self.names.tags(self.id)


def compare(changes: list[Change], field: str, old: Any, new: Any, *, destructive: bool = False) -> None:
    """Append a Change when ``old`` and ``new`` differ (compared as canonical JSON)."""
    if canonical(old) != canonical(new):
        changes.append(Change(field, old, new, destructive))
