"""Cloudflare DNS (API v4, API token auth).

Zones are found by name (the most specific zone in the account wins) or taken
from a configured zone id. Lists are paginated (``page``/``per_page``,
``result_info.total_pages``). On update the record's ``proxied`` flag is
carried over unless the caller sets it. A CNAME at the apex is allowed:
Cloudflare flattens it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from tscloud_py.dns.base import (
    Provider,
    Record,
    Zone,
    join_mx,
    merge_sets,
    normalize_value,
    split_mx,
)
from tscloud_py.dns.http import JsonApi
from tscloud_py.dns.names import normalize
from tscloud_py.errors import UsageError

DEFAULT_URL = "https://api.cloudflare.com/client/v4"
TOKEN_VAR = "CLOUDFLARE_API_TOKEN"
PROXIABLE = frozenset({"A", "AAAA", "CNAME"})
PER_PAGE = 100
_AUTH_CODES = frozenset({6003, 6100, 6101, 6102, 6103, 6111, 9103, 9106, 9109, 10000, 10001})


def _codes(body: Any) -> list[int]:
    if isinstance(body, dict):
        return [int(e.get("code", 0)) for e in body.get("errors") or [] if isinstance(e, dict)]
    return []


def _error_text(body: Any) -> str:
    if isinstance(body, dict) and body.get("errors"):
        parts = []
        for e in body["errors"]:
            text = f"{e.get('code')}: {e.get('message')}"
            chain = e.get("error_chain") or []
            if chain:
                text += " (" + "; ".join(f"{c.get('code')}: {c.get('message')}" for c in chain) + ")"
            parts.append(text)
        return "; ".join(parts)
    return str(body or "")


def _is_auth_failure(status: int, body: Any) -> bool:
    return status in (401, 403) or (status == 400 and any(c in _AUTH_CODES for c in _codes(body)))


class CloudflareProvider(Provider):
    name = "cloudflare"
    apex_cname_type = "CNAME"  # flattened at the apex
    min_ttl = 1

    def __init__(self, *, token: str | None = None, zone: str | None = None, zone_id: str | None = None,
                 proxied: bool = False, base_url: str | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(zone=zone, zone_id=zone_id)
        token = token if token is not None else os.environ.get(TOKEN_VAR, "")
        if not token:
            raise UsageError(f"cloudflare: {TOKEN_VAR} is not set",
                             "create an API token with Zone:DNS:Edit and export it as CLOUDFLARE_API_TOKEN")
        self.default_proxied = proxied
        self.api = JsonApi(
            "cloudflare", base_url or os.environ.get("TSCLOUD_CLOUDFLARE_API_URL") or DEFAULT_URL,
            credential_vars=(TOKEN_VAR,), headers={"Authorization": f"Bearer {token}"}, secrets=(token,),
            is_auth_failure=_is_auth_failure, error_text=_error_text, sleep=sleep)

    # -- paging ------------------------------------------------------------------
    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            body = self.api.request("GET", path, params={**params, "page": page, "per_page": PER_PAGE}).body
            yield from body.get("result") or []
            info = body.get("result_info") or {}
            if page >= int(info.get("total_pages") or 1):
                return
            page += 1

    # -- zones -------------------------------------------------------------------
    def _lookup_zone(self, name: str) -> Zone:
        return self._zone_by_id_or_probe(
            name, zone_of_id=self._zone_of_id, probe=self._probe, zone_word="zone",
            missing_hint=f"add the domain to Cloudflare, or check that {TOKEN_VAR} can read its zone")

    def _zone_of_id(self, zone_id: str) -> Zone:
        z = self.api.request("GET", f"zones/{zone_id}").body["result"]
        return Zone(z["id"], normalize(z["name"]))

    def _probe(self, candidate: str) -> Zone | None:
        for z in self._pages("zones", {"name": candidate}):
            if normalize(z["name"]) == candidate:
                return Zone(z["id"], candidate)
        return None

    # -- records -----------------------------------------------------------------
    def _raw(self, zone: Zone, name: str | None, rtype: str | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {}
        if name:
            params["name"] = normalize(name)
        if rtype:
            params["type"] = rtype.upper()
        return list(self._pages(f"zones/{zone.id}/dns_records", params))

    @staticmethod
    def _value(raw: dict[str, Any]) -> str:
        if raw["type"] == "MX":
            return join_mx(raw.get("priority"), str(raw["content"]))
        return str(raw["content"])

    @staticmethod
    def _record(raw: dict[str, Any]) -> Record:
        rec = Record(raw["name"], raw["type"], [CloudflareProvider._value(raw)], int(raw.get("ttl") or 1),
                     proxied=bool(raw.get("proxied")) if raw["type"] in PROXIABLE else None)
        rec.ids.append(str(raw["id"]))
        return rec

    def list_records(self, zone: Zone, name: str | None = None, type: str | None = None) -> list[Record]:
        return merge_sets([self._record(r) for r in self._raw(zone, name, type)])

    def same(self, current: Record, wanted: Record) -> bool:
        if wanted.proxied is None and current.proxied is not None:
            wanted = Record(wanted.name, wanted.type, wanted.values, wanted.ttl, current.proxied)
        return super().same(current, wanted)

    def _default_proxied(self, record: Record) -> bool:
        # service names (_acme-challenge, ACM's _hash validation CNAMEs) must resolve as written
        return self.default_proxied and not record.name.startswith("_")

    def _payload(self, record: Record, value: str, proxied: bool | None) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": record.type, "name": record.name, "content": value,
                               "ttl": self.effective_ttl(record.ttl)}
        if record.type == "MX":
            doc["priority"], doc["content"] = split_mx(value)
        if record.type in PROXIABLE:
            doc["proxied"] = bool(proxied)
            if proxied:
                doc["ttl"] = 1  # proxied records are always "automatic"
        return doc

    def _write(self, zone: Zone, record: Record, current: Record | None) -> None:
        existing = self._raw(zone, record.name, record.type)
        by_value = {normalize_value(record.type, self._value(r)): r for r in existing}
        wanted = list(record.values)
        keep = [by_value[v] for v in wanted if v in by_value]
        spare = [r for v, r in by_value.items() if v not in wanted]
        base = f"zones/{zone.id}/dns_records"
        for raw in keep:  # same value: update ttl/proxied in place if needed
            proxied = record.proxied if record.proxied is not None else raw.get("proxied")
            payload = self._payload(record, self._value(raw), proxied)
            if int(raw.get("ttl") or 1) != payload["ttl"] or bool(raw.get("proxied")) != bool(payload.get("proxied")):
                self.api.request("PUT", f"{base}/{raw['id']}", body=payload)
        for value in (v for v in wanted if v not in by_value):
            if spare:  # reuse a record whose value is no longer wanted (keeps its id and proxied flag)
                raw = spare.pop(0)
                proxied = record.proxied if record.proxied is not None else raw.get("proxied")
                self.api.request("PUT", f"{base}/{raw['id']}", body=self._payload(record, value, proxied))
            else:
                proxied = record.proxied if record.proxied is not None else self._default_proxied(record)
                self.api.request("POST", base, body=self._payload(record, value, proxied), idempotent=False)
        for raw in spare:
            self.api.request("DELETE", f"{base}/{raw['id']}")

    def _remove(self, zone: Zone, current: Record) -> None:
        for raw in self._raw(zone, current.name, current.type):
            # 404: already gone (someone else deleted it meanwhile), which is what we want
            self.api.request("DELETE", f"zones/{zone.id}/dns_records/{raw['id']}", allow=(404,))
