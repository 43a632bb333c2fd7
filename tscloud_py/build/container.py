"""Container images: a content hash of the build context, docker SDK build, ECR push.

No AWS CLI and no credential left on disk: the ECR token is written to a private
temporary DOCKER_CONFIG (directory 0700, config.json 0600) that the docker SDK reads,
and the directory is removed when the push ends, whatever happens.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tscloud_py.errors import TscloudError


class ImageBuildError(TscloudError):
    default_hint = "fix the Dockerfile or build context; the build output above shows the failing step"


@dataclass
class BuildSpec:
    context: Path
    dockerfile: str = "Dockerfile"
    target: str | None = None
    args: dict[str, str] = field(default_factory=dict)
    platform: str = "linux/amd64"


def _ignore_patterns(context: Path) -> list[str]:
    path = context / ".dockerignore"
    if not path.exists():
        return [".git", ".tscloud"]
    lines = [ln.strip() for ln in path.read_text().splitlines()]
    return [ln.rstrip("/") for ln in lines if ln and not ln.startswith("#") and not ln.startswith("!")] + [".tscloud"]


def _ignored(rel: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(rel, p) or rel.startswith(p.rstrip("*") + "/") or fnmatch.fnmatch(rel, p + "/*")
               for p in patterns)


def context_hash(spec: BuildSpec) -> str:
    """sha256 over every file of the context (path, mode, bytes) and the build options; 16 hex chars."""
    if not spec.context.is_dir():
        raise ImageBuildError(f"api.build.context: {spec.context} is not a directory")
    if not (spec.context / spec.dockerfile).is_file():
        raise ImageBuildError(f"api.build.dockerfile: {spec.context / spec.dockerfile} not found")
    patterns = _ignore_patterns(spec.context)
    h = hashlib.sha256()
    h.update(json.dumps({"dockerfile": spec.dockerfile, "target": spec.target, "args": spec.args,
                         "platform": spec.platform}, sort_keys=True).encode())
    for path in sorted(p for p in spec.context.rglob("*") if p.is_file()):
        rel = path.relative_to(spec.context).as_posix()
        if _ignored(rel, patterns) and rel != spec.dockerfile:
            continue
        h.update(rel.encode() + b"\0" + oct(path.stat().st_mode & 0o111).encode() + b"\0")
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()[:16]


@contextmanager
def private_docker_config(registry: str, username: str, password: str) -> Iterator[Path]:
    """A temporary DOCKER_CONFIG holding only this registry's credentials; removed on exit."""
    directory = Path(tempfile.mkdtemp(prefix="tscloud-docker-"))
    try:
        os.chmod(directory, 0o700)
        config = directory / "config.json"
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        auth = base64.b64encode(f"{username}:{password}".encode()).decode()
        with os.fdopen(fd, "w") as fh:
            json.dump({"auths": {registry: {"auth": auth}}}, fh)
        yield config
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _client() -> Any:
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImageBuildError("the docker package is not installed", "pip install docker") from exc
    try:
        client = docker.APIClient(base_url=os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock",
                                  version="auto", timeout=600)
        client.ping()
    except Exception as exc:
        raise ImageBuildError(f"no Docker engine reachable ({type(exc).__name__}: {exc})",
                              "start Docker (or set DOCKER_HOST), or use a prebuilt api.image") from exc
    return client


def build_and_push(spec: BuildSpec, repository_uri: str, tag: str, login: tuple[str, str, str],
                   log: Callable[[str], None] | None = None) -> str:
    """Build ``spec`` as ``repository_uri:tag`` and push it; returns the pushed manifest digest."""
    client = _client()
    ref = f"{repository_uri}:{tag}"
    say = log or (lambda _text: None)
    say(f"building {ref}")
    image_id = None
    for chunk in client.build(path=str(spec.context), dockerfile=spec.dockerfile, tag=ref, target=spec.target,
                              buildargs=spec.args or None, platform=spec.platform, rm=True, pull=True,
                              decode=True):
        if "error" in chunk:
            raise ImageBuildError(f"docker build failed: {chunk['error'].strip()}")
        aux = chunk.get("aux") or {}
        if aux.get("ID"):
            image_id = aux["ID"]
    if image_id is None:
        image_id = client.inspect_image(ref).get("Id")
    username, password, endpoint = login
    registry = endpoint.removeprefix("https://").removeprefix("http://")
    digest = None
    with private_docker_config(registry, username, password) as config:
        client.reload_config(str(config))
        try:
            say(f"pushing {ref}")
            for chunk in client.push(repository_uri, tag=tag, stream=True, decode=True):
                if "error" in chunk:
                    raise ImageBuildError(f"docker push failed: {chunk['error'].strip()}",
                                          "check the ECR repository and the token's account/region")
                aux = chunk.get("aux") or {}
                if aux.get("Digest"):
                    digest = str(aux["Digest"])
        finally:
            client.reload_config(os.devnull)  # drop the credentials from the client's memory too
    if digest is None:
        raise ImageBuildError(f"docker push of {ref} reported no digest")
    return digest
