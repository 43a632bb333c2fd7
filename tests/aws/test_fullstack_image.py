"""Image build and push with the real docker SDK against a fake Docker Engine on a unix socket, and
ECR in moto: content-hash tags, ECR login token handling, no credential left on disk, digest pinning,
skip when the digest is already in ECR, scan-on-push and a lifecycle policy."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.fakes.docker_engine import FakeDockerEngine, socket_path
from tscloud_py.aws.session import ClientFactory
from tscloud_py.build.container import ImageBuildError
from tscloud_py.config import config_from_dict
from tscloud_py.engine.step import StepContext
from tscloud_py.presets import PresetOptions
from tscloud_py.presets.fullstack.common import Env
from tscloud_py.presets.fullstack.image import LIFECYCLE, ImageStep

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    ctx = tmp_path / "api"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM oven/bun:1\nCOPY . /app\nCMD [\"bun\", \"start\"]\n")
    (ctx / "server.ts").write_text("Bun.serve({ fetch: () => new Response('ok') })\n")
    (ctx / ".env.local").write_text("NEVER_IN_THE_IMAGE=1\n")
    (ctx / ".dockerignore").write_text(".env.local\n")
    return tmp_path


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDockerEngine]:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with mock_aws():
        ecr = boto3.client("ecr", region_name="us-east-1")
        valid = {"ok": True}

        def check_auth(registry: str, username: str, password: str) -> bool:
            return valid["ok"] and registry == REGISTRY and username == "AWS" and password == "123456789012-auth-token"

        def on_push(name: str, tag: str, manifest: str) -> str:
            digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()  # what a registry computes
            image = ecr.put_image(repositoryName=name.split("/", 1)[1], imageManifest=manifest, imageTag=tag,
                                  imageDigest=digest)
            return str(image["image"]["imageId"]["imageDigest"])

        fake = FakeDockerEngine(socket_path(tmp_path), check_auth=check_auth, on_push=on_push)
        fake.valid = valid  # type: ignore[attr-defined]
        monkeypatch.setenv("DOCKER_HOST", fake.start())
        yield fake
        fake.stop()


def image_step(base: Path) -> ImageStep:
    config = config_from_dict({"app": "shop", "preset": "fullstack-app",
                               "api": {"build": {"context": "api"}, "port": 3000}}, "tscloud.toml", base_dir=base)
    return ImageStep(Env(config, ClientFactory(region="us-east-1"), PresetOptions()))


def leftover_configs() -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob("tscloud-docker-*"))


def run(step: ImageStep) -> tuple[list[Any], dict[str, Any]]:
    ctx = StepContext("shop", "dev", step_id="image")
    observed = step.read(ctx)
    changes = step.diff(ctx, observed)
    return changes, (step.apply(ctx, observed) if changes else step.outputs(ctx, observed))


def test_build_push_pin_by_digest_and_skip_when_present(project: Path, engine: FakeDockerEngine) -> None:
    step = image_step(project)
    changes, out = run(step)
    assert [c.field for c in changes] == ["ECR repository", "image"]
    tag = step.tag()
    assert len(engine.builds) == 1 and len(engine.pushes) == 1
    build = engine.builds[0]
    assert build.tag == f"{REGISTRY}/shop-dev-api:{tag}" and build.platform == "linux/amd64"
    assert "server.ts" in build.files and ".env.local" not in build.files

    push = engine.pushes[0]
    assert push.ok and push.auth is not None and push.auth["username"] == "AWS"
    # the token lived in a private DOCKER_CONFIG (0600) while pushing, and nowhere afterwards
    assert [(Path(p).name, mode) for p, mode in push.config_files] == [("config.json", 0o600)]
    assert leftover_configs() == []
    assert not (project / "home" / ".docker").exists()

    ecr = boto3.client("ecr", region_name="us-east-1")
    digest = ecr.describe_images(repositoryName="shop-dev-api", imageIds=[{"imageTag": tag}])["imageDetails"][0][
        "imageDigest"]
    assert out["image"] == f"{REGISTRY}/shop-dev-api@{digest}"  # pinned by digest, not by tag
    repo = ecr.describe_repositories(repositoryNames=["shop-dev-api"])["repositories"][0]
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert ecr.get_lifecycle_policy(repositoryName="shop-dev-api")["lifecyclePolicyText"]
    assert step.env.ecr.lifecycle_policy("shop-dev-api") == LIFECYCLE

    # the same context again: the digest is in ECR, so no build and no push
    changes, again = run(image_step(project))
    assert changes == [] and again["image"] == out["image"]
    assert len(engine.builds) == 1 and len(engine.pushes) == 1

    # one changed file: a new content hash, so a new build and push
    (project / "api" / "server.ts").write_text("Bun.serve({ fetch: () => new Response('v2') })\n")
    changes, third = run(image_step(project))
    assert [c.field for c in changes] == ["image"]
    assert len(engine.builds) == 2 and third["image"] != out["image"]


def test_rejected_token_fails_and_still_leaves_no_credential(project: Path, engine: FakeDockerEngine) -> None:
    engine.valid["ok"] = False  # type: ignore[attr-defined]
    with pytest.raises(ImageBuildError, match="unauthorized"):
        run(image_step(project))
    assert engine.pushes and engine.pushes[0].auth is not None
    assert leftover_configs() == []


def test_no_engine_is_a_clear_error(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")
    with mock_aws(), pytest.raises(ImageBuildError, match="no Docker engine reachable"):
        run(image_step(project))
