"""The real Docker engine and registry that .ci/run starts (.ci/engines.sh), for the image tests.

They are found through the environment .ci/engines.sh exports. Off CI, without them, the tests skip
and say how to get them; on CI (``CI`` set) a missing engine is a failure, not a skip.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class RealDocker:
    docker_host: str
    registry: str  # host:port
    password: str  # the registry's htpasswd password for user AWS (moto's ECR token)
    base_image: str  # a local-only static busybox image

    def manifest_digest(self, name: str, tag: str) -> str | None:
        """The registry's own Docker-Content-Digest for name:tag, None if it has no such tag."""
        auth = base64.b64encode(f"AWS:{self.password}".encode()).decode()
        req = urllib.request.Request(
            f"http://{self.registry}/v2/{name}/manifests/{tag}", method="HEAD",
            headers={"Authorization": f"Basic {auth}",
                     "Accept": "application/vnd.docker.distribution.manifest.v2+json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return str(resp.headers["Docker-Content-Digest"])
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def tags(self, name: str) -> list[str]:
        auth = base64.b64encode(f"AWS:{self.password}".encode()).decode()
        req = urllib.request.Request(f"http://{self.registry}/v2/{name}/tags/list",
                                     headers={"Authorization": f"Basic {auth}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return list(json.loads(resp.read()).get("tags") or [])
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return []
            raise


def real_docker() -> RealDocker:
    """The engine and registry from the environment, or skip (off CI) / fail (on CI) saying why."""
    names = ("DOCKER_HOST", "TSCLOUD_TEST_REGISTRY", "TSCLOUD_TEST_REGISTRY_PASSWORD", "TSCLOUD_TEST_BASE_IMAGE")
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        reason = (f"no real Docker engine/registry ({', '.join(missing)} unset): "
                  "`source .ci/engines.sh && engines_install && engines_up` starts them")
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the image tests on a real engine: {reason}")
        pytest.skip(reason)
    return RealDocker(os.environ["DOCKER_HOST"], os.environ["TSCLOUD_TEST_REGISTRY"],
                      os.environ["TSCLOUD_TEST_REGISTRY_PASSWORD"], os.environ["TSCLOUD_TEST_BASE_IMAGE"])


def image_example(root: Path) -> tuple[Path, RealDocker]:
    """examples/fullstack-build copied under ``root`` for the emulator on the real engine (or skip, off CI,
    / fail, on CI, saying what is missing)."""
    docker = real_docker()
    if shutil.which("docker-registry") is None:
        reason = "the emulator's registry needs Debian's docker-registry (.ci/engines.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    target = root / "fullstack-build"
    shutil.copytree(Path(__file__).resolve().parent.parent / "examples" / "fullstack-build", target,
                    ignore=shutil.ignore_patterns(".tscloud"))
    toml = target / "tscloud.toml"
    # No public registry is reachable here: the base is the locally made busybox; the CI engine has no
    # bridge network, so RUN steps (there are none in the example, but keep it honest) get none.
    text = toml.read_text().replace('BASE = "busybox:1.36"', f'BASE = "{docker.base_image}"')
    toml.write_text(text.replace('# network = "none"', 'network = "none"'))
    return target, docker


def unique_app(prefix: str = "img") -> str:
    """Apps (so repositories) unique per test: the registry outlives each test's moto state."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"
