"""fullstack-app with api.domain: an ACM certificate validated through the DNS provider (Route53 here),
an HTTPS listener with the origin-verify rule, port 80 redirecting to HTTPS, an alias record for the
domain, CloudFront reaching the ALB over HTTPS by that name, and ALB ingress limited to CloudFront's
origin-facing managed prefix list. A second deploy changes nothing."""

from __future__ import annotations

from pathlib import Path

from tests.cli.site_support import boto, tscloud
from tests.cli.test_fullstack_cli import existing_distribution
from tests.conftest import MotoServer
from tests.fakes.aws_proxy import AwsProxy, aws_like_distribution_summaries

ZONE = "fsh-example.com"


def test_https_listener_certificate_and_https_origin(moto_server: MotoServer, tmp_path: Path) -> None:
    aws_like_distribution_summaries()
    endpoint = moto_server.endpoint
    zone_id = boto(endpoint, "route53").create_hosted_zone(Name=ZONE, CallerReference="fsh")["HostedZone"]["Id"]
    dist_id, _ = existing_distribution(endpoint, "fsh")
    (tmp_path / "tscloud.toml").write_text(f"""
app = "fsh"
preset = "fullstack-app"

[api]
image = "public.ecr.aws/docker/library/nginx:1.27-alpine"
port = 80
health_check = "/"
domain = "api.{ZONE}"
alb_ingress = "cloudfront"
origin = "public"

[frontend]
distribution_id = "{dist_id}"

[dns]
provider = "route53"
""")
    with AwsProxy(endpoint) as proxy:
        first = tscloud(tmp_path, proxy.endpoint, "deploy")
        assert first.code == 0, first.output

        elb = boto(endpoint, "elbv2")
        lb = elb.describe_load_balancers(Names=["fsh-dev-alb"])["LoadBalancers"][0]
        listeners = {li["Port"]: li for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]}
        assert sorted(listeners) == [80, 443]
        https = listeners[443]
        assert https["Protocol"] == "HTTPS" and https["Certificates"][0]["CertificateArn"].startswith("arn:aws:acm:")
        assert https["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "403"
        rules = [r for r in elb.describe_rules(ListenerArn=https["ListenerArn"])["Rules"] if not r["IsDefault"]]
        assert rules[0]["Conditions"][0]["HttpHeaderConfig"]["HttpHeaderName"] == "X-Origin-Verify"
        redirect = listeners[80]["DefaultActions"][0]
        assert redirect["Type"] == "redirect" and redirect["RedirectConfig"]["Protocol"] == "HTTPS"
        groups = boto(endpoint, "ec2").describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["fsh-dev-alb"]}])["SecurityGroups"]
        # only CloudFront's origin-facing prefix list, and only on 443
        perms = groups[0]["IpPermissions"]
        assert [(p["FromPort"], p.get("IpRanges"), len(p.get("PrefixListIds", []))) for p in perms] == [(443, [], 1)]
        prefix = perms[0]["PrefixListIds"][0]["PrefixListId"]
        lists = boto(endpoint, "ec2").describe_managed_prefix_lists(PrefixListIds=[prefix])["PrefixLists"]
        assert lists[0]["PrefixListName"] == "com.amazonaws.global.cloudfront.origin-facing"

        sets = boto(endpoint, "route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        alias = [s for s in sets if s["Name"].rstrip(".") == f"api.{ZONE}" and s["Type"] == "A"]
        assert alias and alias[0]["AliasTarget"]["DNSName"].rstrip(".").lower() == lb["DNSName"].lower()

        config = boto(endpoint, "cloudfront").get_distribution_config(Id=dist_id)["DistributionConfig"]
        origin = next(o for o in config["Origins"]["Items"] if o["Id"] == "fsh-dev-api")
        assert origin["DomainName"] == f"api.{ZONE}"
        assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"

        proxy.clear()
        second = tscloud(tmp_path, proxy.endpoint, "--output", "json", "deploy")
        assert second.code == 0, second.output
        assert [s["id"] for s in second.json()["steps"] if s["status"] != "unchanged"] == []
        assert [r.describe() for r in proxy.resource_writes()] == []

        gone = tscloud(tmp_path, proxy.endpoint, "--yes", "destroy")
        assert gone.code == 0, gone.output
