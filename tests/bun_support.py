"""Real Bun for the tests: npm's ``@oven/bun-linux-<arch>`` at the version tscloud pins, installed by .ci/run
(``TSCLOUD_TEST_BUN`` names it; its default is where .ci/run keeps it)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from tscloud_py.build.bun_npm import BUN_VERSION, PACKAGES

MACHINE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
HOST_ARCH = MACHINE.get(platform.machine().lower(), platform.machine())


def ci_bun_path() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return (cache / "tscloud-ci" / "bun" / f"{BUN_VERSION}-{platform.machine()}" / "node_modules"
            / PACKAGES.get(HOST_ARCH, "?") / "bin" / "bun")


def real_bun() -> Path | None:
    """The installed Bun binary, or None when .ci/run has not installed it here."""
    path = Path(os.environ.get("TSCLOUD_TEST_BUN") or ci_bun_path())
    return path if path.is_file() and os.access(path, os.X_OK) else None
