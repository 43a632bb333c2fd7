"""ACM client and CertificateStep (moto in-process, validation through the fake Cloudflare)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.fakes import cloudflare as cf_fake
from tscloud_py.aws.acm import Acm, covers, covers_all
from tscloud_py.aws.session import ClientFactory
from tscloud_py.dns.cloudflare import CloudflareProvider
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import StepContext
from tscloud_py.presets.naming import Names
from tscloud_py.presets.steps.common import CertificateStep, DnsRecordStep

DEV, PROD = Names("shop", "dev", "us-east-1"), Names("shop", "prod", "us-east-1")


@pytest.fixture
def fake() -> Iterator[cf_fake.FakeCloudflare]:
    server = cf_fake.FakeCloudflare(zones=("example.com",))
    with server.running(), mock_aws():
        yield server


def _provider(fake: cf_fake.FakeCloudflare) -> CloudflareProvider:
    return CloudflareProvider(token=cf_fake.TOKEN, base_url=fake.url + "/client/v4", sleep=lambda s: None)


def test_wildcard_coverage() -> None:
    assert covers("*.example.com", "api.example.com")
    assert not covers("*.example.com", "a.b.example.com")
    assert not covers("*.example.com", "example.com")
    assert covers_all(["example.com", "*.example.com"], ["example.com", "www.example.com"])


def test_step_requests_validates_and_destroys_what_it_made(fake: cf_fake.FakeCloudflare) -> None:
    acm = Acm(ClientFactory(region="us-east-1"), "us-east-1")
    step = CertificateStep("certificate", acm, _provider(fake), ["www.example.com", "example.com"], DEV)
    ctx = StepContext().for_step("certificate")
    assert step.read(ctx) is None
    out = step.apply(ctx, None)
    arn = out["certificate_arn"]
    observed = step.read(ctx)
    assert observed is not None and observed["owned"] and observed["arn"] == arn
    assert step.diff(ctx, observed) == []
    validation = {r["name"] for r in fake.records.values() if r["type"] == "CNAME"}
    assert validation and all(n.startswith("_") for n in validation)
    fake.add_record("example.com", "www.example.com", "A", "192.0.2.1")
    step.destroy(ctx, observed)
    assert [r["name"] for r in fake.records.values()] == ["www.example.com"]  # only ours went
    assert acm.describe(arn) is None


def test_an_issued_certificate_covering_every_name_is_reused_and_kept(fake: cf_fake.FakeCloudflare) -> None:
    client = boto3.client("acm", region_name="us-east-1")
    wildcard = client.request_certificate(DomainName="*.example.com", ValidationMethod="DNS")["CertificateArn"]
    acm = Acm(ClientFactory(region="us-east-1"), "us-east-1")
    step = CertificateStep("certificate", acm, _provider(fake), ["api.example.com"], DEV)
    ctx = StepContext().for_step("certificate")
    observed = step.read(ctx)
    assert observed == {"arn": wildcard, "status": "ISSUED", "owned": False, "names": ["*.example.com"]}
    assert step.diff(ctx, observed) == []
    assert step.outputs(ctx, observed)["certificate_arn"] == wildcard
    step.destroy(ctx, observed)
    assert acm.describe(wildcard) is not None


def test_dns_record_step_points_and_keeps_foreign_records(fake: cf_fake.FakeCloudflare) -> None:
    provider = _provider(fake)
    step = DnsRecordStep("dns", provider, "www.example.com", Ref("distribution", "distribution_domain"),
                         record_type="ALIAS", alias_zone_id="Z2FDTNDATAQYW2", needs=("distribution",))
    ctx = StepContext(outputs={"distribution": {"distribution_domain": "d1.cloudfront.net"}})
    sctx = ctx.for_step("dns")
    assert step.read(sctx) is None
    step.apply(sctx, None)
    observed = step.read(sctx)
    assert observed is not None and observed["type"] == "CNAME" and step.diff(sctx, observed) == []
    provider.upsert(provider.pointer_record("www.example.com", "elsewhere.example.net"))  # someone repoints it
    step.destroy(sctx, step.read(sctx))
    assert provider.get("www.example.com", "CNAME") is not None  # not ours any more: kept


def test_validation_record_shared_with_another_certificate_is_kept(fake: cf_fake.FakeCloudflare) -> None:
    acm = Acm(ClientFactory(region="us-east-1"), "us-east-1")
    ctx = StepContext().for_step("certificate")
    ours = CertificateStep("certificate", acm, _provider(fake), ["api.example.com"], DEV)
    ours.apply(ctx, None)
    theirs = CertificateStep("certificate", acm, _provider(fake), ["api.example.com"], PROD)
    theirs.apply(StepContext().for_step("certificate"), None)
    validation = [r for r in fake.records.values() if r["name"].startswith("_")]
    assert len(validation) == 1  # ACM validates one name through one record, whichever certificate asks
    ours.destroy(ctx, ours.read(ctx))
    assert [r["name"] for r in fake.records.values()] == [validation[0]["name"]]
