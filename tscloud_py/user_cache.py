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
