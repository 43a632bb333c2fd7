"""The typed task definition (`ecs.FargateTaskDefinition`): what tscloud registers, and the one comparison of a
live revision with it that the fullstack task definition steps' diff reads. A revision registered from it reads
back (through moto, which adds AWS's defaults) with no difference; one changed setting is one difference; a
secret is only ever a valueFrom ARN, never plain environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from tests.preset_support import preset_step
from tscloud_py.aws.ecs import AppContainer, Ecs, FargateTaskDefinition, HealthCheck
from tscloud_py.aws.session import ClientFactory
from tscloud_py.config.load import config_from_dict
from tscloud_py.engine.step import StepContext

REGION = "us-east-1"
ACCOUNT = "123456789012"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:shop/stripe-AbCdEf"
PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/shop/flag"


def container(**changes: Any) -> AppContainer:
    settings: dict[str, Any] = {
        "name": "api", "image": "nginx@sha256:" + "a" * 64, "environment": {"PORT": "80", "LOG_LEVEL": "info"},
        "secrets": {"STRIPE_KEY": SECRET, "FLAG": PARAMETER, "DATABASE_PASSWORD": f"{SECRET}:password::"},
        "log_group": "/tscloud/shop/dev", "log_region": REGION, "ports": (80,),
        "health_check": HealthCheck(("CMD-SHELL", "wget -q -O /dev/null http://localhost:80/ || exit 1"),
                                    start_period=60),
        **changes}
    return AppContainer(**settings)


def definition(**changes: Any) -> FargateTaskDefinition:
    return FargateTaskDefinition("shop-dev-api", 256, 512, False, f"arn:aws:iam::{ACCOUNT}:role/shop-dev-exec",
                                 f"arn:aws:iam::{ACCOUNT}:role/shop-dev-task", container(**changes))


@pytest.fixture
def ecs() -> Iterator[Ecs]:
    with mock_aws():
        yield Ecs(ClientFactory(region=REGION))


def test_secrets_are_value_from_arns_and_never_plain_environment() -> None:
    doc = definition().api()
    (box,) = doc["containerDefinitions"]
    assert {e["name"] for e in box["environment"]} == {"PORT", "LOG_LEVEL"}
    assert {s["name"]: s["valueFrom"] for s in box["secrets"]} == {
        "STRIPE_KEY": SECRET, "FLAG": PARAMETER, "DATABASE_PASSWORD": f"{SECRET}:password::"}
    assert (doc["cpu"], doc["memory"], doc["networkMode"]) == ("256", "512", "awsvpc")
    assert doc["runtimePlatform"] == {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}
    with pytest.raises(ValueError, match="STRIPE_KEY set both"):
        container(environment={"STRIPE_KEY": "x"})
    with pytest.raises(ValueError, match="not ARNs"):
        container(secrets={"STRIPE_KEY": "sk_live_abc123"})


def test_a_registered_revision_reads_back_with_no_difference(ecs: Ecs) -> None:
    want = definition()
    ecs.register_task_definition(want, {"tscloud:app": "shop"})
    live = ecs.latest_task_definition("shop-dev-api")
    assert live is not None
    assert want.differences(live) == []

    # AWS reorders lists and adds defaults; neither is a difference
    live["containerDefinitions"][0]["environment"].reverse()
    live["containerDefinitions"][0].update(cpu=0, mountPoints=[], volumesFrom=[], systemControls=[])
    assert want.differences(live) == []

    changed = definition(environment={"PORT": "80", "LOG_LEVEL": "debug"})
    assert [(name, len(new)) for name, _old, new in changed.differences(live)] == [("container environment", 2)]
    assert [name for name, _old, _new in definition(command=("node", "worker.js")).differences(live)] == [
        "container command"]
    bigger = FargateTaskDefinition(want.family, 512, 1024, True, want.execution_role_arn, want.task_role_arn,
                                   want.container)
    assert [name for name, _old, _new in bigger.differences(live)] == ["cpu", "memory", "runtimePlatform"]


def test_a_user_secret_replaces_the_plain_variable_tscloud_would_set(tmp_path: Path) -> None:
    raw = {"app": "shop", "preset": "fullstack-app", "cache": {},
           "api": {"image": "nginx:1.27", "port": 80, "secrets": {"REDIS_HOST": SECRET}}}
    outputs = {"image": {"image": "nginx:1.27"}, "logs": {"log_group": "/tscloud/shop/dev"},
               "roles": {"execution_role_arn": "arn:aws:iam::1:role/e", "task_role_arn": "arn:aws:iam::1:role/t",
                         "secret_refs": {"REDIS_HOST": {"value_from": SECRET}}},
               "cache": {"endpoint": "master.example", "port": 6379, "auth_secret_arn": f"{SECRET}-auth"}}
    step = preset_step(config_from_dict(raw, "tscloud.toml", base_dir=tmp_path, region=REGION), "api-task-definition")
    box = step.definition(StepContext(outputs=outputs)).container
    assert box.secrets["REDIS_HOST"] == SECRET and "REDIS_HOST" not in box.environment
    assert box.environment["REDIS_TLS"] == "true" and box.secrets["REDIS_AUTH_TOKEN"] == f"{SECRET}-auth"
