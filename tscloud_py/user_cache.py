"""tscloud's cache in the user's home: ``$XDG_CACHE_HOME/tscloud``, else ``~/.cache/tscloud``.

What is kept there can always be made again (downloads, what AWS said that cannot change); deleting it
costs time, never correctness.
"""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir(*parts: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base, "tscloud", *parts)


def private_dir(path: Path) -> Path | None:
    """``path``, made if missing, as a directory only this user can read and write (0700); None where it
    cannot be made or is not this user's, so what is in it is not to be trusted."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = path.stat()
        getuid = getattr(os, "getuid", None)
        if getuid is not None and info.st_uid != getuid():
            return None
        if info.st_mode & 0o077:
            path.chmod(0o700)  # mkdir's mode is masked by umask and ignored for an existing directory
    except OSError:
        return None
    return path
