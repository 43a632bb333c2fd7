"""The hash cache: a file whose size, mtime and inode are unchanged is not read again; anything else is."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from tscloud_py.build.hash_cache import HashCache
from tscloud_py.build.sync import scan

HOUR_AGO = time.time() - 3600


def _site(root: Path) -> Path:
    dist = root / "dist"
    for name, text in {"index.html": "<html>1</html>", "a/b.txt": "bbbb", "c.css": "body{}"}.items():
        path = dist / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, (HOUR_AGO, HOUR_AGO))
    return dist


def _rewrite_keeping_stat(path: Path, text: str) -> None:
    """New bytes of the same length in the same inode, the mtime put back: only reading tells."""
    st = path.stat()
    with path.open("r+") as fh:
        fh.write(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_an_unchanged_stat_is_answered_from_the_cache_without_reading(tmp_path: Path) -> None:
    dist = _site(tmp_path)
    cache_dir = tmp_path / "cache"
    first = HashCache.of(cache_dir, dist)
    scan(dist, cache=first)
    assert first.misses == 3
    _rewrite_keeping_stat(dist / "a/b.txt", "XXXX")
    again = HashCache.of(cache_dir, dist)
    files = scan(dist, cache=again)
    assert (again.hits, again.misses) == (3, 0)
    assert files["a/b.txt"].md5 == hashlib.md5(b"bbbb").hexdigest()  # the cached hash: the file was not read


def test_a_changed_size_mtime_or_inode_is_read_again(tmp_path: Path) -> None:
    dist = _site(tmp_path)
    cache_dir = tmp_path / "cache"
    scan(dist, cache=HashCache.of(cache_dir, dist))
    (dist / "index.html").write_text("<html>22</html>")  # size
    os.utime(dist / "index.html", (HOUR_AGO, HOUR_AGO))
    _rewrite_keeping_stat(dist / "c.css", "BODY{}")
    os.utime(dist / "c.css", (HOUR_AGO + 1, HOUR_AGO + 1))  # mtime
    replaced = dist / "a/b.txt"
    fresh = dist / "a/b.txt.new"  # made while the old file still holds its inode: another one
    fresh.write_text("cccc")
    os.utime(fresh, ns=(replaced.stat().st_atime_ns, replaced.stat().st_mtime_ns))
    os.replace(fresh, replaced)  # inode
    again = HashCache.of(cache_dir, dist)
    files = scan(dist, cache=again)
    assert again.misses == 3 and again.hits == 0
    assert files["c.css"].md5 == hashlib.md5(b"BODY{}").hexdigest()
    assert files["a/b.txt"].md5 == hashlib.md5(b"cccc").hexdigest()


def test_a_file_not_older_than_the_cache_is_read_again(tmp_path: Path) -> None:
    """Changed within the tick the cache was written in, its stat could look unchanged (racily clean)."""
    dist = _site(tmp_path)
    cache_dir = tmp_path / "cache"
    cache = HashCache.of(cache_dir, dist)
    scan(dist, cache=cache)
    assert cache.path is not None
    written = cache.path.stat().st_mtime_ns
    os.utime(dist / "index.html", ns=(written, written))
    again = HashCache.of(cache_dir, dist)
    scan(dist, cache=again)
    assert (again.hits, again.misses) == (2, 1)


def test_files_gone_leave_the_cache_and_no_cache_dir_keeps_nothing(tmp_path: Path) -> None:
    dist = _site(tmp_path)
    cache_dir = tmp_path / "cache"
    scan(dist, cache=HashCache.of(cache_dir, dist))
    (dist / "c.css").unlink()
    scan(dist, cache=HashCache.of(cache_dir, dist))
    again = HashCache.of(cache_dir, dist)
    scan(dist, cache=again)
    assert (again.hits, again.misses) == (2, 0)
    none = HashCache.of(None, dist)
    scan(dist, cache=none)
    assert none.misses == 2 and not any(p.name.startswith("hashes-") for p in tmp_path.rglob("*") if p.parent != cache_dir)
