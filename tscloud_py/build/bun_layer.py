"""The Bun runtime layer: a ``provided.al2023`` layer with ``bootstrap``, a Runtime API loop and Bun.

Layout inside the zip (unpacked by Lambda in ``/opt``)::

    bootstrap                 executable; runs bin/bun on tscloud-bun/runtime.mjs
    bin/bun                   Bun for the layer's arch: npm's release at --bun-version, or the binary --bun names
    tscloud-bun/runtime.mjs   the Runtime API loop (payload 2.0 events <-> a fetch(Request) handler)
    tscloud-bun/bun-version   the release, when it came from npm (so a runner on another arch can run the same one)

The zip is deterministic, so republishing an unchanged layer is skipped. A layer of an npm release is
kept in tscloud's cache beside its binary, named by what went into it, so a deploy that attaches it
compresses the ~100 MB binary once, not at every plan.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tscloud_py.build.bun_npm import BUN_VERSION, bun_binary, cache_dir
from tscloud_py.build.zipper import ZipEntry, build_zip, code_sha256
from tscloud_py.errors import UsageError

RUNTIME = "provided.al2023"
ARCHITECTURES = ("arm64", "x86_64")
DEFAULT_LAYER_NAME = "tscloud-bun"
BUN_RELEASES = "npm's @oven/bun-linux-aarch64 or @oven/bun-linux-x64 (or pass --bun-version to fetch it)"
VERSION_FILE = "tscloud-bun/bun-version"
# ELF e_machine values
_ELF_MACHINES = {0xB7: "arm64", 0x3E: "x86_64"}


def data_file(name: str) -> bytes:
    return resources.files("tscloud_py").joinpath("data").joinpath("bun").joinpath(name).read_bytes()


def elf_architecture(path: Path) -> str | None:
    """``arm64``/``x86_64`` for a Linux ELF binary, ``other`` for another ELF, None when not ELF (a script)."""
    with path.open("rb") as f:
        head = f.read(20)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    little = head[5] == 1
    machine = int.from_bytes(head[18:20], "little" if little else "big")
    return _ELF_MACHINES.get(machine, "other")


def resolve_bun(bun: Path, arch: str) -> Path:
    """The Bun binary --bun names; it must be executable and match ``arch``."""
    if not bun.is_file():
        raise UsageError(f"--bun: {bun} is not a file")
    if not bun.stat().st_mode & 0o111:
        raise UsageError(f"--bun: {bun} is not executable", f"chmod +x {bun}")
    machine = elf_architecture(bun)
    if machine is not None and machine != arch:
        raise UsageError(f"--bun: {bun} is a {machine} binary but --arch is {arch}",
                         f"pass --arch {machine}, or a Bun build for {arch} from {BUN_RELEASES}")
    return bun


def layer_entries(bun: Path, version: str | None = None) -> list[ZipEntry]:
    entries = [
        ZipEntry("bootstrap", data_file("bootstrap"), executable=True),
        ZipEntry("bin/bun", bun, executable=True),
        ZipEntry("tscloud-bun/runtime.mjs", data_file("runtime.mjs")),
    ]
    if version is not None:
        entries.append(ZipEntry(VERSION_FILE, f"{version}\n".encode()))
    return entries


def _check_arch(arch: str) -> None:
    if arch not in ARCHITECTURES:
        raise UsageError(f"--arch: expected one of {', '.join(ARCHITECTURES)}, got {arch!r}")


def _zip(entries: list[ZipEntry]) -> bytes:
    # Level 6: the Bun binary is ~100 MB; level 9 costs much more time for a few percent.
    return build_zip(entries, level=6)


def build_bun_layer(bun: Path, arch: str) -> bytes:
    """The layer zip for ``arch`` with the Bun binary ``bun`` (checked by :func:`resolve_bun`)."""
    _check_arch(arch)
    return _zip(layer_entries(resolve_bun(bun, arch)))


@dataclass(frozen=True)
class BunLayer:
    """A built layer zip in tscloud's cache, with what describing it needs."""

    path: Path
    version: str
    arch: str
    code_sha256: str
    size: int
    unzipped_size: int

    def read(self) -> bytes:
        return self.path.read_bytes()


def npm_layer(version: str = BUN_VERSION, arch: str = "arm64", *,
              progress: Callable[[str], None] | None = None) -> BunLayer:
    """The layer of npm's Bun ``version`` for ``arch``: built once into the cache, then read from there."""
    _check_arch(arch)
    binary = bun_binary(version, arch, progress=progress)
    entries = layer_entries(binary, version)
    # Named by the bytes that go in but the binary (pinned by version and checked when downloaded).
    recipe = hashlib.sha256(b"".join(e.read() for e in entries if e.arcname != "bin/bun")).hexdigest()[:16]
    path = cache_dir(version, arch) / f"layer-{recipe}.zip"
    if not path.is_file():
        if progress is not None:
            progress(f"building the Bun {version} layer for {arch}")
        staging = path.with_name(f"{path.name}.building-{os.getpid()}")
        staging.write_bytes(_zip(entries))
        staging.rename(path)
    data = path.read_bytes()
    unzipped = sum(len(e.read()) if e.arcname != "bin/bun" else binary.stat().st_size for e in entries)
    return BunLayer(path, version, arch, code_sha256(data), len(data), unzipped)
