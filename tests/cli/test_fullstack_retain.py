"""`retain = true` on [database] and [cache]: destroy keeps the data stores and the network they
live in, removes everything else, and exits 0."""

from __future__ import annotations

from pathlib import Path

import boto3

from tests.conftest import MotoServer, run_cli


def _client(endpoint: str, service: str):  # type: ignore[no-untyped-def]
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_destroy_keeps_retained_database_and_cache(tmp_path: Path, moto_server: MotoServer) -> None:
    app = "retainer"
    (tmp_path / "tscloud.toml").write_text(f"""
app = "{app}"
preset = "fullstack-app"
region = "us-east-1"

[api]
image = "public.ecr.aws/docker/library/nginx:1.27-alpine"
port = 80
health_check = "/"

[database]
retain = true

[cache]
retain = true

[queue]
""")
    endpoint = moto_server.endpoint
    deployed = run_cli("--endpoint-url", endpoint, "deploy", cwd=tmp_path)
    assert deployed.code == 0, deployed.output

    plan = run_cli("--endpoint-url", endpoint, "--yes", "destroy", cwd=tmp_path)
    assert plan.code == 0, plan.output
    assert "retain = true: keeping database" in plan.output

    rds = _client(endpoint, "rds")
    kept = [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]
            if d["DBInstanceIdentifier"].startswith(f"{app}-dev")]
    assert kept, "the retained database was deleted"
    groups = _client(endpoint, "elasticache").describe_replication_groups()["ReplicationGroups"]
    assert any(g["ReplicationGroupId"].startswith(f"{app}-dev") for g in groups)
    queues = _client(endpoint, "sqs").list_queues(QueueNamePrefix=f"{app}-dev").get("QueueUrls", [])
    assert queues == [], "the queue is not retained and must be gone"
    ecs = _client(endpoint, "ecs")
    services = [s for s in ecs.describe_services(cluster=f"{app}-dev", services=[f"{app}-dev-api"])
                .get("services", []) if s.get("status") == "ACTIVE"]
    assert services == []
