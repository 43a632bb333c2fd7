"""The security posture of a deployed fullstack stage (issue 25, "Done means" 5), read from reality the way a
reviewer's scanner reads an account: a production stage of examples/fullstack-app with `[api] domain`, its
API behind a VPC origin (the default for a new stage), deployed against the moto server, has no finding:

- no internet-facing load balancer, and no task with a public IP (vpc mode);
- every Postgres of the stage has rds.force_ssl = 1 in its parameter group;
- CloudFront reaches the load balancer https-only (a domain is set);
- no security group of the stage admits 0.0.0.0/0 (or ::/0) on a load balancer's listener port;
- every distribution of the (production) stage has a web ACL.

The checker must find what it looks for: the same stage weakened by hand (a group opened to the world, TLS
no longer forced, the web ACL taken off, the VPC origin set to plain HTTP) yields exactly those findings."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.cli.site_support import boto, tscloud
from tests.conftest import REPO, MotoServer
from tests.fakes.aws_proxy import aws_like_distribution_summaries

ZONE = "posture-example.com"
APP = "posfs"
WORLD = ("0.0.0.0/0", "::/0")


def distributions(endpoint: str, app: str, stage: str) -> list[str]:
    """The ids of the stage's distributions, by tscloud's tags."""
    cf = boto(endpoint, "cloudfront")
    want = {"tscloud:app": app, "tscloud:stage": stage}
    found = []
    for summary in cf.list_distributions()["DistributionList"].get("Items") or []:
        tags = {t["Key"]: t["Value"] for t in cf.list_tags_for_resource(Resource=summary["ARN"])["Tags"]["Items"]}
        if want.items() <= tags.items():
            found.append(str(summary["Id"]))
    return found


def _load_balancers(endpoint: str, app: str, stage: str) -> list[dict[str, Any]]:
    prefix = f"{app}-{stage}-"
    return [lb for lb in boto(endpoint, "elbv2").describe_load_balancers()["LoadBalancers"]
            if lb["LoadBalancerName"].startswith(prefix)]


def findings(endpoint: str, app: str, stage: str, *, vpc: bool, domain: bool) -> list[str]:
    """What a security review flags in the stage; [] when nothing."""
    out: list[str] = []
    ec2, elb, ecs, rds, cf = (boto(endpoint, s) for s in ("ec2", "elbv2", "ecs", "rds", "cloudfront"))
    prefix = f"{app}-{stage}"
    lbs = _load_balancers(endpoint, app, stage)
    if vpc:
        out += [f"internet-facing load balancer {lb['LoadBalancerName']}" for lb in lbs
                if lb["Scheme"] == "internet-facing"]
        arns = ecs.list_tasks(cluster=prefix)["taskArns"]
        for task in ecs.describe_tasks(cluster=prefix, tasks=arns)["tasks"] if arns else []:
            details = {d["name"]: d["value"] for a in task.get("attachments", []) for d in a.get("details", [])}
            if details.get("publicIPv4Address"):
                out.append(f"task {task['taskArn'].rsplit('/', 1)[-1]} has a public IP")
        for service in ecs.describe_services(cluster=prefix, services=[f"{prefix}-api"])["services"]:
            if service["networkConfiguration"]["awsvpcConfiguration"].get("assignPublicIp") == "ENABLED":
                out.append(f"service {service['serviceName']} assigns public IPs")

    for db in rds.describe_db_instances()["DBInstances"]:
        if not db["DBInstanceIdentifier"].startswith(prefix) or db.get("DBClusterIdentifier"):
            continue
        force = {p["ParameterName"]: p.get("ParameterValue") for g in db["DBParameterGroups"]
                 for p in rds.describe_db_parameters(DBParameterGroupName=g["DBParameterGroupName"])["Parameters"]
                 if p["ParameterName"] == "rds.force_ssl"}
        if force.get("rds.force_ssl") != "1":
            out.append(f"database {db['DBInstanceIdentifier']}: rds.force_ssl is {force.get('rds.force_ssl')}")

    lb_dns = {lb["DNSName"]: lb for lb in lbs}
    lb_arns = {lb["LoadBalancerArn"] for lb in lbs}
    vpc_origins = {o["Id"]: o for o in cf.list_vpc_origins()["VpcOriginList"].get("Items") or []
                   if o["OriginEndpointArn"] in lb_arns}
    for dist_id in distributions(endpoint, app, stage):
        config = cf.get_distribution_config(Id=dist_id)["DistributionConfig"]
        if stage in ("prod", "production") and not config.get("WebACLId"):
            out.append(f"distribution {dist_id} has no web ACL")
        for origin in config["Origins"]["Items"]:
            if "VpcOriginConfig" in origin:
                vpc_origin_id = origin["VpcOriginConfig"]["VpcOriginId"]
                if vpc_origin_id not in vpc_origins:
                    continue
                policy = cf.get_vpc_origin(Id=vpc_origin_id)["VpcOrigin"]["VpcOriginEndpointConfig"][
                    "OriginProtocolPolicy"]
            elif origin["DomainName"] in lb_dns or origin["Id"] == f"{prefix}-api":
                policy = origin["CustomOriginConfig"]["OriginProtocolPolicy"]
            else:
                continue
            if domain and policy != "https-only":
                out.append(f"distribution {dist_id} reaches the load balancer {policy}")

    ports = {li["Port"] for lb in lbs for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])[
        "Listeners"]}
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{prefix}-*"]}])
    for group in groups["SecurityGroups"]:
        for rule in group["IpPermissions"]:
            covered = {p for p in ports if rule.get("IpProtocol") == "-1"
                       or rule.get("FromPort", 0) <= p <= rule.get("ToPort", 65535)}
            world = [r["CidrIp"] for r in rule.get("IpRanges", []) if r["CidrIp"] in WORLD] + \
                [r["CidrIpv6"] for r in rule.get("Ipv6Ranges", []) if r["CidrIpv6"] in WORLD]
            if covered and world:
                out.append(f"security group {group['GroupName']} admits {world[0]} on port {min(covered)}")
    return out


def test_a_production_stage_behind_a_vpc_origin_has_no_finding(moto_server: MotoServer, tmp_path: Path) -> None:
    aws_like_distribution_summaries()
    endpoint = moto_server.endpoint
    boto(endpoint, "route53").create_hosted_zone(Name=ZONE, CallerReference=APP)
    project = tmp_path / "example"
    shutil.copytree(REPO / "examples" / "fullstack-app", project, ignore=shutil.ignore_patterns(".tscloud"))
    toml = project / "tscloud.toml"
    text = toml.read_text().replace('app = "shopfs"', f'app = "{APP}"').replace('stage = "dev"', 'stage = "prod"')
    toml.write_text(text.replace("[api]\n", f'[api]\ndomain = "api.{ZONE}"\n', 1) + '\n[dns]\nprovider = "route53"\n')

    deploy = tscloud(project, endpoint, "deploy", timeout=400)
    assert deploy.code == 0, deploy.output
    lbs = _load_balancers(endpoint, APP, "prod")
    assert [(lb["LoadBalancerName"], lb["Scheme"]) for lb in lbs] == [(f"{APP}-prod-ialb", "internal")]
    assert len(distributions(endpoint, APP, "prod")) == 1
    assert boto(endpoint, "ecs").list_tasks(cluster=f"{APP}-prod")["taskArns"]  # tasks to look at
    assert findings(endpoint, APP, "prod", vpc=True, domain=True) == []

    # weakened by hand: each weakness is found, and nothing else
    ec2, rds, cf = boto(endpoint, "ec2"), boto(endpoint, "rds"), boto(endpoint, "cloudfront")
    alb_group = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"{APP}-prod-alb"]}])["SecurityGroups"][0]["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=alb_group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    rds.modify_db_parameter_group(DBParameterGroupName=f"{APP}-prod-db", Parameters=[
        {"ParameterName": "rds.force_ssl", "ParameterValue": "0", "ApplyMethod": "immediate"}])
    dist_id = distributions(endpoint, APP, "prod")[0]
    got = cf.get_distribution_config(Id=dist_id)
    cf.update_distribution(Id=dist_id, IfMatch=got["ETag"], DistributionConfig={**got["DistributionConfig"],
                                                                                 "WebACLId": ""})
    api = next(o for o in cf.get_distribution_config(Id=dist_id)["DistributionConfig"]["Origins"]["Items"]
               if o["Id"] == f"{APP}-prod-api")
    vpc_origin = cf.get_vpc_origin(Id=api["VpcOriginConfig"]["VpcOriginId"])
    assert vpc_origin["VpcOrigin"]["VpcOriginEndpointConfig"]["OriginProtocolPolicy"] == "https-only"
    cf.update_vpc_origin(Id=vpc_origin["VpcOrigin"]["Id"], IfMatch=vpc_origin["ETag"], VpcOriginEndpointConfig={
        **vpc_origin["VpcOrigin"]["VpcOriginEndpointConfig"], "OriginProtocolPolicy": "http-only"})
    assert sorted(findings(endpoint, APP, "prod", vpc=True, domain=True)) == [
        f"database {APP}-prod-db: rds.force_ssl is 0",
        f"distribution {dist_id} has no web ACL",
        f"distribution {dist_id} reaches the load balancer http-only",
        f"security group {APP}-prod-alb admits 0.0.0.0/0 on port 443",
    ]
