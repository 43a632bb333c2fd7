"""fullstack-app with a worker service (queue backlog autoscaling), SES mail (DKIM + MAIL FROM records
written through the DNS provider, here Route53) and Aurora Serverless v2; a second deploy sends zero
mutating requests; destroy removes the records and the identity."""

from __future__ import annotations

from pathlib import Path

import botocore.exceptions
import pytest

from tests.cli.site_support import boto, tscloud
from tests.conftest import MotoServer
from tests.fakes.aws_proxy import AwsProxy

DOMAIN = "fsw-example.com"
CONFIG = f"""
app = "fsw"
preset = "fullstack-app"

[api]
image = "public.ecr.aws/docker/library/nginx:1.27-alpine"
port = 80
health_check = "/"

[database]
engine = "aurora-postgresql"
min_capacity = 0.5
max_capacity = 4

[queue]
worker = "service"
worker_command = ["node", "worker.js"]
worker_max_count = 6
backlog_per_task = 50

[mail]
domain = "{DOMAIN}"

[dns]
provider = "route53"
"""


def records(endpoint: str, zone_id: str) -> dict[tuple[str, str], list[str]]:
    r53 = boto(endpoint, "route53")
    out = {}
    for rs in r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]:
        if rs["Type"] in ("CNAME", "MX", "TXT"):
            out[(rs["Name"].rstrip("."), rs["Type"])] = [r["Value"] for r in rs.get("ResourceRecords", [])]
    return out


def test_worker_mail_and_aurora(moto_server: MotoServer, tmp_path: Path) -> None:
    endpoint = moto_server.endpoint
    zone_id = boto(endpoint, "route53").create_hosted_zone(Name=DOMAIN, CallerReference="fsw")["HostedZone"]["Id"]
    (tmp_path / "tscloud.toml").write_text(CONFIG)
    with AwsProxy(endpoint) as proxy:
        first = tscloud(tmp_path, proxy.endpoint, "deploy")
        assert first.code == 0, first.output

        ecs = boto(endpoint, "ecs")
        worker = ecs.describe_services(cluster="fsw-dev", services=["fsw-dev-worker"])["services"][0]
        td = ecs.describe_task_definition(taskDefinition=worker["taskDefinition"])["taskDefinition"]
        assert td["family"] == "fsw-dev-worker"
        assert td["containerDefinitions"][0]["command"] == ["node", "worker.js"]
        assert worker["loadBalancers"] == []
        cluster = ecs.describe_clusters(clusters=["fsw-dev"], include=["SETTINGS"])["clusters"][0]
        assert {"name": "containerInsights", "value": "enabled"} in cluster.get("settings", [])

        asg = boto(endpoint, "application-autoscaling")
        targets = {t["ResourceId"]: (t["MinCapacity"], t["MaxCapacity"]) for t in asg.describe_scalable_targets(
            ServiceNamespace="ecs")["ScalableTargets"] if "/fsw-dev/" in t["ResourceId"]}
        assert targets == {"service/fsw-dev/fsw-dev-api": (1, 4), "service/fsw-dev/fsw-dev-worker": (0, 6)}
        policy = asg.describe_scaling_policies(ServiceNamespace="ecs", ResourceId="service/fsw-dev/fsw-dev-worker")[
            "ScalingPolicies"][0]["TargetTrackingScalingPolicyConfiguration"]
        assert policy["TargetValue"] == 50.0
        metrics = policy["CustomizedMetricSpecification"]["Metrics"]
        assert [m["Id"] for m in metrics] == ["visible", "tasks", "backlog"]

        recs = records(endpoint, zone_id)
        dkim = [k for k in recs if k[1] == "CNAME" and "._domainkey." in k[0]]
        assert len(dkim) == 3
        assert all(recs[k][0].rstrip(".").endswith(".dkim.amazonses.com") for k in dkim)
        assert [v.rstrip(".") for v in recs[(f"mail.{DOMAIN}", "MX")]] == ["10 feedback-smtp.us-east-1.amazonses.com"]
        assert "include:amazonses.com" in recs[(f"mail.{DOMAIN}", "TXT")][0]
        mail_from = boto(endpoint, "ses").get_identity_mail_from_domain_attributes(Identities=[DOMAIN])
        assert mail_from["MailFromDomainAttributes"][DOMAIN]["MailFromDomain"] == f"mail.{DOMAIN}"

        iam = boto(endpoint, "iam")
        task_doc = iam.get_role_policy(RoleName="fsw-dev-use1-task", PolicyName="fsw-dev-use1-task")["PolicyDocument"]
        mail = next(s for s in task_doc["Statement"] if s["Sid"] == "Mail")
        assert mail["Resource"] == [f"arn:aws:ses:us-east-1:123456789012:identity/{DOMAIN}"]

        cluster_db = boto(endpoint, "rds").describe_db_clusters(DBClusterIdentifier="fsw-dev-db")["DBClusters"][0]
        assert cluster_db["Engine"] == "aurora-postgresql" and cluster_db["StorageEncrypted"] is True
        assert cluster_db["ServerlessV2ScalingConfiguration"]["MaxCapacity"] == 4

        proxy.clear()
        second = tscloud(tmp_path, proxy.endpoint, "--output", "json", "deploy")
        assert second.code == 0, second.output
        assert [s["id"] for s in second.json()["steps"] if s["status"] != "unchanged"] == []
        assert [r.describe() for r in proxy.resource_writes()] == []

        gone = tscloud(tmp_path, proxy.endpoint, "--yes", "--output", "json", "destroy")
        assert gone.code == 0, gone.output
    assert not [k for k in records(endpoint, zone_id) if k[0] != DOMAIN]
    # GetEmailIdentity rather than ListEmailIdentities: newer botocore sends the list call on a path
    # moto 5.2.1 does not route.
    with pytest.raises(botocore.exceptions.ClientError) as gone_identity:
        boto(endpoint, "sesv2").get_email_identity(EmailIdentity=DOMAIN)
    assert gone_identity.value.response["Error"]["Code"] == "NotFoundException"
    snapshots = boto(endpoint, "rds").describe_db_cluster_snapshots()["DBClusterSnapshots"]
    assert any(s["DBClusterSnapshotIdentifier"].startswith("fsw-dev-db-final-") for s in snapshots)
