"""Reading a small file the user or another run may have made anything: the config, a local journal; and
writing one of tscloud's own caches whole or not at all.

A path can name a FIFO (a read would wait forever), a device (``/dev/zero`` never ends), a file that
fails on read (``/proc/self/mem``), a symlink loop or a huge file: each is refused with one line saying
why, never an internal error.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


class Unreadable(ValueError):
    """Why a file was refused; the message completes "<path> ...". ``missing``: there is no such file."""

    def __init__(self, why: str, *, missing: bool = False) -> None:
        super().__init__(why)
        self.missing = missing


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes. Raises ``Unreadable``."""
    try:
        # O_NONBLOCK: opening a FIFO with no writer must not wait for one
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise Unreadable("file not found", missing=True) from None
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise Unreadable("is not a regular file")
            if info.st_size > limit:
                raise Unreadable(f"is larger than {_size(limit)}")
            data = fh.read(limit + 1)
    except OSError as exc:  # EIO and the like, from a file that opens but does not read
        raise Unreadable(f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(data) > limit:
        raise Unreadable(f"is larger than {_size(limit)}")
    return data


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"


def write_whole(path: Path, data: bytes) -> bool:
    """Write ``path`` (mode 0600) through a temporary file renamed over it, so a reader sees the old file or
    the new one, never a torn one. False where it cannot be written: what is written this way is a cache,
    whose loss costs time only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        return True
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return False
