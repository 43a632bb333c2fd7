"""The image step on a real Docker engine and a real registry (CNCF distribution, htpasswd user AWS)
standing behind moto's ECR (tscloud_py/emulator/registry.py): content-hash tags, the registry's own
digest pinned, nothing rebuilt or pushed when the context is unchanged, every build failure named."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.docker_support import RealDocker, real_docker, unique_app
from tests.preset_support import preset_step
from tscloud_py.build.container import ImageBuildError
from tscloud_py.build.docker_engine import EngineUnavailableError, buildkit_cli
from tscloud_py.config.load import config_from_dict
from tscloud_py.emulator import registry as local_registry
from tscloud_py.engine.events import RecordingSink
from tscloud_py.engine.step import StepContext
from tscloud_py.presets import PresetOptions
from tscloud_py.presets.fullstack_app.image import LIFECYCLE, ImageStep


@pytest.fixture
def docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RealDocker]:
    real = real_docker()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with mock_aws():
        local_registry.attach(real.registry, real.password)
        try:
            yield real
        finally:
            local_registry.detach()


@pytest.fixture
def project(tmp_path: Path, docker: RealDocker) -> Path:
    ctx = tmp_path / "api"
    (ctx / "www").mkdir(parents=True)
    (ctx / "Dockerfile").write_text(
        f"FROM {docker.base_image}\nRUN echo built > /built.txt\nCOPY www /www\n"
        "CMD [\"httpd\", \"-f\", \"-p\", \"3000\", \"-h\", \"/www\"]\n")
    (ctx / "www" / "index.html").write_text("<h1>v1</h1>\n")
    (ctx / ".env.local").write_text("NEVER_IN_THE_IMAGE=1\n")
    (ctx / ".dockerignore").write_text(".env.local\n")
    return tmp_path


def image_step(base: Path, app: str, verbose: bool = False, **build: Any) -> ImageStep:
    config = config_from_dict({"app": app, "preset": "fullstack-app",
                               "api": {"build": {"context": "api", "network": "none", **build}, "port": 3000}},
                              "tscloud.toml", base_dir=base)
    step: ImageStep = preset_step(config, "image", PresetOptions(verbose=verbose))
    return step


def run(step: ImageStep, sink: RecordingSink | None = None) -> tuple[list[Any], dict[str, Any]]:
    ctx = StepContext(step_id="image", sink=sink or RecordingSink())
    observed = step.read(ctx)
    changes = step.diff(ctx, observed)
    return changes, (step.apply(ctx, observed) if changes else step.outputs(ctx, observed))


def engine_containers(docker: RealDocker, running: str) -> list[str]:
    """The engine's containers, stopped ones too, whose command holds ``running``. By command, not a count:
    tests on other workers share the engine and start and remove containers of their own meanwhile."""
    done = subprocess.run(["docker", "ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Command}}"],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "DOCKER_HOST": docker.docker_host})
    return [line.split(" ", 1)[0] for line in done.stdout.splitlines() if running in line]


def test_build_push_pin_the_registry_digest_and_skip_when_present(project: Path, docker: RealDocker) -> None:
    app = unique_app()
    repo = f"{app}-dev-api"
    step = image_step(project, app)
    changes, out = run(step)
    assert [c.field for c in changes] == ["ECR repository", "image"]
    tag = step.tag()
    registry_digest = docker.manifest_digest(repo, tag)
    assert registry_digest is not None
    assert out["image"] == f"{docker.registry}/{repo}@{registry_digest}"  # pinned by the registry's digest
    ecr = boto3.client("ecr", region_name="us-east-1")
    found = ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": tag}])["imageDetails"][0]
    assert found["imageDigest"] == registry_digest  # DescribeImages sees the push, as in AWS
    described = ecr.describe_repositories(repositoryNames=[repo])["repositories"][0]
    assert described["imageScanningConfiguration"]["scanOnPush"] is True
    assert described["imageTagMutability"] == "IMMUTABLE"
    assert step.ecr.lifecycle_policy(repo) == LIFECYCLE
    log = project / ".tscloud" / "build" / f"image-{tag}.log"
    assert "Step 2/4 : RUN echo built" in log.read_text()

    # The same context again: nothing to do, nothing pushed.
    changes, again = run(image_step(project, app))
    assert changes == [] and again["image"] == out["image"]
    assert docker.tags(repo) == [tag]

    # An ignored file changes nothing Docker is sent: same tag.
    (project / "api" / ".env.local").write_text("NEVER_IN_THE_IMAGE=2\n")
    assert image_step(project, app).tag() == tag

    # One changed file that Docker sends: a new tag, a new build and push, a new digest.
    (project / "api" / "www" / "index.html").write_text("<h1>v2</h1>\n")
    sink = RecordingSink()
    changes, third = run(image_step(project, app), sink)
    assert [c.field for c in changes] == ["image"]
    assert third["image"] != out["image"] and sorted(docker.tags(repo)) == sorted([tag, third["tag"]])
    pushed = [e.what for e in sink.events if e.what.startswith("pushed ")]
    assert pushed and "already in the registry" in pushed[0]
    assert not pushed[0].endswith(" 0 already in the registry")  # the base layers were reused


def test_nested_file_under_a_root_only_pattern_is_sent_and_changes_the_image(
        project: Path, docker: RealDocker) -> None:
    app = unique_app()
    ctx = project / "api"
    (ctx / ".dockerignore").write_text("*.md\n*.txt\n!keep.txt\n")
    (ctx / "www" / "guide.md").write_text("v1\n")
    (ctx / "keep.txt").write_text("v1\n")
    (ctx / "Dockerfile").write_text(f"FROM {docker.base_image}\nCOPY . /ctx\n")
    first = image_step(project, app)
    tag = first.tag()
    (ctx / "README.md").write_text("ignored: *.md matches at the root only\n")
    (ctx / "notes.txt").write_text("ignored\n")
    assert image_step(project, app).tag() == tag
    for edited in (ctx / "www" / "guide.md", ctx / "keep.txt"):
        edited.write_text(edited.read_text() + "edit\n")
        assert image_step(project, app).tag() != tag, edited
        tag = image_step(project, app).tag()
    _, out = run(image_step(project, app))
    assert out["tag"] == tag


def test_rejected_token_fails_the_push(project: Path, docker: RealDocker) -> None:
    # ECR hands out a token the registry does not accept (an expired one, say)
    local_registry.attach(docker.registry, f"{docker.password}-expired")
    with pytest.raises(ImageBuildError, match=r"docker push failed: .*(unauthorized|authentication required)"):
        run(image_step(project, unique_app()))


def test_dockerfile_syntax_error_is_one_line_naming_the_line(project: Path, docker: RealDocker) -> None:
    (project / "api" / "Dockerfile").write_text(f"FROM {docker.base_image}\nFORM nothing\n")
    with pytest.raises(ImageBuildError) as err:
        run(image_step(project, unique_app()))
    assert str(err.value) == "Dockerfile:2: unknown instruction: FORM"


def test_failed_step_names_the_line_and_the_log_and_leaves_no_container(
        project: Path, docker: RealDocker) -> None:
    (project / "api" / "Dockerfile").write_text(
        f"FROM {docker.base_image}\n# a comment\nRUN echo about to fail && \\\n    exit 3\nCOPY www /www\n")
    sink = RecordingSink()
    with pytest.raises(ImageBuildError) as err:
        run(image_step(project, unique_app(), verbose=True), sink)
    message = str(err.value)
    assert "Dockerfile:3: `RUN echo about to fail && exit 3` failed" in message
    assert "returned a non-zero code: 3" in message
    log = Path(message.split("(build log: ", 1)[1].rstrip(")"))
    assert log.is_relative_to(project / ".tscloud") and "about to fail" in log.read_text()
    assert any("about to fail" in e.what for e in sink.events)  # -v streams the build output
    assert engine_containers(docker, "about to fail") == []  # forcerm: no stopped intermediate container


def test_pull_policy_missing_uses_a_local_only_base_and_never_refuses_an_absent_one(
        project: Path, docker: RealDocker) -> None:
    _, out = run(image_step(project, unique_app()))  # default "missing": the local-only base is used
    assert "@sha256:" in out["image"]
    (project / "api" / "Dockerfile").write_text("FROM tscloud-ci/not-here:1\nCOPY www /www\n")
    with pytest.raises(ImageBuildError, match=r'^Dockerfile:1: base image tscloud-ci/not-here:1 is not in the '
                                              r'engine and api.build.pull = "never"$'):
        run(image_step(project, unique_app(), pull="never"))


def test_architecture_mismatch_fails_before_the_push(project: Path, docker: RealDocker) -> None:
    app = unique_app()
    config = config_from_dict({"app": app, "preset": "fullstack-app",
                               "api": {"build": {"context": "api", "network": "none"}, "port": 3000,
                                       "architecture": "arm64"}}, "tscloud.toml", base_dir=project)
    step = preset_step(config, "image")
    with pytest.raises(ImageBuildError, match=r"built image is linux/amd64 but api.architecture needs linux/arm64"):
        run(step)
    assert docker.tags(f"{app}-dev-api") == []


def test_buildkit_only_dockerfile_without_a_buildkit_cli_is_one_line(
        project: Path, docker: RealDocker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-docker-cli"))  # the engine is reached by its API, not the CLI
    (project / "api" / "Dockerfile").write_text(
        f"FROM {docker.base_image}\nRUN --mount=type=cache,target=/cache true\n")
    with pytest.raises(ImageBuildError) as err:
        run(image_step(project, unique_app()))
    assert str(err.value) == "Dockerfile:2: `RUN --mount` needs BuildKit, and `docker buildx` is not available here"
    assert "docker-buildx-plugin" in err.value.hint


def buildkit_path(monkeypatch: pytest.MonkeyPatch) -> str:
    """Put the first docker CLI that can run BuildKit builds first on PATH, or skip saying why."""
    for directory in [*os.environ.get("PATH", "").split(os.pathsep), "/usr/bin"]:
        if not (Path(directory) / "docker").exists():
            continue
        monkeypatch.setenv("PATH", os.pathsep.join([directory, os.environ["PATH"]]))
        cli = buildkit_cli()
        if cli is not None:
            return cli.name
        monkeypatch.undo()
    pytest.skip("no docker CLI here runs BuildKit builds (neither buildx nor a 18.09-22.x CLI)")


def test_buildkit_only_dockerfile_builds_through_the_docker_cli(
        project: Path, docker: RealDocker, monkeypatch: pytest.MonkeyPatch) -> None:
    buildkit_path(monkeypatch)
    app = unique_app()
    (project / "api" / "Dockerfile").write_text(
        f"FROM {docker.base_image}\nCOPY www /www\nRUN --mount=type=cache,target=/cache cat /www/index.html\n")
    _, out = run(image_step(project, app))
    assert out["image"].endswith(f"@{docker.manifest_digest(f'{app}-dev-api', out['tag'])}")
    # the same context rules: an unchanged context is not rebuilt
    changes, again = run(image_step(project, app))
    assert changes == [] and again["image"] == out["image"]

    (project / "api" / "Dockerfile").write_text(
        f"FROM {docker.base_image}\nCOPY www /www\nRUN --mount=type=cache,target=/cache exit 7\n")
    with pytest.raises(ImageBuildError, match=r"build failed: Dockerfile:3: `RUN --mount=type=cache,target=/cache "
                                              r"exit 7` failed: .*exit code: 7"):
        run(image_step(project, app))


def test_current_docker_context_is_used_when_docker_host_is_unset(
        project: Path, docker: RealDocker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home)}
    env.pop("DOCKER_HOST")
    subprocess.run(["docker", "context", "create", "ci", "--docker", f"host={docker.docker_host}"],
                   env=env, check=True, capture_output=True)
    subprocess.run(["docker", "context", "use", "ci"], env=env, check=True, capture_output=True)
    monkeypatch.delenv("DOCKER_HOST")
    _, out = run(image_step(project, unique_app()))
    assert "@sha256:" in out["image"]

    monkeypatch.setenv("DOCKER_CONTEXT", "missing")
    with pytest.raises(EngineUnavailableError, match="docker context 'missing' does not exist"):
        run(image_step(project, unique_app()))


def test_no_engine_is_a_clear_error(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")
    with pytest.raises(EngineUnavailableError, match=r"^no Docker engine reachable at unix://.*nothing\.sock "
                                                     r"\(from DOCKER_HOST\): no such socket$"):
        run(image_step(project, unique_app()))


def test_stale_credential_dirs_of_older_versions_are_swept(project: Path, docker: RealDocker) -> None:
    stale = Path(tempfile.mkdtemp(prefix="tscloud-docker-"))
    (stale / "config.json").write_text(json.dumps({"auths": {"x": {"auth": "QVdTOnNlY3JldA=="}}}))
    run(image_step(project, unique_app()))
    assert not stale.exists()
