"""A create whose response is lost (AWS acted, the client got a 500 or no answer) makes no duplicate.

The proxy forwards each create call once and loses its answer (tests/fakes/aws_proxy.py ``lose``): the
deploy converges in the same run, nothing exists twice, a second deploy is a no-op, and a destroy leaves
nothing tagged. A fake fault on top of the real moto server: no real AWS can be made to lose an answer
on demand. CI runs one fullstack-app sweep per loss mode (every create of the preset loses its first
answer); bench/lost_response_sweep.py runs every preset.
"""

from __future__ import annotations

import os
import random
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.site_support import all_roles, boto
from tests.cli.test_fullstack_cli import assert_nothing_tagged
from tests.conftest import REPO, MotoServer, run_cli
from tests.fakes.aws_proxy import AwsProxy, Recorded

CREATE_PREFIXES = ("Create", "Allocate", "Request")
FULL = os.environ.get("TSCLOUD_LOST_FULL") == "1"  # bench/lost_response_sweep.py


def each_create_once() -> tuple[set[str], Callable[[Recorded], bool]]:
    """Loses the first answer of each create call (``service:Operation``; REST calls too), none of the
    state backend's."""
    lost: set[str] = set()

    def pick(r: Recorded) -> bool:
        op = r.api_operation
        key = f"{r.service}:{op}"
        if r.mutating and not r.state and op.startswith(CREATE_PREFIXES) and key not in lost:
            lost.add(key)
            return True
        return False

    return lost, pick


def fullstack_project(tmp: Path, app: str, origin: str = "vpc") -> Path:
    project = tmp / app
    shutil.copytree(REPO / "examples" / "fullstack-app", project, ignore=shutil.ignore_patterns(".tscloud"))
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text().replace('app = "shopfs"', f'app = "{app}"')
                    .replace("[api]\n", f'[api]\norigin = "{origin}"\n', 1)
                    + '\n[network]\nvpc = "new"\n')
    return project


def tagged_counts(endpoint: str, app: str) -> Counter[str]:
    """How many of each EC2/IAM/RDS/ElastiCache/ELB resource this app owns (by tag or name)."""
    ec2 = boto(endpoint, "ec2")
    mine = [{"Name": "tag:tscloud:app", "Values": [app]}]
    prefix = f"{app}-dev"
    counts: Counter[str] = Counter()
    counts["vpc"] = len(ec2.describe_vpcs(Filters=mine)["Vpcs"])
    counts["subnet"] = len(ec2.describe_subnets(Filters=mine)["Subnets"])
    counts["igw"] = len(ec2.describe_internet_gateways(Filters=mine)["InternetGateways"])
    counts["route-table"] = len(ec2.describe_route_tables(Filters=mine)["RouteTables"])
    # a deleted endpoint stays listed (State "deleted") for a while, as on AWS
    counts["vpc-endpoint"] = len([e for e in ec2.describe_vpc_endpoints(Filters=mine)["VpcEndpoints"]
                                  if e["State"].lower() not in ("deleted", "deleting")])
    counts["vpc-origin"] = len([o for o in boto(endpoint, "cloudfront").list_vpc_origins()
                                .get("VpcOriginList", {}).get("Items", []) if o["Name"].startswith(prefix)])
    counts["security-group"] = len([g for g in ec2.describe_security_groups()["SecurityGroups"]
                                    if g["GroupName"].startswith(prefix)])
    counts["role"] = len([r for r in all_roles(boto(endpoint, "iam")) if r["RoleName"].startswith(prefix)])
    counts["db"] = len([d for d in boto(endpoint, "rds").describe_db_instances()["DBInstances"]
                        if d["DBInstanceIdentifier"].startswith(prefix)])
    counts["cache"] = len([g for g in boto(endpoint, "elasticache").describe_replication_groups()["ReplicationGroups"]
                           if g["ReplicationGroupId"].startswith(prefix)])
    elb = boto(endpoint, "elbv2")
    lbs = [lb for lb in elb.describe_load_balancers()["LoadBalancers"] if lb["LoadBalancerName"].startswith(prefix)]
    counts["load-balancer"] = len(lbs)
    for lb in lbs:
        for listener in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
            counts["listener"] += 1
            counts["rule"] += len([r for r in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
                                   if not r.get("IsDefault")])
    return counts


# The two origins create different things (a VPC origin and endpoints; an origin-verify listener rule):
# each loses its creates' answers in one of the two ways.
@pytest.mark.parametrize(("mode", "origin"), [("500", "vpc"), ("drop", "public")])
def test_fullstack_every_create_loses_its_first_answer(mode: str, origin: str, moto_server: MotoServer,
                                                       tmp_path: Path) -> None:
    app = f"lost-{mode}"
    project = fullstack_project(tmp_path, app, origin)
    # the same deploy without losses, for the counts a clean run gives
    reference = fullstack_project(tmp_path, f"ref-{mode}", origin)
    with AwsProxy(moto_server.endpoint) as proxy:
        clean = run_cli("--endpoint-url", proxy.endpoint, "deploy", cwd=reference, timeout=600)
        assert clean.code == 0, clean.output[-3000:]
        want = tagged_counts(moto_server.endpoint, f"ref-{mode}")

        lost, pick = each_create_once()
        proxy.lose(pick, mode)
        first = run_cli("--endpoint-url", proxy.endpoint, "deploy", cwd=project, timeout=600)
        proxy.lose(None)
        assert first.code == 0, first.output[-3000:]
        print(f"fullstack-app ({mode}): lost the first answer of {sorted(lost)}")
        per_origin = {"vpc": {"CreateVpcOrigin", "CreateVpcEndpoint"}, "public": {"CreateRule"}}[origin]
        assert {"CreateVpc", "CreateSubnet", "CreateInternetGateway", "CreateSecurityGroup", "CreateRole",
                "CreateDBInstance", "CreateCacheSubnetGroup", "CreateReplicationGroup", "CreateLoadBalancer",
                "CreateDistributionWithTags", *per_origin} <= {k.split(":", 1)[1] for k in lost}
        assert tagged_counts(moto_server.endpoint, app) == want

        proxy.clear()
        again = run_cli("--endpoint-url", proxy.endpoint, "--output", "json", "deploy", cwd=project, timeout=600)
        assert again.code == 0, again.output[-3000:]
        assert {s["status"] for s in again.json()["steps"]} == {"unchanged"}
        assert [r.describe() for r in proxy.resource_writes()] == []

        for done in (project, reference):
            gone = run_cli("--endpoint-url", proxy.endpoint, "--yes", "destroy", "--no-snapshot", cwd=done,
                           timeout=600)
            assert gone.code == 0, gone.output[-3000:]
    assert_nothing_tagged(moto_server.endpoint, app)
    assert sum(tagged_counts(moto_server.endpoint, app).values()) == 0


@pytest.mark.skipif(not FULL, reason="the random sweep runs from bench/lost_response_sweep.py")
@pytest.mark.parametrize("seed", range(8))
def test_fullstack_random_losses(seed: int, moto_server: MotoServer, tmp_path: Path) -> None:
    """10 % of all write answers lost at random (half 500s, half dropped connections): the first deploy
    converges, nothing is duplicated, the next deploy is a no-op."""
    app = f"rand-{seed}"
    project = fullstack_project(tmp_path, app)
    rng = random.Random(seed)
    with AwsProxy(moto_server.endpoint) as proxy:
        proxy.lose(lambda r: r.mutating and rng.random() < 0.10, "500" if seed % 2 else "drop")
        first = run_cli("--endpoint-url", proxy.endpoint, "deploy", cwd=project, timeout=900)
        proxy.lose(None)
        lost = [r.describe() for r in proxy.lost]
        print(f"seed {seed}: {len(lost)} answers lost: {sorted(set(lost))}; exit {first.code}")
        assert first.code == 0, first.output[-3000:]
        counts = tagged_counts(moto_server.endpoint, app)
        assert counts["vpc"] == 1 and counts["igw"] == 1 and counts["db"] == 1 and counts["cache"] == 1, counts
        again = run_cli("--endpoint-url", proxy.endpoint, "--output", "json", "deploy", cwd=project, timeout=600)
        assert again.code == 0 and {s["status"] for s in again.json()["steps"]} == {"unchanged"}
        gone = run_cli("--endpoint-url", proxy.endpoint, "--yes", "destroy", "--no-snapshot", cwd=project,
                       timeout=600)
        assert gone.code == 0, gone.output[-3000:]
    assert_nothing_tagged(moto_server.endpoint, app)
