"""Bun's Linux binaries from the npm registry, pinned by version and checked against the registry's integrity.

Oven publishes each release's binary as ``@oven/bun-linux-aarch64`` and ``@oven/bun-linux-x64``; the
package's tarball holds ``package/bin/bun``. The registry's version document names the tarball
(``dist.tarball``) and its Subresource Integrity hash (``dist.integrity``, ``sha512-<base64>``); the
tarball is refused unless its sha512 is that one. The binary is kept in tscloud's cache
(``$XDG_CACHE_HOME/tscloud/bun/<version>/<arch>/bun``), put in place by a rename under a file lock so
a half download is never found and two runs do not download it twice.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import io
import json
import re
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tscloud_py.build.bun_version import BUN_VERSION
from tscloud_py.errors import TscloudError, UsageError

REGISTRY = "https://registry.npmjs.org"
PACKAGES = {"arm64": "@oven/bun-linux-aarch64", "x86_64": "@oven/bun-linux-x64"}
VERSION_PATTERN = re.compile(r"\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?")
MEMBER = "package/bin/bun"
TIMEOUT_S = 120.0
MAX_TARBALL = 200 * 1024 * 1024  # a Bun tarball is ~40 MB; anything this size is not one


class BunDownloadError(TscloudError):
    """The registry could not be reached, or what it served is not the Bun release it describes."""

    default_hint = "check the network and the version (npm view @oven/bun-linux-x64 versions)"


def check_version(version: str) -> str:
    if not VERSION_PATTERN.fullmatch(version):
        raise UsageError(f"--bun-version: expected a Bun release like {BUN_VERSION}, got {version!r}")
    return version


def cache_dir(version: str, arch: str) -> Path:
    from tscloud_py.user_cache import user_cache_dir

    return user_cache_dir("bun", version, arch)


def verify_integrity(data: bytes, integrity: str, what: str) -> None:
    """Raise unless ``data`` has the sha512 the SRI string ``integrity`` names (``sha512-<base64>``)."""
    wanted = next((part.removeprefix("sha512-") for part in integrity.split() if part.startswith("sha512-")), None)
    if wanted is None:
        raise BunDownloadError(f"{what}: the registry gives no sha512 integrity ({integrity[:40]!r})")
    got = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if got != wanted:
        raise BunDownloadError(f"{what}: the tarball's sha512 is {got[:16]}..., the registry says {wanted[:16]}...",
                               "the download was altered or cut short; run again")


def extract_binary(tarball: bytes, what: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        try:
            member = archive.getmember(MEMBER)
        except KeyError:
            raise BunDownloadError(f"{what}: the tarball has no {MEMBER}") from None
        handle = archive.extractfile(member) if member.isfile() else None
        if handle is None:
            raise BunDownloadError(f"{what}: {MEMBER} in the tarball is not a file")
        return handle.read()


def _get(url: str, what: str, limit: int) -> bytes:
    if not url.startswith("https://"):
        raise BunDownloadError(f"{what}: the registry points at {url[:80]!r}, not an https URL")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            data: bytes = response.read(limit + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise UsageError(f"--bun-version: {what} is not on the npm registry",
                             "pick a published version (npm view @oven/bun-linux-x64 versions)") from None
        raise BunDownloadError(f"{what}: {url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise BunDownloadError(f"{what}: cannot reach {url.split('/')[2]}: {getattr(exc, 'reason', exc)}") from None
    if len(data) > limit:
        raise BunDownloadError(f"{what}: {url} is larger than {limit // (1024 * 1024)} MB")
    return data


def fetch_binary(version: str, arch: str) -> bytes:
    """Download and check Bun ``version`` for ``arch`` from the registry; the binary's bytes."""
    package = PACKAGES[arch]
    what = f"{package}@{version}"
    document = json.loads(_get(f"{REGISTRY}/{package}/{version}", what, 1024 * 1024))
    dist = document.get("dist") if isinstance(document, dict) else None
    if not isinstance(dist, dict) or not isinstance(dist.get("tarball"), str) or \
            not isinstance(dist.get("integrity"), str):
        raise BunDownloadError(f"{what}: the registry's document has no dist.tarball and dist.integrity")
    tarball = _get(dist["tarball"], what, MAX_TARBALL)
    verify_integrity(tarball, dist["integrity"], what)
    return extract_binary(tarball, what)


def bun_binary(version: str, arch: str, *, progress: Callable[[str], None] | None = None) -> Path:
    """The Bun binary for ``arch`` at ``version``, from tscloud's cache, downloaded into it the first time."""
    check_version(version)
    if arch not in PACKAGES:
        raise UsageError(f"--arch: expected one of {', '.join(PACKAGES)}, got {arch!r}")
    target = cache_dir(version, arch) / "bun"
    if target.is_file():
        return target
    with _lock(target.parent):
        if target.is_file():
            return target
        if progress is not None:
            progress(f"downloading {PACKAGES[arch]}@{version} from the npm registry into {target.parent} (once)")
        data = fetch_binary(version, arch)
        staging = target.with_name("bun.downloading")
        staging.write_bytes(data)
        staging.chmod(0o755)
        staging.rename(target)
    return target


@contextmanager
def _lock(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
