"""State kept in an object store the account holds: a leased lock and an optimistically written journal.

The store offers the conditional writes object stores have (S3 since 2024):
``create`` succeeds only if the key is absent (``If-None-Match: *``), ``replace``
only if the key still has the ETag we last saw (``If-Match``). Everything that
makes two machines safe rests on those two primitives:

- The lock is ``locks/<app>/<stage>``: a holder's record while it is held, a
  released record (``{"released": time, "journal": digest}``) once given back.
  It is taken with ``replace`` on a released record's ETag (``create`` where
  there is none yet). Its holder renews it every ``renew_every`` seconds with
  ``replace`` on its own ETag, so a renewal that fails means somebody took the
  lock over and this run lost it.
- Giving it back replaces it with a released record naming the digest of the
  journal as the run left it, written at the same time as that journal: the
  next holder trusts the journal (``vouched``) only if it hashes to that
  digest, so a journal write lost beside a release is never taken for the
  run's last word. A run that finds the released record it left itself
  (``state/release_cache.py``) knows the journal without reading it.
- A lock is expired when the store says it was last written more than its
  lease ago (the store's clock on both ends, so machines' clocks do not
  matter); a newcomer then takes it over with ``replace`` on the expired
  holder's ETag, so of two newcomers exactly one wins.
- A lock whose holder ran in this working copy and has ended (its flock on
  the working copy's lock file is free) is taken over the same way at once:
  the lease is for holders whose death this machine cannot see.
- The journal is ``journals/<app>/<stage>.json``, written with ``replace`` on
  the ETag read at the start (or ``create`` when there was none): a writer that
  lost the lock can never overwrite a newer journal.

Nothing here knows which store it is; ``aws/state_bucket.py`` is the S3 one.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from tscloud_py.concurrency import Background
from tscloud_py.errors import LockHeldError, StateConflictError
from tscloud_py.state import validate
from tscloud_py.state.file_lock import RunLock
from tscloud_py.state.journal import Release
from tscloud_py.state.lock import (
    ConfirmBreak,
    Holder,
    HolderState,
    describe_holder,
    pid_state,
)
from tscloud_py.state.release_cache import ReleaseCache, Released

DEFAULT_LEASE_SECONDS = 120.0
LEASE_ENV = "TSCLOUD_LOCK_LEASE_SECONDS"


def lease_seconds() -> float:
    """The lease length: 120 s, or ``TSCLOUD_LOCK_LEASE_SECONDS`` (tests shorten it): a finite number of
    seconds from 1 to a day, else a usage error naming the variable (a NaN lease would never expire, and
    its renewer would spin)."""
    raw = os.environ.get(LEASE_ENV)
    if not raw:
        return DEFAULT_LEASE_SECONDS
    try:
        return validate.lease_seconds(raw.strip(), LEASE_ENV)
    except validate.Malformed as exc:
        from tscloud_py.errors import UsageError

        raise UsageError(str(exc)) from None


class Conflict(Exception):
    """A conditional write lost: the key exists (create) or has another ETag (replace)."""


@dataclass
class Stored:
    body: bytes
    etag: str
    age: float  # seconds since the object was last written, by the store's clock


NOT_MODIFIED = Stored(b"", "", 0.0)  # what ``get(key, unless=etag)`` answers when the key still has ``etag``


class ObjectStore(Protocol):
    # set once a write (a run's first: the lock's) is on the wire; reads started early follow it
    writing: threading.Event

    @property
    def where(self) -> str: ...  # shown to users, e.g. "s3://bucket"

    # ``unless``: an ETag; the key still holding it is answered NOT_MODIFIED, without its body
    def get(self, key: str, *, unless: str | None = None) -> Stored | None: ...
    def create(self, key: str, body: bytes) -> str: ...
    def replace(self, key: str, body: bytes, etag: str) -> str: ...
    def delete(self, key: str, etag: str | None = None) -> None: ...
    def keys(self, prefix: str) -> list[str]: ...


def put(store: ObjectStore, key: str, body: bytes, etag: str | None) -> str | None:
    """Write ``body`` at ``key``: create it (``etag`` None) or replace the version ``etag``. The new ETag,
    or None when the key holds another writer's version.

    The SDK resends a write whose answer was lost (a 5xx, a dropped connection); the first attempt took
    effect, so the resend's condition fails. A key that holds exactly ``body`` tells that apart from a
    write by another run.
    """
    try:
        return store.create(key, body) if etag is None else store.replace(key, body, etag)
    except Conflict:
        current = store.get(key)
        return current.etag if current is not None and current.body == body else None


def lock_key(app: str, stage: str) -> str:
    return f"locks/{app}/{stage}"


def journal_key(app: str, stage: str) -> str:
    return f"journals/{app}/{stage}.json"


def _now_text(at: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at if at is not None else time.time()))


class LeaseLock:
    """A ``Lock`` (``state/lock.py``) made of an object with a renewed lease, and the working copy's
    ``RunLock`` held beside it for the whole run.

    The lease is what another machine sees: while it is live, the holder may be deploying. The local
    ``RunLock`` is what this working copy knows: when this run takes it and finds the previous holder's
    record there, that run has ended (the kernel dropped its flock). If the lease names that same run, it
    is a dead run's lease and is taken over at once, with a conditional write on its ETag.
    """

    def __init__(self, store: ObjectStore, key: str, *, local: RunLock, lease: float | None = None,
                 cache: ReleaseCache | None = None) -> None:
        self.store = store
        self.key = key
        self.local = local
        self.scope = local.scope
        self.lease = lease if lease is not None else lease_seconds()
        self.renew_every = self.lease / 4
        self.cache = cache
        self.took_over: Holder | None = None
        self.took_over_state: HolderState = "expired"
        # Once acquired: the journal digest the released record we replaced names (None: there was no
        # released record, or it named none), and what this working copy kept when that record is the one
        # its own last run left (then the journal is known without a read).
        self.seal: str | None = None
        self.kept: Released | None = None
        self.lost = threading.Event()
        self._body: dict[str, Any] = {**local.me.to_json(), "lease_seconds": self.lease}
        self._etag: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._etag_lock = threading.Lock()

    # -- taking and giving back ------------------------------------------------
    def acquire(self, *, force: int = 0, confirm_break: ConfirmBreak | None = None) -> None:
        """Take the lock (see ``Lock``): first this working copy's ``RunLock``, then the lease."""
        self._stop.clear()
        self.lost.clear()
        self.took_over, self.took_over_state = None, "expired"
        self.seal, self.kept = None, None
        self.local.acquire(force=force, confirm_break=confirm_break)
        try:
            self._take_lease(force, confirm_break)
        except BaseException:
            self.local.release()
            raise
        self._renewer = threading.Thread(target=self._renew_loop, name="lock-lease", daemon=True)
        self._renewer.start()

    def _take_lease(self, force: int, confirm_break: ConfirmBreak | None) -> None:
        kept = self.cache.take() if self.cache is not None else None
        if kept is not None:
            etag = put(self.store, self.key, self._encode(), kept.lock_etag)
            if etag is not None:  # nobody took the lock since this working copy gave it back
                self._etag, self.seal, self.kept = etag, kept.digest, kept
                return
        for _attempt in range(5):
            body = self._encode()
            current = self.store.get(self.key)
            if current is None:
                self._etag = put(self.store, self.key, body, None)
                if self._etag is not None:
                    return
                continue  # another run created it first: look again
            record = parse_record(current.body)
            if is_released(record):
                self._etag = put(self.store, self.key, body, current.etag)
                if self._etag is not None:
                    seal = record.get("journal")
                    self.seal = seal if isinstance(seal, str) else None
                    return
                continue
            holder = Holder.from_json(record)
            state = self._holder_state(holder, current, record)
            if state not in ("expired", "dead"):
                self._may_break(holder, state, force, current, record, confirm_break)
            self._etag = put(self.store, self.key, body, current.etag)
            if self._etag is None:
                continue  # another newcomer took it first, or the holder renewed: look again
            self.took_over, self.took_over_state = holder, state
            return
        raise LockHeldError(f"{self.scope}: the lock keeps changing hands; try again", None)

    def _holder_state(self, holder: Holder | None, current: Stored, record: dict[str, Any]) -> HolderState:
        if current.age > lease_of(record, self.lease):
            return "expired"
        mine = self.local.took_over
        if holder is not None and holder.run and mine is not None and mine.run == holder.run:
            # This working copy's previous run holds the lease; its flock says whether it still runs
            # ("dead"), or --force-unlock broke it here ("alive", already confirmed).
            return self.local.took_over_state
        return pid_state(holder) if holder is not None else "unknown"

    def _may_break(self, holder: Holder | None, state: HolderState, force: int, current: Stored,
                   record: dict[str, Any], confirm_break: ConfirmBreak | None) -> None:
        """Raise unless --force-unlock may break this live lock."""
        if not force:
            raise LockHeldError(
                f"{self.scope} is locked by {describe_holder(holder)}, lease {lease_left(current, record)}",
                "wait for that run to finish; if it is stuck, re-run with --force-unlock "
                "(or `tscloud state unlock`)")
        if state == "alive" and force < 2:
            raise LockHeldError(
                f"{self.scope} is locked by {describe_holder(holder)}, which is running on this host",
                "wait for it, or stop it; --force-unlock given twice takes the lock anyway, and then "
                "both runs write at once")
        already = self.local.took_over is not None and holder is not None and self.local.took_over.run == holder.run
        if not already and confirm_break is not None and not confirm_break(holder):
            raise LockHeldError(f"{self.scope} is locked by {describe_holder(holder)}; left alone", None)

    def release(self, seal: str | None = None) -> str | None:
        """Give the lock back: replace it with a released record naming ``seal``, the digest of the journal
        as this run leaves it (None: unknown, so the next holder reads reality in full). The released
        record's ETag, or None when the lock was not ours to give back."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=10)
            self._renewer = None
        with self._etag_lock:
            etag, self._etag = self._etag, None
        try:
            if etag is not None and not self.lost.is_set():
                # Only our own lock: after a takeover the key holds someone else's, with another ETag.
                released = json.dumps({"released": _now_text(), "journal": seal}, sort_keys=True).encode()
                return put(self.store, self.key, released, etag)
            return None
        finally:
            # Last: while it is held, a run of this working copy that finds the lease knows we live.
            self.local.release()

    @property
    def held(self) -> bool:
        return self._etag is not None

    def keep(self, released: Released) -> None:
        """Remember, for this working copy's next run, the released record and the journal beside it."""
        if self.cache is not None:
            self.cache.keep(released)

    def holder(self) -> Holder | None:
        current = self.store.get(self.key)
        if current is None:
            return None
        record = parse_record(current.body)
        return None if is_released(record) else Holder.from_json(record)

    def __enter__(self) -> LeaseLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- the lease ---------------------------------------------------------------
    def renew(self) -> None:
        """Rewrite our lock (new write time, same holder) on our own ETag; a conflict means we lost it."""
        with self._etag_lock:
            if self._etag is None or self.lost.is_set():
                return
            self._body["renewed"] = _now_text()
            self._etag = put(self.store, self.key, self._encode(), self._etag)
            if self._etag is None:
                self.lost.set()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew_every):
            try:
                self.renew()
            except Exception:
                # A failed renewal (network) is retried next period; the lease has slack for three.
                continue

    def check(self) -> None:
        """Raise if this run no longer holds the lock (called before every journal write)."""
        if self.lost.is_set():
            raise StateConflictError(
                f"{self.scope}: this run lost its lock to another run; stopping so it cannot overwrite that "
                "run's journal", "re-run when the other run is done (`tscloud state show` names it)")

    def _encode(self) -> bytes:
        return json.dumps(self._body, sort_keys=True).encode()


def is_released(record: dict[str, Any]) -> bool:
    """Whether a stored lock record is a released one (the lock is free)."""
    return "released" in record


def digest(body: bytes) -> str:
    """What a released record names a journal by."""
    return hashlib.sha256(body).hexdigest()


def parse_record(body: bytes) -> dict[str, Any]:
    """A stored lock as a record (the holder's fields, ``lease_seconds``, ``renewed``; checked by
    ``validate.lock_record``); {} if unreadable, which names no holder and proves nothing."""
    try:
        return validate.lock_record(body)
    except validate.Malformed:
        return {}


def lease_of(record: dict[str, Any], default: float = DEFAULT_LEASE_SECONDS) -> float:
    try:
        return float(record.get("lease_seconds") or default)
    except (TypeError, ValueError):
        return default


def lease_left(current: Stored, record: dict[str, Any]) -> str:
    left = lease_of(record) - current.age
    return f"expires in {max(left, 0):.0f}s" if left > 0 else "expired"


class ObjectJournalStore:
    """Journal storage in the object store, written only over the version this run last saw."""

    def __init__(self, store: ObjectStore, key: str, *, lock: LeaseLock | None = None) -> None:
        self.store = store
        self.key = key
        self.lock = lock
        self.etag: str | None = None
        self.age: float | None = None
        self.digest: str | None = None  # of the body last read or written
        # Whether the lock we hold vouches for the journal read (it hashes to the digest the released
        # record names); None when read without the lock, where the journal's own word stands.
        self.vouched: bool | None = None
        self.writes = 0
        self._expected: tuple[Released, Background[Stored | None]] | None = None

    @property
    def where(self) -> str:
        return f"{self.store.where}/{self.key}"

    def expect(self, kept: Released) -> None:
        """Ask now whether the journal is still the one this working copy kept (a conditional read, no body
        when it is), so the answer is in by the time the lock is held."""
        self._expected = (kept, Background(lambda: self.store.get(self.key, unless=kept.journal_etag),
                                           name="journal-check"))

    def load(self) -> dict[str, Any] | None:
        kept = self.lock.kept if self.lock is not None else None
        expected, self._expected = self._expected, None
        if kept is not None:
            # Nobody held the lock since this working copy gave it back, so no run wrote the journal; a
            # hand's edit still would have, and is read as it is.
            if expected is not None and expected[0] == kept:
                found = expected[1].result()
            else:
                found = self.store.get(self.key, unless=kept.journal_etag)
            if found is NOT_MODIFIED:
                self.etag, self.age, self.digest, self.vouched = kept.journal_etag, None, kept.digest, True
                return validate.parse(kept.body, validate.MAX_JOURNAL_BYTES)
            return self._loaded(found)
        return self._loaded(self.store.get(self.key))

    def _loaded(self, current: Stored | None) -> dict[str, Any] | None:
        held = self.lock is not None and self.lock.held
        self.vouched = False if held else None
        if current is None:
            self.etag = self.digest = None
            return None
        self.etag, self.age, self.digest = current.etag, current.age, digest(current.body)
        if held and self.lock is not None:
            self.vouched = self.lock.seal is not None and self.lock.seal == self.digest
        return validate.parse(current.body, validate.MAX_JOURNAL_BYTES)

    def save(self, data: dict[str, Any], *, release: Release | None = None) -> None:
        """Write ``data`` over the version this run last saw. ``release``: give the lock back at the same
        time, naming the new journal's digest (the next holder trusts the journal only if it matches)."""
        if self.lock is not None:
            self.lock.check()
        body = json.dumps(data, indent=2, sort_keys=True, default=str).encode()
        sealed = digest(body)
        giving_back = None if release is None else Background(lambda: release(sealed), name="lock-release")
        try:
            etag = put(self.store, self.key, body, self.etag)
        except BaseException:
            if giving_back is not None:
                giving_back.wait()
            raise
        if etag is not None:
            self.etag, self.digest = etag, sealed
            self.writes += 1
        # The release's own failure is raised only now, with the journal's outcome already taken in.
        released = giving_back.result() if giving_back is not None else None
        if etag is None:
            raise StateConflictError(
                f"the journal {self.where} was written by another run since this one read it; stopping "
                "without overwriting it",
                "another machine deployed this stage meanwhile; re-run to continue from its journal")
        if released is not None and self.lock is not None:
            self.lock.keep(Released(released, etag, sealed, body))

