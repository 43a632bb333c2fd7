"""The state bucket's lock and journal against moto's S3 (in-process): conditional writes decide every race."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from tscloud_py.aws.session import ClientFactory
from tscloud_py.aws.state_bucket import S3StateStore
from tscloud_py.errors import LockHeldError, StateConflictError
from tscloud_py.presets.naming import region_code
from tscloud_py.state.file_lock import RunLock
from tscloud_py.state.journal import Journal
from tscloud_py.state.lock import Holder
from tscloud_py.state.object_store import (
    Conflict,
    LeaseLock,
    ObjectJournalStore,
    Stored,
    is_released,
)

HOLDER = Holder(run="0123456789abcdef", user="u", host="h", pid=1, command="tscloud deploy",
                started="2026-01-01T00:00:00Z")


@pytest.fixture
def store() -> Iterator[S3StateStore]:
    with mock_aws():
        yield S3StateStore(ClientFactory(region="us-east-1"), "tscloud-state-123456789012-us-east-1", owned=True)


def lock(store: S3StateStore, pid: int, where: Path, **kw: Any) -> LeaseLock:
    """The lease lock of a run on another machine (host "h"), with its own working copy under ``where``."""
    local = RunLock(where / f"copy-{pid}" / "lock", scope="app-dev (us-east-1)",
                    holder=replace(HOLDER, pid=pid, run=f"{pid:016x}"))
    return LeaseLock(store, "locks/app/dev", local=local, **kw)


def released(current: Stored | None) -> bool:
    """The lock is free: a released record (``state/object_store.py``)."""
    return current is not None and is_released(json.loads(current.body))


def test_racing_creates_exactly_one_wins(store: S3StateStore) -> None:
    store.ensure()
    wins: list[int] = []
    losses: list[int] = []
    start = threading.Barrier(8)

    def take(i: int) -> None:
        start.wait()
        try:
            store.create("locks/race", json.dumps({"pid": i}).encode())
            wins.append(i)
        except Conflict:
            losses.append(i)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(losses) == 7
    current = store.get("locks/race")
    assert current is not None and json.loads(current.body) == {"pid": wins[0]}


def test_a_live_lock_is_refused_an_expired_one_taken_over(store: S3StateStore, tmp_path: Path) -> None:
    first = lock(store, 1, tmp_path, lease=120)
    first.acquire()
    with pytest.raises(LockHeldError, match=r"locked by pid 1 on h .*lease expires in"):
        lock(store, 2, tmp_path).acquire()
    first._stop.set()  # the holder "dies": it renews no more
    late = lock(store, 3, tmp_path, lease=120)
    store_get = store.get

    def aged(key: str) -> Any:
        found = store_get(key)
        if found is not None:
            found.age = 121.0  # S3's clock says the lease ran out
        return found

    store.get = aged  # type: ignore[method-assign]
    late.acquire()
    assert late.took_over is not None and late.took_over.pid == 1 and late.took_over_state == "expired"
    late.release()
    assert released(store_get("locks/app/dev"))


def test_a_holder_that_lost_its_lock_cannot_write_the_journal(store: S3StateStore, tmp_path: Path) -> None:
    holder = lock(store, 1, tmp_path)
    holder.acquire()
    journal_store = ObjectJournalStore(store, "journals/app/dev.json", lock=holder)
    journal = Journal(app="app", stage="dev", preset="static-site", store=journal_store)
    journal.record("bucket", status="created", outputs={"bucket": "b"})

    # Another machine breaks the lock (--force-unlock) and writes the journal.
    asked: list[int] = []
    breaker = lock(store, 2, tmp_path)
    breaker.acquire(force=1, confirm_break=lambda holder: holder is not None and asked.append(holder.pid) is None)
    assert asked == [1]  # a live lease on another host: broken only after confirmation
    assert breaker.took_over is not None and breaker.took_over.pid == 1
    assert breaker.took_over_state == "unknown"
    theirs = Journal(app="app", stage="dev", preset="static-site",
                     store=ObjectJournalStore(store, "journals/app/dev.json", lock=breaker))
    theirs.record("bucket", status="created", outputs={"bucket": "theirs"})  # written at once, as a create is
    written = store.get("journals/app/dev.json")
    assert written is not None

    # The first run's next journal write is refused by If-Match; nothing is overwritten.
    with pytest.raises(StateConflictError, match="written by another run"):
        journal.record("oac", status="created", outputs={"oac_id": "x"})
    after = store.get("journals/app/dev.json")
    assert after is not None and after.body == written.body

    # Its renewal finds the lock gone to another ETag: it knows it lost, and stops writing at all.
    holder.renew()
    assert holder.lost.is_set()
    with pytest.raises(StateConflictError, match="lost its lock"):
        journal.mark_run({"ok": True})
    holder.release()  # never releases the new holder's lock
    assert not released(store.get("locks/app/dev"))
    breaker.release()
    assert released(store.get("locks/app/dev"))


def test_the_journal_round_trips_and_unchanged_steps_cost_no_write(store: S3StateStore) -> None:
    js = ObjectJournalStore(store, "journals/app/dev.json")
    journal = Journal(app="app", stage="dev", preset="static-site", store=js)
    journal.record("bucket", status="created", outputs={"bucket": "b"})
    assert js.writes == 1
    again = Journal(app="app", stage="dev", preset="static-site",
                    store=ObjectJournalStore(store, "journals/app/dev.json"))
    assert again.outputs() == {"bucket": {"bucket": "b"}}
    again.record("bucket", status="unchanged", outputs={"bucket": "b"})
    assert again.store.writes == 0  # type: ignore[attr-defined]
    assert again.steps["bucket"]["status"] == "unchanged"


def test_the_owned_bucket_is_made_with_its_guard_rails(store: S3StateStore) -> None:
    store.create("journals/x/dev.json", b"{}")
    s3 = store.factory.client("s3")
    assert s3.get_bucket_versioning(Bucket=store.bucket)["Status"] == "Enabled"
    assert s3.get_public_access_block(Bucket=store.bucket)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]
    rules = s3.get_bucket_lifecycle_configuration(Bucket=store.bucket)["Rules"]
    assert rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=store.bucket)["TagSet"]}
    assert tags["tscloud:state"] == "v1"


@pytest.mark.parametrize(("region", "code"), [
    ("us-east-1", "use1"), ("eu-west-1", "euw1"), ("ap-southeast-2", "apse2"), ("ap-south-1", "aps1"),
    ("us-gov-west-1", "usgw1"), ("eu-central-2", "euc2"), ("ap-northeast-3", "apne3")])
def test_region_codes(region: str, code: str) -> None:
    assert region_code(region) == code


def test_region_codes_are_distinct_for_every_botocore_region() -> None:
    import botocore.session

    session = botocore.session.get_session()
    regions = {r for partition in session.get_available_partitions()
               for r in session.get_available_regions("ec2", partition_name=partition)}
    codes = {region_code(r) for r in regions}
    assert len(codes) == len(regions)


class AnswerLost:
    """Each conditional write takes effect and then fails as the SDK's resend does: S3 answers the resent
    request 412 (the key now exists / has a new ETag). A fault no real S3 can be asked to produce."""

    def __init__(self, store: S3StateStore) -> None:
        self.store = store
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def create(self, key: str, body: bytes) -> str:
        self.store.create(key, body)
        self.lost += 1
        raise Conflict(key)

    def replace(self, key: str, body: bytes, etag: str) -> str:
        self.store.replace(key, body, etag)
        self.lost += 1
        raise Conflict(key)


def test_a_lost_answer_to_our_own_lock_and_journal_writes_is_not_a_conflict(store: S3StateStore,
                                                                              tmp_path: Path) -> None:
    store.ensure()
    losing = AnswerLost(store)
    held = LeaseLock(losing, "locks/app/dev", local=RunLock(tmp_path / "lock", scope="app-dev (us-east-1)",
                                                             holder=HOLDER), lease=120)
    held.acquire()
    held.renew()
    assert not held.lost.is_set() and losing.lost == 2
    journal = ObjectJournalStore(losing, "journals/app/dev.json", lock=held)
    journal.load()
    journal.save({"steps": {"a": 1}})  # create, answer lost
    journal.save({"steps": {"a": 2}})  # replace, answer lost
    assert journal.writes == 2 and losing.lost == 4
    current = store.get("journals/app/dev.json")
    assert current is not None and json.loads(current.body) == {"steps": {"a": 2}}
    held.release()
    assert released(store.get("locks/app/dev"))  # released on the ETag adopted from the read-back


def test_a_journal_written_by_another_run_is_still_a_conflict_after_a_lost_answer(store: S3StateStore) -> None:
    store.ensure()
    journal = ObjectJournalStore(store, "journals/app/dev.json")
    journal.load()
    journal.save({"steps": {"a": 1}})
    store.replace("journals/app/dev.json", b'{"steps": {"other": 1}}', journal.etag or "")
    with pytest.raises(StateConflictError, match="written by another run"):
        journal.save({"steps": {"a": 2}})
