"""Crash safety for fullstack-app (issue 5, "Done means" 4): SIGKILL `tscloud deploy` right after its N-th
AWS request, re-run it at once (with the journal kept, or deleted; no --force-unlock, no shortened lease), and
require the end state of an uninterrupted deploy: one of every resource, nothing duplicated, the API origin
spliced in once; then a deploy that writes nothing.

CI runs the first call of each resource-creating operation and 12 points spread evenly over the deploy;
TSCLOUD_FULLSTACK_CRASH_ALL=1 sweeps every request (see bench/)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.cli.crash_support import kill_then_rerun, spread
from tests.cli.site_support import boto
from tests.cli.state_support import ensure_bucket
from tests.conftest import MotoServer, run_cli
from tests.fakes.aws_proxy import AwsProxy, aws_like_distribution_summaries

WORKERS = int(os.environ.get("TSCLOUD_CRASH_WORKERS", "2"))
# the first call of each: a kill right after it leaves a resource the journal never heard of
SAMPLE = ("CreateSecurityGroup", "CreateDBInstance", "CreateReplicationGroup", "CreateSecret", "CreateTargetGroup",
          "CreateLoadBalancer", "CreateRule", "CreateRole", "RegisterTaskDefinition", "CreateService",
          "CreateSchedule", "UpdateDistribution")
# and this many points spread evenly over the whole deploy (issue 23, "Done means" 1)
SPREAD = 12


def project_for(root: Path, app: str, endpoint: str) -> Path:
    cf = boto(endpoint, "cloudfront")
    dist = cf.create_distribution(DistributionConfig={
        "CallerReference": app, "Comment": f"{app} frontend", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "site", "DomainName": f"{app}.s3.us-east-1.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})["Distribution"]
    project = root / app
    project.mkdir(parents=True)
    (project / "tscloud.toml").write_text(f"""
app = "{app}"
preset = "fullstack-app"
[api]
image = "public.ecr.aws/docker/library/nginx:1.27-alpine"
port = 80
health_check = "/"
origin = "public"
[frontend]
distribution_id = "{dist['Id']}"
[database]
[cache]
[queue]
[[schedules]]
name = "nightly"
expression = "rate(1 day)"
command = ["true"]
""")
    (project / ".dist").write_text(dist["Id"])
    return project


def pages(client: Any, method: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item, across pages: a full sweep puts hundreds of apps into one moto server."""
    return [item for page in client.get_paginator(method).paginate(**kwargs) for item in page.get(key, [])]


def end_state(endpoint: str, app: str, dist_id: str) -> dict[str, Any]:
    p = f"{app}-dev"
    ec2, elb, ecs = boto(endpoint, "ec2"), boto(endpoint, "elbv2"), boto(endpoint, "ecs")
    groups = pages(ec2, "describe_security_groups", "SecurityGroups",
                   Filters=[{"Name": "group-name", "Values": [f"{p}-*"]}])
    lbs = [lb for lb in pages(elb, "describe_load_balancers", "LoadBalancers") if lb["LoadBalancerName"].startswith(p)]
    tgs = [t for t in pages(elb, "describe_target_groups", "TargetGroups") if t["TargetGroupName"].startswith(p)]
    rules = [r for lb in lbs for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
             for r in elb.describe_rules(ListenerArn=li["ListenerArn"])["Rules"] if not r["IsDefault"]]
    services = [s for s in ecs.describe_services(cluster=p, services=[f"{p}-api"])["services"]
                if s["status"] == "ACTIVE"]
    config = boto(endpoint, "cloudfront").get_distribution_config(Id=dist_id)["DistributionConfig"]
    iam = boto(endpoint, "iam")
    roles = sorted(r["RoleName"].removeprefix(p) for r in pages(iam, "list_roles", "Roles")
                   if r["RoleName"].startswith(f"{p}-"))
    asg = boto(endpoint, "application-autoscaling")
    return {
        "security_groups": sorted(g["GroupName"].removeprefix(p) for g in groups),
        "ingress": sorted(len(g["IpPermissions"]) for g in groups),
        "load_balancers": len(lbs), "target_groups": len(tgs), "rules": len(rules),
        "db": len([d for d in pages(boto(endpoint, "rds"), "describe_db_instances", "DBInstances")
                   if d["DBInstanceIdentifier"].startswith(p)]),
        "redis": len([g for g in pages(boto(endpoint, "elasticache"), "describe_replication_groups",
                                       "ReplicationGroups") if g["ReplicationGroupId"].startswith(p)]),
        "queues": len(boto(endpoint, "sqs").list_queues(QueueNamePrefix=p).get("QueueUrls", [])),
        "secrets": len(pages(boto(endpoint, "secretsmanager"), "list_secrets", "SecretList",
                             Filters=[{"Key": "name", "Values": [f"tscloud/{app}/"]}])),
        "roles": roles,
        "policies": sorted(len(iam.list_role_policies(RoleName=f"{p}{r}")["PolicyNames"]) for r in roles),
        "task_definitions": len(ecs.list_task_definitions(familyPrefix=f"{p}-api")["taskDefinitionArns"]),
        "services": len(services),
        "service_revision": services[0]["taskDefinition"].rsplit(":", 1)[-1] if services else None,
        "scalable_targets": len(asg.describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[f"service/{p}/{p}-api"])["ScalableTargets"]),
        "schedules": len(boto(endpoint, "scheduler").list_schedules(GroupName=p)["Schedules"]),
        "origins": sorted(o["Id"].removeprefix(p) for o in config["Origins"]["Items"]),
        "behaviors": [b["PathPattern"] for b in config.get("CacheBehaviors", {}).get("Items", [])],
    }


def _crash_case(moto: str, root: Path, n: int, keep_journal: bool) -> str | None:
    app = f"fsc{n}{'j' if keep_journal else 'x'}"
    project = project_for(root, app, moto)
    run = kill_then_rerun(moto, project, n, app=app, keep_journal=keep_journal)
    if run.error is not None:
        return f"n={n} ({run.what}, journal {'kept' if keep_journal else 'deleted'}): {run.error}"
    state = end_state(moto, app, (project / ".dist").read_text())
    want = REFERENCE.get("state")
    if state != want:
        diff = {k: (state[k], want[k]) for k in state if state[k] != want[k]}  # type: ignore[index]
        return f"n={n} ({run.what}, journal {'kept' if keep_journal else 'deleted'}): end state differs {diff}"
    return None


REFERENCE: dict[str, Any] = {}


# About 24 kill points, three fullstack deploys each (killed, re-run, no-op): minutes on a busy 2-core machine.
@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_killed_deploys_converge_without_duplicates(moto_server: MotoServer, tmp_path: Path) -> None:
    aws_like_distribution_summaries()
    moto = moto_server.endpoint
    ensure_bucket(moto)
    project = project_for(tmp_path, "fscref", moto)
    with AwsProxy(moto) as proxy:
        result = run_cli("--endpoint-url", proxy.endpoint, "--output", "json", "deploy", cwd=project)
        assert result.code == 0, result.output
        requests = proxy.requests()
    state = end_state(moto, "fscref", (project / ".dist").read_text())
    assert state["security_groups"] == ["-alb", "-cache", "-db", "-service"]
    assert state["origins"] == ["-api", "site"] and state["behaviors"] == ["/api/*"]
    assert state["services"] == 1 and state["task_definitions"] == 1 and state["secrets"] == 2
    REFERENCE["state"] = state
    if os.environ.get("TSCLOUD_FULLSTACK_CRASH_ALL"):
        cases = [(n, n % 2 == 0) for n in range(1, len(requests) + 1)]
    else:
        firsts: dict[str, int] = {}
        for i, r in enumerate(requests, start=1):
            if r.mutating and r.operation in SAMPLE and r.operation not in firsts:
                firsts[r.operation] = i
        rest = {"UpdateDistribution": lambda r: r.method == "PUT" and "/distribution/" in r.path,
                "CreateSchedule": lambda r: r.method == "POST" and r.path.startswith("/schedules/")}
        for name, matches in rest.items():  # REST APIs carry no operation name on the wire
            firsts[name] = next(i for i, r in enumerate(requests, start=1) if r.mutating and matches(r))
        assert len(firsts) == len(SAMPLE), firsts
        points = sorted(set(firsts.values()) | set(spread(len(requests) - 1, SPREAD)))
        cases = [(n, k % 2 == 0) for k, n in enumerate(points)]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        failures = [f for f in pool.map(lambda c: _crash_case(moto, tmp_path, c[0], c[1]), cases) if f]
    assert failures == [], "\n".join(failures)
