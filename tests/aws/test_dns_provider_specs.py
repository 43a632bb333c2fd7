"""The Cloudflare, GoDaddy and Porkbun clients against fakes that follow each provider's published
spec (see the docstrings of tests/fakes/{cloudflare,godaddy,porkbun}.py for the rules and their
sources). Fakes, because none of these SaaS APIs can be reached from here."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import cloudflare as cf_fake
from tests.fakes import godaddy as gd_fake
from tests.fakes import porkbun as pb_fake
from tests.fakes.http_base import Reply, Req
from tscloud_py.dns.base import DnsAuthError, Record
from tscloud_py.dns.cloudflare import ZONES_PER_PAGE, CloudflareProvider
from tscloud_py.dns.godaddy import GoDaddyProvider
from tscloud_py.dns.http import Response
from tscloud_py.dns.porkbun import PorkbunProvider, _retry_hint
from tscloud_py.errors import UsageError


def _cf(fake: cf_fake.FakeCloudflare, **kw: Any) -> CloudflareProvider:
    if "api_key" not in kw:
        kw.setdefault("token", cf_fake.TOKEN)
    return CloudflareProvider(base_url=fake.url + "/client/v4", sleep=lambda s: None, **kw)


def _gd(fake: gd_fake.FakeGoDaddy, **kw: Any) -> GoDaddyProvider:
    kw.setdefault("api_key", gd_fake.API_KEY)
    kw.setdefault("api_secret", gd_fake.API_SECRET)
    return GoDaddyProvider(base_url=fake.url, sleep=lambda s: None, **kw)


def _pb(fake: pb_fake.FakePorkbun, sleeps: list[float] | None = None) -> PorkbunProvider:
    return PorkbunProvider(api_key=pb_fake.API_KEY, secret_key=pb_fake.SECRET_KEY,
                           base_url=fake.url + "/api/json/v3",
                           sleep=sleeps.append if sleeps is not None else (lambda s: None))


def _writes(fake: Any, *methods: str) -> list[Req]:
    return [r for r in fake.log if r.method in methods]


# -- Cloudflare -------------------------------------------------------------------------------
def test_cloudflare_zone_lookup_stays_inside_the_schemas_per_page_bounds() -> None:
    fake = cf_fake.FakeCloudflare()
    with fake.running():
        p = _cf(fake)
        assert p.find_zone("api.example.com").name == "example.com"
        zone_lists = [r for r in fake.log if r.path.endswith("/zones")]
        assert zone_lists and all(5 <= int(r.query["per_page"]) <= 50 for r in zone_lists)


def test_cloudflare_pages_records_and_zones_without_total_pages() -> None:
    fake = cf_fake.FakeCloudflare()
    with fake.running():
        for i in range(122):
            fake.add_record("example.com", f"h{i}.example.com", "A", f"192.0.2.{i}")
        p = _cf(fake)
        zone = p.find_zone("example.com")
        assert len(p.list_records(zone)) == 122  # 100 + 22: result_info has no total_pages
        assert [r.query["page"] for r in fake.log if r.path.endswith("/dns_records")] == ["1", "2"]
        for i in range(70):
            fake.add_zone(f"z{i}.example.org")
        names = {z["name"] for z in p._pages("zones", {}, ZONES_PER_PAGE)}
        assert len(names) == 71


def test_cloudflare_follows_a_server_that_clamps_pages() -> None:
    fake = cf_fake.FakeCloudflare(max_per_page=7)
    with fake.running():
        for i in range(20):
            fake.add_record("example.com", "_multi.example.com", "TXT", f"v{i}")
        p = _cf(fake)
        (rec,) = p.list_records(p.find_zone("example.com"), "_multi.example.com", "TXT")
        assert sorted(rec.values) == sorted(f"v{i}" for i in range(20))


def test_cloudflare_update_keeps_comment_tags_and_settings() -> None:
    fake = cf_fake.FakeCloudflare()
    with fake.running():
        rid = fake.add_record("example.com", "app.example.com", "CNAME", "old.example.net", ttl=300,
                              comment="owned by the web team", tags=["team:web"])
        fake.records[rid]["settings"] = {"flatten_cname": True}
        p = _cf(fake)
        assert p.upsert(Record("app.example.com", "CNAME", ["new.example.net"], 300)) == "updated"
        assert p.upsert(Record("app.example.com", "CNAME", ["new.example.net"], 600)) == "updated"
        rec = fake.records[rid]
        assert (rec["content"], rec["ttl"]) == ("new.example.net", 600)
        assert rec["comment"] == "owned by the web team" and rec["tags"] == ["team:web"]
        assert rec["settings"] == {"flatten_cname": True}
        assert not _writes(fake, "PUT")


def test_cloudflare_long_txt_is_written_once() -> None:
    fake = cf_fake.FakeCloudflare()
    with fake.running():
        p = _cf(fake)
        dkim = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 9
        assert len(dkim.encode()) > 255
        rec = Record("sel._domainkey.example.com", "TXT", [dkim], 300)
        assert p.upsert(rec) == "created"
        (stored,) = fake.records.values()
        assert stored["content"].count('" "') == 1  # stored split into two character-strings
        assert p.upsert(rec) == "unchanged"
        assert len(_writes(fake, "POST", "PUT", "PATCH")) == 1
        assert p.get("sel._domainkey.example.com", "TXT").values == [dkim]  # type: ignore[union-attr]


def test_cloudflare_ttl_inside_the_schemas_range() -> None:
    fake = cf_fake.FakeCloudflare()
    with fake.running():
        p = _cf(fake)
        assert p.upsert(Record("a.example.com", "A", ["192.0.2.1"], 30)) == "created"
        assert p.upsert(Record("a.example.com", "A", ["192.0.2.1"], 30)) == "unchanged"
        assert p.upsert(Record("b.example.com", "A", ["192.0.2.2"], 1)) == "created"
        assert p.upsert(Record("c.example.com", "A", ["192.0.2.3"], 172800)) == "created"
        assert sorted(r["ttl"] for r in fake.records.values()) == [1, 60, 86400]


def test_cloudflare_picks_only_an_active_zone() -> None:
    fake = cf_fake.FakeCloudflare(zones=())
    with fake.running():
        fake.add_zone("example.com", status="pending", account="other")
        fake.add_zone("example.com", status="moved", account="old")
        active = fake.add_zone("example.com", status="active", account="ours")
        p = _cf(fake)
        assert p.find_zone("www.example.com").id == active
        pending_only = cf_fake.FakeCloudflare(zones=())
        with pending_only.running():
            zid = pending_only.add_zone("example.com", status="pending")
            with pytest.raises(UsageError, match="no zone for"):
                _cf(pending_only).find_zone("www.example.com")
            with pytest.raises(UsageError, match="pending, not active"):
                _cf(pending_only, zone_id=zid).find_zone("www.example.com")


def test_cloudflare_create_with_a_lost_response_is_adopted_not_doubled() -> None:
    fake = cf_fake.FakeCloudflare()
    with fake.running():
        p = _cf(fake)
        p.find_zone("example.com")
        fake.lose_create_responses = 1
        assert p.upsert(Record("_v.example.com", "TXT", ["one", "two"], 300)) == "created"
        assert sorted(r["content"] for r in fake.records.values()) == ['"one"', '"two"']
        assert len(_writes(fake, "POST")) == 2  # each value once: the lost one was found, not resent
        fake.fail_next(1, status=502, method="POST")  # refused before anything was made
        assert p.upsert(Record("_w.example.com", "TXT", ["x"], 300)) == "created"  # looked, then sent again
        assert len([r for r in fake.records.values() if r["name"] == "_w.example.com"]) == 1


def test_cloudflare_global_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = cf_fake.FakeCloudflare()
    with fake.running():
        p = _cf(fake, api_key=cf_fake.GLOBAL_KEY, email=cf_fake.EMAIL)
        assert p.upsert(Record("api.example.com", "A", ["192.0.2.1"], 300)) == "created"
        assert fake.log[-1].headers["x-auth-key"] == cf_fake.GLOBAL_KEY
        assert "authorization" not in fake.log[-1].headers
        for var in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("CLOUDFLARE_API_KEY", "wrong-global-key-0123456789")
        monkeypatch.setenv("CLOUDFLARE_EMAIL", cf_fake.EMAIL)
        with pytest.raises(DnsAuthError) as info:
            CloudflareProvider(base_url=fake.url + "/client/v4", sleep=lambda s: None).get("api.example.com", "A")
        assert "CLOUDFLARE_EMAIL" in info.value.hint and "CLOUDFLARE_API_KEY" in info.value.hint
        assert "wrong-global-key" not in info.value.message + info.value.hint
        monkeypatch.delenv("CLOUDFLARE_EMAIL")
        with pytest.raises(UsageError, match="CLOUDFLARE_EMAIL is not set"):
            CloudflareProvider(base_url=fake.url)


# -- GoDaddy ----------------------------------------------------------------------------------
def test_godaddy_pages_past_a_server_that_caps_limit() -> None:
    fake = gd_fake.FakeGoDaddy(max_limit=100)
    with fake.running():
        fake.domains["example.com"].extend(
            {"data": f"192.0.2.{i % 250}", "name": f"h{i}", "ttl": 600, "type": "A"} for i in range(250))
        p = _gd(fake)
        assert len(p.list_records(p.find_zone("example.com"))) == 250


def test_godaddy_refuses_types_outside_the_spec_before_any_request() -> None:
    fake = gd_fake.FakeGoDaddy()
    with fake.running():
        p = _gd(fake)
        with pytest.raises(UsageError, match="record type CAA is not supported") as info:
            p.upsert(Record("example.com", "CAA", ['0 issue "amazon.com"'], 600))
        assert "TXT" in info.value.hint
        with pytest.raises(UsageError):
            p.delete("x.example.com", "ALIAS")
        assert fake.log == []
        assert p.upsert(Record("_v.example.com", "TXT", ["ok"], 600)) == "created"


def test_godaddy_ote_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TSCLOUD_GODADDY_API_URL", raising=False)
    monkeypatch.setenv("GODADDY_ENVIRONMENT", "ote")
    assert GoDaddyProvider(api_key="k", api_secret="s").api.base_url == "https://api.ote-godaddy.com"
    monkeypatch.setenv("GODADDY_ENVIRONMENT", "staging")
    with pytest.raises(UsageError, match="GODADDY_ENVIRONMENT"):
        GoDaddyProvider(api_key="k", api_secret="s")
    monkeypatch.delenv("GODADDY_ENVIRONMENT")
    assert GoDaddyProvider(api_key="k", api_secret="s").api.base_url == "https://api.godaddy.com"
    production = gd_fake.FakeGoDaddy()
    with production.running():
        with pytest.raises(DnsAuthError) as info:
            _gd(production, api_key=gd_fake.OTE_KEY, api_secret=gd_fake.OTE_SECRET).find_zone("example.com")
        assert "GODADDY_ENVIRONMENT=ote" in info.value.hint
    ote = gd_fake.FakeGoDaddy(environment="ote")
    with ote.running():
        p = _gd(ote, api_key=gd_fake.OTE_KEY, api_secret=gd_fake.OTE_SECRET, environment="ote")
        assert p.upsert(Record("api.example.com", "A", ["192.0.2.1"], 600)) == "created"


def test_godaddy_account_without_api_access_is_not_a_wrong_key() -> None:
    fake = gd_fake.FakeGoDaddy()
    with fake.running():
        fake.access_denied = True
        with pytest.raises(DnsAuthError) as info:
            _gd(fake).find_zone("example.com")
        assert info.value.code == "AccessDenied" and "ACCESS_DENIED" in info.value.message
        assert "10 or more domains" in info.value.hint and "GODADDY_ENVIRONMENT=ote" in info.value.hint


# -- Porkbun ----------------------------------------------------------------------------------
def test_porkbun_rate_limit_waits_for_the_reset_time() -> None:
    fake = pb_fake.FakePorkbun(rate_limit_ttl=5)
    with fake.running():
        sleeps: list[float] = []
        p = _pb(fake, sleeps)
        fake.fail_next(1, retry_after=None)
        p.find_zone("example.com")
        assert len(sleeps) == 1 and 3.0 < sleeps[0] <= 5.0  # X-RateLimit-Reset is a Unix time
    body_only = Response(429, {"status": "ERROR", "ttlRemaining": 7}, {})
    assert _retry_hint(body_only) == 7.0
    assert _retry_hint(Response(429, None, {"x-ratelimit-reset": "1000"}), now=lambda: 990.0) == 10.0


class _InvalidUser(pb_fake.FakePorkbun):
    def handle(self, req: Req) -> Reply:
        return pb_fake.err("INVALID_USER", "User not found.")


def test_porkbun_errors_are_told_apart_by_code() -> None:
    fake = _InvalidUser()
    with fake.running():
        with pytest.raises(DnsAuthError) as info:
            _pb(fake).find_zone("example.com")
        assert info.value.code == "AuthFailed" and "INVALID_USER" in info.value.message
    fake2 = pb_fake.FakePorkbun()
    with fake2.running():
        fake2.needs_more_auth = True
        with pytest.raises(DnsAuthError) as info2:
            _pb(fake2).find_zone("example.com")
        assert info2.value.code == "AdditionalAuthRequired"
        assert "additional authentication" in info2.value.message and "two-factor" in info2.value.hint
        fake2.needs_more_auth = False
        wrong = PorkbunProvider(api_key=pb_fake.API_KEY, secret_key="sk1_wrong", base_url=fake2.url + "/api/json/v3",
                                sleep=lambda s: None)
        with pytest.raises(DnsAuthError) as info3:
            wrong.find_zone("example.com")
        assert "INVALID_API_KEYS_001" in info3.value.message and "sk1_wrong" not in info3.value.message


def test_porkbun_create_with_a_lost_response_is_resent_under_its_idempotency_key() -> None:
    fake = pb_fake.FakePorkbun(parked=False)
    with fake.running():
        p = _pb(fake)
        p.find_zone("example.com")
        fake.lose_create_responses = 1
        assert p.upsert(Record("api.example.com", "A", ["192.0.2.1"], 600)) == "created"
        assert len(fake.records("example.com", "api.example.com")) == 1
        creates = [r for r in fake.log if "/dns/create/" in r.path]
        assert len(creates) == 2 and creates[0].headers["idempotency-key"] == creates[1].headers["idempotency-key"]
        p.upsert(Record("b.example.com", "A", ["192.0.2.2"], 600))
        keys = {r.headers["idempotency-key"] for r in fake.log if "/dns/create/" in r.path}
        assert len(keys) == 2  # one key per create, reused only by its own retries


def test_porkbun_ttl_and_prio_are_integers() -> None:
    fake = pb_fake.FakePorkbun(parked=False)
    with fake.running():
        p = _pb(fake)
        p.upsert(Record("example.com", "MX", ["10 mail.example.net"], 600))
        (create,) = [r for r in fake.log if "/dns/create/" in r.path]
        assert create.body["ttl"] == 600 and create.body["prio"] == 10
        assert p.upsert(Record("example.com", "MX", ["10 mail.example.net"], 600)) == "unchanged"
        assert p.upsert(Record("t.example.com", "TXT", ["x"], 60)) == "created"  # raised to Porkbun's 600
        assert fake.records("example.com", "t.example.com")[0]["ttl"] == "600"
