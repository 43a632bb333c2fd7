"""fullstack-app operations through the CLI: a new VPC (two AZs, public/private), `tscloud status` live
service facts, `tscloud logs --since/--filter`, and the NAT gateway's monthly cost in `plan`."""

from __future__ import annotations

import time
from pathlib import Path

from tests.cli.site_support import boto, tscloud
from tests.conftest import MotoServer

CONFIG = """
app = "fso"
preset = "fullstack-app"

[api]
image = "public.ecr.aws/docker/library/nginx:1.27-alpine"
port = 80
health_check = "/"

[network]
vpc = "new"
cidr = "10.42.0.0/16"
nat_gateway = {nat}
"""


def test_new_vpc_status_logs_and_nat_cost(moto_server: MotoServer, tmp_path: Path) -> None:
    endpoint = moto_server.endpoint
    (tmp_path / "tscloud.toml").write_text(CONFIG.format(nat="false"))
    deployed = tscloud(tmp_path, endpoint, "deploy")
    assert deployed.code == 0, deployed.output

    ec2 = boto(endpoint, "ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:tscloud:app", "Values": ["fso"]}])["Vpcs"]
    assert [v["CidrBlock"] for v in vpcs] == ["10.42.0.0/16"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])["Subnets"]
    tiers = sorted((next(t["Value"] for t in s["Tags"] if t["Key"] == "tscloud:tier"), s["AvailabilityZone"])
                   for s in subnets)
    assert [t for t, _ in tiers] == ["private", "private", "public", "public"]
    assert len({az for _, az in tiers}) == 2
    again = tscloud(tmp_path, endpoint, "--output", "json", "deploy")
    assert {s["status"] for s in again.json()["steps"]} == {"unchanged"}, again.output

    status = tscloud(tmp_path, endpoint, "--output", "json", "status")
    assert status.code == 0, status.output
    api = status.json()["live"]["api"]
    assert api["tasks"].startswith("1 running / 1 desired")
    assert api["rollout"] == "completed" and api["revision"] == "fso-dev-api:1"
    assert "targets" in api
    text = tscloud(tmp_path, endpoint, "status")
    assert "live:" in text.stdout and "rollout: completed" in text.stdout

    logs = boto(endpoint, "logs")
    group = "/tscloud/fso/dev"
    now = int(time.time() * 1000)
    logs.create_log_stream(logGroupName=group, logStreamName="api/api/0123456789abcdef")
    logs.put_log_events(logGroupName=group, logStreamName="api/api/0123456789abcdef", logEvents=[
        {"timestamp": now - 7200_000, "message": "hello from two hours ago"},
        {"timestamp": now - 1000, "message": "GET /health 200"},
        {"timestamp": now, "message": "hello world"}])
    recent = tscloud(tmp_path, endpoint, "logs", "--since", "10m")
    assert recent.code == 0, recent.output
    assert "GET /health 200" in recent.stdout and "hello world" in recent.stdout
    assert "two hours ago" not in recent.stdout
    assert "api/01234567" in recent.stdout
    filtered = tscloud(tmp_path, endpoint, "logs", "--since", "3h", "--filter", "hello")
    assert "two hours ago" in filtered.stdout and "GET /health" not in filtered.stdout
    bad = tscloud(tmp_path, endpoint, "logs", "--since", "soon")
    assert bad.code == 2 and "--since" in bad.stderr

    (tmp_path / "tscloud.toml").write_text(CONFIG.format(nat="true"))
    plan = tscloud(tmp_path, endpoint, "plan")
    assert plan.code == 0, plan.output
    assert "nat gateway" in plan.stdout and "$32.85/month" in plan.stdout
    as_json = tscloud(tmp_path, endpoint, "--output", "json", "plan").json()
    assert as_json["costs"]["nat_gateway_monthly_usd"] == 32.85

    (tmp_path / "tscloud.toml").write_text(CONFIG.format(nat="false"))
    gone = tscloud(tmp_path, endpoint, "--yes", "destroy")
    assert gone.code == 0, gone.output
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:tscloud:app", "Values": ["fso"]}])["Vpcs"] == []
