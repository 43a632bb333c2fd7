"""The Bun runtime layer: a ``provided.al2023`` layer with ``bootstrap``, a Runtime API loop and Bun.

Layout inside the zip (unpacked by Lambda in ``/opt``)::

    bootstrap                 executable; runs bin/bun on tscloud-bun/runtime.mjs
    bin/bun                   the Bun binary given with --bun (a Linux build for the layer's arch)
    tscloud-bun/runtime.mjs   the Runtime API loop (payload 2.0 events <-> a fetch(Request) handler)

The zip is deterministic, so republishing an unchanged layer is skipped.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from tscloud_py.build.zipper import ZipEntry, build_zip
from tscloud_py.errors import UsageError

RUNTIME = "provided.al2023"
ARCHITECTURES = ("arm64", "x86_64")
DEFAULT_LAYER_NAME = "tscloud-bun"
BUN_RELEASES = "https://github.com/oven-sh/bun/releases (bun-linux-aarch64.zip or bun-linux-x64.zip)"
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


def resolve_bun(bun: Path | None, arch: str) -> Path:
    """The Bun binary to package: --bun, else `bun` on PATH; it must be executable and match ``arch``."""
    if bun is None:
        found = shutil.which("bun")
        if found is None:
            raise UsageError("--bun: no bun on PATH; pass --bun PATH to a Linux build of Bun",
                             f"download one from {BUN_RELEASES}")
        bun = Path(found)
    if not bun.is_file():
        raise UsageError(f"--bun: {bun} is not a file")
    if not bun.stat().st_mode & 0o111:
        raise UsageError(f"--bun: {bun} is not executable", f"chmod +x {bun}")
    machine = elf_architecture(bun)
    if machine is not None and machine != arch:
        raise UsageError(f"--bun: {bun} is a {machine} binary but --arch is {arch}",
                         f"pass --arch {machine}, or a Bun build for {arch} from {BUN_RELEASES}")
    return bun


def layer_entries(bun: Path) -> list[ZipEntry]:
    return [
        ZipEntry("bootstrap", data_file("bootstrap"), executable=True),
        ZipEntry("bin/bun", bun, executable=True),
        ZipEntry("tscloud-bun/runtime.mjs", data_file("runtime.mjs")),
    ]


def build_bun_layer(bun: Path | None, arch: str) -> bytes:
    """The layer zip for ``arch`` with the Bun binary ``bun`` (checked by :func:`resolve_bun`)."""
    if arch not in ARCHITECTURES:
        raise UsageError(f"--arch: expected one of {', '.join(ARCHITECTURES)}, got {arch!r}")
    # Level 6: the Bun binary is ~90 MB; level 9 costs much more time for a few percent.
    return build_zip(layer_entries(resolve_bun(bun, arch)), level=6)
