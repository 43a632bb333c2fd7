"""Step graphs: validation, topological order, selection for --only / --from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tscloud_py.engine.step import Step
from tscloud_py.errors import UsageError


def check_graph(steps: Sequence[Step]) -> None:
    ids = [s.id for s in steps]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"duplicate step ids: {sorted(dupes)}")
    known = set(ids)
    for s in steps:
        missing = [n for n in s.needs if n not in known]
        if missing:
            raise ValueError(f"step {s.id} needs unknown steps {missing}")
    topo_order(steps)


def topo_order(steps: Sequence[Step]) -> list[Step]:
    """Steps in dependency order; ties keep the declared order."""
    by_id = {s.id: s for s in steps}
    done: set[str] = set()
    order: list[Step] = []
    visiting: set[str] = set()

    def visit(step: Step) -> None:
        if step.id in done:
            return
        if step.id in visiting:
            raise ValueError(f"cycle through step {step.id}")
        visiting.add(step.id)
        for need in step.needs:
            if need in by_id:
                visit(by_id[need])
        visiting.discard(step.id)
        done.add(step.id)
        order.append(step)

    for s in steps:
        visit(s)
    return order


def dependents(steps: Iterable[Step], root: str) -> set[str]:
    """``root`` and every step that (transitively) needs it."""
    steps = list(steps)
    result = {root}
    changed = True
    while changed:
        changed = False
        for s in steps:
            if s.id not in result and any(n in result for n in s.needs):
                result.add(s.id)
                changed = True
    return result


def select(steps: Sequence[Step], only: Sequence[str] = (), start: str | None = None) -> set[str]:
    """The ids a run applies; the others are only read for their outputs."""
    ids = [s.id for s in steps]
    for name, flag in [*((o, "--only") for o in only), *(((start, "--from"),) if start else ())]:
        if name not in ids:
            raise UsageError(f"{flag}: unknown step '{name}'; expected one of: {', '.join(ids)}")
    if only:
        return set(only)
    if start:
        return dependents(steps, start)
    return set(ids)
