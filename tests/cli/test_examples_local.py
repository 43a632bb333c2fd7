"""Every example on the local emulator (issue 22, "Done means" 3): deployed from a copy with --local, its
url_local answering, and destroy leaving nothing tagged with its app. static-site's journey is in
test_local_cloud.py, ssr-app's in tests/runtime/test_ssr_example_local.py (it needs the self-installed
runtime client). api-domain deploys its local variant (tscloud.local.toml, the emulator's Route53) after its
local_api.py has made the hosted zone and the API it expects to exist, as its README says.
fullstack-build with no Docker engine stops in its preflight, before its first write."""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import REPO, run_cli


def copy_example(name: str, root: Path) -> Path:
    shutil.copytree(REPO / "examples" / name, root / name, ignore=shutil.ignore_patterns(".tscloud"))
    return root / name


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=120) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def tagged(endpoint: str, app: str) -> list[str]:
    """ARNs of everything the emulator holds that is tagged with this app (resource groups' tagging API), but
    ECS services and clusters that are INACTIVE: deleted, which AWS too keeps describing for a while."""
    import boto3

    kw: Any = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "tscloud-local",
               "aws_secret_access_key": "tscloud-local"}
    client: Any = boto3.client("resourcegroupstaggingapi", **kw)
    ecs: Any = boto3.client("ecs", **kw)
    found = []
    for page in client.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": "tscloud:app", "Values": [app]}]):
        found += [r["ResourceARN"] for r in page["ResourceTagMappingList"]]

    def inactive(arn: str) -> bool:
        if ":ecs:" not in arn:
            return False
        if ":cluster/" in arn:
            described = ecs.describe_clusters(clusters=[arn])["clusters"]
        else:
            try:
                described = ecs.describe_services(cluster=arn.split("/")[-2], services=[arn])["services"]
            except ecs.exceptions.ClusterNotFoundException:
                return True  # its cluster is deleted
        return bool(described) and described[0]["status"] == "INACTIVE"

    return [arn for arn in found if not inactive(arn)]


def deploy(project: Path, *config: str) -> dict[str, Any]:
    deployed = run_cli(*config, "--local", "--output", "json", "deploy", cwd=project, timeout=900)
    assert deployed.code == 0, deployed.output[-3000:]
    outputs: dict[str, Any] = deployed.json()["outputs"]
    return outputs


def destroy_leaves_nothing(project: Path, app: str, *config: str) -> None:
    endpoint = run_cli("--output", "json", "local", "status", cwd=project).json()["endpoint"]
    assert tagged(endpoint, app)
    gone = run_cli(*config, "--local", "--yes", "destroy", "--no-snapshot", cwd=project, timeout=600)
    assert gone.code == 0, gone.output[-3000:]
    assert tagged(endpoint, app) == []


def test_fullstack_app_deploys_with_no_docker_engine(tmp_path: Path) -> None:
    project = copy_example("fullstack-app", tmp_path)
    outputs = deploy(project)
    # url_local is the distribution's /api/ (a local container where a Docker engine runs, else a 502 page
    # saying why); the distribution's root serves the example's own page either way
    assert outputs["url_local"].endswith("/api/")
    status, body = get(outputs["url_local"].removesuffix("api/"))
    assert (status, body) == (200, (project / "public" / "index.html").read_bytes())
    destroy_leaves_nothing(project, "shopfs")


def test_fullstack_build_without_docker_engine_stops_before_its_first_write(tmp_path: Path) -> None:
    project = copy_example("fullstack-build", tmp_path)
    stopped = run_cli("--local", "deploy", cwd=project, env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert stopped.code == 2, stopped.output[-3000:]
    errors = [line for line in stopped.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "DOCKER_HOST" in errors[0], stopped.stderr
    status = run_cli("--output", "json", "local", "status", cwd=project).json()
    assert status["apps"] == {}  # no journal in the emulator's state bucket
    assert tagged(status["endpoint"], "shopimg") == []


def test_api_domain_deploys_locally_with_no_keys(tmp_path: Path) -> None:
    project = copy_example("api-domain", tmp_path)
    for _ in range(2):  # the README's setup command, which a second run leaves as it is
        made = subprocess.run([sys.executable, "local_api.py"], cwd=project, capture_output=True,
                              text=True, timeout=120)
        assert made.returncode == 0, made.stderr[-3000:]
    config = ("--config", "tscloud.local.toml")
    outputs = deploy(project, *config)
    assert outputs["domain"] == "api.example.com"
    assert outputs["url"] == "https://api.example.com"
    assert outputs["dns_provider"] == "route53"
    assert outputs["dns_record"] == f"A api.example.com -> {outputs['target']}"
    assert outputs["target"].endswith(".execute-api.us-east-1.amazonaws.com")
    destroy_leaves_nothing(project, "shop", *config)
