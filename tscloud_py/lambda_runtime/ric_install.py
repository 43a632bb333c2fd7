"""AWS's Lambda runtime interface client (the ``aws-lambda-ric`` npm package), found or installed on first use.

Callers that run a function locally (``ssr doctor``, ``--local``) call
``ensure_ric()``: it returns the package directory, installing it into tscloud's
cache (``$XDG_CACHE_HOME/tscloud``, else ``~/.cache/tscloud``) when it is missing.
The install is ``npm install --ignore-scripts aws-lambda-ric@3.3.0``; its native
part, ``dist/rapid-client.node``, is used if the tarball ships one that loads
here, else built from the sources the tarball carries (``npm rebuild``, which
needs autoconf, automake, libtool, make, g++ and cmake). A file lock keeps two
installs from racing; the install happens in a staging directory renamed into
place, so a half install is never found. Where it cannot be installed, the
error is one line naming what to do. ``$TSCLOUD_AWS_LAMBDA_RIC`` overrides all of it.
"""

from __future__ import annotations

import fcntl
import os
import platform
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tscloud_py.errors import UsageError

RIC_VERSION = "3.3.0"
RIC_ENV = "TSCLOUD_AWS_LAMBDA_RIC"
NATIVE = Path("dist") / "rapid-client.node"
BUILD_TOOLS = ("autoreconf", "libtoolize", "make", "g++", "cmake")
APT_PACKAGES = "autoconf automake libtool make g++ cmake python3"
NPM_TIMEOUT_S = 300.0
BUILD_TIMEOUT_S = 1200.0


class RuntimeClientMissingError(UsageError):
    """node or the aws-lambda-ric package is not available."""

    default_hint = (f"tscloud installs aws-lambda-ric {RIC_VERSION} on first use (it needs node and npm), "
                    f"or point {RIC_ENV} at an installed package directory")


def cache_dir() -> Path:
    """Where tscloud keeps the runtime client: ``$XDG_CACHE_HOME/tscloud/aws-lambda-ric/<version>``."""
    from tscloud_py.user_cache import user_cache_dir

    return user_cache_dir("aws-lambda-ric", RIC_VERSION)


def cached_package() -> Path:
    return cache_dir() / "node_modules" / "aws-lambda-ric"


def is_ric(path: Path) -> bool:
    """A complete package: the runtime's entry points and its native client."""
    return (path / "bin" / "index.mjs").is_file() and (path / "dist" / "index.mjs").is_file() \
        and (path / NATIVE).is_file()


def find_ric(*near: Path) -> Path | None:
    """An installed aws-lambda-ric: ``$TSCLOUD_AWS_LAMBDA_RIC`` alone when set, else a node_modules above ``near``,
    else tscloud's cache. Nothing is installed."""
    env = os.environ.get(RIC_ENV)
    if env:
        return next((c for c in (Path(env), Path(env) / "node_modules" / "aws-lambda-ric") if is_ric(c)), None)
    candidates: list[Path] = []
    for start in near:
        for parent in [start.resolve(), *start.resolve().parents]:
            candidates.append(parent / "node_modules" / "aws-lambda-ric")
    candidates.append(cached_package())
    return next((c for c in candidates if is_ric(c)), None)


def ensure_ric(*near: Path, progress: Callable[[str], None] | None = None) -> Path:
    """The aws-lambda-ric package directory, installed into tscloud's cache first when none is found.

    ``progress`` gets one line before a step that takes a while (npm install, the native build).
    Raises ``RuntimeClientMissingError`` (one line, no traceback) when it is not there and cannot be installed.
    """
    found = find_ric(*near)
    if found is not None:
        return found
    env = os.environ.get(RIC_ENV)
    if env:
        raise RuntimeClientMissingError(f"{RIC_ENV}={env}: no aws-lambda-ric package with {NATIVE} there")
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeClientMissingError(f"{'node' if node is None else 'npm'} is not on PATH, so aws-lambda-ric "
                                        f"{RIC_VERSION} (AWS's Lambda runtime client) could not be installed",
                                        "install Node.js 20 or newer (with npm)")
    with _install_lock():
        if is_ric(cached_package()):
            return cached_package()
        _install(node, npm, progress or (lambda _line: None))
    return cached_package()


@contextmanager
def _install_lock() -> Iterator[None]:
    target = cache_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _install(node: str, npm: str, progress: Callable[[str], None]) -> None:
    target = cache_dir()
    staging = target.with_name(f"{target.name}.installing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        progress(f"installing AWS's Lambda runtime client (aws-lambda-ric {RIC_VERSION}) into {target} (once)")
        _npm(npm, ["install", "--ignore-scripts", "--no-save", "--no-package-lock", "--prefix", str(staging),
                   f"aws-lambda-ric@{RIC_VERSION}"], staging, NPM_TIMEOUT_S, "npm install")
        package = staging / "node_modules" / "aws-lambda-ric"
        if not _loads(node, package / NATIVE):
            _build_native(node, npm, staging, package, progress)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _build_native(node: str, npm: str, staging: Path, package: Path, progress: Callable[[str], None]) -> None:
    """Compile rapid-client.node from the sources in the tarball (no network: the C++ deps ship inside it)."""
    target = cache_dir()
    build_cmd = (f"apt-get install -y {APT_PACKAGES} && npm install --prefix {target} aws-lambda-ric@{RIC_VERSION}")
    missing = [tool for tool in BUILD_TOOLS if shutil.which(tool) is None]
    where = f"{platform.system()} {platform.machine()}"
    if missing:
        raise RuntimeClientMissingError(
            f"aws-lambda-ric {RIC_VERSION} has no native client that loads on {where} and {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing to build it: run `{build_cmd}`",
            f"or point {RIC_ENV} at an installed package directory")
    progress(f"building its native client from source ({where}; a few minutes, once)")
    _npm(npm, ["rebuild", "--foreground-scripts", "aws-lambda-ric"], staging, BUILD_TIMEOUT_S,
         "building aws-lambda-ric's native client", {"MAKEFLAGS": os.environ.get("MAKEFLAGS") or f"-j{os.cpu_count() or 1}"})
    if not _loads(node, package / NATIVE):
        raise RuntimeClientMissingError(
            f"aws-lambda-ric {RIC_VERSION}'s native client was built but does not load on {where}: run `{build_cmd}`",
            f"or point {RIC_ENV} at an installed package directory")


def _npm(npm: str, args: list[str], cwd: Path, timeout: float, what: str, extra: dict[str, str] | None = None) -> None:
    env = {**os.environ, "npm_config_audit": "false", "npm_config_fund": "false",
           "npm_config_update_notifier": "false", "npm_config_progress": "false", **(extra or {})}
    try:
        out = subprocess.run([npm, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeClientMissingError(f"{what} of aws-lambda-ric {RIC_VERSION} did not finish in "
                                        f"{timeout:.0f} s") from None
    if out.returncode != 0:
        raise RuntimeClientMissingError(f"{what} of aws-lambda-ric {RIC_VERSION} failed: {_last_error(out.stderr)}")


def _last_error(stderr: str) -> str:
    """npm's most telling line: its first `npm error` line that says more than a code or a log path."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for line in lines:
        text = line.removeprefix("npm error").removeprefix("npm ERR!").strip()
        if text and not text.startswith(("code ", "errno ", "A complete log", "syscall ", "Log files")):
            return text[:200]
    return lines[-1][:200] if lines else "(npm printed nothing)"


def _loads(node: str, native: Path) -> bool:
    """Whether ``node`` can load the native client (right architecture and libc).

    Loading it reads AWS_LAMBDA_RUNTIME_API (it aborts the process without one) but connects to nothing
    until the first call, so a closed loopback port will do.
    """
    if not native.is_file():
        return False
    try:
        out = subprocess.run([node, "-e", "require(process.argv[1])", str(native)], stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=60,
                             env={**os.environ, "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9"})
    except subprocess.TimeoutExpired:
        return False
    return out.returncode == 0
