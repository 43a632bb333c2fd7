"""Cloudflare DNS (API v4), held to Cloudflare's OpenAPI schema (cloudflare/api-schemas) and
the SDK generated from it (cloudflare-python).

Auth is an API token (``Authorization: Bearer``) or, as the schema also allows, the Global API
Key (``X-Auth-Email`` + ``X-Auth-Key``). Zones are found by name among *active* zones (the most
specific wins) or taken from a configured zone id. Lists page by ``page``/``per_page`` until a
short page, since ``result_info`` promises only ``page``, ``per_page``, ``count`` and
``total_count``. Records are changed with PATCH ("Update"), never PUT ("Overwrite"), so a
record's ``comment``, ``tags`` and ``settings`` survive; ``proxied`` is carried over unless the
caller sets it. A CNAME at the apex is allowed: Cloudflare flattens it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from tscloud_py.dns.base import (
    DnsError,
    Provider,
    Record,
    Zone,
    join_mx,
    merge_sets,
    normalize_value,
    split_mx,
    txt_quoted,
)
from tscloud_py.dns.http import JsonApi
from tscloud_py.dns.names import normalize
from tscloud_py.errors import UsageError

DEFAULT_URL = "https://api.cloudflare.com/client/v4"
TOKEN_VAR = "CLOUDFLARE_API_TOKEN"
# the Global API Key pair, under the names cloudflare-python reads them from
KEY_VAR = "CLOUDFLARE_API_KEY"
EMAIL_VAR = "CLOUDFLARE_EMAIL"
PROXIABLE = frozenset({"A", "AAAA", "CNAME"})
# GET /zones `per_page`: the schema bounds it to 5..50, default 20 (components.schemas.per_page-dGx3LTAw)
ZONES_PER_PAGE = 50
# GET /zones/{zone_id}/dns_records `per_page`: the schema's default, inside its 5..50000
# (components.schemas.per_page-Mp9VSZz9)
RECORDS_PER_PAGE = 100
# a record's `ttl` (cloudflare-python TTLParam): 1 means automatic, else 60..86400 (30 for
# Enterprise zones, not assumed here)
TTL_AUTO, TTL_MIN, TTL_MAX = 1, 60, 86400
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


def _credentials(token: str | None, api_key: str | None, email: str | None
                 ) -> tuple[dict[str, str], tuple[str, ...], tuple[str, ...]]:
    """(headers, secrets, variable names): a token wins over a Global API Key pair."""
    if token is None and api_key is None and email is None:
        token = os.environ.get(TOKEN_VAR) or None
        api_key = os.environ.get(KEY_VAR) or None
        email = os.environ.get(EMAIL_VAR) or None
    if token:
        return {"Authorization": f"Bearer {token}"}, (token,), (TOKEN_VAR,)
    if api_key and email:
        return {"X-Auth-Email": email, "X-Auth-Key": api_key}, (api_key,), (EMAIL_VAR, KEY_VAR)
    if api_key or email:
        missing = EMAIL_VAR if api_key else KEY_VAR
        raise UsageError(f"cloudflare: {missing} is not set (the Global API Key needs {EMAIL_VAR} and {KEY_VAR})",
                         f"set {missing}, or use an API token in {TOKEN_VAR} instead")
    raise UsageError(f"cloudflare: {TOKEN_VAR} is not set",
                     f"create an API token with Zone:DNS:Edit and export it as {TOKEN_VAR} "
                     f"(or set {EMAIL_VAR} and {KEY_VAR} for the Global API Key)")


class CloudflareProvider(Provider):
    name = "cloudflare"
    apex_cname_type = "CNAME"  # flattened at the apex
    min_ttl = TTL_MIN

    def __init__(self, *, token: str | None = None, api_key: str | None = None, email: str | None = None,
                 zone: str | None = None, zone_id: str | None = None, proxied: bool = False,
                 base_url: str | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(zone=zone, zone_id=zone_id)
        headers, secrets, variables = _credentials(token, api_key, email)
        self.default_proxied = proxied
        self.api = JsonApi(
            "cloudflare", base_url or os.environ.get("TSCLOUD_CLOUDFLARE_API_URL") or DEFAULT_URL,
            credential_vars=variables, headers=headers, secrets=secrets,
            is_auth_failure=_is_auth_failure, error_text=_error_text, sleep=sleep)

    # -- paging ------------------------------------------------------------------
    def _pages(self, path: str, params: dict[str, Any], per_page: int) -> Iterator[dict[str, Any]]:
        """Every item of a paged list. A page shorter than the page size the server says it used
        (``result_info.per_page``, else the one asked for) is the last; ``total_pages`` is not in
        the schema's result_info, so it is never relied on."""
        page, seen = 1, set[str]()
        while True:
            body = self.api.request("GET", path, params={**params, "page": page, "per_page": per_page}).body
            items = [i for i in (body.get("result") or []) if isinstance(i, dict)]
            ids = {str(i.get("id")) for i in items}
            if not items or ids <= seen:  # empty, or a server that ignores `page`
                return
            seen |= ids
            yield from items
            info = body.get("result_info") or {}
            size = int(info.get("per_page") or per_page)
            if len(items) < size:
                return
            page += 1

    # -- zones -------------------------------------------------------------------
    def _lookup_zone(self, name: str) -> Zone:
        return self._zone_by_id_or_probe(
            name, zone_of_id=self._zone_of_id, probe=self._probe, zone_word="zone",
            missing_hint=f"add the domain to Cloudflare, or check that the credentials ({', '.join(self.api.credential_vars)}) "
                         "can read its zone")

    def _zone_of_id(self, zone_id: str) -> Zone:
        z = self.api.request("GET", f"zones/{zone_id}").body["result"]
        if z.get("status", "active") != "active":
            raise UsageError(f"cloudflare: zone {z['name']} ({zone_id}) is {z.get('status')}, not active",
                             "finish adding the zone in Cloudflare, or fix [dns] zone_id in tscloud.toml")
        return Zone(z["id"], normalize(z["name"]))

    def _probe(self, candidate: str) -> Zone | None:
        # GET /zones `status` (initializing, pending, active, moved): only an active zone serves DNS; a pending or moved zone of the same
        # name (another account the credentials can see) must never be picked
        found = [z for z in self._pages("zones", {"name": candidate, "status": "active"}, ZONES_PER_PAGE)
                 if normalize(z["name"]) == candidate and z.get("status", "active") == "active"]
        if len(found) > 1:
            ids = ", ".join(str(z["id"]) for z in found)
            raise UsageError(f"cloudflare: {len(found)} active zones are named {candidate} ({ids})",
                             "set [dns] zone_id in tscloud.toml to the one to use")
        return Zone(found[0]["id"], candidate) if found else None

    # -- records -----------------------------------------------------------------
    def _raw(self, zone: Zone, name: str | None, rtype: str | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {}
        if name:
            params["name"] = normalize(name)
        if rtype:
            params["type"] = rtype.upper()
        return list(self._pages(f"zones/{zone.id}/dns_records", params, RECORDS_PER_PAGE))

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

    def effective_ttl(self, ttl: int) -> int:
        if ttl == TTL_AUTO:
            return TTL_AUTO
        return min(max(ttl, TTL_MIN), TTL_MAX)

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
        if record.type == "TXT":
            # TXTRecord `content`: quoted character-strings of at most 255 bytes each
            doc["content"] = txt_quoted(value)
        if record.type in PROXIABLE:
            doc["proxied"] = bool(proxied)
            if proxied:
                doc["ttl"] = TTL_AUTO  # proxied records are always "automatic"
        return doc

    def _write(self, zone: Zone, record: Record, current: Record | None) -> None:
        existing = self._raw(zone, record.name, record.type)
        by_value = {normalize_value(record.type, self._value(r)): r for r in existing}
        wanted = list(record.values)
        keep = [by_value[v] for v in wanted if v in by_value]
        spare = [r for v, r in by_value.items() if v not in wanted]
        base = f"zones/{zone.id}/dns_records"
        # PATCH is the schema's "Update" (PUT is "Overwrite", which would wipe a comment, tags and
        # settings someone else set), so only the fields we own are sent
        for raw in keep:  # same value: update ttl/proxied in place if needed
            proxied = record.proxied if record.proxied is not None else raw.get("proxied")
            payload = self._payload(record, self._value(raw), proxied)
            if int(raw.get("ttl") or 1) != payload["ttl"] or bool(raw.get("proxied")) != bool(payload.get("proxied")):
                self.api.request("PATCH", f"{base}/{raw['id']}", idempotent=True,
                                 body={k: payload[k] for k in ("ttl", "proxied") if k in payload})
        for value in (v for v in wanted if v not in by_value):
            if spare:  # reuse a record whose value is no longer wanted (keeps its id, proxied flag, comment)
                raw = spare.pop(0)
                proxied = record.proxied if record.proxied is not None else raw.get("proxied")
                self.api.request("PATCH", f"{base}/{raw['id']}", body=self._payload(record, value, proxied),
                                 idempotent=True)
            else:
                proxied = record.proxied if record.proxied is not None else self._default_proxied(record)
                self._create(zone, record, value, self._payload(record, value, proxied))
        for raw in spare:
            self.api.request("DELETE", f"{base}/{raw['id']}", allow=(404,))

    def _create(self, zone: Zone, record: Record, value: str, payload: dict[str, Any]) -> None:
        """POST a record. The API offers no idempotency key, so a create is never blindly resent:
        when its answer is lost (5xx, connection dropped) the set is read again and a record with
        the value adopted; only if none is there is the create sent once more."""
        base = f"zones/{zone.id}/dns_records"
        try:
            self.api.request("POST", base, body=payload, idempotent=False)
            return
        except DnsError as exc:
            if exc.code != "ConnectionError" and not (exc.status or 0) >= 500:
                raise
            if any(normalize_value(record.type, self._value(r)) == value
                   for r in self._raw(zone, record.name, record.type)):
                return
        self.api.request("POST", base, body=payload, idempotent=False)

    def _remove(self, zone: Zone, current: Record) -> None:
        for raw in self._raw(zone, current.name, current.type):
            # 404: already gone (someone else deleted it meanwhile), which is what we want
            self.api.request("DELETE", f"zones/{zone.id}/dns_records/{raw['id']}", allow=(404,))
