"""Bun from the npm registry: the tarball is taken only with the sha512 the registry gives, and only its
``package/bin/bun``; versions are checked like flags."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile

import pytest

from tscloud_py.build.bun_npm import (
    BunDownloadError,
    check_version,
    extract_binary,
    verify_integrity,
)
from tscloud_py.errors import UsageError


def tarball(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def test_integrity_is_the_registrys_sha512() -> None:
    data = tarball({"package/bin/bun": b"\x7fELF..."})
    verify_integrity(data, sri(data), "pkg@1")
    verify_integrity(data, f"sha1-abc {sri(data)}", "pkg@1")  # SRI may list several hashes
    with pytest.raises(BunDownloadError, match="the registry says"):
        verify_integrity(data + b"x", sri(data), "pkg@1")
    with pytest.raises(BunDownloadError, match="no sha512"):
        verify_integrity(data, "sha1-" + base64.b64encode(hashlib.sha1(data).digest()).decode(), "pkg@1")


def test_extracts_only_the_binary() -> None:
    assert extract_binary(tarball({"package/package.json": b"{}", "package/bin/bun": b"BIN"}), "p") == b"BIN"
    with pytest.raises(BunDownloadError, match="no package/bin/bun"):
        extract_binary(tarball({"package/bun": b"BIN"}), "p")


@pytest.mark.parametrize("version", ["1.4.4", "1.4.5-canary.20261202.1"])
def test_versions(version: str) -> None:
    assert check_version(version) == version


@pytest.mark.parametrize("version", ["latest", "1.4", "v1.4.4", "1.4.4; rm -rf /", "../1.4.4"])
def test_bad_versions_name_the_flag(version: str) -> None:
    with pytest.raises(UsageError, match="--bun-version"):
        check_version(version)
