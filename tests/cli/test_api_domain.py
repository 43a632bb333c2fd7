"""api-domain end to end: `tscloud --endpoint-url <moto> deploy` with dns.provider = porkbun, against the fake Porkbun."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import REPO, MotoServer
from tests.fakes import porkbun as pb_fake
from tests.fakes.moto_fixes import aws_like_base_path_mappings

REGION = "eu-west-1"  # regional endpoints: the certificate must live in the API's region, not us-east-1


@pytest.fixture(autouse=True)
def _moto_like_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    aws_like_base_path_mappings(monkeypatch)  # the moto server runs in this process


@pytest.fixture
def porkbun() -> Iterator[pb_fake.FakePorkbun]:
    zone = f"shop{uuid.uuid4().hex[:8]}.co.uk"  # a co.uk zone: the PSL, not "the last two labels"
    fake = pb_fake.FakePorkbun(domains=("unrelated.com", zone))
    fake.add_record(zone, "www", "A", "192.0.2.80")  # somebody else's records: destroy must keep them
    fake.add_record(zone, "", "MX", "10 mail.example.net")
    with fake.running():
        yield fake


def _client(moto: MotoServer, service: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=moto.endpoint)


def _rest_api(moto: MotoServer) -> str:
    api = _client(moto, "apigateway")
    api_id = api.create_rest_api(name=f"orders-{uuid.uuid4().hex[:6]}")["id"]
    root = next(r["id"] for r in api.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    api.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    api.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    api.create_deployment(restApiId=api_id, stageName="prod")
    return str(api_id)


def _project(tmp_path: Path, domain: str, api_id: str) -> Path:
    text = (REPO / "examples" / "api-domain" / "tscloud.toml").read_text()
    text = text.replace('"api.example.com"', f'"{domain}"').replace('"a1b2c3d4e5"', f'"{api_id}"')
    text = re.sub(r'^region = .*$', f'region = "{REGION}"', text, flags=re.M)
    text = re.sub(r'^app = .*$', f'app = "api{uuid.uuid4().hex[:6]}"', text, flags=re.M)
    (tmp_path / "tscloud.toml").write_text(text)
    return tmp_path


def _records(fake: pb_fake.FakePorkbun, zone: str) -> list[tuple[str, str, str]]:
    return sorted((r["name"], r["type"], r["content"]) for r in fake.domains[zone])


def test_deploy_twice_then_destroy(cli: Any, moto_server: MotoServer, porkbun: pb_fake.FakePorkbun,
                                   tmp_path: Path) -> None:
    zone = next(d for d in porkbun.domains if d != "unrelated.com")
    domain = f"api.{zone}"
    api_id = _rest_api(moto_server)
    project = _project(tmp_path, domain, api_id)
    env = {"TSCLOUD_PORKBUN_API_URL": porkbun.url + "/api/json/v3", "PORKBUN_API_KEY": pb_fake.API_KEY,
           "PORKBUN_SECRET_API_KEY": pb_fake.SECRET_KEY}
    before = _records(porkbun, zone)
    base = ("--endpoint-url", moto_server.endpoint, "--output", "json")

    plan = cli(*base, "plan", cwd=project, env=env)
    assert plan.code == 0, plan.output
    assert [(s["id"], s["action"]) for s in plan.json()["steps"]] == [
        ("certificate", "create"), ("domain", "create"), ("mapping", "create"), ("dns", "create")]
    assert _records(porkbun, zone) == before  # plan never mutates

    first = cli(*base, "deploy", cwd=project, env=env)
    assert first.code == 0, first.output
    doc = first.json()
    assert {s["id"]: s["status"] for s in doc["steps"]} == {
        "certificate": "created", "domain": "created", "mapping": "created", "dns": "created"}
    out = doc["outputs"]
    assert out["domain"] == domain and out["dns_provider"] == "porkbun"
    assert f":acm:{REGION}:" in out["certificate_arn"]

    # the certificate is issued, with its validation CNAME written at the fake Porkbun
    cert = _client(moto_server, "acm").describe_certificate(CertificateArn=out["certificate_arn"])["Certificate"]
    assert cert["Status"] == "ISSUED" and cert["DomainName"] == domain
    rr = cert["DomainValidationOptions"][0]["ResourceRecord"]
    validation = (rr["Name"].rstrip(".").lower(), "CNAME", rr["Value"].rstrip(".").lower())
    assert validation in _records(porkbun, zone)

    # the regional domain name and the base path mapping exist
    apigw = _client(moto_server, "apigateway")
    dn = apigw.get_domain_name(domainName=domain)
    assert dn["regionalCertificateArn"] == out["certificate_arn"]
    assert dn["endpointConfiguration"]["types"] == ["REGIONAL"]
    mappings = apigw.get_base_path_mappings(domainName=domain)["items"]
    assert [(m["restApiId"], m["stage"]) for m in mappings] == [(api_id, "prod")]
    assert out["target"] == dn["regionalDomainName"]

    cname = (domain, "CNAME", dn["regionalDomainName"])
    assert _records(porkbun, zone).count(cname) == 1

    second = cli(*base, "deploy", cwd=project, env=env)
    assert second.code == 0, second.output
    assert {s["status"] for s in second.json()["steps"]} == {"unchanged"}
    after_two = _records(porkbun, zone)
    assert after_two.count(cname) == 1 and after_two.count(validation) == 1
    assert [r for r in after_two if r[0] == domain] == [cname]  # exactly one record at the name
    assert len(apigw.get_base_path_mappings(domainName=domain)["items"]) == 1

    gone = cli(*base, "--yes", "destroy", cwd=project, env=env)
    assert gone.code == 0, gone.output
    assert _records(porkbun, zone) == before  # ours removed, and only ours
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.get_domain_name(domainName=domain)
    with pytest.raises(Exception, match="ResourceNotFound"):
        _client(moto_server, "acm").describe_certificate(CertificateArn=out["certificate_arn"])


def test_wrong_porkbun_key_is_refused_before_any_write_in_one_line(
        cli: Any, moto_server: MotoServer, porkbun: pb_fake.FakePorkbun, tmp_path: Path) -> None:
    zone = next(d for d in porkbun.domains if d != "unrelated.com")
    project = _project(tmp_path, f"api.{zone}", _rest_api(moto_server))
    env = {"TSCLOUD_PORKBUN_API_URL": porkbun.url + "/api/json/v3", "PORKBUN_API_KEY": pb_fake.API_KEY,
           "PORKBUN_SECRET_API_KEY": "sk1_not-the-secret"}
    result = cli("--endpoint-url", moto_server.endpoint, "deploy", cwd=project, env=env)
    assert result.code == 2, result.output  # preflight: the provider's answer is known before any write
    assert "porkbun: the API rejected the credentials" in result.stderr
    assert "PORKBUN_SECRET_API_KEY" in result.stderr
    assert "sk1_not-the-secret" not in result.output and "Traceback" not in result.output



def test_a_multi_level_base_path_on_a_rest_api_exits_2_before_any_write(
        cli: Any, moto_server: MotoServer, porkbun: pb_fake.FakePorkbun, tmp_path: Path) -> None:
    """CreateBasePathMapping refuses a '/' in basePath: plan and deploy say so up front, having written nothing."""
    from tests.fakes.aws_proxy import AwsProxy

    zone = next(d for d in porkbun.domains if d != "unrelated.com")
    project = _project(tmp_path, f"api.{zone}", _rest_api(moto_server))
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text().replace("[api_domain]", '[api_domain]\nbase_path = "v1/orders"', 1))
    env = {"TSCLOUD_PORKBUN_API_URL": porkbun.url + "/api/json/v3", "PORKBUN_API_KEY": pb_fake.API_KEY,
           "PORKBUN_SECRET_API_KEY": pb_fake.SECRET_KEY}
    before = _records(porkbun, zone)
    with AwsProxy(moto_server.endpoint) as proxy:
        for command in ("plan", "deploy"):
            result = cli("--endpoint-url", proxy.endpoint, command, cwd=project, env=env)
            assert result.code == 2, result.output
            assert "api_domain.base_path" in result.stderr and "v1/orders" in result.stderr, result.stderr
            assert "Traceback" not in result.output
        assert proxy.resource_writes() == []
    assert _records(porkbun, zone) == before


def test_deploy_destroy_deploy(cli: Any, moto_server: MotoServer, porkbun: pb_fake.FakePorkbun,
                               tmp_path: Path) -> None:
    """ACM honours an idempotency token for an hour, answering with the certificate it made even once
    that is deleted: the second deploy's request must not reuse the first's token."""
    zone = next(d for d in porkbun.domains if d != "unrelated.com")
    project = _project(tmp_path, f"api.{zone}", _rest_api(moto_server))
    env = {"TSCLOUD_PORKBUN_API_URL": porkbun.url + "/api/json/v3", "PORKBUN_API_KEY": pb_fake.API_KEY,
           "PORKBUN_SECRET_API_KEY": pb_fake.SECRET_KEY}
    base = ("--endpoint-url", moto_server.endpoint, "--output", "json")
    first = cli(*base, "deploy", cwd=project, env=env, timeout=120)
    assert first.code == 0, first.output
    gone = cli(*base, "--yes", "destroy", cwd=project, env=env, timeout=120)
    assert gone.code == 0, gone.output
    again = cli(*base, "deploy", cwd=project, env=env, timeout=120)
    assert again.code == 0, again.output
    arn = again.json()["outputs"]["certificate_arn"]
    assert arn != first.json()["outputs"]["certificate_arn"]
    cert = _client(moto_server, "acm").describe_certificate(CertificateArn=arn)["Certificate"]
    assert cert["Status"] == "ISSUED"
