"""The local run lock: a file under the working copy's ``.tscloud/`` holding an exclusive ``flock``.

The file names its holder (``Holder``: run id, pid, host, user, command, time) and is flocked for the
whole run. The kernel drops the flock when the holder dies, even by SIGKILL, so a dead run's lock is
known as dead and taken over with a notice. A live holder is broken only by ``--force-unlock`` given
twice (both runs would then write at once). The state bucket's ``LeaseLock`` holds one of these too, as
its proof of life for runs of the same working copy.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import IO

from tscloud_py.errors import LockHeldError, StateConflictError
from tscloud_py.state.lock import ConfirmBreak, Holder, HolderState, describe_holder, pid_state


class RunLock:
    """A ``Lock`` (``state/lock.py``) made of a flocked file."""

    def __init__(self, path: Path, *, scope: str, holder: Holder | None = None) -> None:
        self.path = path
        self.scope = scope
        self.me = holder or Holder.this_run()
        self._fh: IO[str] | None = None
        self.took_over: Holder | None = None
        self.took_over_state: HolderState = "dead"

    def acquire(self, *, force: int = 0, confirm_break: ConfirmBreak | None = None) -> None:
        """Take the lock (see ``Lock``). A holder whose flock is held is alive somewhere on this machine:
        refused, or with ``force`` 2 broken (its file unlinked, a new one flocked) after ``confirm_break``."""
        self.took_over, self.took_over_state = None, "dead"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if force and self.path.exists() and self._held_by_someone():
            holder = self.holder()
            state = pid_state(holder) if holder is not None else "unknown"
            if state == "alive" and force < 2:
                raise LockHeldError(
                    f"{self.scope} is locked by {describe_holder(holder)}, which is running on this host",
                    "wait for it, or stop it; --force-unlock given twice takes the lock anyway, and then "
                    "both runs write at once")
            if confirm_break is not None and not confirm_break(holder):
                raise LockHeldError(f"{self.scope} is locked by {describe_holder(holder)}; left alone", None)
            self.took_over, self.took_over_state = holder, state
            self.path.unlink()
        for _attempt in range(20):
            fh = open(self.path, "a+")  # noqa: SIM115 - held for the whole run
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self.holder()
                fh.close()
                raise LockHeldError(
                    f"{self.scope} is locked by {describe_holder(holder)}",
                    "wait for that run to finish; if it is stuck, re-run with --force-unlock",
                ) from None
            if _same_file(fh, self.path):
                break
            # We locked a file that its holder unlinked on release (or --force-unlock replaced): retry.
            fh.close()
        else:
            raise LockHeldError(f"{self.scope}: the lock file keeps changing under us", None)
        previous = self.holder()
        if previous is not None and self.took_over is None:
            # The file names a holder but nobody held the flock: that run died.
            self.took_over, self.took_over_state = previous, "dead"
        fh.seek(0)
        fh.truncate()
        # Not flushed to disk: the flock is the lock, and it ends with the process; what the file names (who
        # holds it) is for messages, and after a crash of the machine nobody holds it.
        json.dump(self.me.to_json(), fh)
        fh.flush()
        self._fh = fh

    def _held_by_someone(self) -> bool:
        try:
            fh = open(self.path)  # noqa: SIM115 - probed and closed here
        except OSError:
            return False
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            fh.close()  # closing drops a probe lock we may have taken
        return False

    def holder(self) -> Holder | None:
        try:
            text = self.path.read_text()
        except OSError:
            return None
        try:
            return Holder.from_json(json.loads(text)) if text.strip() else None
        except ValueError:
            return None

    def renew(self) -> None:
        """Nothing to renew: the flock lasts as long as this process."""

    def check(self) -> None:
        """Raise if --force-unlock given twice replaced our file: another run holds the lock now."""
        if self._fh is not None and not _same_file(self._fh, self.path):
            raise StateConflictError(
                f"{self.scope}: this run lost its lock to another run; stopping so it cannot overwrite that "
                "run's journal", "re-run when the other run is done (`tscloud state show` names it)")

    def release(self, seal: str | None = None) -> None:
        """``seal`` is for locks in a shared store (``Lock``); the journal beside a flock is a local file."""
        if self._fh is None:
            return
        try:
            # Unlink while still holding the flock, and only our own file: a run that --force-unlock
            # took the lock from must not delete the new holder's lock when it finally finishes.
            if _same_file(self._fh, self.path):
                with contextlib.suppress(OSError):
                    self.path.unlink()
            self._fh.seek(0)
            self._fh.truncate()
            self._fh.flush()
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        finally:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _same_file(fh: IO[str], path: Path) -> bool:
    """Whether ``path`` still names the file ``fh`` has open."""
    try:
        here, there = os.fstat(fh.fileno()), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)
