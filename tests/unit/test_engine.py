"""The step engine with fake in-memory steps: planning, the parallel DAG runner, selection, destroy, journaling."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tscloud_py.engine.events import RecordingSink
from tscloud_py.engine.graph import check_graph, dependents, select, topo_order
from tscloud_py.engine.plan import Planner, destroy_plan
from tscloud_py.engine.runner import Runner
from tscloud_py.engine.step import Change, Outputs, PendingOutput, Step, StepContext
from tscloud_py.errors import UsageError
from tscloud_py.state.journal import Journal


class World:
    """Fake reality: resource id -> value, plus a log of what happened, in order."""

    def __init__(self) -> None:
        self.resources: dict[str, Any] = {}
        self.log: list[tuple[str, str, float]] = []
        self.lock = threading.Lock()

    def note(self, what: str, step: str) -> None:
        with self.lock:
            self.log.append((what, step, time.monotonic()))

    def events(self, what: str) -> list[str]:
        return [s for w, s, _ in self.log if w == what]

    def at(self, what: str, step: str) -> float:
        return next(t for w, s, t in self.log if w == what and s == step)


class FakeStep(Step):
    kind = "fake"

    def __init__(self, world: World, step_id: str, needs: Sequence[str] = (), *, value: str = "v1",
                 delay: float = 0.0, fail: bool = False, journal: Journal | None = None) -> None:
        self.world = world
        self.id = step_id
        self.needs = tuple(needs)
        self.value = value
        self.delay = delay
        self.fail = fail
        self.journal = journal
        self.journal_seen_before_apply: dict[str, Any] = {}

    def wanted(self, ctx: StepContext) -> Any:
        # Reads every input: a step whose needs are not yet known raises PendingOutput.
        return {"value": self.value, "inputs": {n: ctx.output(n, "id") for n in self.needs}}

    def read(self, ctx: StepContext) -> Any | None:
        return self.world.resources.get(self.id)

    def diff(self, ctx: StepContext, observed: Any) -> list[Change]:
        wanted = self.wanted(ctx)
        if observed is None:
            return [Change(f"create {self.id}")]
        if observed != wanted:
            return [Change("value", observed, wanted)]
        return []

    def apply(self, ctx: StepContext, observed: Any) -> Outputs:
        if self.journal is not None:
            self.journal_seen_before_apply = json.loads(self.journal.path.read_text()) \
                if self.journal.path.exists() else {}
        self.world.note("start", self.id)
        time.sleep(self.delay)
        if self.fail:
            self.world.note("fail", self.id)
            raise RuntimeError(f"{self.id} broke")
        self.world.resources[self.id] = self.wanted(ctx)
        self.world.note("end", self.id)
        return {"id": f"{self.id}-id"}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"id": f"{self.id}-id"}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.world.note("destroy-start", self.id)
        time.sleep(self.delay)
        self.world.resources.pop(self.id, None)
        self.world.note("destroy-end", self.id)


def ctx(sink: RecordingSink | None = None) -> StepContext:
    return StepContext(sink=sink or RecordingSink())


def graph(world: World, **kw: Any) -> list[Step]:
    """a, b independent; c needs a; d needs c and b."""
    return [FakeStep(world, "a", **kw), FakeStep(world, "b", **kw), FakeStep(world, "c", ["a"], **kw),
            FakeStep(world, "d", ["c", "b"], **kw)]


# -- graph ---------------------------------------------------------------------------------------
def test_topo_order_keeps_declared_order_for_ties() -> None:
    w = World()
    steps = [FakeStep(w, "d", ["c"]), FakeStep(w, "a"), FakeStep(w, "c", ["a"]), FakeStep(w, "b")]
    assert [s.id for s in topo_order(steps)] == ["a", "c", "d", "b"]


def test_check_graph_rejects_bad_graphs() -> None:
    w = World()
    with pytest.raises(ValueError, match="duplicate"):
        check_graph([FakeStep(w, "a"), FakeStep(w, "a")])
    with pytest.raises(ValueError, match="unknown"):
        check_graph([FakeStep(w, "a", ["nope"])])
    with pytest.raises(ValueError, match="cycle"):
        check_graph([FakeStep(w, "a", ["b"]), FakeStep(w, "b", ["a"])])


def test_select_only_from_and_unknown() -> None:
    steps = graph(World())
    assert select(steps) == {"a", "b", "c", "d"}
    assert select(steps, only=["c"]) == {"c"}
    assert select(steps, only=["a", "b"]) == {"a", "b"}
    assert select(steps, start="c") == {"c", "d"}
    assert select(steps, start="a") == {"a", "c", "d"}
    assert dependents(steps, "b") == {"b", "d"}
    with pytest.raises(UsageError, match="--only: unknown step 'x'; expected one of: a, b, c, d"):
        select(steps, only=["x"])
    with pytest.raises(UsageError, match="--from: unknown step 'zz'"):
        select(steps, start="zz")


# -- plan ----------------------------------------------------------------------------------------
def test_plan_of_nothing_marks_dependents_pending() -> None:
    w = World()
    plan = Planner(graph(w), ctx()).plan()
    by = plan.by_id()
    assert [p.id for p in plan.steps] == ["a", "b", "c", "d"]
    assert by["a"].action == "create" and by["a"].waits_for == []
    # c cannot know a's id yet: PendingOutput turns into "create (depends on a...)".
    assert by["c"].action == "create" and by["c"].waits_for == ["a"]
    assert "depends on a" in by["c"].changes[0].describe()
    assert by["d"].waits_for == ["c"]
    assert w.log == []  # planning never applies
    doc = plan.to_json()
    assert {s["id"]: s["action"] for s in doc["steps"]} == dict.fromkeys("abcd", "create")


def test_plan_after_deploy_is_all_none_and_update_is_seen() -> None:
    w = World()
    Runner(graph(w), ctx(), None).deploy()
    assert {p.id: p.action for p in Planner(graph(w), ctx()).plan().steps} == dict.fromkeys("abcd", "none")
    changed = graph(w)
    changed[1] = FakeStep(w, "b", value="v2")
    plan = Planner(changed, ctx()).plan().by_id()
    assert plan["b"].action == "update" and plan["b"].changes[0].field == "value"
    assert plan["a"].action == "none" and plan["d"].action == "none"


def test_plan_read_pending_output() -> None:
    class NeedsFirst(FakeStep):
        def read(self, ctx: StepContext) -> Any:
            ctx.output("a", "id")  # an id the plan cannot know before a exists
            return None

    w = World()
    plan = Planner([FakeStep(w, "a"), NeedsFirst(w, "x", ["a"])], ctx()).plan().by_id()
    assert plan["x"].action == "create" and plan["x"].waits_for == ["a"]
    with pytest.raises(PendingOutput) as info:
        ctx().output("a", "id")
    assert info.value.step_id == "a" and info.value.key == "id"


def test_plan_reads_independent_steps_at_once_and_each_after_its_needs() -> None:
    """Plan walks deploy's graph in parallel: a and b can only pass a two-party barrier together, and c
    (which needs a) is read only once a has been read."""
    both = threading.Barrier(2, timeout=30)

    class Meets(FakeStep):
        def read(self, ctx: StepContext) -> Any:
            self.world.note("read", self.id)
            if self.id in ("a", "b"):
                both.wait()
            return super().read(ctx)

    w = World()
    Runner(graph(w), ctx(), None).deploy()
    w.log.clear()
    steps: list[Step] = [Meets(w, "a"), Meets(w, "b"), Meets(w, "c", ["a"]), Meets(w, "d", ["c", "b"])]
    plan = Planner(steps, ctx()).plan()
    assert [p.id for p in plan.steps] == ["a", "b", "c", "d"]
    assert {p.action for p in plan.steps} == {"none"}
    reads = w.events("read")
    assert sorted(reads) == ["a", "b", "c", "d"]
    assert reads.index("c") > reads.index("a") and reads.index("d") > max(reads.index("c"), reads.index("b"))


def test_plan_failing_read_propagates_without_waiting_for_slow_reads() -> None:
    release = threading.Event()

    class Slow(FakeStep):
        def read(self, ctx: StepContext) -> Any:
            release.wait(30)
            return None

    class Broken(FakeStep):
        def read(self, ctx: StepContext) -> Any:
            raise RuntimeError("AccessDenied")

    w = World()
    try:
        with pytest.raises(RuntimeError, match="AccessDenied"):
            Planner([Slow(w, "slow"), Broken(w, "broken"), FakeStep(w, "after", ["broken"])], ctx()).plan()
        assert not release.is_set()  # the slow read was abandoned, not sat out
    finally:
        release.set()


def test_destroy_plan_reads_in_parallel_and_lists_in_reverse() -> None:
    both = threading.Barrier(2, timeout=30)

    class Meets(FakeStep):
        def read(self, ctx: StepContext) -> Any:
            if self.id in ("a", "b"):
                both.wait()
            return super().read(ctx)

    w = World()
    Runner(graph(w), ctx(), None).deploy()
    steps: list[Step] = [Meets(w, "a"), Meets(w, "b"), Meets(w, "c", ["a"]), Meets(w, "d", ["c", "b"])]
    plan, observed = destroy_plan(steps, ctx(), {})
    assert [p.id for p in plan.steps] == ["d", "c", "b", "a"]
    assert list(observed) == ["a", "b", "c", "d"]


# -- deploy --------------------------------------------------------------------------------------
def test_independent_slow_steps_overlap() -> None:
    w = World()
    steps = [FakeStep(w, "slow1", delay=0.4), FakeStep(w, "slow2", delay=0.4), FakeStep(w, "after", ["slow1", "slow2"])]
    result = Runner(steps, ctx(), None).deploy()
    assert result.ok
    # Each started before the other finished: they ran at the same time, not one after the other.
    assert w.at("start", "slow2") < w.at("end", "slow1") and w.at("start", "slow1") < w.at("end", "slow2")
    assert w.at("start", "after") >= max(w.at("end", "slow1"), w.at("end", "slow2"))


def test_dependents_wait_for_what_they_need() -> None:
    w = World()
    Runner(graph(w, delay=0.02), ctx(), None).deploy()
    assert w.at("start", "c") >= w.at("end", "a")
    assert w.at("start", "d") >= max(w.at("end", "c"), w.at("end", "b"))


def test_failed_step_skips_only_its_dependents() -> None:
    w = World()
    steps = [FakeStep(w, "a", fail=True), FakeStep(w, "b", delay=0.05), FakeStep(w, "c", ["a"]),
             FakeStep(w, "d", ["c"]), FakeStep(w, "e", ["b"])]
    sink = RecordingSink()
    result = Runner(steps, ctx(sink), None).deploy()
    status = {r.id: r.status for r in result.results}
    assert status == {"a": "failed", "b": "created", "c": "skipped", "d": "skipped", "e": "created"}
    assert not result.ok and [r.id for r in result.failed] == ["a"]
    failure = result.failed[0]
    assert failure.error is not None
    assert "step 'a' failed: RuntimeError: a broke" in failure.error.message
    assert "Traceback" in failure.detail  # kept for -v, never printed by default
    assert "c" not in w.events("start") and "d" not in w.events("start")
    skipped = [e for e in sink.events if e.status == "skipped"]
    assert {e.step_id for e in skipped} == {"c", "d"}
    assert any("blocked by a" in e.what for e in skipped if e.step_id == "c")
    json_doc = failure.to_json()
    assert json_doc["status"] == "failed" and "error" in json_doc and "hint" in json_doc


def test_rerun_after_failure_converges_and_redoes_nothing_finished(tmp_path: Path) -> None:
    w = World()
    journal = Journal(tmp_path / "j.json", app="app", stage="dev", preset="x")
    steps = graph(w)
    steps[0] = FakeStep(w, "a", fail=True)
    Runner(steps, ctx(), journal).deploy()
    assert set(w.resources) == {"b"}
    w.log.clear()
    result = Runner(graph(w), ctx(), journal).deploy()
    assert {r.id: r.status for r in result.results} == {"a": "created", "b": "unchanged", "c": "created",
                                                         "d": "created"}
    assert "b" not in w.events("start")


def test_only_applies_just_that_step_and_reads_the_rest(tmp_path: Path) -> None:
    w = World()
    Runner(graph(w), ctx(), None).deploy()
    w.log.clear()
    steps = graph(w)
    steps[2] = FakeStep(w, "c", ["a"], value="v2")
    steps[3] = FakeStep(w, "d", ["c", "b"], value="v2")
    result = Runner(steps, ctx(), None).deploy(select(steps, only=["c"]))
    assert w.events("start") == ["c"]
    by = {r.id: r for r in result.results}
    assert by["c"].status == "updated"
    assert not by["a"].selected and by["a"].status == "not-selected"
    assert w.resources["d"]["value"] == "v1"  # d was not selected, so not applied


def test_from_applies_the_step_and_its_dependents() -> None:
    w = World()
    Runner(graph(w), ctx(), None).deploy()
    w.log.clear()
    steps = [FakeStep(w, "a", value="v2"), FakeStep(w, "b", value="v2"), FakeStep(w, "c", ["a"], value="v2"),
             FakeStep(w, "d", ["c", "b"], value="v2")]
    Runner(steps, ctx(), None).deploy(select(steps, start="c"))
    assert sorted(w.events("start")) == ["c", "d"]


def test_only_without_a_deployed_dependency_fails_that_step() -> None:
    w = World()
    steps = graph(w)
    result = Runner(steps, ctx(), None).deploy(select(steps, only=["c"]))
    by = {r.id: r for r in result.results}
    assert by["a"].status == "failed" and by["a"].error is not None
    assert "has not been deployed" in by["a"].error.message
    assert by["c"].status == "skipped"


def test_journal_written_after_each_step(tmp_path: Path) -> None:
    w = World()
    journal = Journal(tmp_path / "state" / "journal.json", app="app", stage="dev", preset="x")
    steps = [FakeStep(w, "a", journal=journal), FakeStep(w, "b", ["a"], journal=journal),
             FakeStep(w, "c", ["b"], journal=journal)]
    Runner(steps, ctx(), journal).deploy()
    seen = {s.id: sorted(s.journal_seen_before_apply.get("steps", {})) for s in steps}
    # Each step, when it starts applying, already finds every earlier step on disk.
    assert seen == {"a": [], "b": ["a"], "c": ["a", "b"]}
    on_disk = json.loads(journal.path.read_text())
    assert on_disk["steps"]["b"]["status"] == "created"
    assert on_disk["steps"]["b"]["outputs"] == {"id": "b-id"}
    assert set(on_disk["steps"]["b"]) == {"status", "outputs", "at"}
    reloaded = Journal(journal.path, app="app", stage="dev", preset="x")
    assert reloaded.outputs() == {"a": {"id": "a-id"}, "b": {"id": "b-id"}, "c": {"id": "c-id"}}


def test_a_journal_written_with_input_fingerprints_still_loads(tmp_path: Path) -> None:
    """Journals once kept a hash of each step's inputs, never read: such a journal loads as it is, and a
    no-op run on it writes nothing."""
    w = World()
    Runner([FakeStep(w, "a")], ctx(), None).deploy()
    path = tmp_path / "j.json"
    path.write_text(json.dumps({"version": 1, "app": "app", "stage": "dev", "preset": "x", "steps": {
        "a": {"status": "created", "outputs": {"id": "a-id"}, "fingerprint": "0123456789abcdef",
              "at": "2026-11-30T10:00:00Z"}}}))
    before = path.read_text()
    journal = Journal(path, app="app", stage="dev", preset="x")
    assert journal.outputs() == {"a": {"id": "a-id"}} and journal.notices == []
    Runner([FakeStep(w, "a")], ctx(), journal).deploy()
    assert journal.steps["a"]["status"] == "unchanged" and path.read_text() == before


def test_events_started_and_finished_per_step() -> None:
    sink = RecordingSink()
    Runner(graph(World()), ctx(sink), None).deploy()
    kinds = [(e.step_id, e.kind) for e in sink.events]
    for sid in "abcd":
        assert kinds.index((sid, "started")) < kinds.index((sid, "finished"))
    finished = {e.step_id: e.status for e in sink.events if e.kind == "finished"}
    assert finished == dict.fromkeys("abcd", "created")


# -- destroy ---------------------------------------------------------------------------------------
def test_destroy_runs_in_reverse_order_and_in_parallel(tmp_path: Path) -> None:
    w = World()
    journal = Journal(tmp_path / "j.json", app="app", stage="dev", preset="x")
    # root <- left, root <- right: destroy removes left and right together, root last.
    steps = [FakeStep(w, "root", delay=0.3), FakeStep(w, "left", ["root"], delay=0.3),
             FakeStep(w, "right", ["root"], delay=0.3)]
    Runner(steps, ctx(), journal).deploy()
    assert set(journal.steps) == {"root", "left", "right"}
    c = ctx()
    plan, observed = destroy_plan(steps, c, journal.outputs())
    assert [p.id for p in plan.steps] == ["right", "left", "root"]
    assert all(p.action == "delete" and p.destructive for p in plan.steps)
    result = Runner(steps, c, journal).destroy(observed)
    assert result.ok and {r.status for r in result.results} == {"deleted"}
    assert w.at("destroy-start", "root") >= max(w.at("destroy-end", "left"), w.at("destroy-end", "right"))
    assert w.at("destroy-start", "right") < w.at("destroy-end", "left")  # the two leaves overlapped
    assert w.resources == {} and journal.steps == {}


def test_destroy_of_nothing_is_a_noop(tmp_path: Path) -> None:
    w = World()
    journal = Journal(tmp_path / "j.json", app="app", stage="dev", preset="x")
    c = ctx()
    plan, observed = destroy_plan(graph(w), c, {})
    assert observed == {} and {p.action for p in plan.steps} == {"none"}
    result = Runner(graph(w), c, journal).destroy(observed)
    assert {r.status for r in result.results} == {"absent"} and w.log == []


def test_destroy_skips_steps_without_resources_and_blocks_on_failure(tmp_path: Path) -> None:
    class Upload(FakeStep):
        has_resources = False

    class Stuck(FakeStep):
        def destroy(self, ctx: StepContext, observed: Any) -> None:
            raise RuntimeError("in use")

    w = World()
    steps = [Stuck(w, "root"), FakeStep(w, "leaf", ["root"]), Upload(w, "upload", ["root"])]
    Runner(steps, ctx(), None).deploy()
    c = ctx()
    plan, observed = destroy_plan(steps, c, {})
    assert plan.by_id()["upload"].action == "none" and "upload" not in observed
    result = Runner(steps, c, None).destroy(observed)
    by = {r.id: r.status for r in result.results}
    assert by == {"leaf": "deleted", "upload": "absent", "root": "failed"}


def test_interrupt_does_not_wait_for_running_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C stops the run at once; a step in a long wait is abandoned (as a kill would), not sat out."""
    from tscloud_py.engine import schedule as schedule_mod

    real_wait = schedule_mod.wait

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        real_wait(*args, timeout=0.1, **{k: v for k, v in kwargs.items() if k != "timeout"})
        raise KeyboardInterrupt

    monkeypatch.setattr(schedule_mod, "wait", interrupted)
    w = World()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        Runner([FakeStep(w, "slow", delay=12)], ctx(), None).deploy()
    assert time.monotonic() - started < 8.0  # well short of the step's 12 s, generous for a busy machine


# -- needs are enforced -------------------------------------------------------------------------
class ReadsUndeclared(FakeStep):
    """Reads a's outputs without listing a in its needs: the race the check exists to catch."""

    def wanted(self, ctx: StepContext) -> Any:
        return {"a": ctx.output("a", "id")}


def test_reading_a_step_outside_needs_raises_in_plan_and_fails_the_step_in_deploy() -> None:
    from tscloud_py.engine.step import UndeclaredNeedError

    w = World()
    steps: list[Step] = [FakeStep(w, "a"), FakeStep(w, "b"), ReadsUndeclared(w, "x", ["b"])]
    with pytest.raises(UndeclaredNeedError, match=r"step 'x' reads the outputs of 'a' but its needs list only b"):
        Planner(steps, ctx()).plan()
    run = Runner(steps, ctx(), None).deploy()
    failed = {r.id: r for r in run.failed}
    assert set(failed) == {"x"} and failed["x"].error is not None
    assert "add 'a' to its needs" in failed["x"].error.message
    assert "x" not in w.resources  # nothing applied on a guess


def test_a_reference_resolves_through_the_context_with_the_same_checks() -> None:
    from tscloud_py.engine.ref import Ref
    from tscloud_py.engine.step import UndeclaredNeedError

    c = StepContext(outputs={"a": {"id": "a-id"}, "b": {"id": "b-id"}})
    assert c.for_step("x", ["a"]).get(Ref("a", "id")) == "a-id"
    with pytest.raises(UndeclaredNeedError, match="step 'x' reads the outputs of 'b' but its needs list only a"):
        c.for_step("x", ["a"]).get(Ref("b", "id"))
    with pytest.raises(PendingOutput, match=r"waits for a\.arn"):
        c.for_step("x", ["a"]).get(Ref("a", "arn"))


def test_the_steps_a_step_references_are_read_from_its_data() -> None:
    from dataclasses import dataclass

    from tscloud_py.engine.ref import Ref, referenced_steps

    @dataclass(frozen=True)
    class Grant:
        resource: Ref[str]

    w = World()
    step = FakeStep(w, "x", ["a", "b", "c"])
    step.direct = Ref("a", "id")  # type: ignore[attr-defined]
    step.nested = {"k": [(Ref("b", "arn"),)], "own": Ref("x", "id")}  # type: ignore[attr-defined]
    step.grant = Grant(Ref("c", "arn"))  # type: ignore[attr-defined]
    step.hidden = lambda: Ref("d", "id")  # type: ignore[attr-defined]  # not data: not seen
    assert referenced_steps(step) == {"a", "b", "c"}


def test_a_context_made_outside_the_engine_checks_nothing() -> None:
    c = StepContext(outputs={"a": {"id": "a-id"}})
    assert c.output("a", "id") == "a-id"
    assert c.for_step("x", ["a"]).output("a", "id") == "a-id"


# -- steps settled by their read -----------------------------------------------------------------------
class SettledStep(FakeStep):
    settled_by_read = True


def test_the_summary_goes_out_beside_the_steps_settled_by_their_read(tmp_path: Path) -> None:
    """Once only steps settled by their read run, ``settled`` is called with the run so far, while their
    apply is in flight (the apply below waits for it), and a journal closed by the release records no more."""
    w = World()
    journal = Journal(tmp_path / "journal.json", app="app", stage="dev", preset="x")
    called = threading.Event()
    seen: list[tuple[list[str], list[str], bool]] = []

    class Waits(SettledStep):
        def apply(self, ctx: StepContext, observed: Any) -> Outputs:
            assert called.wait(5), "settled was not called while this apply ran"
            return super().apply(ctx, observed)

    released: list[str | None] = []

    def settled(so_far: Any, pending: list[str]) -> None:
        seen.append(([r.id for r in so_far.results], pending, so_far.ok))
        journal.mark_run({"ok": True, "pending": pending}, release=lambda seal=None: released.append(seal))
        called.set()

    steps = [FakeStep(w, "a"), FakeStep(w, "b", ["a"]), Waits(w, "tail", ["b"])]
    result = Runner(steps, ctx(), journal).deploy(settled=settled)
    assert result.ok and [r.status for r in result.results] == ["created", "created", "created"]
    assert seen == [(["a", "b"], ["tail"], True)] and len(released) == 1
    on_disk = json.loads(journal.path.read_text())
    # the tail's record came after the summary and the release: kept in memory, not written
    assert on_disk["steps"]["tail"]["status"] == "in-flight" and on_disk["last_run"]["pending"] == ["tail"]
    assert journal.steps["tail"]["status"] == "created"


def test_settled_is_not_called_after_a_failure_nor_with_nothing_pending() -> None:
    w = World()
    calls: list[list[str]] = []
    failed = [FakeStep(w, "a", fail=True), FakeStep(w, "b"), SettledStep(w, "tail", ["b"])]
    assert not Runner(failed, ctx(), None).deploy(settled=lambda _r, pending: calls.append(pending)).ok
    # a settled step that needs nothing may end first: when the others end nothing is pending
    early = [SettledStep(w, "first"), FakeStep(w, "slow", delay=0.1)]
    assert Runner(early, ctx(), None).deploy(settled=lambda _r, pending: calls.append(pending)).ok
    # a step that is not settled by its read left running: the summary waits for the end
    mixed = [FakeStep(w, "x"), SettledStep(w, "tail2", ["x"]), FakeStep(w, "last", ["x"], delay=0.1)]
    assert Runner(mixed, ctx(), None).deploy(settled=lambda _r, pending: calls.append(pending)).ok
    assert calls == []
