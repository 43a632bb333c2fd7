"""fullstack-app end to end: the real `tscloud` against a moto server, behind a counting proxy and the strict
CloudFront (ETag) layer. Issue 5, "Done means" 1, 2, 3, 7 and 8:

- the bundled example deploys with --local and prints its outputs;
- deploy attaches /api/* to an existing distribution; a second deploy sends zero mutating requests;
- one api.environment change = one RegisterTaskDefinition + one UpdateService, nothing else;
- security posture: least-privilege IAM, private encrypted DB, SG-to-SG rules, no secret value in a task
  definition's environment, the journal or the CLI output; the ALB answers 403 without the origin header;
- destroy keeps a final DB snapshot, removes only our origin + behavior, and leaves nothing else tagged.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from tests.cli.site_support import all_roles, boto, tscloud
from tests.cli.state_support import journal_text
from tests.conftest import REPO, MotoServer, run_cli
from tests.fakes.aws_proxy import AwsProxy

EXAMPLE = REPO / "examples" / "fullstack-app"
OUTPUT_KEYS = ("service", "load_balancer_dns", "database_endpoint", "database_secret_arn", "redis_endpoint",
               "queue_url", "image", "url")
DATA_ACTION_PREFIXES = ("secretsmanager:", "ssm:", "sqs:", "ses:", "s3:", "dynamodb:", "kms:", "logs:",
                        "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability",
                        "rds-db:", "elasticache:")


def existing_distribution(endpoint: str, app: str) -> tuple[str, dict[str, Any]]:
    """A static site's distribution that exists before the API is attached (someone else's)."""
    cf = boto(endpoint, "cloudfront")
    origin = {"Id": "site", "DomainName": f"{app}-site.s3.us-east-1.amazonaws.com", "OriginPath": "",
              "S3OriginConfig": {"OriginAccessIdentity": ""}}
    dist = cf.create_distribution(DistributionConfig={
        "CallerReference": f"{app}-frontend", "Comment": f"{app} frontend (not tscloud's)", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    })["Distribution"]
    return str(dist["Id"]), dist["DistributionConfig"]


def write_project(tmp: Path, app: str, distribution_id: str, log_level: str = "info") -> Path:
    project = tmp / app
    project.mkdir(exist_ok=True)
    (project / "tscloud.toml").write_text(f"""
app = "{app}"
preset = "fullstack-app"
region = "us-east-1"

[api]
image = "public.ecr.aws/docker/library/nginx:1.27-alpine"
port = 80
health_check = "/"
origin = "public"  # this test holds the origin-verify header; test_fullstack_vpc_origin.py the VPC origin

[api.environment]
LOG_LEVEL = "{log_level}"

[api.secrets]
STRIPE_KEY = "{app}/stripe"
FLAG_TOKEN = "ssm:/{app}/flag-token"

[frontend]
distribution_id = "{distribution_id}"

[database]

[cache]

[queue]

[[schedules]]
name = "nightly"
expression = "cron(0 3 * * ? *)"
command = ["nginx", "-v"]
""")
    return project


def secret_values(endpoint: str, app: str) -> list[str]:
    """Every secret value this app's deploy created or uses (they must never leak)."""
    sm = boto(endpoint, "secretsmanager")
    values = ["sk_live_abc123xyz789", "flag-0123456789"]
    for s in sm.list_secrets()["SecretList"]:
        if app in s["Name"] or s["Name"].startswith("rds!"):
            raw = sm.get_secret_value(SecretId=s["ARN"])["SecretString"]
            try:
                parsed = json.loads(raw)
                values += [str(v) for k, v in parsed.items() if k == "password"]
            except ValueError:
                values.append(raw)
    assert values, "expected the origin-verify, redis and database secrets"
    return [v for v in values if len(v) >= 8]


def check_security_posture(endpoint: str, app: str, project: Path, cli_output: str) -> None:
    iam = boto(endpoint, "iam")
    roles = [r["RoleName"] for r in all_roles(iam) if r["RoleName"].startswith(f"{app}-dev-")]
    assert sorted(roles) == sorted(f"{app}-dev-use1-{r}" for r in ("exec", "task", "scheduler"))
    for role in roles:
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
        for pname in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=role, PolicyName=pname)["PolicyDocument"]
            for stmt in doc["Statement"]:
                actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
                resources = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
                assert "*" not in actions and not any(a.endswith(":*") for a in actions), (role, stmt)
                if any(r == "*" or r.endswith(":*:*") for r in resources):
                    assert actions == ["ecr:GetAuthorizationToken"], (role, stmt)
                if any(a.startswith(DATA_ACTION_PREFIXES) for a in actions):
                    assert all("*" not in r or (r.endswith((":log-stream:*", ":*")) and "log-group" in r)
                               or r.endswith("-api:*") for r in resources), (role, stmt)
    task_doc = iam.get_role_policy(RoleName=f"{app}-dev-use1-task", PolicyName=f"{app}-dev-use1-task")["PolicyDocument"]
    assert [s["Resource"] for s in task_doc["Statement"]] == [[f"arn:aws:sqs:us-east-1:123456789012:{app}-dev-jobs"]]
    exec_doc = iam.get_role_policy(RoleName=f"{app}-dev-use1-exec", PolicyName=f"{app}-dev-use1-exec")["PolicyDocument"]
    secrets_stmt = next(s for s in exec_doc["Statement"] if s["Sid"] == "ReadSecrets")
    assert all(":secret:" in r and "*" not in r for r in secrets_stmt["Resource"])

    db = boto(endpoint, "rds").describe_db_instances(DBInstanceIdentifier=f"{app}-dev-db")["DBInstances"][0]
    assert db["PubliclyAccessible"] is False and db["StorageEncrypted"] is True
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == f"{app}-dev-db"
    assert db["MasterUserSecret"]["SecretArn"]

    ec2 = boto(endpoint, "ec2")
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"{app}-dev-*"]}])["SecurityGroups"]}
    ids = {name.rsplit("-", 1)[-1]: g["GroupId"] for name, g in groups.items()}
    assert set(ids) == {"alb", "service", "db", "cache"}

    def sources(role: str) -> list[tuple[int, str]]:
        out = []
        for p in groups[f"{app}-dev-{role}"]["IpPermissions"]:
            out += [(p["FromPort"], r["CidrIp"]) for r in p.get("IpRanges", [])]
            out += [(p["FromPort"], r["GroupId"]) for r in p.get("UserIdGroupPairs", [])]
        return out

    def destinations(group: dict[str, Any]) -> list[tuple[int, str]]:
        out = []
        for p in group["IpPermissionsEgress"]:
            assert p["IpProtocol"] == "tcp", p  # no all-traffic rule
            out += [(p["FromPort"], r["CidrIp"]) for r in p.get("IpRanges", [])]
            out += [(p["FromPort"], r["GroupId"]) for r in p.get("UserIdGroupPairs", [])]
        return out

    assert sources("db") == [(5432, ids["service"])]
    assert sources("cache") == [(6379, ids["service"])]
    assert sources("service") == [(80, ids["alb"])]
    assert sources("alb") == [(80, "0.0.0.0/0")]
    # a database and a cache only answer (security groups are stateful): no egress rule at all
    assert groups[f"{app}-dev-db"]["IpPermissionsEgress"] == []
    assert groups[f"{app}-dev-cache"]["IpPermissionsEgress"] == []
    # the ALB sends only to the service's port; the service only HTTPS out (ECR, logs, AWS APIs) and the
    # data tiers' ports
    assert destinations(groups[f"{app}-dev-alb"]) == [(80, ids["service"])]
    assert sorted(destinations(groups[f"{app}-dev-service"])) == sorted(
        [(443, "0.0.0.0/0"), (5432, ids["db"]), (6379, ids["cache"])])

    secrets = secret_values(endpoint, app)
    ecs = boto(endpoint, "ecs")
    for arn in ecs.list_task_definitions(familyPrefix=f"{app}-dev-api")["taskDefinitionArns"]:
        td = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        container = td["containerDefinitions"][0]
        env_text = json.dumps(container.get("environment", []))
        assert not any(s in env_text for s in secrets)
        names = {s["name"] for s in container["secrets"]}
        assert {"DATABASE_PASSWORD", "DATABASE_USERNAME", "REDIS_AUTH_TOKEN"} <= names
        assert container["healthCheck"]["command"][0] == "CMD-SHELL"
        assert td["runtimePlatform"]["cpuArchitecture"] == "X86_64"
        assert container["logConfiguration"]["logDriver"] == "awslogs"
    records = list((project / ".tscloud").rglob("*.json"))
    assert records
    for path in records:
        text = path.read_text()
        assert not any(s in text for s in secrets), path
    journal = journal_text(endpoint, app)
    assert journal is not None and not any(s in journal for s in secrets)
    assert not any(s in cli_output for s in secrets)

    elb = boto(endpoint, "elbv2")
    lb = elb.describe_load_balancers(Names=[f"{app}-dev-alb"])["LoadBalancers"][0]
    listener = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"][0]
    assert listener["DefaultActions"][0]["Type"] == "fixed-response"
    assert listener["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "403"
    rules = [r for r in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"] if not r["IsDefault"]]
    assert len(rules) == 1 and rules[0]["Conditions"][0]["Field"] == "http-header"
    assert rules[0]["Conditions"][0]["HttpHeaderConfig"]["HttpHeaderName"] == "X-Origin-Verify"
    tg = elb.describe_target_groups(Names=[f"{app}-dev-api"])["TargetGroups"][0]
    assert tg["TargetType"] == "ip" and tg["HealthCheckPath"] == "/"
    attrs = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(
        TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
    assert 30 <= int(attrs["deregistration_delay.timeout_seconds"]) <= 60

    rg = boto(endpoint, "elasticache").describe_replication_groups(
        ReplicationGroupId=f"{app}-dev-redis")["ReplicationGroups"][0]
    assert rg["TransitEncryptionEnabled"] is True


def mutating_ops(proxy: AwsProxy) -> Counter[str]:
    return Counter(r.operation or f"{r.method} {r.path.split('?')[0]}" for r in proxy.resource_writes())


def test_fullstack_deploy_redeploy_env_change_destroy(proxy: AwsProxy, moto_server: MotoServer,
                                                       tmp_path: Path) -> None:
    app = "fsx"
    endpoint = moto_server.endpoint
    dist_id, before = existing_distribution(endpoint, app)
    stripe = boto(endpoint, "secretsmanager").create_secret(Name=f"{app}/stripe", SecretString="sk_live_abc123xyz789")
    boto(endpoint, "ssm").put_parameter(Name=f"/{app}/flag-token", Value="flag-0123456789", Type="SecureString")
    project = write_project(tmp_path, app, dist_id)

    first = tscloud(project, proxy.endpoint, "deploy")
    assert first.code == 0, first.output
    printed = dict(line.split(None, 1) for line in first.stdout.splitlines() if line.strip())
    for key in OUTPUT_KEYS:
        assert printed.get(key), (key, first.stdout)
    assert printed["url"] == f"https://{boto(endpoint, 'cloudfront').get_distribution(Id=dist_id)['Distribution']['DomainName']}/api/"

    config = boto(endpoint, "cloudfront").get_distribution_config(Id=dist_id)["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    assert set(origins) == {"site", f"{app}-dev-api"}
    api_origin = origins[f"{app}-dev-api"]
    assert api_origin["DomainName"] == printed["load_balancer_dns"]
    assert [h["HeaderName"] for h in api_origin["CustomHeaders"]["Items"]] == ["X-Origin-Verify"]
    assert [b["PathPattern"] for b in config["CacheBehaviors"]["Items"]] == ["/api/*"]
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "site"

    check_security_posture(endpoint, app, project, first.output)
    ecs = boto(endpoint, "ecs")
    td = ecs.describe_task_definition(taskDefinition=f"{app}-dev-api")["taskDefinition"]
    value_from = {s["name"]: s["valueFrom"] for s in td["containerDefinitions"][0]["secrets"]}
    assert value_from["STRIPE_KEY"] == stripe["ARN"]
    assert value_from["FLAG_TOKEN"] == f"arn:aws:ssm:us-east-1:123456789012:parameter/{app}/flag-token"
    exec_doc = boto(endpoint, "iam").get_role_policy(RoleName=f"{app}-dev-use1-exec",
                                                     PolicyName=f"{app}-dev-use1-exec")["PolicyDocument"]
    by_sid = {st["Sid"]: st["Resource"] for st in exec_doc["Statement"]}
    assert stripe["ARN"] in by_sid["ReadSecrets"] and len(by_sid["ReadSecrets"]) == 3
    assert by_sid["ReadParameters"] == [value_from["FLAG_TOKEN"]]

    # 2. a second deploy: every step unchanged, zero mutating requests on the wire
    proxy.clear()
    second = tscloud(project, proxy.endpoint, "--output", "json", "deploy")
    assert second.code == 0, second.output
    assert {s["status"] for s in second.json()["steps"]} == {"unchanged"}
    assert mutating_ops(proxy) == Counter()

    # 3. one environment change: one new revision and one service update, nothing else
    write_project(tmp_path, app, dist_id, log_level="debug")
    proxy.clear()
    third = tscloud(project, proxy.endpoint, "--output", "json", "deploy")
    assert third.code == 0, third.output
    assert mutating_ops(proxy) == Counter({"RegisterTaskDefinition": 1, "UpdateService": 1})
    changed = {s["id"]: s["status"] for s in third.json()["steps"] if s["status"] != "unchanged"}
    assert changed == {"api-task-definition": "updated", "service": "updated"}
    svc = ecs.describe_services(cluster=f"{app}-dev", services=[f"{app}-dev-api"])["services"][0]
    assert svc["taskDefinition"].endswith(f"{app}-dev-api:2")

    # 8. destroy: final snapshot, only our origin + behavior removed, nothing else tagged
    gone = tscloud(project, proxy.endpoint, "--yes", "destroy")
    assert gone.code == 0, gone.output
    snapshots = boto(endpoint, "rds").describe_db_snapshots()["DBSnapshots"]
    assert any(s["DBSnapshotIdentifier"].startswith(f"{app}-dev-db-final-") for s in snapshots)
    after = boto(endpoint, "cloudfront").get_distribution_config(Id=dist_id)["DistributionConfig"]
    assert [o["Id"] for o in after["Origins"]["Items"]] == ["site"]
    assert after.get("CacheBehaviors", {}).get("Quantity", 0) == 0
    assert after["Comment"] == before["Comment"]
    assert_nothing_tagged(endpoint, app)


def assert_nothing_tagged(endpoint: str, app: str) -> None:
    tagging = boto(endpoint, "resourcegroupstaggingapi")
    left = [r["ResourceARN"] for r in tagging.get_resources(
        TagFilters=[{"Key": "tscloud:app", "Values": [app]}])["ResourceTagMappingList"]]
    ecs = boto(endpoint, "ecs")
    services = [a for a in left if ":service/" in a]
    for arn in services:  # a deleted service stays discoverable as INACTIVE for a while (AWS and moto)
        cluster = arn.split("/")[-2]
        found = ecs.describe_services(cluster=cluster, services=[arn])["services"]
        assert all(s["status"] == "INACTIVE" for s in found), arn
    clusters = [a for a in left if ":cluster/" in a]
    for arn in clusters:
        assert all(c["status"] == "INACTIVE" for c in ecs.describe_clusters(clusters=[arn])["clusters"]), arn
    assert [a for a in left if ":snapshot:" not in a and a not in services + clusters] == []
    prefix = f"{app}-dev"
    assert boto(endpoint, "sqs").list_queues(QueueNamePrefix=prefix).get("QueueUrls", []) == []
    assert [c for c in boto(endpoint, "ecs").describe_clusters(clusters=[prefix])["clusters"]
            if c["status"] == "ACTIVE"] == []
    assert [r for r in all_roles(boto(endpoint, "iam")) if r["RoleName"].startswith(prefix)] == []
    assert [s for s in boto(endpoint, "secretsmanager").list_secrets()["SecretList"]
            if f"/{app}/" in s["Name"]] == []
    assert boto(endpoint, "logs").describe_log_groups(logGroupNamePrefix=f"/tscloud/{app}/")["logGroups"] == []
    assert [g for g in boto(endpoint, "ec2").describe_security_groups()["SecurityGroups"]
            if g["GroupName"].startswith(prefix)] == []
    assert [lb for lb in boto(endpoint, "elbv2").describe_load_balancers()["LoadBalancers"]
            if lb["LoadBalancerName"].startswith(prefix)] == []
    assert boto(endpoint, "rds").describe_db_instances()["DBInstances"] == [] or all(
        not d["DBInstanceIdentifier"].startswith(prefix) for d in boto(endpoint, "rds").describe_db_instances()[
            "DBInstances"])


def test_bundled_example_deploys_locally(tmp_path: Path) -> None:
    """`tscloud --local deploy` of examples/fullstack-app (with its own [site]) prints every output."""
    project = tmp_path / "example"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".tscloud"))
    result = run_cli("--local", "deploy", cwd=project, timeout=240)
    assert result.code == 0, result.output
    printed = dict(line.split(None, 1) for line in result.stdout.splitlines() if line.strip())
    for key in OUTPUT_KEYS:
        assert printed.get(key), (key, result.stdout)
    assert printed["image"] == "public.ecr.aws/docker/library/nginx:1.27-alpine"
    assert printed["url"].startswith("https://") and printed["url"].endswith(".cloudfront.net/api/")
