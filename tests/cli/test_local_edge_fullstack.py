"""examples/fullstack-build through the local edge on a real Docker engine (issue 15, "Done means" 3): after
`--local deploy --serve`, `/api/health` goes through the distribution's ALB behavior, the ALB's origin-verify
rule, and reaches the service's task definition running as a local container; the same request straight to the
local ALB listener, without the origin-verify header, gets the ALB's 403. The container lives with the user's
emulator, which outlasts the deploy: it is gone after `tscloud local stop`.

examples/fullstack-app pins a public nginx image, which no engine here can pull (no network), so the example
that builds its own image from a local base is the one run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.edge_support import deploy_and_serve, fetch
from tests.conftest import REPO, run_cli
from tests.docker_support import real_docker


def test_api_health_reaches_the_container_and_the_bare_alb_refuses(tmp_path: Path) -> None:
    docker = real_docker()
    if shutil.which("docker-registry") is None:
        pytest.skip("the emulator's registry needs Debian's docker-registry (.ci/engines.sh installs it)")
    project = tmp_path / "fullstack-build"
    shutil.copytree(REPO / "examples" / "fullstack-build", project, ignore=shutil.ignore_patterns(".tscloud"))
    toml = project / "tscloud.toml"
    text = toml.read_text().replace('BASE = "busybox:1.36"', f'BASE = "{docker.base_image}"')
    text = text.replace('# network = "none"', 'network = "none"')
    toml.write_text(text.replace("[api]\n", '[api]\norigin = "public"  # the origin-verify header, and a listener reachable from outside\n', 1))

    with deploy_and_serve(project, timeout=600) as served:
        health = fetch(served.url.rstrip("/") + "/api/health")
        assert health.status == 200, health.body[:500]
        assert health.body.strip() == b'{"ok":true}'  # served by httpd in the container
        assert health.headers["x-tscloud-origin"].endswith("(alb)")
        notes = " ".join(health.values("x-tscloud-note"))
        assert "-> service" in notes and "in container" in notes, notes

        listener = health.headers["x-tscloud-alb-listener"]
        bare = fetch(listener.rstrip("/") + "/api/health")
        assert (bare.status, bare.body) == (403, b"Forbidden")  # no X-Origin-Verify: the listener's default

    import docker as docker_sdk

    client = docker_sdk.APIClient(base_url=docker.docker_host)
    assert len(client.containers(filters={"label": "tscloud:edge"})) == 1  # the emulator serves on after the deploy
    stopped = run_cli("local", "stop", cwd=project)
    assert stopped.code == 0, stopped.output
    assert client.containers(all=True, filters={"label": "tscloud:edge"}) == []
