"""The journal's atomic writes and the run lock (flock + holder record)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tscloud_py.errors import LockHeldError
from tscloud_py.state import journal as journal_mod
from tscloud_py.state.file_lock import RunLock
from tscloud_py.state.journal import Journal, atomic_write_json
from tscloud_py.state.lock import Holder, describe_holder

REPO = Path(__file__).resolve().parents[2]


# -- atomic writes ------------------------------------------------------------------------------
def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "journal.json"
    atomic_write_json(path, {"n": 1})

    def boom(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(journal_mod.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_json(path, {"n": 2})
    assert json.loads(path.read_text()) == {"n": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["journal.json"]


def test_unserialisable_data_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    atomic_write_json(path, {"n": 1})

    class Bad:
        def __str__(self) -> str:
            raise RuntimeError("cannot render")

    with pytest.raises(RuntimeError):
        atomic_write_json(path, {"n": 2, "bad": Bad()})
    assert json.loads(path.read_text()) == {"n": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["journal.json"]


WRITER = """
import sys
from pathlib import Path
from tscloud_py.state.journal import atomic_write_json
path = Path(sys.argv[1])
n = 1
atomic_write_json(path, {"n": n, "pad": "x" * 20000})
print("ready", flush=True)  # only once a journal exists: a busy machine may not reach the loop in time
while True:
    n += 1
    atomic_write_json(path, {"n": n, "pad": "x" * 20000})
"""


def test_sigkill_during_writes_leaves_old_or_new_never_torn(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    last = 0
    for delay in (0.05, 0.11, 0.17, 0.23):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        doc = json.loads(path.read_text())  # never a torn file
        assert doc["pad"] == "x" * 20000 and doc["n"] >= 1
        last = doc["n"]
    assert last >= 1


def test_corrupt_or_foreign_journal_is_only_a_lost_cache(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    for content in ("{not json", "", "[1, 2]", json.dumps({"version": 999, "steps": {"x": {}}}), "\x00\x01"):
        path.write_text(content)
        journal = Journal(path, app="a", stage="dev", preset="static-site")
        assert journal.steps == {} and journal.outputs() == {}
    journal.record("bucket", status="created", outputs={"bucket": "b"})
    assert Journal(path, app="a", stage="dev", preset="static-site").outputs() == {"bucket": {"bucket": "b"}}


def test_journal_records_forgets_and_keeps_last_run(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "journal.json"
    journal = Journal(path, app="a", stage="dev", preset="static-site")
    journal.record("a", status="created", outputs={"k": 1})
    journal.record("b", status="updated", outputs={})
    journal.forget("a")
    journal.mark_run({"kind": "deploy", "ok": True})
    doc = json.loads(path.read_text())
    assert set(doc["steps"]) == {"b"} and doc["last_run"] == {"kind": "deploy", "ok": True}
    assert doc["app"] == "a" and doc["version"] == 1
    again = Journal(path, app="a", stage="dev", preset="static-site")
    assert again.data["last_run"] == {"kind": "deploy", "ok": True}


def test_only_a_created_record_is_written_at_once(tmp_path: Path) -> None:
    """What a step created is written when it is recorded; updated and unchanged records wait for the next
    write or the run's summary."""
    path = tmp_path / "journal.json"
    journal = Journal(path, app="a", stage="dev", preset="static-site")
    journal.record("upload", status="updated", outputs={"sealed": "e1"})
    journal.record("oac", status="unchanged", outputs={"oac_id": "o"})
    assert not path.exists()
    journal.record("bucket", status="created", outputs={"bucket": "b"})
    assert set(json.loads(path.read_text())["steps"]) == {"upload", "oac", "bucket"}
    journal.record("invalidation", status="updated", outputs={})
    assert "invalidation" not in json.loads(path.read_text())["steps"]
    journal.mark_run({"kind": "deploy", "ok": True})
    assert "invalidation" in json.loads(path.read_text())["steps"] and journal.marked


def test_finished_only_after_an_ok_summary_and_no_interruption_since(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"

    def reopened() -> Journal:
        return Journal(path, app="a", stage="dev", preset="static-site")

    assert not reopened().finished()  # no run yet
    journal = reopened()
    journal.mark_run({"kind": "deploy", "ok": False})
    assert not reopened().finished()
    journal.mark_run({"kind": "deploy", "ok": True})
    assert reopened().finished()
    later = reopened()
    later.record("upload", status="updated", outputs={"sealed": "e2"})
    later.mark_interrupted()  # the records held back go out with the mark
    again = reopened()
    assert not again.finished() and again.outputs()["upload"] == {"sealed": "e2"}
    assert again.data["last_run"] == {"kind": "deploy", "ok": True}  # the last summary stays what it was
    again.mark_run({"kind": "deploy", "ok": True})
    assert reopened().finished() and "interrupted" not in json.loads(path.read_text())


# -- the lock -----------------------------------------------------------------------------------
HOLDER = """
import sys, time
from pathlib import Path
from tscloud_py.state.file_lock import RunLock
lock = RunLock(Path(sys.argv[1]), scope="shop-dev (us-east-1)")
lock.acquire()
print("locked", flush=True)
sys.stdin.readline()  # until told to finish
lock.release()
print("released", flush=True)
time.sleep(60)
"""


@contextmanager
def forced(path: Path) -> Iterator[RunLock]:
    """The lock taken with --force-unlock given twice."""
    lock = RunLock(path, scope="s")
    lock.acquire(force=2)
    try:
        yield lock
    finally:
        lock.release()


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Another process holding the lock (until killed)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "lock")], stdout=subprocess.PIPE,
                            stdin=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"locked"
    yield proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
    proc.wait()


def test_held_lock_names_the_holder(tmp_path: Path, holder: subprocess.Popen[bytes]) -> None:
    lock = RunLock(tmp_path / "lock", scope="shop-dev (us-east-1)")
    started = time.monotonic()
    with pytest.raises(LockHeldError) as info:
        lock.acquire()
    assert time.monotonic() - started < 10.0  # refused at once, not after a wait (generous for a busy machine)
    message = info.value.message
    assert message.startswith("shop-dev (us-east-1) is locked by ")
    assert f"pid {holder.pid} on {socket.gethostname()}" in message
    assert "--force-unlock" in info.value.hint
    assert json.loads((tmp_path / "lock").read_text())["pid"] == holder.pid  # the holder's record is intact


def test_dead_holder_is_taken_over(tmp_path: Path, holder: subprocess.Popen[bytes]) -> None:
    holder.kill()
    holder.wait()
    lock = RunLock(tmp_path / "lock", scope="s")
    lock.acquire()
    try:
        assert lock.took_over is not None and lock.took_over.pid == holder.pid
        assert json.loads((tmp_path / "lock").read_text())["pid"] == os.getpid()
    finally:
        lock.release()
    assert not (tmp_path / "lock").exists()


def test_force_breaks_a_live_but_stuck_holder(tmp_path: Path, holder: subprocess.Popen[bytes]) -> None:
    holder.send_signal(signal.SIGSTOP)
    with pytest.raises(LockHeldError):
        RunLock(tmp_path / "lock", scope="s").acquire()
    # alive on this host: one force is refused, two take over and say the holder still runs
    with pytest.raises(LockHeldError, match="running on this host"):
        RunLock(tmp_path / "lock", scope="s").acquire(force=1)
    with forced(tmp_path / "lock") as lock:
        assert lock.took_over is not None and lock.took_over.pid == holder.pid
        assert lock.took_over_state == "alive"
        record = json.loads((tmp_path / "lock").read_text())
        assert record["pid"] == os.getpid() and record["host"] == socket.gethostname()
        # While we hold it, a third run is refused and told it is us.
        with pytest.raises(LockHeldError, match=f"pid {os.getpid()}"):
            RunLock(tmp_path / "lock", scope="s").acquire()


def test_forced_out_holder_finishing_late_does_not_free_the_new_lock(
        tmp_path: Path, holder: subprocess.Popen[bytes]) -> None:
    """The stuck run resumes after --force-unlock and releases: it must not delete the new holder's lock."""
    holder.send_signal(signal.SIGSTOP)
    with forced(tmp_path / "lock"):
        holder.send_signal(signal.SIGCONT)
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.write(b"go\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == b"released"
        assert json.loads((tmp_path / "lock").read_text())["pid"] == os.getpid()
        with pytest.raises(LockHeldError, match=f"pid {os.getpid()}"):
            RunLock(tmp_path / "lock", scope="s").acquire()


def test_released_lock_can_be_taken_again_without_notice(tmp_path: Path) -> None:
    with RunLock(tmp_path / "lock", scope="s") as first:
        assert first.took_over is None
    with RunLock(tmp_path / "lock", scope="s") as second:
        assert second.took_over is None


def test_unreadable_holder_record_still_refuses(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    with RunLock(path, scope="s"):
        path.write_text("garbage")  # someone scribbled over the record
        with pytest.raises(LockHeldError, match=r"locked by a malformed lock record \(holder unknown\)"):
            RunLock(path, scope="s").acquire()


def test_describe_holder() -> None:
    record = {"pid": 42, "host": "ci-1", "user": "bob", "command": "tscloud deploy", "started": "2026-01-01T00:00:00Z"}
    text = describe_holder(Holder.from_json(record))
    assert text == "pid 42 on ci-1 (user bob, `tscloud deploy`, since 2026-01-01T00:00:00Z)"
    assert describe_holder(Holder.from_json({**record, "run": "9f3e"})) == (
        "pid 42 on ci-1 (user bob, `tscloud deploy`, since 2026-01-01T00:00:00Z, run 9f3e)")
    assert describe_holder(Holder.from_json({})) == "a malformed lock record (holder unknown)"
