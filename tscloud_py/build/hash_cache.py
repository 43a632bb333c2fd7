"""File hashes kept between runs, keyed by what one stat tells: size, mtime and inode, as git's index does.

A redeploy of a large site with a few changed files then reads only those files: an unchanged file is
known by its stat alone. A file changed in the same clock tick as the cache was written could keep its
size and mtime (git's "racily clean" entry), so an entry whose mtime is not older than the cache file
itself is not trusted; that file is read again, and the rewritten cache settles it.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

_VERSION = 2


@dataclass(frozen=True)
class Hashed:
    md5: str  # hex, of the whole content
    part_md5s: tuple[str, ...]  # hex, of each part, for a file uploaded in parts


class HashCache:
    """The hashes of one directory's files by relative path; ``path`` None keeps nothing."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        # rel -> "size mtime_ns inode md5 part,part": one string each keeps a 100,000-file site's cache small
        self._entries: dict[str, str] = {}
        self._trusted_before = 0  # ns: entries with an mtime from this on are read again
        self._seen: dict[str, str] = {}
        self._dirty = False
        self.hits = self.misses = 0
        if path is None:
            return
        with contextlib.suppress(OSError, ValueError):
            written = path.stat().st_mtime_ns
            doc = json.loads(path.read_bytes())
            if doc.get("version") == _VERSION and isinstance(doc.get("files"), dict):
                self._entries = doc["files"]
                self._trusted_before = written

    @classmethod
    def of(cls, cache_dir: Path | None, root: Path) -> HashCache:
        """The cache of the files under ``root``, kept in ``cache_dir`` (None: nothing kept)."""
        if cache_dir is None:
            return cls(None)
        import hashlib

        name = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
        return cls(cache_dir / f"hashes-{name}.json")

    def get(self, rel: str, st: os.stat_result) -> Hashed | None:
        entry = self._entries.get(rel)
        if entry is not None and st.st_mtime_ns < self._trusted_before:
            stat, md5, parts = entry.rsplit(" ", 2)
            if stat == _stat_key(st):
                self._seen[rel] = entry
                self.hits += 1
                return Hashed(md5, tuple(parts.split(",")) if parts else ())
        self.misses += 1
        return None

    def put(self, rel: str, st: os.stat_result, hashed: Hashed) -> None:
        self._seen[rel] = f"{_stat_key(st)} {hashed.md5} {','.join(hashed.part_md5s)}"
        self._dirty = True

    def save(self) -> None:
        """Write what this scan saw (files gone since are dropped), atomically; nothing if nothing changed."""
        if self.path is None or not (self._dirty or len(self._seen) != len(self._entries)):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps({"version": _VERSION, "files": self._seen}, separators=(",", ":")))
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)  # a cache that cannot be written only costs the next run a read


def _stat_key(st: os.stat_result) -> str:
    return f"{st.st_size} {st.st_mtime_ns} {st.st_ino}"
