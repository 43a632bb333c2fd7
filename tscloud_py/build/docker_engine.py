"""Finding the Docker engine the way the docker CLI does, and the docker CLI for BuildKit builds.

Order, as the CLI resolves it: ``DOCKER_CONTEXT`` only when ``DOCKER_HOST`` is unset, ``DOCKER_HOST``
(with ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``), then the current context of the docker config
(``docker context use``), then the default socket.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from tscloud_py.errors import TscloudError


class EngineUnavailableError(TscloudError):
    default_hint = "start Docker (or set DOCKER_HOST / `docker context use`), or use a prebuilt api.image"


@dataclass(frozen=True)
class Endpoint:
    host: str
    source: str  # where it came from, for the error: "DOCKER_HOST", "docker context ci", "default socket"
    tls: Any = None


def resolve_endpoint(environ: dict[str, str] | None = None) -> Endpoint:
    from docker.context import ContextAPI
    from docker.context.config import get_current_context_name
    from docker.utils import kwargs_from_env

    env = dict(os.environ if environ is None else environ)
    if env.get("DOCKER_HOST"):
        kwargs = kwargs_from_env(env)
        return Endpoint(str(kwargs["base_url"]), "DOCKER_HOST", kwargs.get("tls"))
    name = env.get("DOCKER_CONTEXT") or get_current_context_name()
    if name and name != "default":
        context = ContextAPI.get_context(name)
        if context is None:
            raise EngineUnavailableError(f"docker context {name!r} does not exist",
                                         "`docker context ls` lists them; `docker context use default` resets")
        return Endpoint(str(context.Host), f"docker context {name}", context.TLSConfig)
    kwargs = kwargs_from_env(env)  # DOCKER_TLS_VERIFY without DOCKER_HOST still applies to the default
    return Endpoint("unix:///var/run/docker.sock", "the default socket", kwargs.get("tls"))


def check_reachable() -> str:
    """Before the first write of a deploy that builds an image: the engine answers within seconds, else a
    usage error naming where the engine was looked for and how to start one. What was found, for plan."""
    from tscloud_py.errors import UsageError

    try:
        client = api_client(timeout=10)
    except EngineUnavailableError as exc:
        raise UsageError(exc.message, "start a Docker engine (`sudo systemctl start docker`, or Docker Desktop), "
                         "point DOCKER_HOST or `docker context use` at one, or set api.image to a built "
                         "image") from None
    client.close()
    endpoint = resolve_endpoint()
    return f"Docker engine: answers at {endpoint.host} (from {endpoint.source})"


def api_client(timeout: int = 600) -> Any:
    """A connected low-level docker SDK client; a one-line error when no engine answers."""
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise EngineUnavailableError("the docker package is not installed", "pip install docker") from exc
    endpoint = resolve_endpoint()
    try:
        client = docker.APIClient(base_url=endpoint.host, tls=endpoint.tls, version="auto", timeout=timeout)
        client.ping()
    except Exception as exc:
        socket = endpoint.host.removeprefix("unix://") if endpoint.host.startswith("unix://") else None
        if socket is not None and not os.path.exists(socket):
            reason = "no such socket"
        else:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EngineUnavailableError(
            f"no Docker engine reachable at {endpoint.host} (from {endpoint.source}): {reason}") from exc
    return client


@dataclass(frozen=True)
class BuildkitCli:
    """How to run a BuildKit build with the docker CLI here: ``argv`` + build flags + context."""

    argv: tuple[str, ...]
    env: dict[str, str]
    name: str  # for messages: "docker buildx" or "docker 20.10 (built-in BuildKit)"


def _run(argv: list[str]) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def buildkit_cli() -> BuildkitCli | None:
    """`docker buildx build --load` when the buildx plugin runs; else the docker CLI's own BuildKit
    (DOCKER_BUILDKIT=1, built in from 18.09 through 22.x; from 23 the CLI needs buildx for it)."""
    cli = shutil.which("docker")
    if cli is None:
        return None
    done = _run([cli, "buildx", "version"])
    if done is not None and done.returncode == 0:
        return BuildkitCli((cli, "buildx", "build", "--load"), {}, "docker buildx")
    done = _run([cli, "--version"])
    match = re.match(r"Docker version (\d+)\.(\d+)", done.stdout if done is not None else "")
    if match and (18, 9) <= (int(match.group(1)), int(match.group(2))) < (23, 0):
        return BuildkitCli((cli, "build"), {"DOCKER_BUILDKIT": "1"},
                           f"docker {match.group(1)}.{match.group(2)} (built-in BuildKit)")
    return None


def buildx_available() -> bool:
    """Whether a BuildKit build can run here (`docker buildx`, or an older CLI's built-in BuildKit)."""
    return buildkit_cli() is not None
