"""examples/fullstack-app with a CloudFront VPC origin (issue 25, "Done means" 1 and 5), against the moto server
through the recording proxy: a new stage gets `[api] origin = "vpc"` without asking; the load balancer is
internal, in private subnets of the default VPC that have no route to the internet, admitting only
CloudFront's origin-facing prefix list; the distribution's /api/* origin has a VpcOriginConfig naming the VPC
origin of that load balancer, and no origin-verify header or secret exists; Postgres has rds.force_ssl = 1 in
the parameter group the database step owns and the app's connection string asks for sslmode=require; tasks run
in those subnets without public IPs, reaching AWS through VPC endpoints; no security group is open to 0.0.0.0/0
on the load balancer's port. Through the local edge /api/* reaches the load balancer by its VPC origin (its target group's service
answers), while the same load balancer named by DNS name, as CloudFront over the internet would, is CloudFront's
502. A redeploy writes nothing; destroy leaves nothing tagged, and the default VPC as it was."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.edge_support import fetch
from tests.cli.site_support import boto, tscloud
from tests.cli.test_fullstack_cli import assert_nothing_tagged, mutating_ops
from tests.conftest import REPO, MotoServer
from tests.fakes.aws_proxy import AwsProxy, aws_like_distribution_summaries
from tscloud_py.aws.elbv2 import Elbv2
from tscloud_py.aws.session import ClientFactory
from tscloud_py.emulator.edge.alb_origin import AlbOrigin
from tscloud_py.emulator.edge.origins import Distribution, EdgeRequest
from tscloud_py.emulator.edge.server import open_fleet
from tscloud_py.operations.context import LOCAL_CREDENTIALS

PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[AwsProxy]:
    aws_like_distribution_summaries()
    with AwsProxy(moto_server.endpoint) as counting:
        yield counting


def example(tmp_path: Path, app: str) -> Path:
    project = tmp_path / "example"
    shutil.copytree(REPO / "examples" / "fullstack-app", project, ignore=shutil.ignore_patterns(".tscloud"))
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text().replace('app = "shopfs"', f'app = "{app}"'))
    return project


def check_posture(endpoint: str, app: str) -> dict[str, Any]:
    """Issue 25's posture in vpc mode; the load balancer and the VPC origin, for what follows."""
    elb, ec2, ecs = boto(endpoint, "elbv2"), boto(endpoint, "ec2"), boto(endpoint, "ecs")
    ours = [lb for lb in elb.describe_load_balancers()["LoadBalancers"]
            if lb["LoadBalancerName"].startswith(f"{app}-dev-")]
    assert [(lb["LoadBalancerName"], lb["Scheme"]) for lb in ours] == [(f"{app}-dev-ialb", "internal")]
    lb = ours[0]
    subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(
        SubnetIds=[z["SubnetId"] for z in lb["AvailabilityZones"]])["Subnets"]}
    for subnet in subnets.values():
        assert {"Key": "tscloud:tier", "Value": "private"} in subnet["Tags"] and not subnet["MapPublicIpOnLaunch"]
    tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": list(subnets)}])
    for table in tables["RouteTables"]:  # private: no way out but the VPC endpoints (the S3 gateway's prefix list)
        assert not [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"], table
    assert len(tables["RouteTables"]) == 1

    service = ecs.describe_services(cluster=f"{app}-dev", services=[f"{app}-dev-api"])["services"][0]
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    assert network["assignPublicIp"] == "DISABLED" and set(network["subnets"]) == set(subnets)
    tasks = ecs.list_tasks(cluster=f"{app}-dev", serviceName=f"{app}-dev-api")["taskArns"]
    assert tasks
    for task in ecs.describe_tasks(cluster=f"{app}-dev", tasks=tasks)["tasks"]:
        details = {d["name"]: d["value"] for a in task.get("attachments", []) for d in a.get("details", [])}
        assert details.get("subnetId") in subnets, details
        assert "publicIPv4Address" not in details

    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"{app}-dev-*"]}])["SecurityGroups"]}
    prefix_list = ec2.describe_managed_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": [PREFIX_LIST]}])["PrefixLists"][0]["PrefixListId"]
    alb_in = groups[f"{app}-dev-alb"]["IpPermissions"]
    assert [(p["FromPort"], [x["PrefixListId"] for x in p["PrefixListIds"]]) for p in alb_in] == [(80, [prefix_list])]
    for group in groups.values():
        for rule in group["IpPermissions"]:
            assert not any(r["CidrIp"] == "0.0.0.0/0" for r in rule.get("IpRanges", [])), (group["GroupName"], rule)
    endpoints = {e["ServiceName"]: e for e in ec2.describe_vpc_endpoints(
        Filters=[{"Name": "tag:tscloud:app", "Values": [app]}])["VpcEndpoints"]}
    assert sorted(endpoints) == sorted(f"com.amazonaws.us-east-1.{s}"
                                       for s in ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "sqs", "s3"))
    interface = endpoints["com.amazonaws.us-east-1.ecr.dkr"]
    assert set(interface["SubnetIds"]) == set(subnets) and interface["PrivateDnsEnabled"]
    assert [g["GroupId"] for g in interface["Groups"]] == [groups[f"{app}-dev-endpoints"]["GroupId"]]

    cf = boto(endpoint, "cloudfront")
    vpc_origins = [o for o in cf.list_vpc_origins()["VpcOriginList"].get("Items") or []
                   if o["OriginEndpointArn"] == lb["LoadBalancerArn"]]
    assert len(vpc_origins) == 1 and vpc_origins[0]["Status"] == "Deployed"
    vpc_origin = cf.get_vpc_origin(Id=vpc_origins[0]["Id"])["VpcOrigin"]
    assert vpc_origin["VpcOriginEndpointConfig"]["OriginProtocolPolicy"] == "http-only"  # no domain: no certificate
    rds = boto(endpoint, "rds")  # Postgres takes TLS only, and the app asks for it
    db = rds.describe_db_instances(DBInstanceIdentifier=f"{app}-dev-db")["DBInstances"][0]
    assert [g["DBParameterGroupName"] for g in db["DBParameterGroups"]] == [f"{app}-dev-db"]
    parameters = rds.describe_db_parameters(DBParameterGroupName=f"{app}-dev-db", Source="user")["Parameters"]
    assert {p["ParameterName"]: p["ParameterValue"] for p in parameters} == {"rds.force_ssl": "1"}
    container = ecs.describe_task_definition(taskDefinition=f"{app}-dev-api")["taskDefinition"][
        "containerDefinitions"][0]
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["DATABASE_URL"].endswith("?sslmode=require") and env["PGSSLMODE"] == "require"
    secrets = boto(endpoint, "secretsmanager").list_secrets()["SecretList"]
    assert not [s for s in secrets if s["Name"].endswith(f"/{app}/dev/origin-verify")]
    return {"lb": lb, "vpc_origin": vpc_origin}


def test_example_deploys_behind_a_vpc_origin(proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    app = "vpcfs"
    endpoint = moto_server.endpoint
    project = example(tmp_path, app)
    subnets_before = {s["SubnetId"] for s in boto(endpoint, "ec2").describe_subnets()["Subnets"]}

    plan = tscloud(project, proxy.endpoint, "plan")
    assert plan.code == 0, plan.output
    assert "api.origin = vpc ([api] origin unset and this stage runs no internet-facing load balancer: a new " \
           "stage)" in plan.stdout
    assert "no origin-verify header" in plan.stdout and "VPC interface endpoints (about $73.00/month)" in plan.stdout
    first = tscloud(project, proxy.endpoint, "deploy", timeout=300)
    assert first.code == 0, first.output
    found = check_posture(endpoint, app)
    lb, vpc_origin = found["lb"], found["vpc_origin"]

    dist_id = dict(line.split(None, 1) for line in first.stdout.splitlines() if line.strip())["distribution_id"]
    config = boto(endpoint, "cloudfront").get_distribution_config(Id=dist_id)["DistributionConfig"]
    api = next(o for o in config["Origins"]["Items"] if o["Id"] == f"{app}-dev-api")
    assert api["VpcOriginConfig"]["VpcOriginId"] == vpc_origin["Id"] and "CustomOriginConfig" not in api
    assert api["DomainName"] == lb["DNSName"] and api["CustomHeaders"]["Quantity"] == 0
    assert [b["PathPattern"] for b in config["CacheBehaviors"]["Items"]] == ["/api/*"]

    # the local edge: /api/* reaches the load balancer through its VPC origin; by DNS name it is unreachable
    factory = ClientFactory(endpoint_url=endpoint, credentials=LOCAL_CREDENTIALS)
    fleet = open_fleet(factory)
    try:
        fleet.sync()
        through = fetch(fleet.served[dist_id].url.rstrip("/") + "/api/health")
        assert through.headers["x-tscloud-origin"] == f"{app}-dev-api (alb)"
        # the listener forwarded to the target group (whose nginx cannot run without an engine here)
        assert b"forwards this request to target group" in through.body, through.body[:400]
        assert "x-tscloud-alb-listener" not in through.headers  # an internal listener: no way in from outside
    finally:
        fleet.close()
    by_name = {k: v for k, v in api.items() if k != "VpcOriginConfig"}
    by_name["CustomOriginConfig"] = {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}
    outside = AlbOrigin(Elbv2(factory)).fetch(Distribution(dist_id, "", "", {}), by_name,
                                              EdgeRequest("GET", "/api/health", "", [], b"", "127.0.0.1"))
    assert outside.status == 502 and "is internal" in " ".join(outside.notes)

    proxy.clear()
    second = tscloud(project, proxy.endpoint, "--output", "json", "deploy")
    assert second.code == 0, second.output
    assert {s["status"] for s in second.json()["steps"]} == {"unchanged"}
    assert mutating_ops(proxy) == Counter()

    gone = tscloud(project, proxy.endpoint, "--yes", "destroy", "--no-snapshot")
    assert gone.code == 0, gone.output
    assert_nothing_tagged(endpoint, app)
    assert {s["SubnetId"] for s in boto(endpoint, "ec2").describe_subnets()["Subnets"]} == subnets_before
    assert [o for o in boto(endpoint, "cloudfront").list_vpc_origins()["VpcOriginList"].get("Items") or []
            if o["OriginEndpointArn"] == lb["LoadBalancerArn"]] == []
