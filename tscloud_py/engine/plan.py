"""The plan: ``read`` + ``diff`` over every step. Data, printable, never mutating."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tscloud_py.engine.graph import topo_order
from tscloud_py.engine.prefetch import MISSED, Prefetch
from tscloud_py.engine.schedule import DEFAULT_WORKERS, walk
from tscloud_py.engine.step import Change, Outputs, PendingOutput, Step, StepContext
from tscloud_py.errors import ConfigError


@dataclass
class PlannedStep:
    id: str
    kind: str
    action: str  # create | update | none | delete
    changes: list[Change] = field(default_factory=list)
    observed: Any = None
    waits_for: list[str] = field(default_factory=list)

    @property
    def destructive(self) -> bool:
        return self.action == "delete" or any(c.destructive for c in self.changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "changes": [c.to_json() for c in self.changes],
            "destructive": self.destructive,
        }


@dataclass
class Plan:
    steps: list[PlannedStep]
    extra: dict[str, Any] = field(default_factory=dict)

    def by_id(self) -> dict[str, PlannedStep]:
        return {p.id: p for p in self.steps}

    @property
    def destructive_count(self) -> int:
        return sum(1 for p in self.steps if p.destructive)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"steps": [p.to_json() for p in self.steps]}
        doc.update(self.extra)
        return doc


class Planner:
    """Reads every step on deploy's graph, in parallel: each as soon as the steps it needs are read,
    threading known outputs forward."""

    def __init__(self, steps: Sequence[Step], ctx: StepContext, *, max_workers: int = DEFAULT_WORKERS,
                 prefetch: Prefetch | None = None) -> None:
        """``prefetch``: reads started from the journal's outputs (``engine/prefetch.py``), taken where they
        asked what the plan asks."""
        self.steps = topo_order(steps)
        self.ctx = ctx
        self.max_workers = max_workers
        self.prefetch = prefetch

    def plan(self) -> Plan:
        planned = walk(self.steps, lambda s: s.needs, self.plan_step, max_workers=self.max_workers)
        return Plan([planned[s.id] for s in self.steps])

    def plan_step(self, step: Step) -> PlannedStep:
        sctx = self.ctx.for_step(step.id, step.needs)
        try:
            # a plan writes nothing: no step before this one changed what its early read saw
            observed = MISSED if self.prefetch is None else self.prefetch.take(step, sctx, None)
            if observed is MISSED:
                observed = step.read(sctx)
        except PendingOutput as pending:
            if step.settled_while_pending(pending.step_id):
                return PlannedStep(step.id, step.kind, "none", [], waits_for=[pending.step_id])
            return PlannedStep(step.id, step.kind, "create", [Change(f"create (after {pending.step_id})")],
                               waits_for=[pending.step_id])
        try:
            changes = step.diff(sctx, observed)
        except PendingOutput as pending:
            action = "update" if observed is not None else "create"
            return PlannedStep(step.id, step.kind, action,
                               [Change(f"{action} (depends on {pending.step_id}, not yet known)")],
                               observed, [pending.step_id])
        if not changes:
            self.ctx.outputs[step.id] = step.outputs(sctx, observed)
            return PlannedStep(step.id, step.kind, "none", [], observed)
        action = "create" if observed is None else "update"
        if observed is not None:
            with contextlib.suppress(PendingOutput, KeyError, TypeError):
                self.ctx.outputs[step.id] = step.outputs(sctx, observed)
        return PlannedStep(step.id, step.kind, action, changes, observed)


def destroy_plan(steps: Sequence[Step], ctx: StepContext, recorded: Mapping[str, Outputs], *,
                 max_workers: int = DEFAULT_WORKERS) -> tuple[Plan, dict[str, Any]]:
    """What destroy would remove: read every step on the deploy graph (in parallel, so outputs flow
    forward as each step is read)."""
    order = topo_order(steps)
    observed_by_id: dict[str, Any] = {}

    def read(step: Step) -> PlannedStep:
        sctx = ctx.for_step(step.id, step.needs)
        if not step.has_resources:
            return PlannedStep(step.id, step.kind, "none", [], None)
        try:
            observed = step.read(sctx)
        except PendingOutput:
            observed = None
        if observed is None:
            return PlannedStep(step.id, step.kind, "none", [], None)
        observed_by_id[step.id] = observed
        try:
            ctx.outputs[step.id] = step.outputs(sctx, observed)
        except (PendingOutput, KeyError, TypeError, ConfigError):
            # Destroying needs no fresh outputs: what the config refers to may be gone already (a secret
            # deleted by hand must not keep the stage from being destroyed).
            ctx.outputs[step.id] = dict(recorded.get(step.id, {}))
        return PlannedStep(step.id, step.kind, "delete", step.destroy_changes(observed), observed)

    planned = walk(order, lambda s: s.needs, read, max_workers=max_workers)
    return Plan([planned[s.id] for s in reversed(order)]), {s.id: observed_by_id[s.id] for s in order
                                                           if s.id in observed_by_id}
