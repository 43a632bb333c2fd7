"""The database and cache steps converge through the typed RDS/ElastiCache clients: what a deploy
creates reads back with no difference, a changed setting is one difference that apply changes in
place, and a re-read after that finds nothing left to do. Aurora Serverless v2 (cluster + writer)
runs here, in moto, where the CLI tests cover Postgres only. A changed cache replica count is resized in
AWS's order (moto's missing calls are emulated by tscloud_py.emulator.fidelity)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.preset_support import preset_step
from tscloud_py.aws.rds import DbSettings
from tscloud_py.config.load import config_from_dict
from tscloud_py.engine.step import Step, StepContext
from tscloud_py.presets.fullstack_app.data import CacheStep

REGION = "us-east-1"


@pytest.fixture
def network() -> Iterator[dict[str, dict[str, Any]]]:
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")
                   ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
        sg = ec2.create_security_group(GroupName="data", Description="data", VpcId=vpc)["GroupId"]
        yield {"network": {"data_subnets": subnets}, "security-groups": {"db_sg": sg, "cache_sg": sg}}


def step_for(tmp_path: Path, step_id: str, **tables: Any) -> Any:
    raw = {"app": "shop", "preset": "fullstack-app", "api": {"image": "nginx:1.27", "port": 80}, **tables}
    return preset_step(config_from_dict(raw, "tscloud.toml", base_dir=tmp_path, region=REGION), step_id)


def converge(step: Step, ctx: StepContext) -> list[str]:
    """Deploy once; the fields the following read still finds different."""
    observed = step.read(ctx)
    if step.diff(ctx, observed):
        step.apply(ctx, observed)
    return [c.field for c in step.diff(ctx, step.read(ctx))]


@pytest.mark.parametrize("engine, changed, field", [
    ("postgres", {"instance_class": "db.t4g.small"}, "instance_class"),
    ("aurora-postgresql", {"max_capacity": 4.0}, "capacity"),
])
def test_database_converges_and_changes_in_place(network: dict[str, Any], tmp_path: Path, engine: str,
                                                 changed: dict[str, Any], field: str) -> None:
    ctx = StepContext(outputs=network)
    step = step_for(tmp_path, "database", database={"engine": engine})
    assert converge(step, ctx) == []
    res = step.read(ctx)
    assert res is not None
    described = res["cluster"] if engine == "aurora-postgresql" else res["instance"]
    assert described["StorageEncrypted"] is True
    # TLS only: rds.force_ssl in the group the step owns, which the database uses
    assert res["parameters"] == {"rds.force_ssl": "1"}
    if engine == "aurora-postgresql":
        assert res["instance"]["DBInstanceClass"] == "db.serverless"
        assert described["DBClusterParameterGroup"] == "shop-dev-db"
    else:
        assert described["PubliclyAccessible"] is False
        assert [g["DBParameterGroupName"] for g in described["DBParameterGroups"]] == ["shop-dev-db"]

    bigger = step_for(tmp_path, "database", database={"engine": engine, **changed})
    assert [c.field for c in bigger.diff(ctx, bigger.read(ctx))] == [field]
    assert converge(bigger, ctx) == []


def test_db_settings_name_what_differs_and_change_only_that() -> None:
    want = DbSettings(7, True, ("sg-1",), instance_class="db.t4g.micro", storage=20, public=False)
    have = DbSettings.of({"BackupRetentionPeriod": 7, "DeletionProtection": False, "DBInstanceClass": "db.t4g.micro",
                          "AllocatedStorage": 20, "PubliclyAccessible": True,
                          "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-1"}]}, aurora=False)
    differences = want.differences(have)
    assert differences == {"deletion_protection": (False, True), "public": (True, False)}
    assert want.api(set(differences)) == {"DeletionProtection": True, "PubliclyAccessible": False}
    # a cluster has no instance class, storage or public flag: none is compared or sent
    aurora = DbSettings(7, True, ("sg-1",), capacity=(0.5, 2.0))
    assert set(aurora.api()) == {"BackupRetentionPeriod", "DeletionProtection", "VpcSecurityGroupIds",
                                 "ServerlessV2ScalingConfiguration"}


def test_cache_converges(network: dict[str, Any], tmp_path: Path) -> None:
    ctx = StepContext(outputs=network)
    step = step_for(tmp_path, "cache", cache={})
    assert converge(step, ctx) == []
    group = step.read(ctx)["group"]
    assert group["TransitEncryptionEnabled"] is True and group["AtRestEncryptionEnabled"] is True


def test_cache_applies_a_changed_replica_count_in_aws_order(network: dict[str, Any], tmp_path: Path) -> None:
    ctx = StepContext(outputs=network)
    ec = boto3.client("elasticache", region_name=REGION)

    def group(group_id: str) -> dict[str, Any]:
        found: dict[str, Any] = ec.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
        return found

    def step(replicas: int) -> CacheStep:
        cache: CacheStep = step_for(tmp_path, "cache", cache={"replicas": replicas})
        return cache

    assert converge(step(0), ctx) == []
    group_id = step(0).group_id
    assert group(group_id)["MemberClusters"] == [f"{group_id}-001"]

    # the plan says what will happen, in the order it happens
    up = step(1)
    assert [c.describe() for c in up.diff(ctx, up.read(ctx))] == [
        "read replicas: 0 -> 1", "automatic failover + Multi-AZ: off -> on"]
    assert converge(up, ctx) == []
    grown = group(group_id)
    assert len(grown["MemberClusters"]) == 2
    assert (grown["AutomaticFailover"], grown["MultiAZ"]) == ("enabled", "enabled")

    down = step(0)
    assert [c.describe() for c in down.diff(ctx, down.read(ctx))] == [
        "automatic failover + Multi-AZ: on -> off", "read replicas: 1 -> 0"]
    assert converge(down, ctx) == []
    shrunk = group(group_id)
    assert shrunk["MemberClusters"] == [f"{group_id}-001"]
    assert (shrunk["AutomaticFailover"], shrunk["MultiAZ"]) == ("disabled", "disabled")
