"""SIGTERM at each point of an image build and push (`tscloud --local deploy` against `tscloud local
serve`, on a real engine and the emulator's real registry) leaves the ECR token nowhere on disk (TMPDIR,
HOME and the project are scanned for it in every encoding Docker uses), and the next deploy converges
to the image the registry holds."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.test_local_image import registry_digest, registry_password
from tests.conftest import REPO, run_cli
from tests.docker_support import real_docker


def needles(password: str) -> list[bytes]:
    """The forms the registry password (ECR's token) travels in."""
    return [
        password.encode(),
        base64.b64encode(f"AWS:{password}".encode()),  # docker config.json "auth"
        base64.urlsafe_b64encode(json.dumps({"username": "AWS", "password": password}).encode())[:24],  # X-Registry-Auth
    ]


def leaked(*roots: Path) -> list[str]:
    found = []
    forms = needles(registry_password())
    for root in roots:
        for path in root.rglob("*"):
            try:
                if path.is_symlink() or not path.is_file() or path.stat().st_size > 64 << 20:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            found += [f"{path}: {needle.decode()}" for needle in forms if needle in data]
    return found


def deploy_until(project: Path, env: dict[str, str], marker: str, delay: float) -> str:
    """Start a deploy (-v: build output streams), SIGTERM it when a stderr line matches ``marker``."""
    proc = subprocess.Popen([sys.executable, "-m", "tscloud_py", "-v", "--local", "deploy"], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if re.search(marker, line):
                time.sleep(delay)
                proc.send_signal(signal.SIGTERM)
                break
        else:
            pytest.fail(f"the deploy ended before {marker!r}:\n{''.join(seen)}")
    finally:
        proc.wait(timeout=120)
    assert proc.returncode in (-signal.SIGTERM, 128 + signal.SIGTERM), "".join(seen)  # killed, or its handler
    return "".join(seen)


def test_sigterm_during_build_and_push_leaves_no_token_and_the_rerun_converges(tmp_path: Path) -> None:
    docker = real_docker()
    if shutil.which("docker-registry") is None:
        pytest.skip("the emulator's registry needs Debian's docker-registry")
    project = tmp_path / "project"
    shutil.copytree(REPO / "examples" / "fullstack-build", project, ignore=shutil.ignore_patterns(".tscloud"))
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text().replace('BASE = "busybox:1.36"', f'BASE = "{docker.base_image}"')
                    .replace('# network = "none"', 'network = "none"'))
    # a slow step to be killed in, and a layer big enough that the push takes a moment
    dockerfile = project / "api" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace(
        "COPY www /www", f"RUN sleep 3 && echo {os.urandom(8).hex()}\nCOPY www /www"))  # never cached
    (project / "api" / "www" / "blob.bin").write_bytes(os.urandom(24 << 20))
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {**os.environ, "CI": "1", "PYTHONPATH": str(REPO), "HOME": str(home), "TMPDIR": str(tmp)}

    serve = subprocess.Popen([sys.executable, "-m", "tscloud_py", "local", "serve"], cwd=project, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert serve.stdout is not None
        assert serve.stdout.readline().startswith("emulator listening on ")
        # before the build, as it starts, inside a RUN step, as the push starts (token in hand), mid-push
        for marker, delay in ((r"image: started", 0.0), (r"image: building ", 0.0),
                              (r"image: Step \d+/\d+ : RUN sleep", 1.0), (r"image: pushing ", 0.0)):
            deploy_until(project, env, marker, delay)
            assert leaked(tmp, home, project) == [], marker

        done = run_cli("--local", "--output", "json", "deploy", cwd=project, env=env, timeout=600)
        assert done.code == 0, done.output
        image = done.json()["outputs"]["image"]
        tag = next(iter((project / ".tscloud").rglob("image-*.log"))).stem.removeprefix("image-")
        assert image.endswith(f"@{registry_digest(image, tag)}")
        again = run_cli("--local", "--output", "json", "deploy", cwd=project, env=env, timeout=600)
        assert {s["id"]: s["status"] for s in again.json()["steps"]}["image"] == "unchanged"
        assert leaked(tmp, home, project) == []
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=60)
    assert leaked(tmp, home, project) == []
