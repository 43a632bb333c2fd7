"""A stage's state backend: where its lock and journal live.

``s3`` (the default): the lock and journal are objects in the account's state bucket, so every machine
deploying a stage sees the same lock; under ``--local`` that bucket is inside the user's emulator, so
``--local`` and ``--endpoint-url`` at the same emulator share one lock and one journal. ``local``
(``[state] backend = "local"``): files under ``.tscloud/state/``, keyed by target, account, region, app
and stage. Either way the lock holds a flocked file under the working copy's ``.tscloud/``. Which one a command gets is decided in
``operations/state.py``; this module only builds what the choice names.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from tscloud_py.state.file_lock import RunLock
from tscloud_py.state.journal import FileJournalStore, Journal, JournalStore
from tscloud_py.state.lock import Lock
from tscloud_py.state.object_store import (
    LeaseLock,
    ObjectJournalStore,
    ObjectStore,
    journal_key,
    lock_key,
)
from tscloud_py.state.release_cache import ReleaseCache


@dataclass(frozen=True)
class KeptJournal:
    """The journal this working copy's last run left (``state/release_cache.py``), to start reads from
    before the lock is held: ``after``, the event they follow (the lock's write on the wire)."""

    body: bytes
    digest: str
    after: threading.Event


@dataclass
class StateBackend:
    app: str
    stage: str
    scope: str  # "app-stage (region)", as messages name the stage
    local_dir: Path  # the local backend's journal and lock file
    store: ObjectStore | None = None  # the state bucket; None for the local backend
    # The state bucket's lock also flocks a file of this working copy's, held for the run: the proof, to
    # the next run here, that its holder is alive. Kept apart from local_dir, which holds no state then.
    working_copy_lock: Path | None = None
    lock: Lock = field(init=False)

    def __post_init__(self) -> None:
        local_path = self.working_copy_lock or self.local_dir / "lock"
        local = RunLock(local_path, scope=self.scope)
        if self.store is None:
            self.lock = local
            return
        key = lock_key(self.app, self.stage)
        self.lock = LeaseLock(self.store, key, local=local,
                              cache=ReleaseCache(local_path.with_name("released.json"), f"{self.store.where}/{key}"))

    @property
    def kind(self) -> str:
        return "local" if self.store is None else "s3"

    @property
    def where(self) -> str:
        return self.store.where if self.store is not None else str(self.local_dir)

    def kept_journal(self, journal: Journal) -> KeptJournal | None:
        """What this working copy's last run left, if anything: ``journal``'s store is asked at once, beside
        the lock's write, whether it still holds it (``ObjectJournalStore.expect``)."""
        if self.store is None or not isinstance(self.lock, LeaseLock) or self.lock.cache is None:
            return None
        kept = self.lock.cache.peek()
        if kept is None:
            return None
        if isinstance(journal.store, ObjectJournalStore):
            journal.store.expect(kept)
        return KeptJournal(kept.body, kept.digest, self.store.writing)

    def journal_store(self) -> JournalStore:
        if self.store is None:
            return FileJournalStore(self.local_dir / "journal.json")
        assert isinstance(self.lock, LeaseLock)
        return ObjectJournalStore(self.store, journal_key(self.app, self.stage), lock=self.lock)

    def journal(self, *, preset: str, locking: bool = False) -> Journal:
        """This stage's journal: the local file (healed when unusable), or the object in the state bucket.

        ``locking``: the command takes the run lock, and the state bucket's journal is read once it is
        held (what is read before could change before then), so it is not read now.
        """
        if self.store is None:
            return Journal(self.local_dir / "journal.json", app=self.app, stage=self.stage, preset=preset)
        return Journal(app=self.app, stage=self.stage, preset=preset, store=self.journal_store(),
                       read=not locking)
