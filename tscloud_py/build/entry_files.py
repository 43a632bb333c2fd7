"""The Nitro entry files `tscloud ssr eject-entry` writes (package data under tscloud_py/data/nitro/)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tscloud_py.errors import UsageError

STREAMING = "aws-lambda-response-streaming.mjs"
BUFFERED = "aws-lambda-response.mjs"
ENTRY_FILES = (BUFFERED, STREAMING)
ENTRY_STEM = "aws-lambda-response"


def template(name: str) -> str:
    """The text of one entry template."""
    if name not in ENTRY_FILES:
        raise KeyError(name)
    return resources.files("tscloud_py").joinpath("data").joinpath("nitro").joinpath(name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Ejected:
    path: Path
    status: str  # "written" | "unchanged"


def eject(dest: Path, *, force: bool = False) -> list[Ejected]:
    """Write both entry files into ``dest``; an existing different file needs ``force``."""
    texts = {name: template(name) for name in ENTRY_FILES}
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
