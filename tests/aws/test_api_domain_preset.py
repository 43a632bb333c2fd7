"""api-domain in-process (moto): the ALB flavour, and API Gateway with dns.provider = route53 (alias A)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.fakes import cloudflare as cf_fake
from tests.fakes import porkbun as pb_fake
from tests.fakes.moto_fixes import aws_like_base_path_mappings, aws_like_v2_domain_names
from tscloud_py.aws.session import ClientFactory
from tscloud_py.config.load import config_from_dict
from tscloud_py.engine.plan import destroy_plan
from tscloud_py.engine.runner import Runner
from tscloud_py.engine.step import StepContext
from tscloud_py.errors import ConfigError
from tscloud_py.presets.api_domain.preset import ApiDomain

REGION = "eu-west-1"


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    aws_like_base_path_mappings(monkeypatch)
    aws_like_v2_domain_names(monkeypatch)
    with mock_aws():
        yield


def _preset(tmp_path: Path, table: dict[str, Any], dns: dict[str, Any]) -> ApiDomain:
    config = config_from_dict({"app": "orders", "preset": "api-domain", "region": REGION, "stage": "dev",
                               "api_domain": table, "dns": dns}, "tscloud.toml", base_dir=tmp_path)
    return ApiDomain(config, ClientFactory(region=REGION))


def _deploy(preset: ApiDomain) -> tuple[dict[str, str], dict[str, Any]]:
    steps = preset.steps()
    result = Runner(steps, StepContext(), None).deploy()
    assert result.ok, [(r.id, r.error.message if r.error else "") for r in result.failed]
    return {r.id: r.status for r in result.results}, preset.outputs(result.outputs)


def _destroy(preset: ApiDomain, previous: dict[str, Any] | None = None) -> None:
    steps = preset.steps()
    ctx = StepContext(previous=previous or {})
    _plan, observed = destroy_plan(steps, ctx, previous or {})
    result = Runner(steps, ctx, None).destroy(observed)
    assert result.ok, [(r.id, r.error.message if r.error else "") for r in result.failed]


def _alb() -> tuple[str, str, list[dict[str, Any]]]:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    elb = boto3.client("elbv2", region_name=REGION)
    lb = elb.create_load_balancer(Name="orders-alb", Subnets=subnets, Type="application")["LoadBalancers"][0]
    tg = elb.create_target_group(Name="orders", Protocol="HTTP", Port=8080, VpcId=vpc)["TargetGroups"][0]
    forward = [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=forward)
    return lb["LoadBalancerArn"], lb["DNSName"], forward


def test_alb_gets_https_listener_redirect_and_cname(tmp_path: Path) -> None:
    lb_arn, dns_name, forward = _alb()
    fake = cf_fake.FakeCloudflare(zones=("example.com",))
    with fake.running():
        env = {"TSCLOUD_CLOUDFLARE_API_URL": fake.url + "/client/v4", "CLOUDFLARE_API_TOKEN": cf_fake.TOKEN}
        with pytest.MonkeyPatch.context() as mp:
            for k, v in env.items():
                mp.setenv(k, v)
            preset = _preset(tmp_path, {"domain": "api.example.com", "load_balancer": "orders-alb"},
                             {"provider": "cloudflare"})
            statuses, out = _deploy(preset)
            assert statuses == {"certificate": "created", "listener": "created", "dns": "created"}
            assert out["target"] == dns_name and f":acm:{REGION}:" in out["certificate_arn"]

            elb = boto3.client("elbv2", region_name=REGION)
            listeners = {lst["Port"]: lst for lst in elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]}
            assert listeners[443]["Protocol"] == "HTTPS"
            assert listeners[443]["Certificates"][0]["CertificateArn"] == out["certificate_arn"]
            assert listeners[443]["DefaultActions"][0]["TargetGroupArn"] == forward[0]["TargetGroupArn"]
            redirect = listeners[80]["DefaultActions"][0]
            assert redirect["Type"] == "redirect" and redirect["RedirectConfig"]["Protocol"] == "HTTPS"
            cnames = [r for r in fake.records.values() if r["name"] == "api.example.com"]
            assert [(r["type"], r["content"]) for r in cnames] == [("CNAME", dns_name.lower())]

            statuses, _ = _deploy(preset)
            assert set(statuses.values()) == {"unchanged"}

            _destroy(preset, {"listener": {"http_original_actions": forward}})
            listeners = {lst["Port"]: lst for lst in elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]}
            assert set(listeners) == {80}
            assert listeners[80]["DefaultActions"][0]["Type"] == "forward"
            assert not [r for r in fake.records.values() if r["name"] == "api.example.com"]


def test_route53_provider_writes_an_alias_record(tmp_path: Path) -> None:
    boto3.client("route53").create_hosted_zone(Name="example.com", CallerReference="api-domain")
    api = boto3.client("apigateway", region_name=REGION)
    api_id = api.create_rest_api(name="orders")["id"]
    root = api.get_resources(restApiId=api_id)["items"][0]["id"]
    api.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    api.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    api.create_deployment(restApiId=api_id, stageName="v1")
    preset = _preset(tmp_path, {"domain": "example.com", "api_id": api_id, "base_path": "orders"},
                     {"provider": "route53"})
    statuses, out = _deploy(preset)
    assert statuses["dns"] == "created" and out["url"] == "https://example.com/orders"
    zone_id = boto3.client("route53").list_hosted_zones()["HostedZones"][0]["Id"]
    sets = boto3.client("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    alias = [s for s in sets if s["Name"] == "example.com." and s["Type"] == "A"]
    assert alias and alias[0]["AliasTarget"]["DNSName"].rstrip(".") == out["target"]
    mappings = api.get_base_path_mappings(domainName="example.com")["items"]
    assert [(m["basePath"], m["stage"]) for m in mappings] == [("orders", "v1")]


def test_http_api_gets_a_v2_domain_and_api_mapping(tmp_path: Path) -> None:
    fake = pb_fake.FakePorkbun(domains=("example.com",))
    with fake.running(), pytest.MonkeyPatch.context() as mp:
        mp.setenv("TSCLOUD_PORKBUN_API_URL", fake.url + "/api/json/v3")
        mp.setenv("PORKBUN_API_KEY", pb_fake.API_KEY)
        mp.setenv("PORKBUN_SECRET_API_KEY", pb_fake.SECRET_KEY)
        v2 = boto3.client("apigatewayv2", region_name=REGION)
        api_id = v2.create_api(Name="orders-http", ProtocolType="HTTP")["ApiId"]
        v2.create_stage(ApiId=api_id, StageName="$default")
        preset = _preset(tmp_path, {"domain": "api.example.com", "api_id": api_id}, {"provider": "porkbun"})
        statuses, out = _deploy(preset)
        assert statuses == {"certificate": "created", "domain": "created", "mapping": "created", "dns": "created"}
        conf = v2.get_domain_name(DomainName="api.example.com")["DomainNameConfigurations"][0]
        assert conf["CertificateArn"] == out["certificate_arn"] and out["target"] == conf["ApiGatewayDomainName"]
        mappings = v2.get_api_mappings(DomainName="api.example.com")["Items"]
        assert [(m["ApiId"], m["Stage"], m.get("ApiMappingKey", "")) for m in mappings] == [(api_id, "$default", "")]
        assert [(r["type"], r["content"]) for r in fake.records("example.com", "api.example.com")] == [
            ("CNAME", out["target"])]
        statuses, _ = _deploy(preset)
        assert set(statuses.values()) == {"unchanged"}
        _destroy(preset)
        assert not fake.records("example.com", "api.example.com")
        with pytest.raises(v2.exceptions.NotFoundException):
            v2.get_domain_name(DomainName="api.example.com")


def test_config_needs_exactly_one_target_and_an_apex_capable_provider(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="exactly one of api_id"):
        _preset(tmp_path, {"domain": "api.example.com"}, {"provider": "route53"}).validate()
    with pytest.raises(ConfigError, match="godaddy cannot serve a CNAME"):
        _preset(tmp_path, {"domain": "example.co.uk", "api_id": "abcdef1234"}, {"provider": "godaddy"}).validate()
    _preset(tmp_path, {"domain": "api.example.co.uk", "api_id": "abcdef1234"}, {"provider": "godaddy"}).validate()
