"""A fake Porkbun JSON API v3 following Porkbun's published OpenAPI spec (porkbun.com/api/json/v3/spec,
"Porkbun API v3", and its rendering at porkbun.com/llms/dns). It is a fake because Porkbun's API
cannot be reached here.

Rules and where they come from:
- auth: ``apikey``/``secretapikey`` in the JSON body, or the ``X-API-Key``/``X-Secret-API-Key``
  headers; ``dns/retrieve/{domain}`` also takes GET with header auth. Errors are
  ``{"status": "ERROR", "code", "message"}`` with the spec's codes ``API_KEY_REQUIRED``,
  ``INVALID_API_KEYS_001`` (wrong key or secret) and ``INVALID_USER``; 403 means "additional
  authentication required" (``needs_more_auth``). Other error code strings are the fake's own.
- rate limits: 429 with ``ttlRemaining`` (seconds) in the body and ``X-RateLimit-Reset`` (a Unix
  time) in the headers.
- ``Idempotency-Key`` on a POST: the first answer is replayed for a repeat within 24 h.
- ``domain/listAll`` pages by ``start`` (``page_size`` per call, 1000 at Porkbun).
- records: ``retrieve`` gives FQDN names, string ids and ``ttl``/``prio`` as the spec's examples
  show them (strings), ``prio``/``notes`` null where unset; ``create`` answers ``id`` as a string and
  takes a zone-relative ``name``, integer ``ttl`` (at least 600, else an error) and ``prio``.
- stricter than the spec on purpose, as Porkbun behaves: a CNAME shares its name with no other
  record and an ALIAS none with an A/AAAA (RFC 1034 3.6.2; Porkbun's "a CNAME or ALIAS record
  already exists" error); identical records are refused.
- new domains can carry Porkbun's parked defaults (apex ALIAS and wildcard CNAME to pixie.porkbun.com).
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from tests.fakes.http_base import FakeServer, Reply, Req

API_KEY = "pk1_testkey"
SECRET_KEY = "sk1_testsecret"
PARKED = "pixie.porkbun.com"
ADDRESS = {"A", "AAAA"}
IDEMPOTENCY_WINDOW = 24 * 3600


def clash(a: str, b: str) -> bool:
    pair = {a, b}
    return a != b and ("CNAME" in pair or ("ALIAS" in pair and bool(pair & ADDRESS)))


def err(code: str, message: str, status: int = 400) -> Reply:
    return Reply(status, {"status": "ERROR", "code": code, "message": message})


class FakePorkbun(FakeServer):
    def __init__(self, domains: tuple[str, ...] = ("example.com",), *, parked: bool = True,
                 page_size: int = 1000, rate_limit_ttl: int = 0) -> None:
        super().__init__()
        self.page_size = page_size
        self.rate_limit_ttl = rate_limit_ttl
        #: answer 403 "additional authentication required" to every authenticated call
        self.needs_more_auth = False
        #: process the next N creates, then answer 502 as if the response were lost on the way back
        self.lose_create_responses = 0
        self._ids = itertools.count(100000001)
        self._replays: dict[str, tuple[float, Reply]] = {}
        self.domains: dict[str, list[dict[str, Any]]] = {}
        for d in domains:
            self.add_domain(d, parked=parked)

    def add_domain(self, domain: str, *, parked: bool = True) -> None:
        self.domains[domain] = []
        if parked:
            self.add_record(domain, "", "ALIAS", PARKED)
            self.add_record(domain, "*", "CNAME", PARKED)

    def add_record(self, domain: str, sub: str, rtype: str, content: str, ttl: int = 600,
                   prio: int | None = None, notes: str | None = None) -> str:
        rid = str(next(self._ids))
        name = f"{sub}.{domain}" if sub else domain
        self.domains[domain].append({"id": rid, "name": name, "type": rtype, "content": content,
                                     "ttl": str(ttl), "prio": None if prio is None else str(prio), "notes": notes})
        return rid

    def records(self, domain: str, name: str | None = None, rtype: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.domains[domain] if (name is None or r["name"] == name)
                and (rtype is None or r["type"] == rtype)]

    def rate_limited(self) -> Reply:
        return Reply(429, {"status": "ERROR", "code": "RATE_LIMIT_EXCEEDED", "message": "Rate limit exceeded.",
                           "ttlRemaining": self.rate_limit_ttl},
                     {"X-RateLimit-Reset": str(int(time.time()) + self.rate_limit_ttl)})

    def handle(self, req: Req) -> Reply:
        path = req.path.removeprefix("/api/json/v3")
        body = req.body if isinstance(req.body, dict) else {}
        if req.method == "GET" and not path.startswith("/dns/retrieve/"):
            return err("INVALID_METHOD", "This endpoint takes POST requests.", 405)
        if req.method not in ("GET", "POST"):
            return err("INVALID_METHOD", "API requests must be GET or POST requests.", 405)
        key = req.headers.get("x-api-key") or body.get("apikey")
        secret = req.headers.get("x-secret-api-key") or body.get("secretapikey")
        if not key or not secret:
            return err("API_KEY_REQUIRED", "All API requests require an API key.")
        if (key, secret) != (API_KEY, SECRET_KEY):
            return err("INVALID_API_KEYS_001", "Invalid API key. (001)")
        if self.needs_more_auth:
            return err("ADDITIONAL_AUTH_REQUIRED", "Additional authentication required.", 403)
        idem = req.headers.get("idempotency-key") if req.method == "POST" else None
        if idem:
            stored = self._replays.get(idem)
            if stored is not None and time.time() - stored[0] < IDEMPOTENCY_WINDOW:
                return stored[1]
        reply = self._route(path, body)
        if idem:
            self._replays[idem] = (time.time(), reply)
        if path.startswith("/dns/create/") and reply.status == 200 and self.lose_create_responses:
            self.lose_create_responses -= 1
            return Reply(502, {"error": "bad gateway"})
        return reply

    def _route(self, path: str, body: dict[str, Any]) -> Reply:
        if path == "/ping":
            return Reply(200, {"status": "SUCCESS", "yourIp": "127.0.0.1"})
        if path == "/domain/listAll":
            start = int(body.get("start", 0))
            names = sorted(self.domains)[start: start + self.page_size]
            return Reply(200, {"status": "SUCCESS", "domains": [
                {"domain": d, "status": "ACTIVE", "tld": d.rsplit(".", 1)[-1], "autoRenew": 1} for d in names]})
        m = re.fullmatch(r"/dns/(retrieve|create|edit|delete)/([^/]+)(?:/(\d+))?", path)
        if not m:
            return err("INVALID_ENDPOINT", "Invalid endpoint.", 404)
        action, domain, rid = m.groups()
        if domain not in self.domains:
            return err("INVALID_DOMAIN", "Invalid domain.")
        records = self.domains[domain]
        if action == "retrieve":
            found = [dict(r) for r in records if rid is None or r["id"] == rid]
            return Reply(200, {"status": "SUCCESS", "cloudflare": "enabled", "records": found})
        if action == "delete":
            target = next((r for r in records if r["id"] == rid), None)
            if target is None:
                return err("INVALID_RECORD_ID", "Invalid record ID.")
            records.remove(target)
            return Reply(200, {"status": "SUCCESS"})
        return self._write(domain, records, action, rid, body)

    def _write(self, domain: str, records: list[dict[str, Any]], action: str, rid: str | None,
               body: dict[str, Any]) -> Reply:
        sub = str(body.get("name", "")).lower().strip(".")
        rtype = str(body.get("type", "")).upper()
        content = str(body.get("content", ""))
        if not rtype or not content:
            return err("INVALID_RECORD", "Could not add DNS record: type and content are required.")
        try:
            ttl = int(body.get("ttl") or 600)
            prio = int(body["prio"]) if body.get("prio") is not None else None
        except (TypeError, ValueError):
            return err("INVALID_RECORD", "Could not add DNS record: ttl and prio are integers.")
        if ttl < 600:
            return err("INVALID_TTL", "Could not add DNS record: the minimum TTL is 600 seconds.")
        name = f"{sub}.{domain}" if sub else domain
        others = [r for r in records if r["name"] == name and r["id"] != rid]
        if any(r["type"] == rtype and r["content"] == content for r in others):
            return err("DUPLICATE_RECORD", "Could not add DNS record: an identical record already exists.")
        if any(clash(rtype, r["type"]) for r in others):
            return err("RECORD_CONFLICT",
                       f"Could not add DNS record: a CNAME or ALIAS record already exists with the host {name}.")
        if rtype == "MX" and " " in content:
            return err("INVALID_RECORD", "Could not add DNS record: the MX priority goes in prio, not in content.")
        if action == "create":
            new_id = self.add_record(domain, sub, rtype, content, ttl, prio)
            return Reply(200, {"status": "SUCCESS", "id": new_id})
        target = next((r for r in records if r["id"] == rid), None)
        if target is None:
            return err("INVALID_RECORD_ID", "Could not edit DNS record: invalid record ID.")
        target.update(name=name, type=rtype, content=content, ttl=str(ttl), prio=None if prio is None else str(prio))
        return Reply(200, {"status": "SUCCESS"})
