"""Early reads (``engine/prefetch.py``): every read goes out at once from the journal's outputs, and the run
takes one only where it asked exactly what the run would ask now."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from tscloud_py.engine.events import RecordingSink
from tscloud_py.engine.prefetch import Prefetch
from tscloud_py.engine.runner import Runner
from tscloud_py.engine.step import Change, Outputs, Step, StepContext


class Reality:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.reads: list[tuple[str, dict[str, Any], float]] = []  # step, the inputs it read with, when
        self.lock = threading.Lock()


class Chained(Step):
    """A resource named after its needs' ids: its read uses their outputs, as a bucket policy uses a
    distribution's ARN."""

    kind = "fake"

    def __init__(self, reality: Reality, step_id: str, needs: Sequence[str] = (), *, value: str = "v1") -> None:
        self.reality = reality
        self.id = step_id
        self.needs = tuple(needs)
        self.value = value

    def inputs(self, ctx: StepContext) -> dict[str, Any]:
        return {n: ctx.output(n, "id") for n in self.needs}

    def read(self, ctx: StepContext) -> Any | None:
        inputs = self.inputs(ctx)
        time.sleep(0.05)  # a round trip
        with self.reality.lock:
            self.reality.reads.append((self.id, inputs, time.monotonic()))
        ctx.log(f"read {self.id}")
        return self.reality.values.get(self.id)

    def wanted(self, ctx: StepContext) -> Any:
        return {"value": self.value, "inputs": self.inputs(ctx)}

    def diff(self, ctx: StepContext, observed: Any) -> list[Change]:
        return [] if observed == self.wanted(ctx) else [Change("value", observed, self.wanted(ctx))]

    def apply(self, ctx: StepContext, observed: Any) -> Outputs:
        self.reality.values[self.id] = self.wanted(ctx)
        return {"id": f"{self.id}-{self.value}"}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"id": f"{self.id}-{observed['value']}"}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.reality.values.pop(self.id, None)


def chain(reality: Reality, **values: str) -> list[Step]:
    """a -> b -> c, each reading the id of the one before."""
    return [Chained(reality, "a", value=values.get("a", "v1")), Chained(reality, "b", ["a"], value=values.get("b", "v1")),
            Chained(reality, "c", ["b"], value=values.get("c", "v1"))]


def deployed() -> tuple[Reality, dict[str, Outputs]]:
    reality = Reality()
    ctx = StepContext(sink=RecordingSink())
    Runner(chain(reality), ctx, None).deploy()
    reality.reads.clear()
    return reality, dict(ctx.outputs)


def run(reality: Reality, steps: list[Step], prefetch: Prefetch | None) -> tuple[dict[str, str], RecordingSink]:
    sink = RecordingSink()
    result = Runner(steps, StepContext(sink=sink), None, prefetch=prefetch).deploy()
    return {r.id: r.status for r in result.results}, sink


def test_a_confirmed_prefetch_reads_every_step_at_once_and_the_run_reads_nothing_again() -> None:
    reality, recorded = deployed()
    steps = chain(reality)
    prefetch = Prefetch(steps, recorded, journal_current=True)
    prefetch.confirm(True)
    statuses, sink = run(reality, steps, prefetch)
    assert statuses == {"a": "unchanged", "b": "unchanged", "c": "unchanged"}
    assert [r[0] for r in sorted(reality.reads)] == ["a", "b", "c"]  # one read each: none again
    times = [t for _, _, t in reality.reads]
    assert max(times) - min(times) < 0.09  # a wave, not a chain of round trips (each read takes 0.05 s)
    # what the early reads logged reaches the run's sink, in its steps' places
    assert sorted((e.step_id, e.what) for e in sink.events if e.kind == "message") == \
        [("a", "read a"), ("b", "read b"), ("c", "read c")]


def test_a_step_after_one_that_changed_reads_again_with_the_new_outputs() -> None:
    reality, recorded = deployed()
    steps = chain(reality, a="v2")  # a changes, and with it the id b reads
    prefetch = Prefetch(steps, recorded, journal_current=True)
    prefetch.confirm(True)
    statuses, _ = run(reality, steps, prefetch)
    assert statuses == {"a": "updated", "b": "updated", "c": "unchanged"}
    reread = [(sid, inputs) for sid, inputs, _ in reality.reads[3:]]
    # c's need kept its id, but a step before it wrote: what c's early read saw may be gone
    assert reread == [("b", {"a": "a-v2"}), ("c", {"b": "b-v1"})]


def test_an_unconfirmed_prefetch_is_never_taken() -> None:
    reality, recorded = deployed()
    steps = chain(reality)
    prefetch = Prefetch(steps, recorded, journal_current=True)
    prefetch.confirm(False)  # the run holds another journal than the one the reads were made from
    statuses, _ = run(reality, steps, prefetch)
    assert statuses == {"a": "unchanged", "b": "unchanged", "c": "unchanged"}
    assert sorted(sid for sid, _, _ in reality.reads) == ["a", "a", "b", "b", "c", "c"]


def test_a_need_the_journal_never_recorded_is_not_guessed() -> None:
    reality, recorded = deployed()
    del recorded["a"]
    steps = chain(reality)
    prefetch = Prefetch(steps, recorded, journal_current=True)
    prefetch.confirm(True)
    run(reality, steps, prefetch)
    # b's inputs were unknown early: the run reads it; a and c were read early and stand
    assert sorted(sid for sid, _, _ in reality.reads) == ["a", "b", "c"]


def test_a_failed_early_read_is_read_again_by_the_run() -> None:
    reality, recorded = deployed()
    steps = chain(reality)
    broken = steps[0]
    calls = {"n": 0}
    original = broken.read

    def flaky(ctx: StepContext) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("throttled")
        return original(ctx)

    broken.read = flaky  # type: ignore[method-assign]
    prefetch = Prefetch(steps, recorded, journal_current=True)
    prefetch.confirm(True)
    statuses, _ = run(reality, steps, prefetch)
    assert statuses["a"] == "unchanged" and calls["n"] == 2


def test_a_plan_takes_every_early_read_whose_inputs_match() -> None:
    from tscloud_py.engine.plan import Planner

    reality, recorded = deployed()
    steps = chain(reality)
    prefetch = Prefetch(steps, recorded, journal_current=True)
    prefetch.confirm(True)
    plan = Planner(steps, StepContext(sink=RecordingSink()), prefetch=prefetch).plan()
    assert [p.action for p in plan.steps] == ["none", "none", "none"]
    assert sorted(sid for sid, _, _ in reality.reads) == ["a", "b", "c"]


def test_early_reads_wait_for_the_write_they_follow() -> None:
    reality, recorded = deployed()
    steps = chain(reality)
    sent = threading.Event()
    prefetch = Prefetch(steps, recorded, journal_current=True, after=sent)
    time.sleep(0.1)
    assert reality.reads == []  # held back while the lock's write is built and sent
    opened = time.monotonic()
    sent.set()
    prefetch.confirm(True)
    run(reality, steps, prefetch)
    assert len(reality.reads) == 3 and all(t >= opened for _, _, t in reality.reads)


def test_reads_started_with_the_walk_leave_the_steps_that_need_nothing_to_it() -> None:
    reality, recorded = deployed()
    steps = chain(reality)
    prefetch = Prefetch(steps, recorded, journal_current=True, roots=False)
    prefetch.confirm(True)
    statuses, _ = run(reality, steps, prefetch)
    assert statuses == {"a": "unchanged", "b": "unchanged", "c": "unchanged"}
    assert sorted(sid for sid, _, _ in reality.reads) == ["a", "b", "c"]  # a by the walk, b and c early
