"""GoDaddy DNS (Domains API v1, held to GoDaddy's published Domains swagger).

Auth is ``sso-key KEY:SECRET`` (``GODADDY_API_KEY`` + ``GODADDY_API_SECRET``)
or a personal access token as a Bearer token (``GODADDY_TOKEN``). Keys belong
to one environment: ``GODADDY_ENVIRONMENT=ote`` selects the test environment
(the swagger's own server, api.ote-godaddy.com), the default is production.
Record sets are addressed by type and name (``@`` is the apex) and replaced
whole with PUT, which makes upsert naturally idempotent. GoDaddy has no ALIAS
and no CNAME flattening, so a CNAME at the apex is refused.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

from tscloud_py.dns.base import DnsAuthError, Provider, Record, Zone, join_mx, merge_sets, split_mx
from tscloud_py.dns.http import JsonApi, Response
from tscloud_py.dns.names import absolute_name, normalize, relative_name
from tscloud_py.errors import UsageError

DEFAULT_URL = "https://api.godaddy.com"
ENV_VAR = "GODADDY_ENVIRONMENT"
ENVIRONMENTS = {"production": DEFAULT_URL, "ote": "https://api.ote-godaddy.com"}
# the swagger's record `type` enum (DNSRecord.type, and the {type} path parameter of records/{type}/{name})
RECORD_TYPES = frozenset({"A", "AAAA", "CNAME", "MX", "NS", "SOA", "SRV", "TXT"})
KEY_VAR = "GODADDY_API_KEY"
SECRET_VAR = "GODADDY_API_SECRET"
TOKEN_VAR = "GODADDY_TOKEN"
PAGE = 500


def _error_text(body: Any) -> str:
    if isinstance(body, dict):
        text = f"{body.get('code', '')}: {body.get('message', '')}".strip(": ")
        fields = body.get("fields") or []
        if fields:
            text += " (" + "; ".join(f"{f.get('path')}: {f.get('message')}" for f in fields if isinstance(f, dict)) + ")"
        return text
    return str(body or "")


def _retry_hint(resp: Response) -> float | None:
    body = resp.body
    if isinstance(body, dict) and body.get("retryAfterSec") is not None:
        try:
            return float(body["retryAfterSec"])
        except (TypeError, ValueError):
            return None
    return None


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="@*_")


def _environment(name: str | None) -> str:
    env = (name if name is not None else os.environ.get(ENV_VAR) or "production").strip().lower()
    if env not in ENVIRONMENTS:
        raise UsageError(f"{ENV_VAR}: unknown GoDaddy environment '{env}'", "expected production or ote")
    return env


class GoDaddyProvider(Provider):
    name = "godaddy"
    apex_cname_type = None
    # the swagger gives `ttl` no minimum; GoDaddy refuses under 600 s in practice (its DNS manager's
    # shortest choice, and the 422 OUT_OF_RANGE it answers), so 600 is the floor
    min_ttl = 600
    record_types = RECORD_TYPES

    def __init__(self, *, api_key: str | None = None, api_secret: str | None = None, token: str | None = None,
                 zone: str | None = None, base_url: str | None = None, environment: str | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(zone=zone)
        self.environment = _environment(environment)
        if api_key is None and api_secret is None and token is None:
            api_key = os.environ.get(KEY_VAR) or None
            api_secret = os.environ.get(SECRET_VAR) or None
            token = os.environ.get(TOKEN_VAR) or None
        secrets: tuple[str, ...]
        variables: tuple[str, ...]
        if api_key and api_secret:
            auth, secrets, variables = f"sso-key {api_key}:{api_secret}", (api_key, api_secret), (KEY_VAR, SECRET_VAR)
        elif token:
            auth, secrets, variables = f"Bearer {token}", (token,), (TOKEN_VAR,)
        else:
            raise UsageError(f"godaddy: set {KEY_VAR} and {SECRET_VAR}, or {TOKEN_VAR}",
                             f"create a {self.environment} API key at developer.godaddy.com/keys")
        # a key of the other environment is refused like a wrong one; the hint says so
        other = "ote" if self.environment == "production" else "production"
        auth_hint = f" (they must be {self.environment} credentials; for {other} ones set {ENV_VAR}={other})"
        self.api = JsonApi(
            "godaddy", base_url or os.environ.get("TSCLOUD_GODADDY_API_URL") or ENVIRONMENTS[self.environment],
            credential_vars=variables, auth_hint=auth_hint, headers={"Authorization": auth}, secrets=secrets,
            error_text=_error_text, retry_hint=_retry_hint, sleep=sleep)

    def _request(self, method: str, path: str, **kw: Any) -> Response:
        """One API call. A 403 ACCESS_DENIED is not a wrong key: GoDaddy accepted it but keeps its
        production Management and DNS APIs to accounts with 10 or more domains or a Domain Pro
        plan (developer.godaddy.com/getstarted, "API access"); OTE keys are not limited."""
        try:
            return self.api.request(method, path, **kw)
        except DnsAuthError as exc:
            if exc.status != 403:
                raise
            raise DnsAuthError(
                "godaddy", f"{method} /{path}: GoDaddy accepted the key but refuses this account the API "
                f"({exc.message.removeprefix('godaddy: ')})",
                "GoDaddy opens its production DNS API only to accounts with 10 or more domains or a Domain "
                f"Pro plan; move the zone's DNS elsewhere, or use test keys with {ENV_VAR}=ote",
                code="AccessDenied", status=403) from None

    def _lookup_zone(self, name: str) -> Zone:
        wanted = self.default_zone_name(name)
        if self._probed.get(wanted):
            return Zone(wanted, wanted)
        resp = self._request("GET", f"v1/domains/{_q(wanted)}", allow=(404,))
        if resp.status == 404:
            raise UsageError(f"godaddy: {wanted} is not a domain in this GoDaddy account",
                             "check the domain, or set [dns] provider to where its DNS is served")
        self._probed[wanted] = Zone(wanted, wanted)
        return Zone(wanted, wanted)

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        """Every record of a list, paged by ``offset``/``limit`` until an empty page: a server may cap
        ``limit`` below what was asked, so a short page is not taken as the last one."""
        offset = 0
        while True:
            page = self._request("GET", path, params={"offset": offset, "limit": PAGE}).body or []
            if not isinstance(page, list) or not page:
                return
            yield from page
            offset += len(page)

    def list_records(self, zone: Zone, name: str | None = None, type: str | None = None) -> list[Record]:
        # The swagger declares GET only on records/{type}/{name}; GET records and GET records/{type}
        # are not in it, yet GoDaddy serves both (every published client lists a zone with them), so
        # they are used for listing a zone or a type.
        path = f"v1/domains/{_q(zone.id)}/records"
        if type:
            path += f"/{_q(type.upper())}"
            if name:
                path += f"/{_q(relative_name(name, zone.name) or '@')}"
        wanted = normalize(name) if name else None
        out = []
        for raw in self._pages(path):
            value = join_mx(raw.get("priority"), str(raw["data"])) if raw["type"] == "MX" else str(raw["data"])
            rec = Record(absolute_name(raw["name"], zone.name), raw["type"], [value],
                         int(raw.get("ttl") or 3600))
            if wanted is None or rec.name == wanted:
                out.append(rec)
        return merge_sets(out)

    def _path(self, zone: Zone, record: Record) -> str:
        rel = relative_name(record.name, zone.name) or "@"
        return f"v1/domains/{_q(zone.id)}/records/{_q(record.type)}/{_q(rel)}"

    def _write(self, zone: Zone, record: Record, current: Record | None) -> None:
        ttl = self.effective_ttl(record.ttl)
        body: list[dict[str, Any]] = []
        for value in record.values:
            if record.type == "MX":
                prio, host = split_mx(value)
                body.append({"data": host, "ttl": ttl, "priority": prio})
            else:
                body.append({"data": value, "ttl": ttl})
        self._request("PUT", self._path(zone, record), body=body)

    def _remove(self, zone: Zone, current: Record) -> None:
        self._request("DELETE", self._path(zone, current), allow=(404,))
