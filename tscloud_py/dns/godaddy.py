"""GoDaddy DNS (Domains API v1).

Auth is ``sso-key KEY:SECRET`` (``GODADDY_API_KEY`` + ``GODADDY_API_SECRET``)
or a personal access token as a Bearer token (``GODADDY_TOKEN``). Record sets
are addressed by type and name (``@`` is the apex) and replaced whole with
PUT, which makes upsert naturally idempotent. GoDaddy has no ALIAS and no
CNAME flattening, so a CNAME at the apex is refused.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

from tscloud_py.dns.base import Provider, Record, Zone, join_mx, merge_sets, split_mx
from tscloud_py.dns.http import JsonApi
from tscloud_py.dns.names import absolute_name, normalize, relative_name
from tscloud_py.errors import UsageError

DEFAULT_URL = "https://api.godaddy.com"
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


def _retry_hint(body: Any) -> float | None:
    if isinstance(body, dict) and body.get("retryAfterSec") is not None:
        try:
            return float(body["retryAfterSec"])
        except (TypeError, ValueError):
            return None
    return None


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="@*_")


class GoDaddyProvider(Provider):
    name = "godaddy"
    apex_cname_type = None
    min_ttl = 600

    def __init__(self, *, api_key: str | None = None, api_secret: str | None = None, token: str | None = None,
                 zone: str | None = None, base_url: str | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(zone=zone)
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
                             "create a production API key at developer.godaddy.com/keys")
        self.api = JsonApi(
            "godaddy", base_url or os.environ.get("TSCLOUD_GODADDY_API_URL") or DEFAULT_URL,
            credential_vars=variables, headers={"Authorization": auth}, secrets=secrets,
            error_text=_error_text, retry_hint=_retry_hint, sleep=sleep)

    def _lookup_zone(self, name: str) -> Zone:
        wanted = self.default_zone_name(name)
        if self._probed.get(wanted):
            return Zone(wanted, wanted)
        resp = self.api.request("GET", f"v1/domains/{_q(wanted)}", allow=(404,))
        if resp.status == 404:
            raise UsageError(f"godaddy: {wanted} is not a domain in this GoDaddy account",
                             "check the domain, or set [dns] provider to where its DNS is served")
        self._probed[wanted] = Zone(wanted, wanted)
        return Zone(wanted, wanted)

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self.api.request("GET", path, params={"offset": offset, "limit": PAGE}).body or []
            yield from page
            if len(page) < PAGE:
                return
            offset += len(page)

    def list_records(self, zone: Zone, name: str | None = None, type: str | None = None) -> list[Record]:
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
        self.api.request("PUT", self._path(zone, record), body=body)

    def _remove(self, zone: Zone, current: Record) -> None:
        self.api.request("DELETE", self._path(zone, current), allow=(404,))
