"""Porkbun DNS (JSON API v3, held to Porkbun's OpenAPI spec at /api/json/v3/spec).

Every call is a POST whose JSON body carries ``apikey`` and ``secretapikey``.
Errors come back as ``{"status": "ERROR", "code": ..., "message": ...}`` and are
told apart by ``code``. A rate-limited call is retried after ``Retry-After``,
else ``X-RateLimit-Reset`` (a Unix time), else the body's ``ttlRemaining``.
Creates carry an ``Idempotency-Key`` (Porkbun replays the first answer for 24 h),
so a create whose response was lost is resent safely. Porkbun serves a CNAME at
the apex as an ALIAS record.

A freshly registered Porkbun domain carries parked defaults: an ALIAS at the
apex and a wildcard CNAME, both pointing at Porkbun's parking host. An ALIAS
or CNAME at a name shadows (and Porkbun refuses) any other record there, so
before writing at a name we remove a parked default that sits at that exact
name. Any other conflicting record is reported, never deleted. (An ALIAS
conflicts only with A/AAAA, so MX and TXT records at the apex stay.)
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from tscloud_py.dns.base import (
    DnsAuthError,
    DnsError,
    Provider,
    Record,
    Zone,
    join_mx,
    merge_sets,
    normalize_value,
    split_mx,
)
from tscloud_py.dns.http import JsonApi, Response
from tscloud_py.dns.names import absolute_name, normalize, relative_name
from tscloud_py.errors import UsageError

DEFAULT_URL = "https://api.porkbun.com/api/json/v3"
KEY_VAR = "PORKBUN_API_KEY"
SECRET_VAR = "PORKBUN_SECRET_API_KEY"
PARKED_TARGETS = frozenset({"pixie.porkbun.com", "uixie.porkbun.com"})
ADDRESS_TYPES = frozenset({"A", "AAAA"})


def _int(value: Any, default: int) -> int:
    """An integer field the API may send as a number, a numeric string or null."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def conflicts(new_type: str, other_type: str) -> bool:
    """Whether two record types cannot share a name: a CNAME shares it with nothing; an ALIAS (a
    synthesised A/AAAA) not with A/AAAA, but happily with MX, TXT and the rest at the apex.

    Porkbun's spec is silent on this; the rule is RFC 1034 3.6.2 for the CNAME and Porkbun's own
    refusal in practice ("a CNAME or ALIAS record already exists with the host")."""
    if new_type == other_type:
        return False
    pair = {new_type, other_type}
    if "CNAME" in pair:
        return True
    return "ALIAS" in pair and bool(pair & ADDRESS_TYPES)


# error `code`s that mean the key pair itself is missing or wrong
AUTH_CODES = frozenset({"API_KEY_REQUIRED", "INVALID_API_KEYS_001", "INVALID_API_KEYS_002", "INVALID_USER"})


def _code(body: Any) -> str:
    return str(body.get("code") or "") if isinstance(body, dict) else ""


def _error_text(body: Any) -> str:
    if isinstance(body, dict):
        text = str(body.get("message") or body.get("status") or "")
        return f"{body['code']}: {text}" if body.get("code") else text
    return str(body or "")


def _is_auth_failure(status: int, body: Any) -> bool:
    # 403 is not a wrong key: the keys were accepted and more authentication is asked for (see _post)
    return status == 401 or _code(body) in AUTH_CODES


def _retry_hint(resp: Response, now: Callable[[], float] = time.time) -> float | None:
    reset = resp.headers.get("x-ratelimit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - now())
        except ValueError:
            pass
    body = resp.body
    if isinstance(body, dict) and body.get("ttlRemaining") is not None:
        try:
            return max(0.0, float(body["ttlRemaining"]))
        except (TypeError, ValueError):
            return None
    return None


class PorkbunProvider(Provider):
    name = "porkbun"
    apex_cname_type = "ALIAS"
    min_ttl = 600

    def __init__(self, *, api_key: str | None = None, secret_key: str | None = None, zone: str | None = None,
                 base_url: str | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(zone=zone)
        api_key = api_key if api_key is not None else os.environ.get(KEY_VAR, "")
        secret_key = secret_key if secret_key is not None else os.environ.get(SECRET_VAR, "")
        missing = [var for var, val in ((KEY_VAR, api_key), (SECRET_VAR, secret_key)) if not val]
        if missing:
            raise UsageError(f"porkbun: {' and '.join(missing)} not set",
                             "create an API key at porkbun.com/account/api and export both variables")
        self._auth = {"apikey": api_key, "secretapikey": secret_key}
        self.api = JsonApi(
            "porkbun", base_url or os.environ.get("TSCLOUD_PORKBUN_API_URL") or DEFAULT_URL,
            credential_vars=(KEY_VAR, SECRET_VAR), secrets=(api_key, secret_key),
            is_auth_failure=_is_auth_failure, error_text=_error_text, retry_hint=_retry_hint, sleep=sleep)

    def _post(self, path: str, body: dict[str, Any] | None = None, *,
              headers: dict[str, str] | None = None) -> dict[str, Any]:
        # every call but a create changes nothing or converges when resent; a create is made safe to
        # resend by its Idempotency-Key
        resp = self.api.request("POST", path, body={**(body or {}), **self._auth}, idempotent=True,
                                headers=headers, allow=(403,))
        doc = resp.body if isinstance(resp.body, dict) else {}
        if resp.status == 403:
            raise DnsAuthError(
                "porkbun", f"POST /{path}: the API asks for additional authentication (HTTP 403: "
                f"{self.api.redact(_error_text(resp.body)) or 'forbidden'})",
                "the keys were accepted, but the account wants more: approve API access for this key and "
                "turn on API ACCESS for the domain at porkbun.com/account (two-factor accounts)",
                code="AdditionalAuthRequired", status=403)
        if doc.get("status") != "SUCCESS":
            raise self.api.failure(f"POST /{path}", resp)
        return doc

    # -- zones -------------------------------------------------------------------
    def _lookup_zone(self, name: str) -> Zone:
        wanted = self.default_zone_name(name)
        if self._probed.get(wanted):
            return Zone(wanted, wanted)
        start, seen = 0, set[str]()
        while True:  # pages until an empty (or repeated) page: the page size is Porkbun's to choose
            page = self._post("domain/listAll", {"start": str(start)}).get("domains") or []
            names = {normalize(d["domain"]) for d in page}
            if wanted in names:
                self._probed[wanted] = Zone(wanted, wanted)
                return Zone(wanted, wanted)
            if not names or names <= seen:
                break
            seen |= names
            start += len(page)
        raise UsageError(f"porkbun: {wanted} is not a domain in this Porkbun account",
                         "check the domain, or set [dns] provider to where its DNS is served")

    # -- records -----------------------------------------------------------------
    def _raw(self, zone: Zone) -> list[dict[str, Any]]:
        # dns/retrieve/{domain} answers every record at once: the spec gives it no paging
        return list(self._post(f"dns/retrieve/{zone.id}").get("records") or [])

    @staticmethod
    def _value(raw: dict[str, Any]) -> str:
        if raw["type"] == "MX":
            return join_mx(raw.get("prio"), str(raw["content"]))
        return str(raw["content"])

    @staticmethod
    def _record(zone: Zone, raw: dict[str, Any]) -> Record:
        rec = Record(absolute_name(raw["name"], zone.name), raw["type"], [PorkbunProvider._value(raw)],
                     _int(raw.get("ttl"), 600))
        rec.ids.append(str(raw["id"]))
        return rec

    def list_records(self, zone: Zone, name: str | None = None, type: str | None = None) -> list[Record]:
        wanted_name = normalize(name) if name else None
        out = []
        for raw in self._raw(zone):
            rec = self._record(zone, raw)
            if (wanted_name is None or rec.name == wanted_name) and (type is None or rec.type == type.upper()):
                out.append(rec)
        return merge_sets(out)

    def _clear_conflicts(self, zone: Zone, record: Record) -> None:
        for raw in self._raw(zone):
            rec = self._record(zone, raw)
            if rec.name != record.name or rec.type == record.type:
                continue
            if not conflicts(record.type, rec.type):
                continue
            if rec.values[0] in PARKED_TARGETS:
                self._post(f"dns/delete/{zone.id}/{raw['id']}")
                continue
            raise UsageError(
                f"porkbun: {record.name} already has a {rec.type} record ({rec.values[0]}), which conflicts "
                f"with a {record.type} record", f"remove that {rec.type} record first if it is no longer needed")

    def _fields(self, zone: Zone, record: Record, value: str) -> dict[str, Any]:
        # `ttl` and `prio` are integers in the spec (its examples still quote them)
        doc: dict[str, Any] = {"name": relative_name(record.name, zone.name), "type": record.type,
                               "content": value, "ttl": self.effective_ttl(record.ttl)}
        if record.type == "MX":
            doc["prio"], doc["content"] = split_mx(value)
        return doc

    def _write(self, zone: Zone, record: Record, current: Record | None) -> None:
        self._clear_conflicts(zone, record)
        existing = [r for r in self._raw(zone)
                    if absolute_name(r["name"], zone.name) == record.name and r["type"] == record.type]
        by_value = {normalize_value(record.type, self._value(r)): r for r in existing}
        spare = [r for v, r in by_value.items() if v not in record.values]
        ttl = self.effective_ttl(record.ttl)
        for value in record.values:
            raw = by_value.get(value)
            if raw is not None:
                if _int(raw.get("ttl"), 0) != ttl:
                    self._post(f"dns/edit/{zone.id}/{raw['id']}", self._fields(zone, record, self._value(raw)))
            elif spare:
                self._post(f"dns/edit/{zone.id}/{spare.pop(0)['id']}", self._fields(zone, record, value))
            else:
                doc = self._post(f"dns/create/{zone.id}", self._fields(zone, record, value),
                                 headers={"Idempotency-Key": str(uuid.uuid4())})
                if not doc.get("id"):
                    raise DnsError("porkbun", f"create {record.type} {record.name}: no record id in the response")
        for raw in spare:
            self._post(f"dns/delete/{zone.id}/{raw['id']}")

    def _remove(self, zone: Zone, current: Record) -> None:
        for raw in self._raw(zone):
            if absolute_name(raw["name"], zone.name) == current.name and raw["type"] == current.type:
                self._post(f"dns/delete/{zone.id}/{raw['id']}")
