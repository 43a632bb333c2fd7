"""One app + stage opened for a command: config, preset, steps, journal, lock."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tscloud_py.engine.step import Step, StepContext
from tscloud_py.operations import exit_guard
from tscloud_py.operations.state import open_state
from tscloud_py.presets import Preset, PresetOptions, load_preset
from tscloud_py.state.backend import StateBackend
from tscloud_py.state.journal import Journal
from tscloud_py.state.lock import ConfirmBreak, Lock

if TYPE_CHECKING:
    from collections.abc import Callable

    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.config.schema import Config
    from tscloud_py.engine.events import EventSink
    from tscloud_py.engine.prefetch import Prefetch
    from tscloud_py.operations.context import AppContext


@dataclass(frozen=True)
class Target:
    """What a command opens instead of the config's own stage and preset: a preview stage or the preview
    host (``operations/preview.py``), with its own journal and lock."""

    config: Config
    preset: Callable[[Config, ClientFactory, PresetOptions], Preset]


@dataclass(frozen=True)
class Foreseen:
    """Reads started before the lock is held (``Workspace.foresee``), from the journal with this digest."""

    reads: Prefetch
    digest: str


@dataclass
class Workspace:
    app: AppContext
    config: Config
    aws: ClientFactory
    preset: Preset
    steps: list[Step]
    journal: Journal
    state: StateBackend
    # set once the run's steps start: from then on, stopping early marks the journal before the lock goes
    steps_started: bool = False

    @classmethod
    def open(cls, app: AppContext, options: PresetOptions | None = None, *, locking: bool = False,
             target: Target | None = None) -> Workspace:
        """``locking``: the command takes the run lock (``lock()``), which reads the journal once held."""
        from tscloud_py.concurrency import Background
        from tscloud_py.engine.graph import check_graph

        config = target.config if target else app.config()
        preset_options = options or PresetOptions(verbose=app.verbose)
        aws = app.factory(config.region)

        def opened() -> tuple[StateBackend, Journal]:
            state = open_state(app, aws, config)
            return state, state.journal(preset=config.preset, locking=locking)

        # The state backend's first requests (the account, the journal) wait on the network while the
        # preset builds its clients, which waits on the CPU: side by side, the run pays for the longer.
        opening = Background(opened, name="state-open")
        try:
            preset = target.preset(config, aws, preset_options) if target else load_preset(config, aws,
                                                                                           preset_options)
            steps = preset.steps()
            check_graph(steps)
        except Exception:
            opening.wait()  # only reads, whose own failure is not the one to report
            raise
        state, journal = opening.result()
        # The clients the steps will ask for are made ready on a thread of their own. A command that takes
        # the state bucket's lock builds them once the lock's write is on the wire, as its early reads start:
        # built before it, they would take the CPU that write waits for, and the lock's answer is what the
        # run waits for longest.
        writing = state.store.writing if locking and state.store is not None else None

        def ready() -> None:
            if writing is not None:
                from tscloud_py.engine.prefetch import AFTER_AT_MOST

                writing.wait(AFTER_AT_MOST)
            aws.warm()

        Background(ready, name="clients")
        return cls(app, config, aws, preset, steps, journal, state)

    def foresee(self) -> Foreseen | None:
        """Start every step's read from the journal this working copy's last run left
        (``state/release_cache.py``), to go out while the lock is taken; None when it left none."""
        from tscloud_py.engine.prefetch import Prefetch
        from tscloud_py.state import validate
        from tscloud_py.state.journal import finished_in, outputs_in

        kept = self.state.kept_journal(self.journal)
        if kept is None:
            return None
        try:
            doc = validate.journal(validate.parse(kept.body, validate.MAX_JOURNAL_BYTES), app=self.config.app,
                                   stage=self.config.stage)
        except validate.Malformed:
            return None
        if doc is None:
            return None
        # after the lock's write: of the requests that go out together, it is the one the run waits for
        return Foreseen(Prefetch(self.steps, outputs_in(doc), journal_current=finished_in(doc), after=kept.after),
                        kept.digest)

    def confirm(self, foreseen: Foreseen | None, *, current: bool) -> Prefetch:
        """The early reads, once the lock is held: those ``foresee`` started, if the journal held is the one
        they were made from and its last holder vouches for it (nobody held the lock between, so no run
        wrote anything they could have missed); else every read started now, from the journal held."""
        store = self.journal.store
        if foreseen is not None and store is not None and store.vouched is True \
                and self.journal.seal() == foreseen.digest:
            foreseen.reads.confirm(True)
            return foreseen.reads
        return self.early_reads(current=current)

    def early_reads(self, *, current: bool) -> Prefetch:
        """Every step's read started now, from the journal as this command read it (``current``: as the run's
        context says), so the walk's reads make one wave, not a chain."""
        from tscloud_py.engine.prefetch import Prefetch

        # the walk reads the steps that need nothing as it starts: they would gain nothing here
        reads = Prefetch(self.steps, self.journal.outputs(), journal_current=current, roots=False)
        reads.confirm(True)
        return reads

    @property
    def scope(self) -> str:
        return self.state.scope

    @contextmanager
    def lock(self, *, force: int = 0, confirm_break: ConfirmBreak | None = None) -> Iterator[Lock]:
        """Hold the run lock; the state bucket's journal is read once it is held, so its ETag is the one we own.

        ``force`` is how many --force-unlock were given; ``confirm_break`` is asked before a holder that
        may be alive is broken.
        """
        lock = self.state.lock
        lock.acquire(force=force, confirm_break=confirm_break)
        try:
            with exit_guard.released_on_forced_exit(lambda: self._give_back(lock, forced=True)):
                if self.journal.store is not None:
                    self.journal.reload()
                yield lock
        finally:
            self._give_back(lock, forced=False)

    def _give_back(self, lock: Lock, *, forced: bool) -> None:
        """Release the lock, once the journal says whether this run finished (``Journal.finished``): a run
        whose steps started and that stops before its summary marks itself interrupted first. Where the mark
        cannot be written (nor, on a forced exit, be waited for) the lock is kept: the next run takes it
        over, which tells it as much."""
        if self.steps_started and not self.journal.marked:
            if forced:
                return
            try:
                self.journal.mark_interrupted()
            except Exception:
                return
        lock.release(self.journal.seal())

    def context(self, sink: EventSink, *, current: bool = False) -> StepContext:
        """``current``: the journal tells how reality was left (``StepContext.journal_current``)."""
        return StepContext(outputs={}, previous=self.journal.outputs(), sink=sink, journal_current=current)

    def write_run_record(self, kind: str, record: dict[str, Any]) -> Path:
        """Keep a record of the run (steps, waits, requests) for timelines and benchmarks. Scrubbed: a
        failed step's error text may quote a secret an AWS error echoed. Written whole, not flushed to disk:
        nothing rests on it (the journal is what a run trusts), and the flushes would be the last thing every
        command waits for."""
        from tscloud_py import redact
        from tscloud_py.files import write_whole

        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = self.app.project_dir / ".tscloud" / "deploys" / f"{stamp}-{kind}-{self.config.app}-{self.config.stage}.json"
        body = json.dumps(redact.scrub_obj(record), indent=2, sort_keys=True, default=str).encode()
        if not write_whole(path, body):
            raise OSError(f"cannot write the run record {path}")
        return path
