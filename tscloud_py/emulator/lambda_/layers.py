"""A function's layers unpacked as Lambda unpacks them in ``/opt``, runnable on this machine.

Lambda extracts each layer in order into ``/opt``, a later one overwriting an earlier one's files, with
the modes the zip records (a ``bootstrap`` stays executable). An arm64 function's binaries cannot run on
an x86_64 machine (nor the other way): the Bun layer records the Bun release it packages, so the
emulator runs that same release built for this machine (npm's, from tscloud's cache) in its place,
as Lambda would run the layer's own on the function's architecture.
"""

from __future__ import annotations

import io
import platform
import stat
import zipfile
from collections.abc import Sequence
from pathlib import Path

from tscloud_py.build.bun_layer import VERSION_FILE, elf_architecture
from tscloud_py.build.bun_npm import bun_binary
from tscloud_py.emulator.lambda_.functions import layer_zip
from tscloud_py.lambda_runtime import RuntimeClientMissingError

HOST_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
    platform.machine().lower(), platform.machine())


def unzip(code: bytes, dest: Path) -> None:
    """Extract ``code`` into ``dest`` with the zip's file modes; a path leaving ``dest`` is never written
    (Lambda refuses such zips too)."""
    root = dest.resolve()
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        for info in archive.infolist():
            target = (dest / info.filename).resolve()
            if not target.is_relative_to(root):
                continue
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():
                target.unlink()
            target.write_bytes(archive.read(info))
            mode = stat.S_IMODE(info.external_attr >> 16)
            if mode:
                target.chmod(mode | 0o600)


def unpack_layers(function: str, arns: Sequence[str], opt: Path) -> None:
    """Each layer of ``arns`` extracted into ``opt`` in order; the Bun binary swapped for this machine's."""
    opt.mkdir(parents=True, exist_ok=True)
    for arn in arns:
        data = layer_zip(arn)
        if data is None:
            raise RuntimeClientMissingError(f"{function}: its layer {arn} is not in the emulator",
                                            "publish the layer again, then update the function")
        unzip(data, opt)
    _bun_for_this_machine(function, opt)


def _bun_for_this_machine(function: str, opt: Path) -> None:
    bun, recorded = opt / "bin" / "bun", opt / VERSION_FILE
    if not bun.is_file() or elf_architecture(bun) in (None, HOST_ARCH):
        return
    if not recorded.is_file():
        raise RuntimeClientMissingError(
            f"{function}: its layer's Bun is a {elf_architecture(bun)} binary, which cannot run on this "
            f"{HOST_ARCH} machine, and the layer does not say which Bun release it is",
            "build the layer from npm (tscloud lambda bun-layer build --bun-version X.Y.Z)")
    version = recorded.read_text().strip()
    bun.unlink()
    bun.symlink_to(bun_binary(version, HOST_ARCH))
