"""What may leave the machine: directories inside the project, links that stay inside them, no private files.

A directory that is published (a site, an SSR build's public assets) or shipped as code (a worker) must
resolve inside the project directory, unless the config says ``allow_outside = true``. Inside it, a
symlink whose target leaves the directory is refused, naming the file: following it would publish
whatever it points at. Files a user would not want public (dotfiles such as ``.env`` and everything
under ``.git/`` or ``.aws/``, private keys) are never uploaded unless an explicit ``include`` pattern
names them. A file name that is not valid UTF-8, or whose S3 key would pass S3's 1,024-byte limit,
is refused before anything is written.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tscloud_py.errors import ConfigError

# S3's limit on an object key, in UTF-8 bytes
MAX_KEY_BYTES = 1024

# Matched against each path segment (a dotfile or dot-directory anywhere hides what is under it).
PRIVATE_SEGMENTS = (".*",)
# Matched against the file name.
PRIVATE_NAMES = ("*.pem", "*.key", "*.p12", "*.pfx", "id_*", "*.kdbx")


class UnsafeTreeError(Exception):
    """A file under a published directory cannot be published as it stands."""

    def __init__(self, rel: str, problem: str, hint: str) -> None:
        super().__init__(f"{rel}: {problem}")
        self.rel = rel
        self.problem = problem
        self.hint = hint


# Each list as one pattern, matched once per segment: a big site asks this for every file.
_PRIVATE_SEGMENT = re.compile("|".join(fnmatch.translate(p) for p in PRIVATE_SEGMENTS))
_PRIVATE_NAME = re.compile("|".join(fnmatch.translate(p) for p in PRIVATE_NAMES))


def is_private(rel: str) -> bool:
    parts = rel.split("/")
    return any(_PRIVATE_SEGMENT.match(part) for part in parts) or bool(_PRIVATE_NAME.match(parts[-1]))


def included(rel: str, include: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(rel, pat) or fnmatch.fnmatchcase(rel, pat.rstrip("/") + "/*")
               for pat in include)


def _shown(rel: str) -> str:
    return rel.encode("utf-8", "backslashreplace").decode("utf-8") if _bad_name(rel) else rel


def _bad_name(rel: str) -> bool:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@dataclass
class Tree:
    """The files of one directory that will be published, and those held back as private."""

    files: dict[str, Path] = field(default_factory=dict)
    private: list[str] = field(default_factory=list)


def walk(root: Path, *, include: Sequence[str] = (), skip_private: bool = True,
         key_prefix: str = "") -> Tree:
    """Every regular file under ``root`` keyed by its posix path, links followed only while they stay inside.

    Raises ``UnsafeTreeError`` for a link that leaves ``root``, a name that is not UTF-8, or a key
    (with ``key_prefix``) longer than S3 allows.
    """
    real_root = root.resolve()
    tree = Tree()

    def prune(rel_dir: str) -> bool:
        """A private directory no include pattern reaches into is not walked at all (.git can be huge)."""
        if not skip_private or not is_private(rel_dir + "/x"):
            return False
        if any(pat.startswith(rel_dir + "/") or fnmatch.fnmatchcase(rel_dir, pat.split("/")[0]) for pat in include):
            return False
        tree.private.append(rel_dir + "/")
        return True

    for rel, path in _entries(root, real_root, "", prune):
        if _bad_name(rel):
            raise UnsafeTreeError(_shown(rel), "the file name is not valid UTF-8, so it cannot be an S3 key",
                                  "rename the file")
        if skip_private and is_private(rel) and not included(rel, include):
            tree.private.append(rel)
            continue
        if len((key_prefix + rel).encode("utf-8")) > MAX_KEY_BYTES:
            raise UnsafeTreeError(rel[:60] + "…", f"its S3 key is over {MAX_KEY_BYTES} bytes", "shorten the path")
        tree.files[rel] = path
    return tree


def _entries(directory: Path, real_root: Path, base: str, prune: Callable[[str], bool],
             seen: frozenset[Path] = frozenset()) -> Iterator[tuple[str, Path]]:
    real_dir = directory.resolve()
    if real_dir in seen:  # a link back up the tree: its files are listed already
        return
    seen = seen | {real_dir}
    try:
        # scandir's entries know their type from the directory itself: no stat per file to walk a big site.
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise UnsafeTreeError(base or ".", f"cannot be read ({exc.strerror})", "check its permissions") from exc
    for entry in entries:
        path = directory / entry.name
        rel = f"{base}{entry.name}"
        if entry.is_symlink():
            target = _link_target(path, rel)
            if not target.is_relative_to(real_root):
                raise UnsafeTreeError(_shown(rel), f"is a symlink to {target}, outside the published directory",
                                      "copy the file into the directory, or remove the link")
        if entry.is_dir():
            if not prune(rel):
                yield from _entries(path, real_root, rel + "/", prune, seen)
        elif entry.is_file():
            yield rel, path


def _link_target(path: Path, rel: str) -> Path:
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # a loop: RuntimeError up to Python 3.12, OSError (ELOOP) after
        raise UnsafeTreeError(_shown(rel), "is a symlink loop", "remove the link") from None


def inside_project(config_path: str, key: str, base: Path, value: str, *, allow_outside: bool,
                   notices: list[str] | None = None) -> Path:
    """``value`` (relative to ``base``) resolved; refused unless it lies inside ``base``."""
    resolved = (base / value).resolve()
    if resolved.is_relative_to(base.resolve()):
        return resolved
    if not allow_outside:
        raise ConfigError(config_path, key, f"{value} resolves to {resolved}, outside the project directory "
                          f"{base.resolve()}", "point it inside the project, or set allow_outside = true in "
                          "the same table if publishing that directory is intended")
    if notices is not None:
        notices.append(f"{key}: {resolved} is outside the project directory (allow_outside = true)")
    return resolved


def check_tree(config_path: str, key: str, root: Path, *, include: Sequence[str] = (), skip_private: bool = True,
               key_prefix: str = "") -> Tree:
    """``walk`` with its refusals as config errors naming ``key``."""
    try:
        return walk(root, include=include, skip_private=skip_private, key_prefix=key_prefix)
    except UnsafeTreeError as exc:
        raise ConfigError(config_path, key, f"{exc.rel} {exc.problem}" if exc.problem.startswith("is ")
                          else f"{exc.rel}: {exc.problem}", exc.hint) from None
