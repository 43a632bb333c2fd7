"""The plan: ``read`` + ``diff`` over every step. Data, printable, never mutating."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tscloud_py.engine.graph import topo_order
from tscloud_py.engine.step import Change, Outputs, PendingOutput, Step, StepContext


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
    """Reads every step in dependency order, threading known outputs forward."""

    def __init__(self, steps: Sequence[Step], ctx: StepContext) -> None:
        self.steps = list(steps)
        self.ctx = ctx

    def plan(self) -> Plan:
        planned: list[PlannedStep] = []
        for step in topo_order(self.steps):
            planned.append(self.plan_step(step))
        return Plan(planned)

    def plan_step(self, step: Step) -> PlannedStep:
        sctx = self.ctx.for_step(step.id)
        try:
            observed = step.read(sctx)
        except PendingOutput as pending:
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


def destroy_plan(steps: Sequence[Step], ctx: StepContext,
                 recorded: Mapping[str, Outputs]) -> tuple[Plan, dict[str, Any]]:
    """What destroy would remove: read every step (in dependency order, so outputs flow)."""
    observed_by_id: dict[str, Any] = {}
    planned: list[PlannedStep] = []
    for step in topo_order(steps):
        sctx = ctx.for_step(step.id)
        if not step.has_resources:
            planned.append(PlannedStep(step.id, step.kind, "none", [], None))
            continue
        try:
            observed = step.read(sctx)
        except PendingOutput:
            observed = None
        if observed is not None:
            observed_by_id[step.id] = observed
            try:
                ctx.outputs[step.id] = step.outputs(sctx, observed)
            except (PendingOutput, KeyError, TypeError):
                ctx.outputs[step.id] = dict(recorded.get(step.id, {}))
            planned.append(PlannedStep(step.id, step.kind, "delete", step.destroy_changes(observed), observed))
        else:
            planned.append(PlannedStep(step.id, step.kind, "none", [], None))
    planned.reverse()
    return Plan(planned), observed_by_id
