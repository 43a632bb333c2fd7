"""The run lock's contract: one ``Lock`` protocol, one ``Holder`` record.

A run that writes a stage (deploy, destroy, state migrate) holds that stage's lock from before its first
write to after its last. Two locks keep that promise:

- ``RunLock`` (``state/file_lock.py``): a file under the working copy's ``.tscloud/`` with an exclusive
  ``flock`` held for the run; the kernel drops it when the holder dies, so a dead holder is known as dead.
- ``LeaseLock`` (``state/object_store.py``): an object in the account's state bucket, kept by a renewed
  lease, so every machine deploying the stage sees it. It also holds the working copy's ``RunLock``: a
  lease held by a run whose ``RunLock`` this run could take is a dead run's, taken over at once.

Both name their holder with the same ``Holder`` record. Like Terraform's ``statemgr.Locker``, the
contract is a handful of methods; what a lock is made of is its own business.
"""

from __future__ import annotations

import getpass
import os
import secrets
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

# Of a holder whose lock was taken over: "dead" (proved by its flock: its process is gone), "expired"
# (its lease ran out), or, for what --force-unlock broke, "alive" (its pid runs on this host) or
# "unknown" (nothing this host can check).
HolderState = str


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: shown to whoever is refused, and the run id that proves a takeover."""

    run: str  # random per run: pids are reused and containers share hostnames, a run id is neither
    pid: int
    host: str
    user: str
    command: str
    started: str

    @classmethod
    def this_run(cls) -> Holder:
        try:
            user = getpass.getuser()
        except Exception:
            user = "unknown"
        return cls(run=secrets.token_hex(8), pid=os.getpid(), host=socket.gethostname(), user=user,
                   command=" ".join(["tscloud", *sys.argv[1:]])[:200],
                   started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Holder | None:
        """The holder a stored record names, or None when it names none (empty, or not a record). A
        record written by an older tscloud has no run id: it is read with an empty one, which proves
        nothing."""
        if not isinstance(data, dict) or not data:
            return None
        try:
            pid = int(data.get("pid") or 0)
        except (TypeError, ValueError):
            pid = 0
        return cls(run=str(data.get("run") or ""), pid=pid, host=str(data.get("host") or "?"),
                   user=str(data.get("user") or "?"), command=str(data.get("command") or "?"),
                   started=str(data.get("started") or "?"))

    def describe(self) -> str:
        run = f", run {self.run}" if self.run else ""
        return f"pid {self.pid or '?'} on {self.host} (user {self.user}, `{self.command}`, since {self.started}{run})"


def describe_holder(holder: Holder | None) -> str:
    # None: the record names no holder it could be checked by (``validate.lock_record`` refused it)
    return holder.describe() if holder is not None else "a malformed lock record (holder unknown)"


def pid_state(holder: Holder) -> HolderState:
    """What this host can tell of a holder by its pid alone: "alive" when that pid runs here, else
    "unknown". Never "dead": another container with our hostname may run it, and pids are reused; only
    a flock proves a death."""
    if holder.host != socket.gethostname() or holder.pid <= 0:
        return "unknown"
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return "unknown"
    except PermissionError:
        return "alive"  # it exists, under another user
    return "alive"


ConfirmBreak = Callable[[Holder | None], bool]  # None: the holder's record is unreadable


class Lock(Protocol):
    """One stage's run lock.

    ``acquire`` takes it or raises ``LockHeldError`` naming the holder. ``force`` is how many
    ``--force-unlock`` were given: 1 breaks a holder this host cannot see running, 2 also one that runs
    here; ``confirm_break`` is asked before a holder that may be alive is broken. After ``acquire``,
    ``took_over`` names the holder it replaced (if any) and ``took_over_state`` why that was allowed.

    ``renew`` keeps it held (a lease is rewritten; a flock needs nothing). ``check`` raises
    ``StateConflictError`` if another run took it meanwhile: called before every journal write.
    ``release`` gives it back, only if it is still ours; ``seal`` is the digest of the journal as the run
    leaves it, for a lock the next holder finds in a shared store (it trusts the journal only if it hashes
    to it). ``holder`` reads who holds it now.
    """

    scope: str
    took_over: Holder | None
    took_over_state: HolderState

    def acquire(self, *, force: int = 0, confirm_break: ConfirmBreak | None = None) -> None: ...
    def renew(self) -> None: ...
    def check(self) -> None: ...
    def release(self, seal: str | None = None) -> str | None: ...
    def holder(self) -> Holder | None: ...
