"""The emulator's container registry: a real CNCF distribution registry behind moto's ECR.

In AWS a repository's URI is a registry you can log in to with the ECR token, push to, and whose
pushed images DescribeImages then lists. moto makes up a host nobody serves and knows only images
put through its API. With a registry attached, moto's ECR behaves as AWS's does: repository URIs and
the token's proxy endpoint name the registry, its htpasswd user is ECR's ``AWS`` with the user's own
registry password (tscloud_py.emulator.home) as ECR's token, and DescribeImages/ListImages/BatchGetImage
first take in what was pushed there.

``Registry`` runs Debian's ``docker-registry`` (distribution 2.8) on a free loopback port with its
own data directory, removed when it stops.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tscloud_py.errors import EmulatorUnavailableError

MANIFEST_TYPES = ", ".join((
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
))


@dataclass(frozen=True)
class Attached:
    host: str  # host:port, as it appears in repository URIs
    password: str


_attached: Attached | None = None
_patched = False
_lock = threading.Lock()


def registry_binary() -> str | None:
    return shutil.which("docker-registry") or shutil.which("registry")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bcrypt(password: str) -> str:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # glibc's libxcrypt does bcrypt, the one scheme distribution's htpasswd reads

        # cost 4 is bcrypt's minimum: this guards an emulator on loopback, not a secret
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Registry:
    """A distribution registry on 127.0.0.1, stopped (and its data removed) by ``stop``."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.port = 0
        self._dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        binary = registry_binary()
        if binary is None:
            raise EmulatorUnavailableError(
                "--local: the emulator's registry needs Debian's docker-registry, which is not installed",
                "apt-get install docker-registry (or use a prebuilt api.image)")
        sweep_stale_dirs()
        self._dir = Path(tempfile.mkdtemp(prefix="tscloud-registry-"))
        (self._dir / "owner").write_text(str(os.getpid()))
        self.port = _free_port()
        (self._dir / "htpasswd").write_text(f"AWS:{_bcrypt(self.password)}\n")
        (self._dir / "config.yml").write_text(json.dumps({  # YAML is a superset of JSON
            "version": 0.1, "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(self._dir / "data")}, "delete": {"enabled": True}},
            "http": {"addr": self.host},
            "auth": {"htpasswd": {"realm": "tscloud-local", "path": str(self._dir / "htpasswd")}},
        }))
        log = (self._dir / "registry.log").open("wb")
        self._proc = subprocess.Popen([binary, "serve", str(self._dir / "config.yml")], stdout=log,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = (self._dir / "registry.log").read_text(errors="replace")[-500:]
                self.stop()
                raise EmulatorUnavailableError(f"--local: the registry exited at start: {tail.strip()}")
            if _answers(self.host):
                return self.host
            time.sleep(0.05)
        self.stop()
        raise EmulatorUnavailableError(f"--local: the registry did not answer on {self.host} in {timeout:.0f}s")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def sweep_stale_dirs() -> None:
    """Remove registry directories whose owning process is gone (it was killed before ``stop``)."""
    for path in Path(tempfile.gettempdir()).glob("tscloud-registry-*"):
        try:
            if path.lstat().st_uid != os.getuid() or path.is_symlink():
                continue
            pid = int((path / "owner").read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            continue


def _answers(host: str) -> bool:
    try:
        urllib.request.urlopen(f"http://{host}/v2/", timeout=1).close()
        return True
    except urllib.error.HTTPError as exc:
        return exc.code == 401  # it is up, and it wants the token
    except OSError:
        return False


def attach(host: str, password: str) -> None:
    """Make moto's ECR (in this process) front the registry at ``host``."""
    global _attached
    _patch_moto_ecr()
    with _lock:
        _attached = Attached(host, password)


def detach() -> None:
    global _attached
    with _lock:
        _attached = None


def attached() -> Attached | None:
    return _attached


def _registry_get(reg: Attached, path: str, accept: str | None = None) -> tuple[bytes, dict[str, str]]:
    auth = base64.b64encode(f"AWS:{reg.password}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", **({"Accept": accept} if accept else {})}
    req = urllib.request.Request(f"http://{reg.host}{path}", headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read(), dict(resp.headers.items())


def _take_in_pushed(backend: Any, repository_name: str) -> None:
    """Register in moto every tag pushed to the registry that moto does not know yet."""
    reg = _attached
    repo = backend.repositories.get(repository_name)
    if reg is None or repo is None:
        return
    try:
        body, _ = _registry_get(reg, f"/v2/{repository_name}/tags/list")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return  # nothing pushed yet
        raise
    known = {tag for image in repo.images for tag in image.image_tags}
    for tag in json.loads(body).get("tags") or []:
        if tag in known:
            continue
        manifest, headers = _registry_get(reg, f"/v2/{repository_name}/manifests/{tag}", MANIFEST_TYPES)
        lowered = {k.lower(): v for k, v in headers.items()}
        media_type = lowered.get("content-type", "").split(";")[0] or None
        backend.put_image(repository_name, manifest.decode(), tag, media_type, lowered.get("docker-content-digest"))


def _patch_moto_ecr() -> None:
    global _patched
    with _lock:
        if _patched:
            return
        _patched = True
    from moto.ecr import models, responses

    original_init = models.Repository.__init__

    def repository_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        reg = _attached
        if reg is not None:
            self.uri = f"{reg.host}/{self.name}"

    models.Repository.__init__ = repository_init  # type: ignore[method-assign]

    for name in ("describe_images", "list_images", "batch_get_image"):
        original = getattr(models.ECRBackend, name)

        def synced(self: Any, repository_name: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            if _attached is not None:
                _take_in_pushed(self, repository_name)
            return _original(self, repository_name, *args, **kwargs)

        setattr(models.ECRBackend, name, synced)

    original_token = responses.ECRResponse.get_authorization_token

    def get_authorization_token(self: Any) -> Any:
        reg = _attached
        if reg is None:
            return original_token(self)
        from moto.core.responses import ActionResult

        registry_ids = self._get_param("registryIds") or [self.current_account]
        data = [{"authorizationToken": base64.b64encode(f"AWS:{reg.password}".encode()).decode(),
                 "expiresAt": time.time() + 12 * 3600, "proxyEndpoint": f"http://{reg.host}"}
                for rid in registry_ids]
        return ActionResult({"authorizationData": data})

    responses.ECRResponse.get_authorization_token = get_authorization_token  # type: ignore[method-assign]

