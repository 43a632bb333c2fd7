"""What this working copy's last run left in the state bucket, so its next run takes the lock in one
conditional write and need not read the journal.

A run that gives the lock back writes its journal and replaces its lock with a released record, both at
once (``ObjectJournalStore.save``). Once both are answered it keeps here the released record's ETag and
the journal it wrote (ETag, digest, body). The next run's first write is a replace on that ETag: if it
succeeds, nobody has taken the lock since, so nobody has written the journal either, and the body kept
here is the journal. Any other outcome (the replace loses, the file is missing, unreadable or for another
bucket) falls back to reading the bucket, so the file is a hint whose truth the state bucket checks.

The file is taken (read and removed) before the lock is: a run that dies holding the lock leaves none.
It holds what the journal holds (never a secret: the journal is scrubbed before it is written).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from tscloud_py.files import write_whole


@dataclass(frozen=True)
class Released:
    lock_etag: str  # the released record's
    journal_etag: str
    digest: str  # sha256 of the journal's body, as the released record names it
    body: bytes  # the journal as stored


class ReleaseCache:
    def __init__(self, path: Path, where: str) -> None:
        """``where``: the lock's key in its store (``s3://bucket/locks/app/stage``); a file kept for
        another one is not used."""
        self.path = path
        self.where = where

    def take(self) -> Released | None:
        """What the last run kept, removed from disk (None when there is nothing usable)."""
        kept = self.peek()
        with contextlib.suppress(OSError):
            self.path.unlink()
        return kept

    def peek(self) -> Released | None:
        """What the last run kept, left in place."""
        try:
            raw = self.path.read_bytes()
        except OSError:
            return None
        try:
            doc = json.loads(raw)
            if doc.get("where") != self._where_digest():
                return None
            return Released(str(doc["lock_etag"]), str(doc["journal_etag"]), str(doc["digest"]),
                            doc["journal"].encode())
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def _where_digest(self) -> str:
        # by digest: the file names no bucket or account, only whether it is for this lock
        return hashlib.sha256(self.where.encode()).hexdigest()[:32]

    def keep(self, released: Released) -> None:
        """Write it for the next run (atomically: a torn file would only be unusable, never wrong)."""
        doc = {"where": self._where_digest(), "lock_etag": released.lock_etag, "journal_etag": released.journal_etag,
               "digest": released.digest, "journal": released.body.decode()}
        write_whole(self.path, json.dumps(doc).encode())
