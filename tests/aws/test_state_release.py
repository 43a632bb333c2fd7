"""The released lock record against moto's S3 (in-process): one write takes the lock of a working copy whose
last run gave it back, the journal written beside a release is trusted only when it landed, and any other
holder in between sends the next run back to reading the bucket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from tscloud_py.aws.session import ClientFactory
from tscloud_py.aws.state_bucket import S3StateStore
from tscloud_py.state.file_lock import RunLock
from tscloud_py.state.journal import Journal
from tscloud_py.state.lock import Holder
from tscloud_py.state.object_store import LeaseLock, ObjectJournalStore, digest, is_released
from tscloud_py.state.release_cache import ReleaseCache

HOLDER = Holder(run="0123456789abcdef", user="u", host="h", pid=1, command="tscloud deploy",
                started="2026-01-01T00:00:00Z")
LOCK, JOURNAL = "locks/app/dev", "journals/app/dev.json"


@pytest.fixture
def store() -> Iterator[S3StateStore]:
    with mock_aws():
        store = S3StateStore(ClientFactory(region="us-east-1"), "tscloud-state-123456789012-us-east-1", owned=True)
        store.ensure()
        yield store


class Copy:
    """A working copy's view of the stage: its lock (with its release cache) and its journal."""

    def __init__(self, store: S3StateStore, where: Path, pid: int) -> None:
        local = RunLock(where / "lock", scope="app-dev (us-east-1)", holder=replace(HOLDER, pid=pid, run=f"{pid:016x}"))
        self.cache = ReleaseCache(where / "released.json", f"{store.where}/{LOCK}")
        self.lock = LeaseLock(store, LOCK, local=local, lease=120, cache=self.cache)
        self.store = ObjectJournalStore(store, JOURNAL, lock=self.lock)
        self.journal = Journal(app="app", stage="dev", preset="static-site", store=self.store, read=False)

    def run(self, outputs: dict[str, Any], *, ok: bool = True) -> None:
        """A deploy: lock, journal read, a step recorded, the summary written beside the release."""
        self.lock.acquire()
        self.journal.reload()
        self.journal.record("bucket", status="updated", outputs=outputs)
        self.journal.mark_run({"ok": ok}, release=self.lock.release)


def calls(store: S3StateStore) -> dict[str, int]:
    return dict(store.factory.requests.calls)


def test_a_working_copy_takes_back_its_own_released_lock_in_one_write(store: S3StateStore, tmp_path: Path) -> None:
    first = Copy(store, tmp_path / "copy", 1)
    first.run({"bucket": "b1"})
    current = store.get(LOCK)
    assert current is not None
    record = json.loads(current.body)
    stored = store.get(JOURNAL)
    assert stored is not None and is_released(record) and record["journal"] == digest(stored.body)
    assert first.cache.peek() is not None

    again = Copy(store, tmp_path / "copy", 2)
    store.factory.requests.calls.clear()
    again.lock.acquire()
    assert calls(store) == {"s3:PutObject": 1}  # the lock taken back on its ETag: no lock read
    again.journal.reload()
    assert calls(store) == {"s3:PutObject": 1, "s3:GetObject": 1}  # a conditional read, answered 304
    assert again.store.vouched is True and again.journal.finished()
    assert again.journal.outputs() == {"bucket": {"bucket": "b1"}}
    assert again.cache.peek() is None  # taken: a run that dies now leaves nothing to trust
    again.journal.record("bucket", status="updated", outputs={"bucket": "b2"})
    again.journal.mark_run({"ok": True}, release=again.lock.release)
    stored = store.get(JOURNAL)
    assert stored is not None and json.loads(stored.body)["steps"]["bucket"]["outputs"] == {"bucket": "b2"}


def test_another_holder_in_between_sends_the_next_run_to_the_bucket(store: S3StateStore, tmp_path: Path) -> None:
    mine = Copy(store, tmp_path / "mine", 1)
    mine.run({"bucket": "mine"})
    Copy(store, tmp_path / "theirs", 2).run({"bucket": "theirs"})  # another machine deploys meanwhile

    back = Copy(store, tmp_path / "mine", 3)
    back.lock.acquire()
    back.journal.reload()
    assert back.lock.kept is None  # the kept ETag no longer matched: the lock was read and replaced
    assert back.store.vouched is True and back.journal.finished()
    assert back.journal.outputs() == {"bucket": {"bucket": "theirs"}}


def test_a_journal_write_lost_beside_its_release_is_not_trusted(store: S3StateStore, tmp_path: Path) -> None:
    run = Copy(store, tmp_path / "a", 1)
    run.lock.acquire()
    run.journal.reload()
    run.journal.record("bucket", status="created", outputs={"bucket": "b"})  # written at once
    before = store.get(JOURNAL)
    assert before is not None

    def lost(key: str, body: bytes, etag: str) -> str:
        raise RuntimeError("connection reset")  # the summary's write never lands; the release does

    run.store.store = replace_method(store, "replace", lost)
    with pytest.raises(RuntimeError):
        run.journal.mark_run({"ok": True}, release=run.lock.release)
    assert is_released(json.loads(store.get(LOCK).body))  # type: ignore[union-attr]
    assert run.cache.peek() is None  # nothing kept for a run that did not land both writes

    nxt = Copy(store, tmp_path / "b", 2)
    nxt.lock.acquire()
    nxt.journal.reload()
    assert nxt.store.vouched is False and not nxt.journal.finished()  # the journal is not what was sealed
    assert nxt.journal.outputs() == {"bucket": {"bucket": "b"}}


def test_a_lock_made_anew_does_not_vouch_for_the_journal(store: S3StateStore, tmp_path: Path) -> None:
    first = Copy(store, tmp_path / "a", 1)
    first.run({"bucket": "b"})
    store.delete(LOCK)  # `tscloud state unlock`, or a stage last deployed by a tscloud that deleted its lock
    nxt = Copy(store, tmp_path / "b", 2)
    nxt.lock.acquire()
    nxt.journal.reload()
    assert nxt.lock.seal is None and nxt.store.vouched is False and not nxt.journal.finished()


def test_a_kept_file_for_another_bucket_or_torn_is_not_used(tmp_path: Path) -> None:
    cache = ReleaseCache(tmp_path / "released.json", "s3://one/locks/app/dev")
    (tmp_path / "released.json").write_text("{not json")
    assert cache.take() is None and not (tmp_path / "released.json").exists()
    from tscloud_py.state.release_cache import Released

    ReleaseCache(tmp_path / "released.json", "s3://other/locks/app/dev").keep(Released('"e"', '"j"', "d", b"{}"))
    assert cache.peek() is None
    assert (tmp_path / "released.json").stat().st_mode & 0o077 == 0


class replace_method:
    """``store`` with one method swapped (a fault moto cannot make: a write whose connection drops)."""

    def __init__(self, store: S3StateStore, name: str, fn: Any) -> None:
        self._store, self._name, self._fn = store, name, fn

    def __getattr__(self, attr: str) -> Any:
        return self._fn if attr == self._name else getattr(self._store, attr)


def test_a_journal_edited_by_hand_since_is_read_as_it_is(store: S3StateStore, tmp_path: Path) -> None:
    first = Copy(store, tmp_path / "copy", 1)
    first.run({"bucket": "b1"})
    stored = store.get(JOURNAL)
    assert stored is not None
    edited = json.loads(stored.body)
    edited["steps"]["bucket"]["outputs"] = {"bucket": "by-hand"}
    store.replace(JOURNAL, json.dumps(edited).encode(), stored.etag)  # no lock taken: a hand's edit

    again = Copy(store, tmp_path / "copy", 2)
    again.lock.acquire()
    again.journal.reload()
    assert again.lock.kept is not None  # the lock came back in one write ...
    assert again.journal.outputs() == {"bucket": {"bucket": "by-hand"}}  # ... the journal is what is stored
    assert again.store.vouched is False and not again.journal.finished()  # and not the run's last word
    again.journal.mark_run({"ok": True}, release=again.lock.release)  # written over the edit's ETag


def test_the_lock_write_is_seen_on_the_wire_whichever_client_sends_it(store: S3StateStore, tmp_path: Path) -> None:
    """Early reads wait for the state bucket's first write (``writing``); a read answered before it moves the
    store to its full-retry client, which must tell of the write too (else the reads wait their whole second)."""
    Copy(store, tmp_path / "copy", 1).run({"bucket": "b1"})
    fresh = S3StateStore(store.factory, store.bucket, owned=True)
    assert fresh.get(JOURNAL) is not None  # answered: the next request goes through the other client
    assert not fresh.writing.is_set()
    current = fresh.get(LOCK)
    assert current is not None
    fresh.replace(LOCK, current.body, current.etag)
    assert fresh.writing.is_set()
