"""`tscloud --local deploy` of examples/fullstack-build ([api.build]) on a real Docker engine: the
emulator's ECR fronts a real registry (Debian's docker-registry), the image is pushed there and the
task definition pins the digest that registry reports; a second deploy builds and pushes nothing."""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.conftest import REPO, run_cli
from tests.docker_support import RealDocker, image_example


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, RealDocker]]:
    yield image_example(tmp_path)


def registry_password() -> str:
    """The password of this test's emulator's registry: per user, kept in the emulator's home (the
    test's XDG_STATE_HOME), never a fixed string."""
    from tscloud_py.emulator.home import emulator_home
    from tscloud_py.emulator.home import registry_password as password

    return password(emulator_home())


def registry_digest(image_uri: str, tag: str) -> str:
    host, _, rest = image_uri.partition("/")
    name = rest.split("@", 1)[0]
    auth = base64.b64encode(f"AWS:{registry_password()}".encode()).decode()
    req = urllib.request.Request(f"http://{host}/v2/{name}/manifests/{tag}", method="HEAD", headers={
        "Authorization": f"Basic {auth}", "Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return str(resp.headers["Docker-Content-Digest"])


def test_local_deploy_builds_pushes_to_the_emulators_registry_and_pins_its_digest(
        project: tuple[Path, RealDocker]) -> None:
    path, _docker = project
    serve = subprocess.Popen([sys.executable, "-m", "tscloud_py", "local", "serve"], cwd=path,
                             env={**os.environ, "CI": "1", "PYTHONPATH": str(REPO)},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert serve.stdout is not None
        match = re.fullmatch(r"emulator listening on (http://127\.0\.0\.1:\d+) \(state kept in .+\)\n", serve.stdout.readline())
        assert match
        endpoint = match.group(1)

        first = run_cli("--local", "--output", "json", "deploy", cwd=path, timeout=600)
        assert first.code == 0, first.output
        doc = first.json()
        image = doc["outputs"]["image"]
        journal_tag = next(iter((path / ".tscloud").rglob("image-*.log"))).stem.removeprefix("image-")
        digest = registry_digest(image, journal_tag)
        assert image.endswith(f"@{digest}")  # the registry's own Docker-Content-Digest

        ecs = boto3.client("ecs", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="x",
                           aws_secret_access_key="x")
        family = ecs.list_task_definitions()["taskDefinitionArns"][-1]
        container = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["containerDefinitions"][0]
        assert container["image"] == image  # pinned by digest

        second = run_cli("--local", "--output", "json", "deploy", cwd=path, timeout=600)
        assert second.code == 0, second.output
        steps = {s["id"]: s["status"] for s in second.json()["steps"]}
        assert steps["image"] == "unchanged" and steps["api-task-definition"] == "unchanged"
        assert second.json()["outputs"]["image"] == image
        assert "pushing" not in second.stderr and "building" not in second.stderr

        # A file Docker does not send (README.md under `*.md`) changes nothing; one it sends does.
        (path / "api" / "README.md").write_text("edited\n")
        third = run_cli("--local", "--output", "json", "deploy", cwd=path, timeout=600)
        assert {s["id"]: s["status"] for s in third.json()["steps"]}["image"] == "unchanged"
        (path / "api" / "www" / "index.html").write_text("<h1>v2</h1>\n")
        fourth = run_cli("--local", "--output", "json", "deploy", cwd=path, timeout=600)
        assert fourth.code == 0, fourth.output
        assert fourth.json()["outputs"]["image"] != image
    finally:
        serve.send_signal(signal.SIGTERM)
        _out, err = serve.communicate(timeout=60)
    assert serve.returncode == 0, err
    assert "Traceback" not in err


def test_local_deploy_without_an_engine_says_so_in_one_line(
        project: tuple[Path, RealDocker], tmp_path: Path) -> None:
    path, _docker = project
    result = run_cli("--local", "deploy", cwd=path, timeout=600,
                     env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert result.code == 2, result.output  # preflight: refused before the first write
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [f"error: no Docker engine reachable at unix://{tmp_path}/no-engine.sock "
                      "(from DOCKER_HOST): no such socket"], result.stderr
    assert "Traceback" not in result.output


def test_registry_of_a_killed_emulator_is_swept_by_the_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("docker-registry") is None:
        pytest.skip("needs Debian's docker-registry")
    from tscloud_py.emulator.registry import Registry

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    tempfile.tempdir = None  # re-read TMPDIR
    try:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
        stale = tmp_path / "tscloud-registry-stale"
        (stale / "data").mkdir(parents=True)
        (stale / "owner").write_text(dead.stdout.strip())
        live = tmp_path / "tscloud-registry-live"
        live.mkdir()
        (live / "owner").write_text(str(os.getpid()))
        registry = Registry("a-password")
        registry.start()
        try:
            assert not stale.exists() and live.exists()
        finally:
            registry.stop()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["tscloud-registry-live"]
    finally:
        tempfile.tempdir = None
