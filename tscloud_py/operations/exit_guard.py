"""A signal always ends the process: if the normal unwinding has not exited within a grace period after
SIGINT or SIGTERM, a watchdog gives back what must not be left held (the run lock) and exits.

The main thread unwinds on the signal (the lock is released, the journal is whole, one line is printed).
Should it be stuck instead (a wait that never returns, a lock a half-finished call left taken), the user's
Ctrl-C must still end the run, and must not leave a live lease that blocks the next one.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator

GRACE_SECONDS = 20.0



class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so it unwinds (lock released, journal whole) as Ctrl-C does."""


_releases: list[Callable[[], None]] = []
_armed = threading.Event()
_lock = threading.Lock()


@contextlib.contextmanager
def released_on_forced_exit(release: Callable[[], None]) -> Iterator[None]:
    """While inside, ``release`` is called if the watchdog has to end the process."""
    with _lock:
        _releases.append(release)
    try:
        yield
    finally:
        with _lock:
            if release in _releases:
                _releases.remove(release)


def arm(code: int, what: str = "interrupted", *, grace: float | None = None,
        exit: Callable[[int], None] = os._exit) -> None:
    """Start the watchdog once: after ``grace`` seconds, release what is registered, say ``what`` happened
    and exit with ``code``."""
    if _armed.is_set():
        return
    _armed.set()
    grace = GRACE_SECONDS if grace is None else grace
    threading.Thread(target=_fire, args=(code, what, grace, exit), name="exit-watchdog", daemon=True).start()


def _fire(code: int, what: str, grace: float, exit: Callable[[int], None]) -> None:
    threading.Event().wait(grace)
    with _lock:
        releases = list(reversed(_releases))
    for release in releases:
        with contextlib.suppress(Exception):
            release()
    with contextlib.suppress(Exception):
        sys.stderr.write(f"error: {what}; re-run the same command to resume (the run did not stop within "
                         f"{grace:.0f}s of the signal: the lock was given back and it exited)\n")
        sys.stderr.flush()
    exit(code)


def reset() -> None:
    """Disarm (tests)."""
    _armed.clear()
    with _lock:
        _releases.clear()
