"""Deterministic zip archives: the same files always give the same bytes.

Entries are sorted by their archive path, every timestamp is fixed at
1980-01-01 00:00:00 (the zip epoch), permissions are normalised to 0644, or
0755 for files with any executable bit, and no directory entries or extra
fields are written. An unchanged build therefore hashes the same, so a deploy
can compare our sha256 with Lambda's ``CodeSha256`` and upload nothing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
EXEC_MODE = 0o755
DEFAULT_EXCLUDES = (".DS_Store", "__pycache__", ".git")


@dataclass(frozen=True)
class ZipEntry:
    """One file in an archive: its path inside the zip and its bytes (or a file to read)."""

    arcname: str
    source: bytes | Path
    executable: bool = False

    def read(self) -> bytes:
        return self.source if isinstance(self.source, bytes) else self.source.read_bytes()


def dir_entries(
    root: Path,
    *,
    prefix: str = "",
    exclude: Callable[[str], bool] | None = None,
) -> list[ZipEntry]:
    """Every regular file under ``root`` (symlinks followed) as entries under ``prefix``."""
    if not root.is_dir():
        raise NotADirectoryError(str(root))
    entries: list[ZipEntry] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if d not in DEFAULT_EXCLUDES)
        for name in filenames:
            if name in DEFAULT_EXCLUDES:
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if exclude is not None and exclude(rel):
                continue
            mode = path.stat().st_mode
            if not stat.S_ISREG(mode):
                continue
            arcname = f"{prefix.strip('/')}/{rel}" if prefix.strip("/") else rel
            entries.append(ZipEntry(arcname, path, bool(mode & 0o111)))
    return entries


def build_zip(entries: Iterable[ZipEntry], *, level: int = 9) -> bytes:
    """The archive bytes for ``entries``; duplicates are an error."""
    ordered = sorted(entries, key=lambda e: e.arcname)
    names = [e.arcname for e in ordered]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"duplicate zip entries: {', '.join(dupes)}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for entry in ordered:
            info = zipfile.ZipInfo(entry.arcname, date_time=FIXED_DATE)
            info.create_system = 3  # unix, so external_attr carries the mode
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = EXEC_MODE if entry.executable else FILE_MODE
            info.external_attr = (stat.S_IFREG | mode) << 16
            zf.writestr(info, entry.read(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
    return buffer.getvalue()


def zip_dir(root: Path, *, prefix: str = "", exclude: Callable[[str], bool] | None = None) -> bytes:
    """A deterministic zip of everything under ``root``."""
    return build_zip(dir_entries(root, prefix=prefix, exclude=exclude))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def code_sha256(data: bytes) -> str:
    """Lambda's ``CodeSha256`` of a zip: base64 of its sha256 digest."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
