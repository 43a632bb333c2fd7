"""`tscloud dns ...` and `tscloud cert request` as subprocesses against local fakes (and moto for ACM)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import MotoServer
from tests.fakes import cloudflare as cf_fake
from tests.fakes import godaddy as gd_fake
from tests.fakes import porkbun as pb_fake


@pytest.fixture
def cloudflare() -> Iterator[tuple[cf_fake.FakeCloudflare, dict[str, str]]]:
    fake = cf_fake.FakeCloudflare(zones=("example.com",))
    with fake.running():
        yield fake, {"TSCLOUD_CLOUDFLARE_API_URL": fake.url + "/client/v4", "CLOUDFLARE_API_TOKEN": cf_fake.TOKEN}


def test_upsert_records_delete_json(cli: Any, tmp_path: Path,
                                    cloudflare: tuple[cf_fake.FakeCloudflare, dict[str, str]]) -> None:
    fake, env = cloudflare
    j = ("--output", "json")
    up = cli(*j, "dns", "upsert", "_v.Example.com.", "TXT", "one", "two", "--ttl", "120",
             "--provider", "cloudflare", cwd=tmp_path, env=env)
    assert up.code == 0, up.output
    assert up.json()["status"] == "created" and up.json()["record"]["values"] == ["one", "two"]
    again = cli(*j, "dns", "upsert", "_v.example.com", "TXT", "two", "one", "--ttl", "120",
                "--provider", "cloudflare", cwd=tmp_path, env=env)
    assert again.json()["status"] == "unchanged"
    apex = cli(*j, "dns", "upsert", "example.com", "CNAME", "d1.cloudfront.net", "--provider", "cloudflare",
               cwd=tmp_path, env=env)
    assert apex.code == 0 and apex.json()["record"]["type"] == "CNAME"  # flattened at the apex

    listed = cli(*j, "dns", "records", "example.com", "--provider", "cloudflare", cwd=tmp_path, env=env)
    assert listed.code == 0, listed.output
    doc = listed.json()
    assert doc["zone"] == "example.com" and len(doc["records"]) == 2
    text = cli("dns", "records", "_v.example.com", "--provider", "cloudflare", cwd=tmp_path, env=env)
    assert text.code == 0 and "one" in text.stdout and "two" in text.stdout

    gone = cli(*j, "dns", "delete", "_v.example.com", "txt", "--provider", "cloudflare", cwd=tmp_path, env=env)
    assert gone.json() == {"provider": "cloudflare", "name": "_v.example.com", "type": "TXT", "deleted": True}
    assert [r["name"] for r in fake.records.values()] == ["example.com"]
    assert cli(*j, "dns", "delete", "_v.example.com", "TXT", "--provider", "cloudflare",
               cwd=tmp_path, env=env).json()["deleted"] is False


def test_provider_defaults_to_the_config(cli: Any, tmp_path: Path,
                                         cloudflare: tuple[cf_fake.FakeCloudflare, dict[str, str]]) -> None:
    _fake, env = cloudflare
    (tmp_path / "tscloud.toml").write_text(
        'app = "shop"\npreset = "api-domain"\n[api_domain]\ndomain = "api.example.com"\napi_id = "abcdef1234"\n'
        '[dns]\nprovider = "cloudflare"\n')
    result = cli("--output", "json", "dns", "upsert", "a.example.com", "A", "192.0.2.1", cwd=tmp_path, env=env)
    assert result.code == 0, result.output
    assert result.json()["provider"] == "cloudflare"


def test_godaddy_apex_cname_is_a_usage_error(cli: Any, tmp_path: Path) -> None:
    fake = gd_fake.FakeGoDaddy()
    with fake.running():
        env = {"TSCLOUD_GODADDY_API_URL": fake.url, "GODADDY_API_KEY": gd_fake.API_KEY,
               "GODADDY_API_SECRET": gd_fake.API_SECRET}
        result = cli("dns", "upsert", "example.com", "CNAME", "x.example.net", "--provider", "godaddy",
                     cwd=tmp_path, env=env)
    assert result.code == 2, result.output
    assert "apex" in result.stderr and "www.example.com" in result.stderr and "Traceback" not in result.stderr


def test_missing_credentials_name_the_variable(cli: Any, tmp_path: Path) -> None:
    result = cli("dns", "records", "example.com", "--provider", "porkbun", cwd=tmp_path,
                 env={"PORKBUN_API_KEY": "", "PORKBUN_SECRET_API_KEY": ""})
    assert result.code == 2
    assert "PORKBUN_API_KEY" in result.stderr and "PORKBUN_SECRET_API_KEY" in result.stderr


def test_cert_request_writes_validation_at_the_provider(cli: Any, tmp_path: Path, moto_server: MotoServer) -> None:
    fake = pb_fake.FakePorkbun(domains=("certs-example.com",))
    with fake.running():
        env = {"TSCLOUD_PORKBUN_API_URL": fake.url + "/api/json/v3", "PORKBUN_API_KEY": pb_fake.API_KEY,
               "PORKBUN_SECRET_API_KEY": pb_fake.SECRET_KEY}
        base = ("--endpoint-url", moto_server.endpoint, "--region", "us-east-1", "--output", "json")
        result = cli(*base, "cert", "request", "app.certs-example.com", "--san", "www.certs-example.com",
                     "--wait", "--provider", "porkbun", cwd=tmp_path, env=env)
        assert result.code == 0, result.output
        doc = result.json()
        assert doc["status"] == "ISSUED" and doc["reused"] is False
        assert doc["domains"] == ["app.certs-example.com", "www.certs-example.com"]
        acm = boto3.client("acm", region_name="us-east-1", endpoint_url=moto_server.endpoint)
        cert = acm.describe_certificate(CertificateArn=doc["certificate_arn"])["Certificate"]
        for option in cert["DomainValidationOptions"]:
            rr = option["ResourceRecord"]
            assert fake.records("certs-example.com", rr["Name"].rstrip("."), "CNAME")
        again = cli(*base, "cert", "request", "www.certs-example.com", "--provider", "porkbun", cwd=tmp_path,
                    env=env)
        assert again.code == 0 and again.json()["reused"] is True
        assert again.json()["certificate_arn"] == doc["certificate_arn"]
