"""A changed `[cache] replicas` is applied in place by the real `tscloud`, through a counting proxy to a moto
server (whose missing IncreaseReplicaCount/DecreaseReplicaCount tscloud_py.emulator.fidelity emulates with
AWS's refusals): 0 -> 1 -> 0, each deploy making exactly the resize calls AWS accepts, in its order, the plan
before it saying so, and a plan after it finding nothing to do. Then 0 -> 2 with the first answer of each
resize call lost: the SDK's resend is refused while the change is under way (InvalidReplicationGroupState),
and the step takes the change it then finds made as its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.site_support import boto, tscloud
from tests.conftest import MotoServer
from tests.fakes.aws_proxy import AwsProxy, Recorded, aws_like_distribution_summaries

APP = "fcr"
GROUP = f"{APP}-dev-redis"
RESIZES = ("IncreaseReplicaCount", "DecreaseReplicaCount", "ModifyReplicationGroup")


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[AwsProxy]:
    aws_like_distribution_summaries()
    with AwsProxy(moto_server.endpoint) as counting:
        yield counting


def configure(project: Path, replicas: int) -> None:
    project.mkdir(exist_ok=True)
    (project / "tscloud.toml").write_text(f"""
app = "{APP}"
preset = "fullstack-app"
region = "us-east-1"

[api]
image = "public.ecr.aws/docker/library/nginx:1.27-alpine"
port = 80
health_check = "/"

[cache]
replicas = {replicas}
""")


def plan(project: Path, endpoint: str) -> dict[str, dict[str, Any]]:
    planned = tscloud(project, endpoint, "--output", "json", "plan")
    assert planned.code == 0, planned.output
    return {s["id"]: s for s in planned.json()["steps"]}


def cache_changes(project: Path, endpoint: str) -> list[str]:
    """The plan's changes, which only the cache step has."""
    steps = plan(project, endpoint)
    assert {sid for sid, s in steps.items() if s["action"] != "none"} == {"cache"}
    assert steps["cache"]["action"] == "update"
    return [c["text"] for c in steps["cache"]["changes"]]


def nothing_to_do(project: Path, endpoint: str) -> bool:
    return all(s["action"] == "none" for s in plan(project, endpoint).values())


def deploy(project: Path, proxy: AwsProxy) -> list[str]:
    """Deploy; the resize calls it made, in order."""
    proxy.clear()
    done = tscloud(project, proxy.endpoint, "--output", "json", "deploy", timeout=600)
    assert done.code == 0, done.output
    return [r.operation for r in proxy.requests() if r.operation in RESIZES]


def group(endpoint: str) -> dict[str, Any]:
    found: dict[str, Any] = boto(endpoint, "elasticache").describe_replication_groups(
        ReplicationGroupId=GROUP)["ReplicationGroups"][0]
    return found


@pytest.mark.timeout(900)
def test_replicas_zero_one_zero_resize_in_place_in_aws_order(proxy: AwsProxy, tmp_path: Path) -> None:
    project = tmp_path / APP
    endpoint = proxy.endpoint

    configure(project, 0)
    assert deploy(project, proxy) == []
    made = group(endpoint)
    assert made["MemberClusters"] == [f"{GROUP}-001"] and made["AutomaticFailover"] == "disabled"
    assert nothing_to_do(project, endpoint)

    configure(project, 1)
    assert cache_changes(project, endpoint) == ["read replicas: 0 -> 1", "automatic failover + Multi-AZ: off -> on"]
    assert deploy(project, proxy) == ["IncreaseReplicaCount", "ModifyReplicationGroup"]
    grown = group(endpoint)
    assert len(grown["MemberClusters"]) == 2
    assert (grown["AutomaticFailover"], grown["MultiAZ"]) == ("enabled", "enabled")
    assert nothing_to_do(project, endpoint)

    configure(project, 0)
    assert cache_changes(project, endpoint) == ["automatic failover + Multi-AZ: on -> off", "read replicas: 1 -> 0"]
    assert deploy(project, proxy) == ["ModifyReplicationGroup", "DecreaseReplicaCount"]
    shrunk = group(endpoint)
    assert shrunk["MemberClusters"] == [f"{GROUP}-001"]
    assert (shrunk["AutomaticFailover"], shrunk["MultiAZ"]) == ("disabled", "disabled")
    assert nothing_to_do(project, endpoint)

    configure(project, 2)
    lost: set[str] = set()

    def first_answer(r: Recorded) -> bool:
        if r.operation in RESIZES and r.operation not in lost:
            lost.add(r.operation)
            return True
        return False

    proxy.lose(first_answer)
    try:
        made = deploy(project, proxy)
    finally:
        proxy.lose(None)
    assert made == ["IncreaseReplicaCount", "IncreaseReplicaCount", "ModifyReplicationGroup", "ModifyReplicationGroup"]
    refused = [r.status for r in proxy.requests() if r.operation in RESIZES]
    assert refused == [200, 400, 200, 400]  # each resend refused: the first had been made
    assert len(group(endpoint)["MemberClusters"]) == 3
    assert nothing_to_do(project, endpoint)
