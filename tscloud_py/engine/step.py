"""The step model: read reality, diff against what is wanted, apply, destroy.

A step is a small object with a stable ``id``, the ids it ``needs`` (whose
outputs it reads), and four operations:

- ``read(ctx)`` asks reality what exists (by deterministic name, tag, or the id
  the journal recorded) and never mutates;
- ``diff(ctx, observed)`` lists what would change; empty means satisfied;
- ``apply(ctx, observed)`` creates or updates and returns outputs; it must be
  safe to re-run at any point;
- ``destroy(ctx, observed)`` removes what ``read`` found.

``outputs(ctx, observed)`` gives a satisfied step's outputs without mutating. ``provides`` names the
outputs other steps may reference: ``step.output(key)`` is such a reference (``engine.ref``).
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from tscloud_py.engine.clock import Clock, ProgressCallback, SystemClock, WaitProgress
from tscloud_py.engine.events import Event, EventSink, NullSink
from tscloud_py.engine.ref import Ref, output_ref

Outputs = dict[str, Any]
T = TypeVar("T")


class PendingOutput(Exception):
    """A needed step's outputs are not known yet (it would be created by this plan)."""

    def __init__(self, step_id: str, key: str | None = None) -> None:
        super().__init__(f"waits for {step_id}" + (f".{key}" if key else ""))
        self.step_id = step_id
        self.key = key


@dataclass(frozen=True)
class Change:
    """One difference between reality and the wanted state."""

    field: str
    old: Any = None
    new: Any = None
    destructive: bool = False

    def describe(self) -> str:
        if self.old is None and self.new is None:
            return self.field
        if isinstance(self.old, list) and isinstance(self.new, list):
            return f"{self.field}: {_list_delta(self.old, self.new)}"
        if self.old is None:
            return f"{self.field}: {_short(self.new)}"
        if self.new is None:
            return f"{self.field}: {_short(self.old)} -> (removed)"
        return f"{self.field}: {_short(self.old)} -> {_short(self.new)}"

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new, "destructive": self.destructive,
                "text": self.describe()}


def _short(value: Any, limit: int = 80) -> str:
    """``value`` as text; a long one ends at the last word or item boundary before ``limit``, never mid-word."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if len(text) <= limit:
        return text
    cut = max(text.rfind(sep, 0, limit) for sep in (" ", ",", "/"))
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,") + " …"


def _list_delta(old: list[Any], new: list[Any]) -> str:
    """A changed list as its added and removed items, each whole (or the new order, when only that moved)."""
    def key(item: Any) -> str:
        return json.dumps(item, sort_keys=True, default=str)

    old_keys, new_keys = [key(i) for i in old], [key(i) for i in new]
    added = [k for k in new_keys if k not in old_keys]
    removed = [k for k in old_keys if k not in new_keys]
    parts = [f"+ {k}" for k in added] + [f"- {k}" for k in removed]
    return "; ".join(parts) if parts else f"reordered to {', '.join(new_keys)}"


def fingerprint(value: Any) -> str:
    """A stable hash of a JSON-able value (what a create's idempotency reference is made from)."""
    blob = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class UndeclaredNeedError(RuntimeError):
    """A step read the outputs of a step it does not list in ``needs``: a race the graph cannot see.

    A programming error in a preset, not a user error: it fails the step (deploy) or the plan at once."""

    def __init__(self, reader: str, step_id: str, needs: frozenset[str]) -> None:
        listed = ", ".join(sorted(needs)) or "nothing"
        super().__init__(f"step '{reader}' reads the outputs of '{step_id}' but its needs list only {listed}; "
                         f"add '{step_id}' to its needs")
        self.reader = reader
        self.step_id = step_id


@dataclass
class StepContext:
    """What a step may use while it runs: outputs of other steps, progress, waiting."""

    outputs: dict[str, Outputs] = field(default_factory=dict)
    previous: Mapping[str, Outputs] = field(default_factory=dict)  # the journal's last outputs
    sink: EventSink = field(default_factory=NullSink)
    clock: Clock = field(default_factory=SystemClock)
    step_id: str = ""
    #: the steps whose outputs this one may read; None (a context made outside the engine) checks nothing
    needs: frozenset[str] | None = None
    #: the journal was last written by a run that finished, and no run held the lock after it without
    #: finishing: a record that reality confirms (an ETag it names) tells how that run left things
    journal_current: bool = False

    def output(self, step_id: str, key: str) -> Any:
        """Output ``key`` of the step ``step_id``; PendingOutput while unknown.

        Raises UndeclaredNeedError when ``step_id`` is not among this step's needs: the runner starts a
        step once its needs are done, so reading anything else would race."""
        self._check_need(step_id)
        values = self.outputs.get(step_id)
        if values is None or key not in values:
            raise PendingOutput(step_id, key)
        return values[key]

    def get(self, ref: Ref[T]) -> T:
        """The value ``ref`` names, read as ``output`` reads it (the needs check, PendingOutput)."""
        return cast(T, self.output(ref.step_id, ref.key))

    def _check_need(self, step_id: str) -> None:
        if self.needs is not None and step_id != self.step_id and step_id not in self.needs:
            raise UndeclaredNeedError(self.step_id, step_id, self.needs)

    def recorded(self, key: str, default: Any = None) -> Any:
        """What the journal recorded for this step last time (a hint, never the truth)."""
        return self.previous.get(self.step_id, {}).get(key, default)

    def for_step(self, step_id: str, needs: Iterable[str] | None = None) -> StepContext:
        """The context step ``step_id`` runs in; given ``needs``, it may read exactly their outputs."""
        return StepContext(self.outputs, self.previous, self.sink, self.clock, step_id,
                           None if needs is None else frozenset(needs), self.journal_current)

    def progress(self) -> ProgressCallback:
        """A waiters progress callback that reports this step's waits to the sink."""
        step_id = self.step_id

        def report(p: WaitProgress) -> None:
            self.sink.emit(Event(step_id, "waiting", what=p.what, state=p.state, elapsed=p.elapsed))

        return report

    def log(self, text: str) -> None:
        self.sink.emit(Event(self.step_id, "message", what=text))


class Step(ABC):
    """Base class of every deploy step."""

    id: str = ""
    needs: tuple[str, ...] = ()
    #: a short word for what the step manages ("S3 bucket"), for plan output
    kind: str = ""
    #: False for steps that only act (an upload, an invalidation): destroy skips them
    has_resources: bool = True
    #: the outputs other steps may reference (``output``)
    provides: frozenset[str] = frozenset()
    #: True when the step's read alone tells whether its apply took effect (reality names what it did; its
    #: journal record is never taken for it): the run's summary may go out while its apply is in flight
    settled_by_read: bool = False

    def output(self, key: str) -> Ref[Any]:
        """A reference to this step's output ``key``, for a step that reads it; an unknown key raises
        UnknownOutputError while the graph is built."""
        return output_ref(self.id, self.provides, key)

    @abstractmethod
    def read(self, ctx: StepContext) -> Any | None:
        """Observe reality. None means nothing exists yet."""

    @abstractmethod
    def diff(self, ctx: StepContext, observed: Any) -> list[Change]:
        """What apply would change. Empty means satisfied."""

    @abstractmethod
    def apply(self, ctx: StepContext, observed: Any) -> Outputs:
        """Create or update; returns outputs. Safe to re-run."""

    @abstractmethod
    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        """Outputs of a satisfied step, from what read observed."""

    @abstractmethod
    def destroy(self, ctx: StepContext, observed: Any) -> str | None:
        """Remove what read observed. Return "kept" when it deliberately leaves it (retain, shared)."""

    def destroy_changes(self, observed: Any) -> list[Change]:
        return [Change("delete", destructive=True)]

    def settled_while_pending(self, step_id: str) -> bool:
        """Whether a plan can already say "none" for this step while ``step_id``'s outputs are not known
        (its resource does not exist yet): deploy will find nothing to do here either."""
        return False

    def destroy_refusal(self, observed: Any) -> tuple[str, str] | None:
        """(why, how to lift it) when destroy must not start at all: a resource AWS would refuse to
        delete. Checked for every step before the first delete, so a refusal leaves everything in place."""
        return None

    def destroy_disagreement(self, ctx: StepContext, observed: Any) -> str | None:
        """What differs, when destroy would restore or delete something on the journal's word that what
        ``read`` observed does not bear out (the journal is a cache anyone with the state bucket can
        write). Checked beside ``destroy_refusal``, before the first delete; the run stops with exit 1."""
        return None


StepFactory = Callable[[], list[Step]]
