"""One lock per (account, region, app, stage) for the whole run.

The lock is a file holding who took it (pid, host, user, command, time) with an
exclusive ``flock`` held for the run. The kernel drops the flock when the
holder dies, even by SIGKILL, so a dead run's lock is recognised as stale and
taken over with a notice. A holder on another host (a shared filesystem) is
broken by ``--force-unlock``; a holder that is alive on this host only by
``--force-unlock`` given twice, since both runs would then write at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import IO, Any

from tscloud_py.errors import LockHeldError


class RunLock:
    def __init__(self, path: Path, *, scope: str, force: int = 0) -> None:
        self.path = path
        self.scope = scope
        self.force = force
        self._fh: IO[str] | None = None
        self.took_over: dict[str, Any] | None = None
        # of the holder taken over: "dead", "alive" (on this host) or "unknown" (another host)
        self.took_over_state = "dead"

    def acquire(self, *, force: int | None = None) -> None:
        """Take the lock. ``force`` (default: the constructor's) 1 breaks a holder this host cannot
        see; 2 also one alive here."""
        force = self.force if force is None else force
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if force and self.path.exists() and self._held_by_someone():
            holder = self.holder() or {}
            state = holder_state(holder)
            if state == "alive" and force < 2:
                raise LockHeldError(
                    f"{self.scope} is locked by {describe_holder(holder)}, which is running on this host",
                    "wait for it, or stop it; --force-unlock given twice takes the lock anyway, and then "
                    "both runs write at once")
            self.took_over, self.took_over_state = holder, state
            self.path.unlink()
        for _attempt in range(20):
            fh = open(self.path, "a+")  # noqa: SIM115 - held for the whole run
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self.holder() or {}
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
        if previous and self.took_over is None:
            # The file names a holder but nobody holds the flock: that run died.
            self.took_over = previous
        fh.seek(0)
        fh.truncate()
        json.dump(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "user": _user(),
                "command": " ".join(["tscloud", *sys.argv[1:]])[:200],
                "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            fh,
        )
        fh.flush()
        os.fsync(fh.fileno())
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

    def holder(self) -> dict[str, Any] | None:
        try:
            text = self.path.read_text()
        except OSError:
            return None
        try:
            data = json.loads(text) if text.strip() else None
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def release(self) -> None:
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
        self.acquire(force=self.force)
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


def holder_state(holder: dict[str, Any]) -> str:
    """"alive" when the holder's pid runs on this host, "dead" when it does not, "unknown" elsewhere."""
    if holder.get("host") != socket.gethostname():
        return "unknown"
    try:
        pid = int(holder.get("pid", 0))
    except (TypeError, ValueError):
        return "unknown"
    if pid <= 0:
        return "unknown"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "dead"
    except PermissionError:
        return "alive"  # it exists, under another user
    return "alive"


def describe_holder(holder: dict[str, Any]) -> str:
    if not holder:
        return "another tscloud run"
    return (
        f"pid {holder.get('pid', '?')} on {holder.get('host', '?')} "
        f"(user {holder.get('user', '?')}, `{holder.get('command', '?')}`, since {holder.get('started', '?')})"
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
