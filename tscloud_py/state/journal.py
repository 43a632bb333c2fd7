"""The journal: each step's last status and outputs, written atomically.

Written whole to its store: a local file (temp file, fsync, rename, fsync of the
directory) or an object in the state bucket (``state/object_store.py``, a
conditional write), so a crash leaves either the old or the new journal, never a
torn one. The journal is a cache of what reality said: deleting it must never
cause duplicates, because every step reads reality first.

When it is written (each write is a round trip to the state bucket, on the run's
critical path):

- a step that created something is recorded at once: the id it records is the
  cheap way back to what a later crash would otherwise leave to a search by name
  or tag;
- any other record (updated, unchanged) is kept in memory and goes out with the
  next write or with the run's summary (``mark_run``), which every run that gets
  to its end writes, failed steps or not. A run killed before then loses those
  records, and the next one reads them back from reality, as it would anyway;
- a run that stops before its summary (Ctrl-C, SIGTERM, an error outside the
  steps) writes ``interrupted`` before it gives the lock back
  (``mark_interrupted``), and one that dies leaves its lock to be taken over. So
  ``finished()`` (the last run that held the lock got to its summary, all steps
  ok) is what a step may rely on to take a record as how reality was left (the
  upload's seal, ``presets/steps/upload.py``), once the record is checked against
  what it names.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from tscloud_py.state import validate

JOURNAL_VERSION = 1


class Release(Protocol):
    """Gives the run lock back, naming the digest of the journal as the run leaves it (``Lock.release``)."""

    def __call__(self, seal: str | None = None) -> str | None: ...


class JournalStore(Protocol):
    """Where a journal lives when it is not a local file (the state bucket: ``state/object_store.py``).

    ``vouched``: False when the lock this run holds says the journal read is not the last holder's final
    word (a write lost beside its release, a lock taken over or made anew); None when nothing says either
    way. ``digest``: of the body last read or written, None when unknown. ``save(data, release=...)`` also
    gives the lock back, after or beside the write."""

    vouched: bool | None
    digest: str | None

    @property
    def where(self) -> str: ...
    def load(self) -> Any: ...  # the stored document as ``validate.parse`` read it, None when there is none
    def save(self, data: dict[str, Any], *, release: Release | None = None) -> None: ...


class FileJournalStore:
    """A local journal file, read as JSON (for `tscloud state migrate`)."""

    vouched: bool | None = None
    digest: str | None = None

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def where(self) -> str:
        return str(self.path)

    def load(self) -> Any:
        if not (self.path.exists() or self.path.is_symlink()):
            return None
        return validate.parse(validate.read_bounded(self.path, validate.MAX_JOURNAL_BYTES),
                              validate.MAX_JOURNAL_BYTES)

    def save(self, data: dict[str, Any], *, release: Release | None = None) -> None:
        atomic_write_json(self.path, data)
        if release is not None:
            release()


class Journal:
    def __init__(self, path: Path | None = None, *, app: str, stage: str, preset: str,
                 store: JournalStore | None = None, read: bool = True) -> None:
        """``read``: load it now; False leaves it empty until ``reload()`` (a command that reads it only
        once it holds the run lock)."""
        if (path is None) == (store is None):
            raise ValueError("a journal is a local file or lives in a store: one of the two")
        self.path = path  # the local file, when there is one
        self.store = store
        self._lock = threading.Lock()
        self.data: dict[str, Any] = {
            "version": JOURNAL_VERSION,
            "app": app,
            "stage": stage,
            "preset": preset,
            "steps": {},
        }
        # what the command should tell the user (a journal set aside)
        self.notices: list[str] = []
        self.marked = False  # this run wrote its summary or its interruption
        self.closed = False  # the summary went out with the lock's release: nothing more is written
        if read:
            self.reload()

    def reload(self) -> None:
        """Read the journal (again: the state backend reads it once more when it holds the lock)."""
        with self._lock:
            self.data["steps"] = {}
            self.data.pop("last_run", None)
            self.data.pop("interrupted", None)
        if self.store is not None:
            self._load_stored(self.store)
        elif self.path is not None and (self.path.exists() or self.path.is_symlink()):
            self._load()

    def _checked(self, store: JournalStore) -> dict[str, Any] | None:
        """The stored journal, if it is this stage's and well formed (``validate.journal``)."""
        return validate.journal(store.load(), app=self.data["app"], stage=self.data["stage"])

    def _take(self, loaded: dict[str, Any] | None) -> None:
        if loaded is not None:
            self.data["steps"] = dict(loaded.get("steps", {}))
            self.data["last_run"] = loaded.get("last_run")
            if loaded.get("interrupted") is not None:
                self.data["interrupted"] = loaded["interrupted"]

    def _load_stored(self, store: JournalStore) -> None:
        try:
            self._take(self._checked(store))
        except validate.Malformed as exc:
            # Replaced by this run's first record; the state bucket's versioning keeps the original.
            self.notices.append(f"the journal {store.where} {exc}; set aside (the bucket keeps its version), "
                                "rebuilt from what AWS reports")

    def _load(self) -> None:
        """Take a journal that reads and has the right shape; set any other aside and start empty.

        A journal is only a cache of what reality said, so an unusable one costs nothing but a notice;
        left in place it would fail every run the same way.
        """
        assert self.path is not None
        try:
            self._take(self._checked(FileJournalStore(self.path)))
            return
        except validate.Malformed as exc:
            problem = str(exc)
        aside = self.path.with_name(f"{self.path.name}.set-aside-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            self.notices.append(f"the journal {self.path} {problem}, and cannot be set aside ({exc.strerror})")
            return
        self.notices.append(f"the journal {self.path} {problem}; set aside as {aside.name}, rebuilt from what "
                            "AWS reports")

    def check_writable(self) -> None:
        """Stop a run before its first write if the journal cannot be written (it would apply steps and
        then fail to record them). A journal in the state bucket needs no probe: taking the lock was
        a conditional write to the same bucket."""
        if self.store is not None:
            return
        with self._lock:
            try:
                self._write()
            except OSError as exc:
                from tscloud_py.errors import TscloudError

                raise TscloudError(f"the journal {self.path} cannot be written ({exc.strerror or exc}); "
                                   "nothing was changed",
                                   "fix its permissions (or move it away) and re-run") from None

    @property
    def steps(self) -> dict[str, dict[str, Any]]:
        return self.data["steps"]

    def outputs(self) -> dict[str, dict[str, Any]]:
        return outputs_in(self.data)

    def record(self, step_id: str, *, status: str, outputs: dict[str, Any]) -> None:
        with self._lock:
            self.steps[step_id] = {
                "status": status,
                "outputs": outputs,
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            # Only what a step created is written at once (see the module's docstring); the rest goes
            # with the next write or the run's summary.
            if status == "created":
                self._write()

    def forget(self, step_id: str) -> None:
        with self._lock:
            self.steps.pop(step_id, None)
            self._write()

    def mark_run(self, summary: dict[str, Any], *, release: Release | None = None) -> None:
        """The run's summary, written with every record still held back: the run got to its end, but for
        the steps the summary names ``pending`` (settled by their read, in flight as it is written).
        ``release``: the run lock, given back beside the write (it names the journal's digest, so the next
        holder can tell whether this write landed); the journal is closed after it."""
        with self._lock:
            self.data["last_run"] = summary
            self.data.pop("interrupted", None)
            for step_id in summary.get("pending", ()):
                # listed with what it recorded before, which nothing takes for how reality is
                self.steps[step_id] = {"outputs": {}, **self.steps.get(step_id, {}), "status": "in-flight",
                                       "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            self._write(release)
            self.marked = True
            # A step still in flight (``Step.settled_by_read``) records into memory only: the lock is given back.
            self.closed = release is not None

    def mark_interrupted(self) -> None:
        """This run stops before its summary: the records it holds and a mark that it did not finish,
        written before the lock is given back (a run that finds the mark does not take ``finished()``)."""
        with self._lock:
            self.data["interrupted"] = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            self._write()
            self.marked = True

    def finished(self) -> bool:
        """Whether the last run that wrote this journal got to its summary with every step ok, and no run
        marked itself interrupted after it."""
        if self.store is not None and self.store.vouched is False:
            return False
        return finished_in(self.data)

    def seal(self) -> str | None:
        """The digest of the journal as stored, when this run knows it (what a lock given back names)."""
        return self.store.digest if self.store is not None else None

    def _write(self, release: Release | None = None) -> None:
        from tscloud_py import redact

        if self.closed:
            return

        # A failed step's error (in last_run) may quote a secret that an AWS error echoed.
        data = redact.scrub_obj(self.data)
        if self.store is not None:
            self.store.save(data, release=release)
            return
        assert self.path is not None
        atomic_write_json(self.path, data)
        if release is not None:
            release()


def outputs_in(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each step's recorded outputs in a journal document."""
    return {sid: dict(rec.get("outputs", {})) for sid, rec in doc.get("steps", {}).items()}


def finished_in(doc: dict[str, Any]) -> bool:
    """Whether a journal document says its last run got to its summary with every step ok, and no run
    marked itself interrupted after it."""
    last = doc.get("last_run")
    return isinstance(last, dict) and last.get("ok") is True and "interrupted" not in doc


def atomic_write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=True, default=str)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
