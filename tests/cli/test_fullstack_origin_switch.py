"""A fullstack stage deployed with `[api] origin = "public"` switched to `"vpc"` (issue 25, "Done means" 2),
against the moto server through the recording proxy: the plan spells the replacement out in order (a new
internal load balancer, its VPC origin, the service registered in both target groups, the distribution's
/api/* origin moved, and only then the public load balancer deleted); `deploy --yes` carries it out in that
order, so /api/* always has an origin that answers; the stage ends with one load balancer, one target group and
one VPC origin, and a redeploy writes nothing.

Crash safety of the change: SIGKILL the switching deploy right after each of its writes to the load balancers,
the service, the distribution and the VPC origin (the replacement proper; the private subnets and VPC endpoints
it also makes are swept by the first-deploy tests), re-run at once, and require the same end state and a
no-op after it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.cli.crash_support import kill_then_rerun
from tests.cli.site_support import boto, tscloud
from tests.cli.state_support import ensure_bucket
from tests.conftest import MotoServer
from tests.fakes.aws_proxy import AwsProxy, Recorded, aws_like_distribution_summaries

WORKERS = int(os.environ.get("TSCLOUD_CRASH_WORKERS", "2"))
# the writes of the replacement proper; an operation's name as the proxy records it
CHANGE = {"elasticloadbalancing", "ecs", "cloudfront"}


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[AwsProxy]:
    aws_like_distribution_summaries()
    ensure_bucket(moto_server.endpoint)
    with AwsProxy(moto_server.endpoint) as counting:
        yield counting


def public_stage(root: Path, app: str, endpoint: str) -> Path:
    """A project deployed with origin = "public" behind an existing distribution; its config then says vpc."""
    dist = boto(endpoint, "cloudfront").create_distribution(DistributionConfig={
        "CallerReference": app, "Comment": f"{app} frontend", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "site", "DomainName": f"{app}.s3.us-east-1.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})["Distribution"]
    project = root / app
    project.mkdir(parents=True)
    toml = project / "tscloud.toml"
    toml.write_text(f"""
app = "{app}"
preset = "fullstack-app"
[api]
image = "public.ecr.aws/docker/library/nginx:1.27-alpine"
port = 80
health_check = "/"
origin = "public"
[frontend]
distribution_id = "{dist['Id']}"
""")
    (project / ".dist").write_text(dist["Id"])
    first = tscloud(project, endpoint, "--output", "json", "deploy", timeout=300)
    assert first.code == 0, first.output
    toml.write_text(toml.read_text().replace('origin = "public"', 'origin = "vpc"'))
    return project


def end_state(endpoint: str, app: str, dist_id: str) -> dict[str, Any]:
    p = f"{app}-dev"
    elb, ecs, cf = boto(endpoint, "elbv2"), boto(endpoint, "ecs"), boto(endpoint, "cloudfront")
    lbs = [lb for lb in elb.describe_load_balancers()["LoadBalancers"] if lb["LoadBalancerName"].startswith(p)]
    tgs = [t for t in elb.describe_target_groups()["TargetGroups"] if t["TargetGroupName"].startswith(p)]
    arns = {lb["LoadBalancerArn"] for lb in lbs}
    vpc_origins = [o for o in cf.list_vpc_origins()["VpcOriginList"].get("Items") or []
                   if o["Name"].startswith(p)]
    service = ecs.describe_services(cluster=p, services=[f"{p}-api"])["services"][0]
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    config = cf.get_distribution_config(Id=dist_id)["DistributionConfig"]
    api = [o for o in config["Origins"]["Items"] if o["Id"] == f"{p}-api"]
    registered = sorted({t["TargetGroupName"] for t in tgs for h in elb.describe_target_health(
        TargetGroupArn=t["TargetGroupArn"])["TargetHealthDescriptions"] if h["TargetHealth"]["State"] == "healthy"})
    return {
        "load_balancers": sorted((lb["LoadBalancerName"], lb["Scheme"]) for lb in lbs),
        "target_groups": sorted(t["TargetGroupName"] for t in tgs),
        "vpc_origins": [(o["Status"], o["OriginEndpointArn"] in arns) for o in vpc_origins],
        "service_target_groups": [lb["targetGroupArn"].split(":targetgroup/")[1].split("/")[0]
                                  for lb in service["loadBalancers"]],
        "registered": registered,
        "public_ip": network["assignPublicIp"],
        "api_origin": [(bool(o.get("VpcOriginConfig", {}).get("VpcOriginId")), o["CustomHeaders"]["Quantity"])
                       for o in api],
        "behaviors": [b["PathPattern"] for b in config.get("CacheBehaviors", {}).get("Items", [])],
    }


def switched(app: str) -> dict[str, Any]:
    p = f"{app}-dev"
    return {"load_balancers": [(f"{p}-ialb", "internal")], "target_groups": [f"{p}-iapi"],
            "vpc_origins": [("Deployed", True)], "service_target_groups": [f"{p}-iapi"], "registered": [f"{p}-iapi"],
            "public_ip": "DISABLED", "api_origin": [(True, 0)], "behaviors": ["/api/*"]}


def _ops(requests: list[Recorded]) -> list[str]:
    return [r.describe() for r in requests if r.resource_write and r.service in CHANGE]


def test_public_stage_switches_to_vpc_in_order(proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    app = "swfs"
    project = public_stage(tmp_path, app, proxy.endpoint)
    dist_id = (project / ".dist").read_text()
    before = end_state(moto_server.endpoint, app, dist_id)
    assert before["load_balancers"] == [(f"{app}-dev-alb", "internet-facing")]
    assert before["api_origin"] == [(False, 1)]  # the origin-verify header

    plan = tscloud(project, proxy.endpoint, "plan")
    assert plan.code == 0, plan.output
    text = plan.stdout
    assert "api.origin public -> vpc, in this order: (1) a new internal load balancer" in text
    assert f"(5) only then the public load balancer {app}-dev-alb deleted" in text
    listed = [m.group(1) for m in re.finditer(r"^\s*(?:create|update|none|delete)\s{2}(\S+)\s{2}", text, re.M)]
    order = ["load-balancer", "vpc-origin", "attach", "replaced-load-balancer"]
    assert [step for step in listed if step in order] == order, text
    assert listed.index("load-balancer") < listed.index("service") < listed.index("attach"), text
    assert "public load balancer (after /api/* is through the VPC origin)" in text
    planned = tscloud(project, proxy.endpoint, "--output", "json", "plan").json()
    actions = {s["id"]: s["action"] for s in planned["steps"]}
    assert [actions[s] for s in (*order, "service")] == ["update", "create", "update", "update", "update"], actions

    proxy.clear()
    deploy = tscloud(project, proxy.endpoint, "--yes", "--output", "json", "deploy", timeout=300)
    assert deploy.code == 0, deploy.output
    writes = _ops(proxy.requests())
    # the distribution moves after the service registers in both target groups, and the public load balancer
    # goes only after it has moved
    first = {name: next(i for i, w in enumerate(writes) if w.endswith(f":{name}"))
             for name in ("CreateLoadBalancer", "UpdateService", "DeleteLoadBalancer", "DeleteTargetGroup")}
    made = next(i for i, w in enumerate(writes) if ":POST " in w and w.endswith("/vpc-origin"))
    moved = next(i for i, w in enumerate(writes) if ":PUT " in w and "/distribution/" in w)
    assert first["CreateLoadBalancer"] < made < moved, writes
    assert first["UpdateService"] < moved < first["DeleteLoadBalancer"] < first["DeleteTargetGroup"], writes
    assert end_state(moto_server.endpoint, app, dist_id) == switched(app)

    proxy.clear()
    again = tscloud(project, proxy.endpoint, "--output", "json", "deploy")
    assert again.code == 0, again.output
    assert {s["status"] for s in again.json()["steps"]} == {"unchanged"}
    assert [r.describe() for r in proxy.resource_writes()] == []


def _crash_case(moto: str, root: Path, n: int, keep_journal: bool) -> str | None:
    app = f"swc{n}{'j' if keep_journal else 'x'}"
    with AwsProxy(moto) as proxy:
        project = public_stage(root, app, proxy.endpoint)
        proxy.clear()
        run = kill_then_rerun(moto, project, n, app=app, keep_journal=keep_journal, proxy=proxy)
    label = f"n={n} ({run.what}, journal {'kept' if keep_journal else 'deleted'})"
    if run.error is not None:
        return f"{label}: {run.error}"
    state = end_state(moto, app, (project / ".dist").read_text())
    if state != switched(app):
        return f"{label}: end state {state}"
    return None


# one public deploy, a killed switch, its re-run and a no-op per point: a few minutes under -n 2
@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_killed_switch_converges_with_one_load_balancer_and_one_origin(moto_server: MotoServer,
                                                                       tmp_path: Path) -> None:
    aws_like_distribution_summaries()
    moto = moto_server.endpoint
    ensure_bucket(moto)
    with AwsProxy(moto) as proxy:
        project = public_stage(tmp_path, "swref", proxy.endpoint)
        proxy.clear()
        result = tscloud(project, proxy.endpoint, "--yes", "--output", "json", "deploy", timeout=300)
        assert result.code == 0, result.output
        requests = proxy.requests()
    assert end_state(moto, "swref", (project / ".dist").read_text()) == switched("swref")
    points = [i for i, r in enumerate(requests, start=1) if r.resource_write and r.service in CHANGE]
    assert len(points) >= 8, _ops(requests)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        failures = [f for f in pool.map(lambda c: _crash_case(moto, tmp_path, c[0], c[1]),
                                        [(n, k % 2 == 0) for k, n in enumerate(points)]) if f]
    assert failures == [], "\n".join(failures)
