"""One suite for every DNS provider: route53 (moto in-process), cloudflare, porkbun and godaddy (local fakes)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto import mock_aws

from tests.fakes import cloudflare as cf_fake
from tests.fakes import godaddy as gd_fake
from tests.fakes import porkbun as pb_fake
from tests.fakes.http_base import FakeServer
from tscloud_py.dns.base import CLOUDFRONT_ZONE_ID, DnsAuthError, DnsError, Provider, Record
from tscloud_py.errors import UsageError

PROVIDERS = ["route53", "cloudflare", "porkbun", "godaddy"]


@dataclass
class Harness:
    provider: Provider
    fake: FakeServer | None
    sleeps: list[float] = field(default_factory=list)


def _make(name: str, fake: FakeServer | None, sleeps: list[float], **creds: Any) -> Provider:
    if name == "cloudflare":
        from tscloud_py.dns.cloudflare import CloudflareProvider

        assert fake is not None
        return CloudflareProvider(token=creds.get("token", cf_fake.TOKEN), base_url=fake.url + "/client/v4",
                                  sleep=sleeps.append)
    if name == "porkbun":
        from tscloud_py.dns.porkbun import PorkbunProvider

        assert fake is not None
        return PorkbunProvider(api_key=creds.get("api_key", pb_fake.API_KEY),
                               secret_key=creds.get("secret_key", pb_fake.SECRET_KEY),
                               base_url=fake.url + "/api/json/v3", sleep=sleeps.append)
    if name == "godaddy":
        from tscloud_py.dns.godaddy import GoDaddyProvider

        assert fake is not None
        if "token" in creds:
            return GoDaddyProvider(token=creds["token"], base_url=fake.url, sleep=sleeps.append)
        return GoDaddyProvider(api_key=creds.get("api_key", gd_fake.API_KEY),
                               api_secret=creds.get("api_secret", gd_fake.API_SECRET), base_url=fake.url,
                               sleep=sleeps.append)
    raise AssertionError(name)


def _fake(name: str, **kw: Any) -> FakeServer:
    return {"cloudflare": cf_fake.FakeCloudflare, "porkbun": pb_fake.FakePorkbun,
            "godaddy": gd_fake.FakeGoDaddy}[name](**kw)


@pytest.fixture(params=PROVIDERS)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    name = request.param
    if name == "route53":
        with mock_aws():
            import boto3

            from tscloud_py.aws.session import ClientFactory
            from tscloud_py.dns.route53 import Route53Provider

            boto3.client("route53").create_hosted_zone(Name="example.com", CallerReference="suite")
            yield Harness(Route53Provider(ClientFactory(region="us-east-1")), None)
        return
    fake = _fake(name)
    with fake.running():
        sleeps: list[float] = []
        yield Harness(_make(name, fake, sleeps), fake, sleeps)


def _sets(p: Provider, name: str, rtype: str) -> list[Record]:
    return p.list_records(p.find_zone(name), name, rtype)


# -- the shared suite ---------------------------------------------------------------
def test_upsert_creates_once_and_reupsert_is_unchanged(harness: Harness) -> None:
    p = harness.provider
    rec = Record("api.example.com", "CNAME", ["target.example.net"], 600)
    assert p.upsert(rec) == "created"
    assert p.upsert(rec) == "unchanged"
    assert p.upsert(Record("API.Example.COM.", "cname", ["TARGET.example.net."], 600)) == "unchanged"
    found = _sets(p, "api.example.com", "CNAME")
    assert len(found) == 1 and found[0].values == ["target.example.net"]


def test_upsert_updates_value_in_place(harness: Harness) -> None:
    p = harness.provider
    p.upsert(Record("api.example.com", "CNAME", ["one.example.net"], 600))
    assert p.upsert(Record("api.example.com", "CNAME", ["two.example.net"], 600)) == "updated"
    found = _sets(p, "api.example.com", "CNAME")
    assert [r.values for r in found] == [["two.example.net"]]


def test_multi_value_txt_keeps_every_value(harness: Harness) -> None:
    p = harness.provider
    name = "_verify.example.com"
    assert p.upsert(Record(name, "TXT", ["v=one", "two words", '"quoted"'], 600)) == "created"
    assert sorted(_sets(p, name, "TXT")[0].values) == ["quoted", "two words", "v=one"]
    assert p.upsert(Record(name, "TXT", ["two words", "v=one", "quoted"], 600)) == "unchanged"
    assert p.upsert(Record(name, "TXT", ["v=one", "two words", "quoted", "four"], 600)) == "updated"
    assert sorted(_sets(p, name, "TXT")[0].values) == ["four", "quoted", "two words", "v=one"]
    assert p.upsert(Record(name, "TXT", ["four"], 600)) == "updated"
    assert _sets(p, name, "TXT")[0].values == ["four"]


def test_delete_removes_the_set_and_is_idempotent(harness: Harness) -> None:
    p = harness.provider
    p.upsert(Record("_a.example.com", "TXT", ["x", "y"], 600))
    p.upsert(Record("keep.example.com", "TXT", ["z"], 600))
    assert p.delete("_a.example.com", "TXT") is True
    assert p.get("_a.example.com", "TXT") is None
    assert p.delete("_a.example.com", "TXT") is False
    assert p.get("keep.example.com", "TXT") is not None


def test_apex_pointer(harness: Harness) -> None:
    p = harness.provider
    if p.name == "godaddy":
        with pytest.raises(UsageError) as info:
            p.point_to("example.com", "d111.cloudfront.net")
        assert "apex" in info.value.message and "www.example.com" in info.value.hint
        assert "Route53" in info.value.hint
        with pytest.raises(UsageError):
            p.upsert(Record("example.com", "CNAME", ["d111.cloudfront.net"], 600))
        return
    record, status = p.point_to("example.com", "d111.cloudfront.net", ttl=600)
    assert status in ("created", "updated")  # porkbun: the parked ALIAS is replaced
    expected_type = {"cloudflare": "CNAME", "porkbun": "ALIAS", "route53": "A"}[p.name]
    assert record.type == expected_type
    got = p.get("example.com", "CNAME")  # looked up as served
    assert got is not None and got.type == expected_type and got.values == ["d111.cloudfront.net"]
    if p.name == "route53":
        assert got.alias_zone_id == CLOUDFRONT_ZONE_ID
    assert p.point_to("example.com", "d111.cloudfront.net", ttl=600)[1] == "unchanged"
    assert p.delete("example.com", "CNAME") is True


def test_route53_apex_needs_a_zone_id_for_non_cloudfront_targets(harness: Harness) -> None:
    p = harness.provider
    if p.name != "route53":
        pytest.skip("route53 only")
    p.upsert(Record("example.com", "A", ["192.0.2.1"], 300))
    assert p.delete("example.com", "CNAME") is False  # a plain apex A record is not a served CNAME
    assert p.get("example.com", "A") is not None
    with pytest.raises(UsageError, match="hosted zone id"):
        p.point_to("example.com", "d-abc.execute-api.eu-west-1.amazonaws.com")
    record, _ = p.point_to("example.com", "d-abc.execute-api.eu-west-1.amazonaws.com", alias_zone_id="ZLY8HYME6SFDD")
    assert record.type == "A" and record.alias_zone_id == "ZLY8HYME6SFDD"


def test_non_apex_pointer_is_a_cname(harness: Harness) -> None:
    p = harness.provider
    record, status = p.point_to("www.example.com", "d111.cloudfront.net", ttl=600)
    assert (record.type, status) == ("CNAME", "created")
    assert _sets(harness.provider, "www.example.com", "CNAME")[0].values == ["d111.cloudfront.net"]


def test_mx_priority_round_trips(harness: Harness) -> None:
    p = harness.provider
    rec = Record("mx.example.com", "MX", ["10 mail1.example.net", "20 Mail2.example.net."], 600)
    assert p.upsert(rec) == "created"
    assert sorted(_sets(p, "mx.example.com", "MX")[0].values) == ["10 mail1.example.net", "20 mail2.example.net"]
    assert p.upsert(rec) == "unchanged"
    assert p.upsert(Record("mx.example.com", "MX", ["5 mail1.example.net"], 600)) == "updated"
    assert _sets(p, "mx.example.com", "MX")[0].values == ["5 mail1.example.net"]


def test_idn_names_are_punycoded(harness: Harness) -> None:
    p = harness.provider
    p.upsert(Record("bücher.example.com", "TXT", ["x"], 600))
    assert p.get("xn--bcher-kva.example.com", "TXT") is not None


# -- HTTP providers: auth, rate limits, pagination ------------------------------------
HTTP = ["cloudflare", "porkbun", "godaddy"]
BAD_CREDS = {"cloudflare": {"token": "wrong-token-0123456789abcdefghijkl"},
             "porkbun": {"secret_key": "sk1_wrong"}, "godaddy": {"api_secret": "wrong"}}
ENV_VARS = {"cloudflare": "CLOUDFLARE_API_TOKEN", "porkbun": "PORKBUN_SECRET_API_KEY", "godaddy": "GODADDY_API_SECRET"}


@pytest.mark.parametrize("name", HTTP)
def test_auth_failure_is_one_line_naming_provider_and_variable(name: str) -> None:
    fake = _fake(name)
    with fake.running():
        p = _make(name, fake, [], **BAD_CREDS[name])
        with pytest.raises(DnsAuthError) as info:
            p.upsert(Record("api.example.com", "CNAME", ["t.example.net"], 600))
    err = info.value
    assert err.message.startswith(f"{name}: ") and "\n" not in err.message
    assert ENV_VARS[name] in err.hint
    secret = next(iter(BAD_CREDS[name].values()))
    assert secret not in err.message and secret not in err.hint


def test_godaddy_personal_access_token() -> None:
    fake = _fake("godaddy")
    with fake.running():
        p = _make("godaddy", fake, [], token=gd_fake.TOKEN)
        assert p.upsert(Record("api.example.com", "A", ["192.0.2.1"], 600)) == "created"
        bad = _make("godaddy", fake, [], token="nope")
        with pytest.raises(DnsAuthError) as info:
            bad.get("api.example.com", "A")
        assert "GODADDY_TOKEN" in info.value.hint


@pytest.mark.parametrize("name", HTTP)
def test_429_retried_honouring_retry_after(name: str) -> None:
    fake = _fake(name)
    with fake.running():
        sleeps: list[float] = []
        p = _make(name, fake, sleeps)
        p.find_zone("api.example.com")
        fake.fail_next(2, retry_after="3")
        assert p.upsert(Record("api.example.com", "A", ["192.0.2.1"], 600)) == "created"
        assert sleeps == [3.0, 3.0]
        fake.fail_next(1, status=503, retry_after="1")
        assert p.get("api.example.com", "A") is not None
        assert sleeps[-1] == 1.0


def test_godaddy_retry_after_sec_in_the_body() -> None:
    fake = gd_fake.FakeGoDaddy(retry_after_sec=7)
    with fake.running():
        sleeps: list[float] = []
        p = _make("godaddy", fake, sleeps)
        fake.fail_next(1, retry_after=None)
        p.find_zone("example.com")
        assert sleeps == [7.0]


@pytest.mark.parametrize("name", HTTP)
def test_retries_are_bounded(name: str) -> None:
    fake = _fake(name)
    with fake.running():
        sleeps: list[float] = []
        p = _make(name, fake, sleeps)
        fake.fail_next(50, retry_after="1")
        with pytest.raises(DnsError) as info:
            p.get("api.example.com", "A")
        assert info.value.code == "RateLimited"
        assert len(sleeps) == 5  # 6 attempts


def test_cloudflare_pagination_and_zone_lookup() -> None:
    fake = cf_fake.FakeCloudflare(zones=("other.com", "example.com", "sub.example.com"), max_per_page=2)
    with fake.running():
        p = _make("cloudflare", fake, [])
        for i in range(5):
            fake.add_record("example.com", "_multi.example.com", "TXT", f"v{i}")
        assert sorted(_sets(p, "_multi.example.com", "TXT")[0].values) == [f"v{i}" for i in range(5)]
        assert p.find_zone("deep.api.sub.example.com").name == "sub.example.com"
        assert p.find_zone("www.example.com").name == "example.com"


def test_cloudflare_proxied_is_carried_over_on_update() -> None:
    fake = cf_fake.FakeCloudflare()
    with fake.running():
        p = _make("cloudflare", fake, [])
        fake.add_record("example.com", "app.example.com", "CNAME", "old.example.net", proxied=True)
        assert p.upsert(Record("app.example.com", "CNAME", ["new.example.net"], 300)) == "updated"
        (rec,) = fake.records.values()
        assert rec["content"] == "new.example.net" and rec["proxied"] is True
        assert p.upsert(Record("app.example.com", "CNAME", ["new.example.net"], 300)) == "unchanged"
        assert p.upsert(Record("app.example.com", "CNAME", ["new.example.net"], 300, proxied=False)) == "updated"
        assert next(iter(fake.records.values()))["proxied"] is False


def test_porkbun_pagination_of_domains() -> None:
    fake = pb_fake.FakePorkbun(domains=("a.com", "b.com", "c.com", "d.com", "example.com"), page_size=2)
    with fake.running():
        p = _make("porkbun", fake, [])
        assert p.find_zone("api.example.com").name == "example.com"
        with pytest.raises(UsageError, match="not a domain in this Porkbun account"):
            p.find_zone("api.missing.org")


def test_porkbun_parked_defaults_are_replaced_and_others_refused() -> None:
    fake = pb_fake.FakePorkbun()
    with fake.running():
        p = _make("porkbun", fake, [])
        assert p.upsert(Record("example.com", "A", ["192.0.2.10"], 600)) == "created"
        assert [r["type"] for r in fake.records("example.com", "example.com")] == ["A"]
        assert fake.records("example.com", "*.example.com", "CNAME")  # the wildcard shadows nothing: kept
        p.upsert(Record("example.com", "MX", ["10 mail.example.net"], 600))
        with pytest.raises(UsageError, match="already has a A record"):
            p.point_to("example.com", "d1.cloudfront.net")  # a real A record is never removed for an ALIAS
        p.delete("example.com", "A")
        record, _ = p.point_to("example.com", "d1.cloudfront.net")
        assert record.type == "ALIAS"  # and the MX at the apex stays beside it
        assert sorted(r["type"] for r in fake.records("example.com", "example.com")) == ["ALIAS", "MX"]
        fake.add_record("example.com", "blog", "CNAME", "someone-else.example.net")
        with pytest.raises(UsageError, match="already has a CNAME"):
            p.upsert(Record("blog.example.com", "A", ["192.0.2.11"], 600))


def test_route53_long_txt_round_trips() -> None:
    with mock_aws():
        import boto3

        from tscloud_py.aws.session import ClientFactory
        from tscloud_py.dns.route53 import Route53Provider, txt_from_route53, txt_to_route53

        boto3.client("route53").create_hosted_zone(Name="example.com", CallerReference="txt")
        p = Route53Provider(ClientFactory(region="us-east-1"))
        long = "k=" + "a" * 400
        assert txt_from_route53(txt_to_route53(long)) == long
        p.upsert(Record("dkim.example.com", "TXT", [long], 300))
        assert p.get("dkim.example.com", "TXT").values == [long]  # type: ignore[union-attr]
        assert p.upsert(Record("dkim.example.com", "TXT", [long], 300)) == "unchanged"


def test_cloudflare_proxied_default_spares_service_names() -> None:
    from tscloud_py.dns.cloudflare import CloudflareProvider

    fake = cf_fake.FakeCloudflare()
    with fake.running():
        p = CloudflareProvider(token=cf_fake.TOKEN, base_url=fake.url + "/client/v4", proxied=True,
                               sleep=lambda s: None)
        p.upsert(Record("app.example.com", "CNAME", ["d1.cloudfront.net"], 300))
        p.upsert(Record("_abc.app.example.com", "CNAME", ["_x.acm-validations.aws"], 300))
        proxied = {r["name"]: r["proxied"] for r in fake.records.values()}
        assert proxied == {"app.example.com": True, "_abc.app.example.com": False}


def test_a_5xx_on_a_create_is_not_blindly_resent() -> None:
    fake = cf_fake.FakeCloudflare()
    with fake.running():
        sleeps: list[float] = []
        p = _make("cloudflare", fake, sleeps)
        p.find_zone("api.example.com")
        fake.fail_next(2, status=502, retry_after="0", method="POST")
        with pytest.raises(DnsError) as info:
            p.upsert(Record("api.example.com", "A", ["192.0.2.1"], 600))
        assert info.value.code == "ServerError" and sleeps == []
        methods = [r.method for r in fake.log[-3:]]
        assert methods == ["POST", "GET", "POST"]  # resent only after a read found nothing made
        assert p.upsert(Record("api.example.com", "A", ["192.0.2.1"], 600)) == "created"  # a re-run converges


def test_retry_after_http_date() -> None:
    from tscloud_py.dns.http import retry_after_seconds

    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert retry_after_seconds("5") == 5.0
    assert retry_after_seconds("soon") is None
