"""`needs` is enforced while a real preset runs: every preset, with every optional table and option that
adds a step on, plans and deploys against a moto server, and a second plan is all "none".

- fullstack-app: [site] with its own distribution, [database], [cache], [queue] with a worker service,
  [mail], [[schedules]], an HTTPS [api] domain through Route53;
- static-site: a custom domain (certificate and DNS record through Route53), spa, include;
- ssr-app, each origin (function-url, api-gateway): permissions, layers, environment, include, and two
  [[ssr.workers]] (one on provided.al2023 with a layer and permissions);
- api-domain, each target (a REST API with stage and base_path, an ALB), DNS through Route53.

The runner and planner scope each step's context to its needs, so any step reading a step it does not
list fails that step (deploy) or the plan at once with "reads the outputs of ... add ... to its needs"."""

from __future__ import annotations

import io
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.cli.site_support import boto, tscloud
from tests.conftest import REPO, MotoServer
from tests.fakes.aws_proxy import aws_like_distribution_summaries

ZONE = "fsn-example.com"
CONFIG = f"""
app = "fsn"
preset = "fullstack-app"

[api]
image = "public.ecr.aws/docker/library/nginx:1.27-alpine"
port = 80
health_check = "/"
domain = "api.{ZONE}"

[site]
dir = "dist"

[database]

[cache]

[queue]
worker = "service"
worker_command = ["node", "worker.js"]

[mail]
domain = "{ZONE}"

[[schedules]]
name = "nightly"
expression = "rate(1 day)"
command = ["true"]

[dns]
provider = "route53"
"""


# one fullstack deploy with every table: a few minutes on a busy 2-core machine
@pytest.mark.timeout(900)
def test_every_fullstack_table_on_plans_and_deploys_with_needs_enforced(moto_server: MotoServer,
                                                                        tmp_path: Path) -> None:
    aws_like_distribution_summaries()
    endpoint = moto_server.endpoint
    boto(endpoint, "route53").create_hosted_zone(Name=ZONE, CallerReference="fsn")
    (tmp_path / "tscloud.toml").write_text(CONFIG)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("<h1>fsn</h1>")

    plan_deploy_replan(tmp_path, endpoint, {"database", "cache", "queue", "mail", "schedules", "worker-service",
                                             "distribution", "api-certificate", "api-dns", "attach", "logs"},
                       at_least=True)


def plan_deploy_replan(project: Path, endpoint: str, expected: set[str], *, at_least: bool = False) -> dict[str, Any]:
    """Plan (must list ``expected``; with ``at_least``, among others), deploy with every step done and no
    needs error, plan again: all none."""
    before = tscloud(project, endpoint, "--output", "json", "plan")
    assert before.code == 0, before.output
    planned = {s["id"] for s in before.json()["steps"]}
    assert expected <= planned if at_least else planned == expected, planned

    deployed = tscloud(project, endpoint, "--output", "json", "deploy", timeout=600)
    assert deployed.code == 0, deployed.output
    assert "needs" not in deployed.stderr
    assert {s["id"] for s in deployed.json()["steps"]} == planned

    after = tscloud(project, endpoint, "--output", "json", "plan")
    assert after.code == 0, after.output
    assert {s["id"]: s["action"] for s in after.json()["steps"]} == dict.fromkeys(planned, "none")
    doc: dict[str, Any] = deployed.json()
    return doc


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


@pytest.mark.timeout(600)
def test_every_static_site_option_plans_and_deploys_with_needs_enforced(moto_server: MotoServer,
                                                                        tmp_path: Path) -> None:
    aws_like_distribution_summaries()
    zone = f"{unique('nss')}.com"
    boto(moto_server.endpoint, "route53").create_hosted_zone(Name=zone, CallerReference=zone)
    (tmp_path / "dist" / ".well-known").mkdir(parents=True)
    (tmp_path / "dist" / "home.html").write_text("<h1>nss</h1>")
    (tmp_path / "dist" / ".well-known" / "security.txt").write_text("Contact: mailto:sec@example.com")
    (tmp_path / "tscloud.toml").write_text(f"""
app = "{unique('nss')}"
preset = "static-site"

[site]
dir = "dist"
spa = true
domain = "www.{zone}"
index = "home.html"
price_class = "PriceClass_200"
include = [".well-known/*"]

[dns]
provider = "route53"
""")
    doc = plan_deploy_replan(tmp_path, moto_server.endpoint, {
        "bucket", "oac", "certificate", "distribution", "bucket-policy", "upload", "invalidation", "dns"})
    assert doc["outputs"]["url"] == f"https://www.{zone}"


def _layer(endpoint: str) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bootstrap", "#!/bin/sh\n")
    lam = boto(endpoint, "lambda")
    arn: str = lam.publish_layer_version(LayerName=unique("nsr"), Content={"ZipFile": buf.getvalue()},
                                         CompatibleRuntimes=["provided.al2023"])["LayerVersionArn"]
    return arn


@pytest.mark.parametrize("origin", ["function-url", "api-gateway"])
@pytest.mark.timeout(600)
def test_every_ssr_app_option_plans_and_deploys_with_needs_enforced(moto_server: MotoServer, tmp_path: Path,
                                                                    origin: str) -> None:
    aws_like_distribution_summaries()
    project = tmp_path / "app"
    shutil.copytree(REPO / "examples" / "ssr-app", project)
    (project / ".output" / "public" / ".well-known").mkdir()
    (project / ".output" / "public" / ".well-known" / "security.txt").write_text("Contact: mailto:s@example.com")
    layer = _layer(moto_server.endpoint)
    bedrock = ('actions = ["bedrock:InvokeModel"]\n'
               'resources = ["arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"]')
    text = (project / "tscloud.toml").read_text()
    text = text.replace('app = "shop"', f'app = "{unique("nsr")}"')
    text = text.replace('origin = "function-url"', f'origin = "{origin}"')
    text = text.replace('log_retention_days = 14', f'log_retention_days = 30\nlayers = ["{layer}"]\n'
                        'include = [".well-known/*"]')
    text = text.replace("[ssr.environment]", f"[[ssr.permissions]]\n{bedrock}\n\n[ssr.environment]")
    text += f"""
[[ssr.workers.permissions]]
actions = ["sqs:SendMessage"]
resources = ["arn:aws:sqs:us-east-1:123456789012:elsewhere"]

[[ssr.workers]]
name = "bun"
dir = "worker"
handler = "index.fetch"
runtime = "provided.al2023"
layers = ["{layer}"]
batch_size = 50
batching_window = 5
environment = {{ MODE = "bun" }}

[[ssr.workers.permissions]]
{bedrock}
"""
    (project / "tscloud.toml").write_text(text)
    server = {"api", "server-permission"} if origin == "api-gateway" else {
        "server-oac", "function-url", "server-permission"}
    workers = {f"{step}-{name}" for step in ("queue", "worker-logs", "worker-role", "worker", "worker-events")
               for name in ("jobs", "bun")}
    doc = plan_deploy_replan(project, moto_server.endpoint, {
        "bucket", "oac", "log-group", "role", "function", "edge-function", "distribution", "bucket-policy",
        "upload", "invalidation", *server, *workers})
    assert set(doc["outputs"]["queues"]) == {"jobs", "bun"}


def _rest_api(endpoint: str, region: str) -> str:
    api = boto3.client("apigateway", region_name=region, endpoint_url=endpoint)
    api_id: str = api.create_rest_api(name=unique("nsa"))["id"]
    root = next(r["id"] for r in api.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    api.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    api.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    api.create_deployment(restApiId=api_id, stageName="prod")
    api.create_deployment(restApiId=api_id, stageName="beta")
    return api_id


def _alb(endpoint: str, region: str) -> str:
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=endpoint)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    elb = boto3.client("elbv2", region_name=region, endpoint_url=endpoint)
    name = unique("nsa")
    lb = elb.create_load_balancer(Name=name, Subnets=subnets, Type="application")["LoadBalancers"][0]
    tg = elb.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc)["TargetGroups"][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    return name


@pytest.mark.parametrize("target", ["rest-api", "load-balancer"])
@pytest.mark.timeout(600)
def test_every_api_domain_option_plans_and_deploys_with_needs_enforced(moto_server: MotoServer, tmp_path: Path,
                                                                       target: str) -> None:
    region = "eu-west-1"  # a regional certificate, not us-east-1's
    zone = f"{unique('nsa')}.com"
    boto(moto_server.endpoint, "route53").create_hosted_zone(Name=zone, CallerReference=zone)
    if target == "rest-api":
        table = f'api_id = "{_rest_api(moto_server.endpoint, region)}"\nstage = "beta"\nbase_path = "v1"'
        expected = {"certificate", "domain", "mapping", "dns"}
    else:
        table = f'load_balancer = "{_alb(moto_server.endpoint, region)}"'
        expected = {"certificate", "listener", "dns"}
    (tmp_path / "tscloud.toml").write_text(f"""
app = "{unique('nsa')}"
preset = "api-domain"
region = "{region}"

[api_domain]
domain = "api.{zone}"
{table}

[dns]
provider = "route53"
""")
    doc = plan_deploy_replan(tmp_path, moto_server.endpoint, expected)
    assert doc["outputs"]["domain"] == f"api.{zone}"
