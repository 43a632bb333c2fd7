"""fullstack-app's Lambda worker in the VPC (issue 30): with Redis to reach, the worker function runs in the
stage's private subnets with a security group of its own, which Redis admits and which sends only what the
service sends; its role may manage the network interfaces Lambda makes. A redeploy writes nothing; moving the
worker out of the VPC detaches it and revokes Redis's rule for it, and moving it back attaches it to the same
group; destroy leaves nothing. A stage whose tasks
run in public subnets refuses a worker in the VPC before any write (Lambda gives it no public IP).

Against moto's server with the emulator's fidelity layer, which holds Lambda's VpcConfig to AWS's rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli.site_support import boto
from tests.cli.state_support import ensure_bucket
from tests.conftest import MotoServer, run_cli
from tests.fakes.aws_proxy import AwsProxy

HANDLER = "exports.handler = async () => ({ batchItemFailures: [] });\n"


def project(root: Path, app: str, *, network: str, worker: str = "") -> Path:
    site = root / app
    (site / "worker").mkdir(parents=True)
    (site / "worker" / "index.js").write_text(HANDLER)
    (site / "tscloud.toml").write_text(
        f'app = "{app}"\npreset = "fullstack-app"\n'
        '[api]\nimage = "public.ecr.aws/docker/library/nginx:1.27-alpine"\nport = 80\nhealth_check = "/"\n'
        f'origin = "public"\n{network}\n[cache]\n'
        '[queue]\nworker = "lambda"\nworker_dir = "worker"\nworker_runtime = "nodejs20.x"\n'
        f'worker_handler = "index.handler"\n{worker}\n')
    return site


def deploy(site: Path, endpoint: str, *args: str) -> dict[str, Any]:
    result = run_cli("--endpoint-url", endpoint, "--output", "json", "deploy", "--yes", *args, cwd=site, timeout=300)
    assert result.code == 0, result.output[-3000:]
    doc: dict[str, Any] = result.json()
    return doc


def checked(site: Path, endpoint: str) -> list[str]:
    """What the plan says it checked."""
    result = run_cli("--endpoint-url", endpoint, "--output", "json", "plan", cwd=site, timeout=300)
    assert result.code == 0, result.output[-3000:]
    found: list[str] = result.json()["preflight"]
    return found


def groups(endpoint: str, app: str) -> dict[str, dict[str, Any]]:
    found = boto(endpoint, "ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"{app}-dev-{r}" for r in ("service", "worker", "cache")]}])
    return {g["GroupName"].removeprefix(f"{app}-dev-"): g for g in found["SecurityGroups"]}


def peers(permissions: list[dict[str, Any]], port: int) -> set[str]:
    return {pair["GroupId"] for p in permissions if p.get("FromPort") == port for pair in p.get("UserIdGroupPairs", [])}


def worker_vpc(endpoint: str, app: str) -> dict[str, Any]:
    conf = boto(endpoint, "lambda").get_function(FunctionName=f"{app}-dev-worker")["Configuration"]
    vpc: dict[str, Any] = conf.get("VpcConfig") or {}
    return vpc


def stage_vpc(endpoint: str, app: str) -> str:
    vpcs = boto(endpoint, "ec2").describe_vpcs(Filters=[{"Name": "tag:tscloud:app", "Values": [app]}])["Vpcs"]
    return str(vpcs[0]["VpcId"])


def private_subnets(endpoint: str, app: str) -> list[str]:
    subnets = boto(endpoint, "ec2").describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [stage_vpc(endpoint, app)]}])["Subnets"]
    tier = {s["SubnetId"]: {t["Key"]: t["Value"] for t in s.get("Tags", [])}.get("tscloud:tier") for s in subnets}
    return sorted(sid for sid, t in tier.items() if t == "private")


def lambda_enis(endpoint: str, app: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = boto(endpoint, "ec2").describe_network_interfaces(Filters=[
        {"Name": "description", "Values": [f"AWS Lambda VPC ENI-{app}-dev-worker-*"]}])["NetworkInterfaces"]
    return found


def test_the_worker_runs_in_private_subnets_with_a_group_redis_admits(moto_server: MotoServer,
                                                                      tmp_path: Path) -> None:
    moto = moto_server.endpoint
    ensure_bucket(moto)
    app = "fwvpc"
    site = project(tmp_path, app, network='[network]\nvpc = "new"\nnat_gateway = true')
    with AwsProxy(moto) as proxy:
        deploy(site, proxy.endpoint)
        assert any("queue.worker_network = vpc (auto)" in c for c in checked(site, moto))

        vpc = worker_vpc(moto, app)
        sg = groups(moto, app)
        assert sorted(vpc["SubnetIds"]) == private_subnets(moto, app)
        assert vpc["SecurityGroupIds"] == [sg["worker"]["GroupId"]] and vpc["VpcId"] == stage_vpc(moto, app)
        enis = lambda_enis(moto, app)  # Lambda's, one per subnet, in the worker's group only
        assert sorted(e["SubnetId"] for e in enis) == private_subnets(moto, app)
        assert {g["GroupId"] for e in enis for g in e["Groups"]} == {sg["worker"]["GroupId"]}
        assert peers(sg["cache"]["IpPermissions"], 6379) == {sg["service"]["GroupId"], sg["worker"]["GroupId"]}
        assert sg["worker"]["IpPermissions"] == []  # nothing reaches the worker
        assert {(p.get("FromPort"), tuple(r["CidrIp"] for r in p.get("IpRanges", [])))
                for p in sg["worker"]["IpPermissionsEgress"]} == {(443, ("0.0.0.0/0",)), (6379, ())}
        assert peers(sg["worker"]["IpPermissionsEgress"], 6379) == {sg["cache"]["GroupId"]}
        role = boto(moto, "iam").get_role_policy(RoleName=f"{app}-dev-use1-worker", PolicyName="tscloud-server")
        statements = role["PolicyDocument"]["Statement"]
        eni = [s for s in statements if s["Sid"] == "VpcNetworkInterfaces"]
        assert eni and "ec2:CreateNetworkInterface" in eni[0]["Action"]
        # the role's only grant on "*", as AWS requires: Lambda tries CreateNetworkInterface with the role,
        # unscoped, before it accepts the function (AWSLambdaVPCAccessExecutionRole grants these on "*" too)
        assert [s for s in statements if "*" in s["Resource"]] == eni

        proxy.clear()
        deploy(site, proxy.endpoint)
        assert [r.describe() for r in proxy.resource_writes()] == []

        # out of the VPC: detached, Redis's rule for it revoked; the group stays until destroy
        config = site / "tscloud.toml"
        config.write_text(config.read_text() + 'worker_network = "none"\n')
        deploy(site, proxy.endpoint)
        assert any("queue.worker_network = none" in c for c in checked(site, moto))
        assert not worker_vpc(moto, app).get("SubnetIds") and lambda_enis(moto, app) == []
        sg = groups(moto, app)
        assert peers(sg["cache"]["IpPermissions"], 6379) == {sg["service"]["GroupId"]}
        proxy.clear()
        deploy(site, proxy.endpoint)
        assert [r.describe() for r in proxy.resource_writes()] == []

        # and back: the same group, attached again; then destroyed while attached (the group goes once
        # Lambda has released the function's network interfaces)
        config.write_text(config.read_text().replace('worker_network = "none"\n', ""))
        deploy(site, proxy.endpoint)
        assert worker_vpc(moto, app)["SecurityGroupIds"] == [sg["worker"]["GroupId"]]
        assert len(lambda_enis(moto, app)) == 2
        assert peers(groups(moto, app)["cache"]["IpPermissions"], 6379) == {sg["service"]["GroupId"],
                                                                            sg["worker"]["GroupId"]}

    gone = run_cli("--endpoint-url", moto, "--output", "json", "destroy", "--yes", cwd=site, timeout=300)
    assert gone.code == 0, gone.output[-3000:]
    assert groups(moto, app) == {}
    assert boto(moto, "ec2").describe_vpcs(Filters=[{"Name": "tag:tscloud:app", "Values": [app]}])["Vpcs"] == []


def test_a_worker_in_the_vpc_needs_private_subnets_and_is_refused_before_any_write(moto_server: MotoServer,
                                                                                  tmp_path: Path) -> None:
    moto = moto_server.endpoint
    ensure_bucket(moto)
    site = project(tmp_path, "fwpub", network="", worker='worker_network = "vpc"')
    with AwsProxy(moto) as proxy:
        result = run_cli("--endpoint-url", proxy.endpoint, "deploy", "--yes", cwd=site, timeout=300)
        assert result.code == 2, result.output
        assert "queue.worker_network" in result.output and "private subnets" in result.output
        assert [r.describe() for r in proxy.resource_writes()] == []
