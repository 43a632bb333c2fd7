"""The Nitro entry files `tscloud ssr eject-entry` writes (templates under tscloud_py/data/nitro/).

The templates are rendered for the Nitro the project actually has: its polyfill
import was renamed in Nitro 3.0.1-alpha.2 (``#nitro-internal-pollyfills`` became
``#nitro/virtual/polyfills``), and nitropack 2 exports ``useNitroApp`` from
``nitropack/runtime`` rather than ``nitro/app``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from tscloud_py.errors import UsageError

STREAMING = "aws-lambda-response-streaming.mjs"
BUFFERED = "aws-lambda-response.mjs"
ENTRY_FILES = (BUFFERED, STREAMING)
ENTRY_STEM = "aws-lambda-response"
OLD_POLYFILLS = "#nitro-internal-pollyfills"
NEW_POLYFILLS = "#nitro/virtual/polyfills"
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?")


@dataclass(frozen=True)
class NitroFlavor:
    """Which Nitro a project builds with, and what its entry files must import."""

    package: str  # "nitro" | "nitropack"
    version: str | None  # None when only the package is known

    @property
    def label(self) -> str:
        return f"{self.package} {self.version or '(version unknown)'}"

    @property
    def polyfills(self) -> str:
        return OLD_POLYFILLS if uses_old_polyfills(self.package, self.version) else NEW_POLYFILLS

    @property
    def app_module(self) -> str:
        return "nitropack/runtime" if self.package == "nitropack" else "nitro/app"


def uses_old_polyfills(package: str, version: str | None) -> bool:
    """nitropack 2 and Nitro 3 up to 3.0.1-alpha.1 ship ``#nitro-internal-pollyfills``."""
    if package == "nitropack":
        return True
    m = _VERSION.match(version or "")
    if m is None:
        return False
    major, minor, patch, pre = int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4) or ""
    if major < 3:
        return True
    if (major, minor, patch) == (3, 0, 0):
        return True
    if (major, minor, patch) == (3, 0, 1) and pre.startswith("alpha."):
        number = pre.split(".", 1)[1]
        return number.isdigit() and int(number) < 2
    return False


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def detect_flavor(project_dir: Path, build_meta: dict[str, Any] | None = None) -> NitroFlavor | None:
    """The installed nitro/nitropack (node_modules), else package.json's pin, else a build's nitro.json."""
    for package in ("nitro", "nitropack"):
        installed = _read_json(project_dir / "node_modules" / package / "package.json")
        if installed is not None:
            return NitroFlavor(package, str(installed.get("version") or "") or None)
    manifest = _read_json(project_dir / "package.json") or {}
    for section in ("dependencies", "devDependencies"):
        deps = manifest.get(section)
        if isinstance(deps, dict):
            for package in ("nitro", "nitropack"):
                if isinstance(deps.get(package), str):
                    pinned = _VERSION.search(deps[package])
                    return NitroFlavor(package, pinned.group(0) if pinned else None)
    if build_meta:
        versions = build_meta.get("versions")
        version = versions.get("nitro") if isinstance(versions, dict) else None
        if isinstance(version, str) and version:
            return NitroFlavor("nitropack" if version.startswith("2.") else "nitro", version)
    return None


def template(name: str) -> str:
    """The raw text of one entry template (with its placeholders)."""
    if name not in ENTRY_FILES:
        raise KeyError(name)
    return resources.files("tscloud_py").joinpath("data").joinpath("nitro").joinpath(name).read_text(encoding="utf-8")


def render(name: str, flavor: NitroFlavor) -> str:
    return (template(name).replace("__NITRO_POLYFILLS__", flavor.polyfills)
            .replace("__NITRO_APP_MODULE__", flavor.app_module).replace("__NITRO_NAME__", flavor.label))


@dataclass(frozen=True)
class Ejected:
    path: Path
    status: str  # "written" | "unchanged"


def eject(dest: Path, flavor: NitroFlavor, *, force: bool = False) -> list[Ejected]:
    """Write both entry files for ``flavor`` into ``dest``; an existing different file needs ``force``."""
    texts = {name: render(name, flavor) for name in ENTRY_FILES}
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"--dir: {dest} exists and is not a directory")
    conflicts = [dest / n for n, text in texts.items()
                 if (dest / n).exists() and (dest / n).read_text(encoding="utf-8", errors="replace") != text]
    if conflicts and not force:
        raise UsageError(f"--dir: {conflicts[0]} exists with other content",
                         "pass --force to overwrite it (keep a copy if you changed it)")
    dest.mkdir(parents=True, exist_ok=True)
    done: list[Ejected] = []
    for name, text in texts.items():
        path = dest / name
        if path.exists() and path.read_text(encoding="utf-8", errors="replace") == text:
            done.append(Ejected(path, "unchanged"))
            continue
        path.write_text(text, encoding="utf-8")
        done.append(Ejected(path, "written"))
    return done


def nitro_entry_setting(dest: Path, base: Path) -> str:
    """The Nitro ``entry`` value for files ejected to ``dest``: relative to ``base``, no extension."""
    try:
        rel = dest.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        rel = dest.resolve().as_posix()
    return f"{rel}/{ENTRY_STEM}" if rel not in ("", ".") else ENTRY_STEM
