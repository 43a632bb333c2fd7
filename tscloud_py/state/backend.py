"""Which state backend a command uses, and the lock and journal it gives.

``s3`` (the default): the lock and journal are objects in the account's state
bucket, so every machine deploying a stage sees the same lock; under ``--local``
that bucket is inside the user's emulator, so ``--local`` and ``--endpoint-url``
at the same emulator share one lock and one journal. ``local``
(``[state] backend = "local"``): files under ``.tscloud/state/``, keyed by
target, account, region, app and stage.
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tscloud_py.state.file_lock import RunLock
from tscloud_py.state.journal import FileJournalStore, Journal, JournalStore
from tscloud_py.state.object_store import LeaseLock, ObjectJournalStore, journal_key, lock_key

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory, RequestLog
    from tscloud_py.aws.state_bucket import S3StateStore
    from tscloud_py.config.schema import Config
    from tscloud_py.operations.context import AppContext


@dataclass
class StateBackend:
    kind: str  # "s3" or "local"
    app: str
    stage: str
    local_dir: Path
    store: S3StateStore | None = None
    requests: RequestLog | None = None  # the state requests, counted apart from the resource requests

    @classmethod
    def choose(cls, app: AppContext, aws: ClientFactory, config: Config) -> StateBackend:
        local_dir = app.state_dir(aws, config.app, config.stage)
        if config.state.backend == "local":
            return cls("local", config.app, config.stage, local_dir)
        store = s3_store(aws, config)
        return cls("s3", config.app, config.stage, local_dir, store, store.factory.requests)

    @property
    def where(self) -> str:
        return self.store.where if self.store is not None else str(self.local_dir)

    def journal_store(self) -> JournalStore:
        if self.store is None:
            return FileJournalStore(self.local_dir / "journal.json")
        return ObjectJournalStore(self.store, journal_key(self.app, self.stage))

    def journal(self, *, preset: str, locking: bool = False) -> Journal:
        """This stage's journal: the local file (healed when unusable), or the object in the state bucket.

        ``locking``: the command takes the run lock, and the state bucket's journal is read once it is
        held (what is read before could change before then), so it is not read now; the bucket is looked
        at instead, which the lock's first write would otherwise do on its way.
        """
        if self.store is None:
            return Journal(self.local_dir / "journal.json", app=self.app, stage=self.stage, preset=preset)
        if locking:
            self.store.inspect()
        return Journal(app=self.app, stage=self.stage, preset=preset, store=self.journal_store(),
                       read=not locking)

    def lock(self, *, scope: str, force: int, confirm_break: Any = None) -> RunLock | LeaseLock:
        if self.store is None:
            return RunLock(self.local_dir / "lock", scope=scope, force=force)
        return LeaseLock(self.store, lock_key(self.app, self.stage), scope=scope, holder=holder(),
                         force=force, confirm_break=confirm_break)


def s3_store(aws: ClientFactory, config: Config) -> S3StateStore:
    from tscloud_py.aws.state_bucket import S3StateStore, default_bucket_name

    factory = aws.sibling()
    if config.state.bucket:
        return S3StateStore(factory, config.state.bucket, owned=False, config_path=config.path)
    return S3StateStore(factory, default_bucket_name(aws.account_id(), aws.region), owned=True,
                        config_path=config.path)


def holder() -> dict[str, Any]:
    """Who takes a lock: shown to whoever is refused."""
    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    return {
        "user": user,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "command": " ".join(["tscloud", *sys.argv[1:]])[:200],
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
