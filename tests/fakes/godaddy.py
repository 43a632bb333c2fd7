"""A fake GoDaddy Domains API v1 (records) following GoDaddy's published Domains swagger
(developer.godaddy.com/doc/endpoint/domains, as converted in public OpenAPI collections). It is a
fake because GoDaddy's API cannot be reached here.

Rules and where they come from:
- auth: ``Authorization: sso-key KEY:SECRET`` (the swagger's key scheme); a missing or wrong
  credential gets 401 ``UNABLE_TO_AUTHENTICATE``, a malformed one 401 ``MALFORMED_CREDENTIALS``
  (the swagger's Error model: ``code``, ``message``, ``fields``). Keys belong to one environment
  (``environment``: production or ote, the swagger's server); another environment's key is a
  wrong key. ``Bearer`` personal access tokens are not in the v1 swagger: accepted on purpose,
  because GoDaddy issues them in practice and is moving its clients to them from sso-key.
- ``{type}`` is one of the swagger's enum A, AAAA, CNAME, MX, NS, SOA, SRV, TXT (422 otherwise).
- GET/PUT/DELETE ``records/{type}/{name}`` are the swagger's (recordGet, recordReplaceTypeName,
  recordDeleteTypeName); GET ``records`` and ``records/{type}`` are not in it but served in
  practice, so the fake serves them too. Lists page by ``offset``/``limit``; ``max_limit`` caps a
  page below what was asked, as a server may.
- DNSRecordCreateTypeName: ``data`` required; ``priority`` is "MX and SRV only" and optional
  (0 when left out).
- ``access_denied``: 403 ``ACCESS_DENIED`` "Authenticated user is not allowed access", GoDaddy's
  answer to a valid production key of an account below its API threshold (developer.godaddy.com/getstarted).
- stricter than the swagger on purpose, as GoDaddy behaves: TTL at least 600 (422
  OUT_OF_RANGE); no CNAME at the apex; a CNAME has one value and shares its name with nothing
  (RFC 1034 3.6.2). 429 carries ``retryAfterSec`` (the swagger's ErrorLimit).
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.http_base import FakeServer, Reply, Req

API_KEY = "gd-test-key"
API_SECRET = "gd-test-secret"
OTE_KEY = "gd-ote-key"
OTE_SECRET = "gd-ote-secret"
TOKEN = "gd-test-pat"
RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "SOA", "SRV", "TXT")


def err(status: int, code: str, message: str, fields: list[dict[str, str]] | None = None) -> Reply:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return Reply(status, body)


class FakeGoDaddy(FakeServer):
    def __init__(self, domains: tuple[str, ...] = ("example.com",), *, max_limit: int = 500,
                 retry_after_sec: int = 0, environment: str = "production") -> None:
        super().__init__()
        self.keys = (API_KEY, API_SECRET) if environment == "production" else (OTE_KEY, OTE_SECRET)
        self.access_denied = False
        self.max_limit = max_limit
        self.retry_after_sec = retry_after_sec
        self.domains: dict[str, list[dict[str, Any]]] = {d: [] for d in domains}

    def records(self, domain: str, name: str | None = None, rtype: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.domains[domain] if (name is None or r["name"] == name)
                and (rtype is None or r["type"] == rtype)]

    def rate_limited(self) -> Reply:
        return Reply(429, {"code": "TOO_MANY_REQUESTS", "message": "Too many requests received within interval",
                           "retryAfterSec": self.retry_after_sec})

    def handle(self, req: Req) -> Reply:
        auth = req.headers.get("authorization", "")
        if not auth:
            return err(401, "UNABLE_TO_AUTHENTICATE", "Unable to authenticate request")
        if auth.startswith("sso-key "):
            if ":" not in auth:
                return err(401, "MALFORMED_CREDENTIALS", "Malformed credentials")
            if auth != f"sso-key {self.keys[0]}:{self.keys[1]}":
                return err(401, "UNABLE_TO_AUTHENTICATE", "Unable to authenticate request")
        elif auth != f"Bearer {TOKEN}":
            return err(401, "UNABLE_TO_AUTHENTICATE", "Unable to authenticate request")
        if self.access_denied:
            return err(403, "ACCESS_DENIED", "Authenticated user is not allowed access")
        m = re.fullmatch(r"/v1/domains/([^/]+)(/records(?:/([^/]+)(?:/([^/]+))?)?)?", req.path)
        if not m:
            return err(404, "NOT_FOUND", "The requested resource was not found")
        domain, sub, rtype, name = m.groups()
        if rtype is not None and rtype not in RECORD_TYPES:
            return err(422, "INVALID_BODY", "Request body doesn't fulfill schema, see details in `fields`",
                       [{"path": "type", "code": "UNEXPECTED_VALUE",
                         "message": f"must be one of {', '.join(RECORD_TYPES)}"}])
        if domain not in self.domains:
            return err(404, "NOT_FOUND", f"Domain {domain} not found")
        if sub is None:
            return Reply(200, {"domain": domain, "domainId": 1000 + len(domain), "status": "ACTIVE"})
        records = self.domains[domain]
        if req.method == "GET":
            found = [r for r in records if (rtype is None or r["type"] == rtype) and (name is None or r["name"] == name)]
            offset = int(req.query.get("offset", 0))
            limit = min(int(req.query.get("limit", self.max_limit)), self.max_limit)
            return Reply(200, found[offset: offset + limit])
        if rtype is None or name is None:
            return err(405, "METHOD_NOT_ALLOWED", "use records/{type}/{name}")
        if req.method == "DELETE":
            matching = [r for r in records if r["type"] == rtype and r["name"] == name]
            if not matching:
                return err(404, "NOT_FOUND", f"No {rtype} records named {name}")
            for r in matching:
                records.remove(r)
            return Reply(204)
        if req.method == "PUT":
            body = req.body if isinstance(req.body, list) else None
            if not body:
                return err(422, "INVALID_BODY", "Request body doesn't fulfill schema, see details in `fields`",
                           [{"path": "records", "code": "UNEXPECTED_TYPE", "message": "is not a non-empty array"}])
            for i, item in enumerate(body):
                if not isinstance(item, dict) or "data" not in item:
                    return err(422, "INVALID_BODY", "Request body doesn't fulfill schema, see details in `fields`",
                               [{"path": f"records[{i}].data", "code": "MISSING", "message": "is required"}])
                if int(item.get("ttl", 3600)) < 600:
                    return err(422, "INVALID_BODY", "Request body doesn't fulfill schema, see details in `fields`",
                               [{"path": f"records[{i}].ttl", "code": "OUT_OF_RANGE",
                                 "message": "must be at least 600"}])
            if rtype == "CNAME" and name == "@":
                return err(422, "INVALID_BODY", "CNAME records cannot be created at the apex (@)")
            if rtype == "CNAME" and len(body) > 1:
                return err(422, "INVALID_BODY", "a CNAME record set has exactly one value")
            others = [r for r in records if r["name"] == name and r["type"] != rtype]
            if (rtype == "CNAME" and others) or any(r["type"] == "CNAME" for r in others):
                return err(409, "DUPLICATE_RECORD", f"{name} already has a record that conflicts with a CNAME")
            records[:] = [r for r in records if not (r["type"] == rtype and r["name"] == name)]
            for item in body:
                rec = {"data": item["data"], "name": name, "ttl": int(item.get("ttl", 3600)), "type": rtype}
                if rtype in ("MX", "SRV"):
                    rec["priority"] = int(item.get("priority") or 0)
                records.append(rec)
            return Reply(200)
        return err(405, "METHOD_NOT_ALLOWED", f"{req.method} is not supported here")
