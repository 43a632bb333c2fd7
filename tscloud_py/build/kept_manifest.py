"""The last sealed manifest this working copy read or wrote for one bucket, kept beside the hash cache.

A redeploy whose journal is current trusts the bucket's manifest when it still has the ETag the journal
sealed. Kept here, the manifest need not be downloaded again: S3 is asked only whether the object still
has that ETag (a conditional GET, answered 304 without a body). A 100,000-file site's manifest is
megabytes, which a redeploy would otherwise fetch and parse on every run.

The kept body is used only when its MD5 is that ETag (what S3 gives a single-part object that is not
encrypted with KMS): a file changed or cut short on disk is never taken for the bucket's manifest, and
one S3 does not name by MD5 is not kept at all.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tscloud_py.files import write_whole


class KeptManifest:
    def __init__(self, path: Path | None) -> None:
        self.path = path

    @classmethod
    def of(cls, cache_dir: Path | None, where: str) -> KeptManifest:
        """The manifest kept for ``where`` (``bucket/key``) in ``cache_dir`` (None: nothing kept)."""
        if cache_dir is None:
            return cls(None)
        return cls(cache_dir / f"manifest-{hashlib.sha256(where.encode()).hexdigest()[:16]}")

    def read(self, etag: str) -> bytes | None:
        """The kept body, if it is the object with ``etag``."""
        if self.path is None:
            return None
        try:
            raw = self.path.read_bytes()
        except OSError:
            return None
        head, _, body = raw.partition(b"\n")
        return body if head == etag.encode() and _md5(body) == etag else None

    def keep(self, body: bytes, etag: str) -> None:
        if self.path is None or _md5(body) != etag:
            return
        write_whole(self.path, etag.encode() + b"\n" + body)


def _md5(body: bytes) -> str:
    return hashlib.md5(body, usedforsecurity=False).hexdigest()
