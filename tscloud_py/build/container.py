"""Container images: a content hash of exactly what Docker is sent, a docker build, a push to ECR.

The build context is chosen by the docker SDK's own ``.dockerignore`` code (the code that builds its
tarball), and the very file list that is hashed is the one put into the tarball we send, so the tag
changes exactly when what the engine receives changes. tscloud's own state directory (``.tscloud``,
journals and build logs) is never sent.

The ECR token stays in memory: it is handed to the engine as the push's ``X-Registry-Auth`` header,
never written to a docker config.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tscloud_py.build import dockerfile as df
from tscloud_py.build.docker_engine import BuildkitCli, api_client, buildkit_cli
from tscloud_py.errors import TscloudError

#: never sent to the engine, whatever .dockerignore says: tscloud's journals, locks and build logs
ALWAYS_EXCLUDED = (".tscloud",)
PULL_POLICIES = ("missing", "always", "never")


class ImageBuildError(TscloudError):
    default_hint = "fix the Dockerfile or build context; the build log named above has the full output"


@dataclass
class BuildSpec:
    context: Path
    dockerfile: str = "Dockerfile"
    target: str | None = None
    args: dict[str, str] = field(default_factory=dict)
    platform: str = "linux/amd64"
    pull: str = "missing"
    network: str | None = None  # the RUN steps' network mode; None is the engine's default
    log_dir: Path | None = None


@dataclass(frozen=True)
class PushResult:
    digest: str
    bytes_pushed: int  # layer bytes the registry did not have yet
    layers_pushed: int
    layers_reused: int


def dockerignore_patterns(context: Path) -> list[str]:
    """The .dockerignore lines exactly as the docker SDK reads them before building its tarball."""
    path = context / ".dockerignore"
    if not path.exists():
        return []
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line != "" and line[0] != "#"]


def context_files(spec: BuildSpec) -> list[str]:
    """Every path (files and directories, relative, sorted) that a build of ``spec`` sends."""
    from docker.utils.build import exclude_paths

    _check_paths(spec)
    patterns = dockerignore_patterns(spec.context) + list(ALWAYS_EXCLUDED)
    return sorted(exclude_paths(str(spec.context.resolve()), patterns, dockerfile=spec.dockerfile))


def _check_paths(spec: BuildSpec) -> None:
    if not spec.context.is_dir():
        raise ImageBuildError(f"api.build.context: {spec.context} is not a directory")
    if not (spec.context / spec.dockerfile).is_file():
        raise ImageBuildError(f"api.build.dockerfile: {spec.context / spec.dockerfile} not found")


def context_hash(spec: BuildSpec, files: list[str] | None = None) -> str:
    """sha256 over what the build sends (path, type, mode, bytes) and the build options; 16 hex chars."""
    files = context_files(spec) if files is None else files
    h = hashlib.sha256()
    h.update(json.dumps({"dockerfile": spec.dockerfile, "target": spec.target, "args": spec.args,
                         "platform": spec.platform}, sort_keys=True).encode())
    root = spec.context.resolve()
    for rel in files:
        path = root / rel
        info = path.lstat()
        mode = oct(stat.S_IMODE(info.st_mode)).encode()
        if stat.S_ISLNK(info.st_mode):
            h.update(b"l\0" + rel.encode() + b"\0" + os.readlink(path).encode() + b"\0")
        elif stat.S_ISDIR(info.st_mode):
            h.update(b"d\0" + rel.encode() + b"\0" + mode + b"\0")
        elif stat.S_ISREG(info.st_mode):
            h.update(b"f\0" + rel.encode() + b"\0" + mode + b"\0" + str(info.st_size).encode() + b"\0")
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()[:16]


def sweep_stale_credentials() -> list[Path]:
    """Remove the private DOCKER_CONFIG directories older tscloud versions left in TMPDIR (with a token)."""
    removed = []
    uid = os.getuid()
    for path in Path(tempfile.gettempdir()).glob("tscloud-docker-*"):
        try:
            if path.is_dir() and not path.is_symlink() and path.lstat().st_uid == uid:
                shutil.rmtree(path)
                removed.append(path)
        except OSError:
            continue
    return removed


class _BuildLog:
    """Every line of build output goes to the log file; with ``-v`` also to the progress view."""

    def __init__(self, path: Path | None, say: Callable[[str], None], verbose: bool) -> None:
        self.path = path
        self.say = say
        self.verbose = verbose
        self._fh: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = path.open("w", encoding="utf-8")

    def write(self, text: str) -> None:
        if self._fh is not None:
            self._fh.write(text)
            self._fh.flush()
        if self.verbose:
            for line in text.splitlines():
                if line.strip():
                    self.say(line.rstrip())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()

    def where(self) -> str:
        return f" (build log: {self.path})" if self.path is not None else ""


@contextmanager
def _context_tar(spec: BuildSpec, files: list[str]) -> Iterator[IO[bytes]]:
    from docker.utils.build import create_archive

    with tempfile.TemporaryFile() as fh:  # unnamed: gone with the process whatever happens
        create_archive(str(spec.context.resolve()), files=files, fileobj=fh)
        yield fh


def build_image(client: Any, spec: BuildSpec, ref: str, blog: _BuildLog) -> None:
    """Build ``spec`` as ``ref`` in the engine ``client`` talks to; raise ImageBuildError naming the line."""
    text = df.read(spec.context, spec.dockerfile)
    if spec.pull == "never":
        _require_local_bases(client, spec, text)
    files = context_files(spec)
    need = df.buildkit_need(text)
    with _context_tar(spec, files) as tar:
        if need is not None:
            cli = buildkit_cli()
            if cli is None:
                line, what = need
                raise ImageBuildError(
                    f"{spec.dockerfile}:{line}: {what} needs BuildKit, and `docker buildx` is not available here",
                    "install the docker buildx plugin (Docker's docker-buildx-plugin package), or write the "
                    "Dockerfile without BuildKit-only syntax")
            _buildkit(cli, spec, ref, tar, df.instructions(text), blog)
        else:
            _classic(client, spec, ref, tar, df.instructions(text), blog)
    _check_platform(client, spec, ref)


def _require_local_bases(client: Any, spec: BuildSpec, text: str) -> None:
    import docker.errors

    for line, image in df.base_images(text, spec.args):
        try:
            client.inspect_image(image)
        except docker.errors.ImageNotFound:
            raise ImageBuildError(
                f"{spec.dockerfile}:{line}: base image {image} is not in the engine and api.build.pull = \"never\"",
                f"`docker pull {image}` first, or set api.build.pull = \"missing\"") from None


_PARSE_ERROR = re.compile(r"(?:dockerfile parse error )?line (\d+): (.+)", re.IGNORECASE | re.DOTALL)
_STEP = re.compile(r"^Step (\d+)/\d+ : ")


def _classic(client: Any, spec: BuildSpec, ref: str, tar: IO[bytes], steps: list[df.Instruction],
             blog: _BuildLog) -> None:
    import docker.errors

    current: df.Instruction | None = None
    try:
        stream = client.build(fileobj=tar, custom_context=True, dockerfile=spec.dockerfile, tag=ref,
                              target=spec.target, buildargs=spec.args or None, platform=spec.platform,
                              rm=True, forcerm=True, pull=spec.pull == "always", network_mode=spec.network,
                              decode=True)
        for chunk in stream:
            text = chunk.get("stream") or chunk.get("status") or ""
            if text:
                blog.write(text if text.endswith("\n") else text + "\n")
                match = _STEP.match(text)
                if match and int(match.group(1)) <= len(steps):
                    current = steps[int(match.group(1)) - 1]
            if "error" in chunk:
                message = str(chunk["error"]).strip()
                blog.write(f"ERROR: {message}\n")
                where = f"{spec.dockerfile}:{current.line}: `{current.short()}` failed: " if current else ""
                raise ImageBuildError(f"docker build failed: {where}{message}{blog.where()}")
    except docker.errors.APIError as exc:
        message = str(exc.explanation or exc).strip()
        blog.write(f"ERROR: {message}\n")
        parsed = _PARSE_ERROR.search(message)
        if parsed and "parse error" in message.lower():
            raise ImageBuildError(f"{spec.dockerfile}:{parsed.group(1)}: {parsed.group(2).strip()}",
                                  "fix that line of the Dockerfile") from None
        raise ImageBuildError(f"docker build failed: {message}{blog.where()}") from None


@contextmanager
def _plain_tar(sdk_tar: IO[bytes]) -> Iterator[IO[bytes]]:
    """The SDK's tarball, member for member, in GNU format with whole-second mtimes.

    The SDK writes PAX headers (its mtimes are floats); the docker CLI sniffs a context on stdin from
    its first bytes and takes a PAX-headed tar for a Dockerfile.
    """
    sdk_tar.seek(0)
    with tempfile.TemporaryFile() as out:
        with tarfile.open(fileobj=sdk_tar, mode="r:") as src, \
                tarfile.open(fileobj=out, mode="w:", format=tarfile.GNU_FORMAT) as dst:
            for member in src:
                member.mtime = int(member.mtime)
                member.pax_headers = {}
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)
        out.seek(0)
        yield out


_BUILDKIT_STEP = re.compile(r"^\s*> \[[^\]]*\] (.+?):?$")


def _buildkit_where(dockerfile: str, tail: list[str], steps: list[df.Instruction]) -> str:
    """``Dockerfile:N: `INSTRUCTION` failed: `` from BuildKit's output: its own ``Dockerfile:N`` line
    (newer versions), else the failing step it echoes (``> [stage-0 3/3] RUN …:``) matched to the file."""
    for ln in tail:
        if (m := re.match(r"^Dockerfile:(\d+)$", ln.strip())) and int(m.group(1)) >= 1:
            found = next((s for s in steps if s.line == int(m.group(1))), None)
            return f"{dockerfile}:{m.group(1)}: " + (f"`{found.short()}` failed: " if found else "")
    for ln in reversed(tail):
        if m := _BUILDKIT_STEP.match(ln):
            echoed = " ".join(m.group(1).split())
            found = next((s for s in steps if " ".join(s.text.split()) == echoed), None)
            if found:
                return f"{dockerfile}:{found.line}: `{found.short()}` failed: "
    return ""


def _buildkit(cli: BuildkitCli, spec: BuildSpec, ref: str, tar: IO[bytes], steps: list[df.Instruction],
              blog: _BuildLog) -> None:
    cmd = [*cli.argv, "--progress", "plain", "-t", ref, "-f", spec.dockerfile, "--platform", spec.platform]
    if spec.target:
        cmd += ["--target", spec.target]
    for key, value in sorted(spec.args.items()):
        cmd += ["--build-arg", f"{key}={value}"]
    if spec.pull == "always":
        cmd.append("--pull")
    if spec.network:
        cmd += ["--network", spec.network]
    cmd.append("-")  # the context is our tarball on stdin: the same files, hashed above
    blog.write(f"$ {' '.join(cmd)}\n")
    with _plain_tar(tar) as plain:
        proc = subprocess.Popen(cmd, stdin=plain, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, **cli.env})
        assert proc.stdout is not None
        tail: list[str] = []
        for line in proc.stdout:
            blog.write(line)
            tail = [*tail, line.rstrip()][-40:]
    if proc.wait() != 0:
        error = next((ln for ln in reversed(tail) if ln.startswith("ERROR")), tail[-1] if tail else "failed")
        where = _buildkit_where(spec.dockerfile, tail, steps)
        raise ImageBuildError(f"{cli.name} build failed: {where}{error}{blog.where()}")


def _check_platform(client: Any, spec: BuildSpec, ref: str) -> None:
    info = client.inspect_image(ref)
    built = f"{info.get('Os', 'linux')}/{info.get('Architecture', '?')}"
    if built != spec.platform:
        raise ImageBuildError(
            f"the built image is {built} but api.architecture needs {spec.platform}: a base image has no "
            f"{spec.platform} variant in this engine; nothing was pushed",
            f"use a base image published for {spec.platform}, or set api.architecture to match")


def push_image(client: Any, repository_uri: str, tag: str, login: tuple[str, str, str],
               say: Callable[[str], None]) -> PushResult:
    username, password, endpoint = login
    registry = endpoint.removeprefix("https://").removeprefix("http://")
    auth = {"username": username, "password": password, "serveraddress": registry}
    digest = None
    sizes: dict[str, int] = {}
    pushed: set[str] = set()
    reused: set[str] = set()
    for chunk in client.push(repository_uri, tag=tag, auth_config=auth, stream=True, decode=True):
        if "error" in chunk:
            raise ImageBuildError(f"docker push failed: {str(chunk['error']).strip()}",
                                  "check the ECR repository and the token's account/region")
        layer, status = chunk.get("id"), str(chunk.get("status", ""))
        detail = chunk.get("progressDetail") or {}
        if layer and status == "Pushing":
            # "current" counts bytes sent; "total" is the layer's size before compression
            sent = max(int(detail.get("current") or 0), int(detail.get("total") or 0))
            sizes[layer] = max(sizes.get(layer, 0), sent)
        if layer and status == "Pushed":
            pushed.add(layer)
        elif layer and (status == "Layer already exists" or status.startswith("Mounted from")):
            reused.add(layer)
        aux = chunk.get("aux") or {}
        if aux.get("Digest"):
            digest = str(aux["Digest"])
    if digest is None:
        raise ImageBuildError(f"docker push of {repository_uri}:{tag} reported no digest")
    result = PushResult(digest, sum(sizes.get(layer, 0) for layer in pushed), len(pushed), len(reused))
    say(f"pushed {result.layers_pushed} layer(s), {result.bytes_pushed} bytes; "
        f"{result.layers_reused} already in the registry")
    return result


def build_and_push(spec: BuildSpec, repository_uri: str, tag: str, login: Callable[[], tuple[str, str, str]],
                   log: Callable[[str], None] | None = None, verbose: bool = False) -> PushResult:
    """Build ``spec`` as ``repository_uri:tag`` and push it; returns what the registry reported."""
    say = log or (lambda _text: None)
    sweep_stale_credentials()
    client = api_client()
    ref = f"{repository_uri}:{tag}"
    log_path = spec.log_dir / f"image-{tag}.log" if spec.log_dir is not None else None
    blog = _BuildLog(log_path, say, verbose)
    try:
        say(f"building {ref}{blog.where()}")
        build_image(client, spec, ref, blog)
    finally:
        blog.close()
    say(f"pushing {ref}")
    return push_image(client, repository_uri, tag, login(), say)
