"""A fake Cloudflare API v4 (zones + dns_records) that follows Cloudflare's published OpenAPI
schema (github.com/cloudflare/api-schemas, openapi.yaml as stored at 00055f640a7b) and, for newer
wording (TXT character-strings, zone status, comment/tags/settings), the SDK generated from a later
schema (cloudflare-python 4.3.1), not our client. It is a fake because no real Cloudflare runs here.

Each rule names where it comes from: a schema path and field, or, where the fake is stricter or
more specific than the schema on purpose, the live behaviour it copies.
"""

from __future__ import annotations

import itertools
import re
import shlex
from typing import Any

from tests.fakes.http_base import FakeServer, Reply, Req

TOKEN = "cf-test-token-0123456789abcdefghijklmnopq"
EMAIL = "owner@example.com"
GLOBAL_KEY = "cf-global-key-0123456789abcdef0123456789"
PROXIABLE = {"A", "AAAA", "CNAME"}
# GET /zones `per_page`: components.schemas.per_page-dGx3LTAw ("Maximum number of results per
# page"), minimum 5, maximum 50, default 20 (openapi.yaml at api-schemas 00055f640a7b)
ZONES_PER_PAGE = (5, 50, 20)
# GET /zones/{zone_id}/dns_records `per_page`: components.schemas.per_page-Mp9VSZz9 ("Number of DNS
# records per page"), minimum 5, maximum 50000, default 100
RECORDS_PER_PAGE = (5, 50_000, 100)
# GET /zones `status` filter and Zone.status (cloudflare-python ZoneListParams, Zone)
ZONE_STATUSES = ("initializing", "pending", "active", "moved")
# fields a PUT ("Overwrite") resets when the body leaves them out, and PATCH ("Update") keeps
OPTIONAL_FIELDS: dict[str, Any] = {"comment": None, "tags": [], "settings": {}, "proxied": False, "priority": None}


def envelope(result: Any, info: dict[str, int] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if info is not None:
        doc["result_info"] = info
    return doc


def error(status: int, code: int, message: str, chain: list[dict[str, Any]] | None = None) -> Reply:
    err: dict[str, Any] = {"code": code, "message": message}
    if chain:
        err["error_chain"] = chain
    return Reply(status, {"success": False, "errors": [err], "messages": [], "result": None})


class FakeCloudflare(FakeServer):
    """``max_per_page`` makes the fake clamp a page below what was asked (and say so in
    ``result_info.per_page``), as a server that caps pages would."""

    def __init__(self, zones: tuple[str, ...] = ("example.com",), *, max_per_page: int | None = None) -> None:
        super().__init__()
        self.token = TOKEN
        self.max_per_page = max_per_page
        #: process the next N creates, then answer 502 as if the response were lost on the way back
        self.lose_create_responses = 0
        self._ids = itertools.count(1)
        self.zones: dict[str, dict[str, Any]] = {}
        self.records: dict[str, dict[str, Any]] = {}
        for z in zones:
            self.add_zone(z)

    def add_zone(self, name: str, *, status: str = "active", account: str = "acc-1") -> str:
        assert status in ZONE_STATUSES
        zid = f"{next(self._ids):032x}"
        self.zones[zid] = {"id": zid, "name": name, "status": status, "account": {"id": account}}
        return zid

    def zone_id(self, name: str) -> str:
        return next(zid for zid, z in self.zones.items() if z["name"] == name and z["status"] == "active")

    def add_record(self, zone: str, name: str, rtype: str, content: str, *, ttl: int = 1,
                   proxied: bool = False, comment: str | None = None, tags: list[str] | None = None) -> str:
        rid = f"{next(self._ids):032x}"
        zid = self.zone_id(zone)
        if rtype == "TXT":
            content = _txt_content(content)
        self.records[rid] = {"id": rid, "zone_id": zid, "zone_name": zone, "name": name, "type": rtype,
                             "content": content, "proxied": proxied, "proxiable": rtype in PROXIABLE, "ttl": ttl,
                             "comment": comment, "tags": list(tags or []), "settings": {}, "priority": None}
        return rid

    def rate_limited(self) -> Reply:
        return error(429, 971, "Please wait and consider throttling your request speed")

    def _paged(self, items: list[Any], req: Req, bounds: tuple[int, int, int]) -> Reply:
        low, high, default = bounds
        try:
            page = int(req.query.get("page", 1))
            per_page = int(req.query.get("per_page", default))
        except ValueError:
            return error(400, 1001, "page and per_page must be numbers")
        # the schema bounds per_page; whether the live API rejects or clamps is unknown, so the
        # fake takes the stricter reading and rejects (the error code number is the fake's own)
        if not low <= per_page <= high:
            return error(400, 1001, f"per_page must be between {low} and {high}")
        if page < 1:
            return error(400, 1001, "page must be at least 1")
        if self.max_per_page is not None:
            per_page = min(per_page, self.max_per_page)
        chunk = items[(page - 1) * per_page: page * per_page]
        # result_info: page, per_page, count, total_count; total_pages is not in the schema
        return Reply(200, envelope(chunk, {"page": page, "per_page": per_page, "count": len(chunk),
                                           "total_count": len(items)}))

    def _authenticate(self, req: Req) -> Reply | None:
        """Bearer token (api_token) or the Global API Key pair (api_email + api_key), the schema's
        securitySchemes; the codes are the ones the live API answers with."""
        auth = req.headers.get("authorization")
        email, key = req.headers.get("x-auth-email"), req.headers.get("x-auth-key")
        if auth is not None:
            if not auth.startswith("Bearer ") or len(auth) < 20:
                return error(400, 6003, "Invalid request headers",
                             [{"code": 6111, "message": "Invalid format for Authorization header"}])
            return None if auth == f"Bearer {self.token}" else error(403, 9109, "Invalid access token")
        if email is None or key is None:
            return error(400, 6003, "Invalid request headers",
                         [{"code": 6103 if key is None else 6102,
                           "message": f"Invalid format for {'X-Auth-Key' if key is None else 'X-Auth-Email'} header"}])
        if (email, key) != (EMAIL, GLOBAL_KEY):
            return error(403, 9103, "Unknown X-Auth-Key or X-Auth-Email")
        return None

    def handle(self, req: Req) -> Reply:
        refused = self._authenticate(req)
        if refused is not None:
            return refused
        path = req.path.removeprefix("/client/v4")
        if path == "/zones" and req.method == "GET":
            status = req.query.get("status")
            if status is not None and status not in ZONE_STATUSES:
                return error(400, 1001, f"status must be one of {', '.join(ZONE_STATUSES)}")
            zones = [dict(z) for z in self.zones.values()
                     if req.query.get("name", z["name"]) == z["name"] and status in (None, z["status"])]
            return self._paged(zones, req, ZONES_PER_PAGE)
        m = re.fullmatch(r"/zones/([0-9a-f]+)", path)
        if m and req.method == "GET":
            if m.group(1) not in self.zones:
                return error(404, 7003, "Could not route to /zones, perhaps your object identifier is invalid?")
            return Reply(200, envelope(dict(self.zones[m.group(1)])))
        m = re.fullmatch(r"/zones/([0-9a-f]+)/dns_records(?:/([0-9a-f]+))?", path)
        if not m or m.group(1) not in self.zones:
            return error(404, 7003, "Could not route to that path, perhaps your object identifier is invalid?")
        zid, rid = m.group(1), m.group(2)
        if req.method == "GET" and rid is None:
            found = [dict(r) for r in self.records.values() if r["zone_id"] == zid
                     and req.query.get("name", r["name"]) == r["name"]
                     and req.query.get("type", r["type"]) == r["type"]]
            return self._paged(found, req, RECORDS_PER_PAGE)
        if req.method == "POST" and rid is None:
            reply = self._write(zid, None, req.body or {}, base=dict(OPTIONAL_FIELDS))
            if reply.status == 200 and self.lose_create_responses:
                self.lose_create_responses -= 1
                return Reply(502, {"error": "bad gateway"})
            return reply
        if rid is None or rid not in self.records or self.records[rid]["zone_id"] != zid:
            return error(404, 81044, "Record does not exist.")
        if req.method == "PUT":  # PUT /zones/{zone_id}/dns_records/{id}: "Overwrite an existing DNS record"
            return self._write(zid, rid, req.body or {}, base=dict(OPTIONAL_FIELDS))
        if req.method == "PATCH":  # PATCH /zones/{zone_id}/dns_records/{id}: "Update an existing DNS record"
            current = self.records[rid]
            merged = {k: current[k] for k in ("name", "type", "content", "ttl")}
            return self._write(zid, rid, {**merged, **(req.body or {})},
                               base={k: current[k] for k in OPTIONAL_FIELDS})
        if req.method == "DELETE":
            del self.records[rid]
            return Reply(200, envelope({"id": rid}))
        return error(405, 10000, "Method not allowed")

    def _write(self, zid: str, rid: str | None, body: dict[str, Any], *, base: dict[str, Any]) -> Reply:
        zone = self.zones[zid]["name"]
        name, rtype, content = str(body.get("name", "")).lower(), body.get("type"), body.get("content")
        if not name or not rtype or content is None:
            return error(400, 9000, "DNS name, type and content are required")
        if name != zone and not name.endswith("." + zone):
            return error(400, 9005, "Content for record name is invalid: not within the zone")
        ttl = int(body.get("ttl", 1))
        # a record's `ttl` (TTLParam): "Setting to 1 means 'automatic'. Value must be between 60 and 86400"
        if ttl != 1 and not 60 <= ttl <= 86400:
            return error(400, 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")
        fields = {**base, **{k: body[k] for k in OPTIONAL_FIELDS if k in body}}
        proxied = bool(fields["proxied"])
        # `proxied` is a property of ARecord, AAAARecord and CNAMERecord only
        if proxied and rtype not in PROXIABLE:
            return error(400, 9004, "This record type cannot be proxied.")
        if rtype == "TXT":
            content = _txt_content(str(content))
        # components.schemas.MXRecord: required [type, name, content, priority] (priority 0..65535)
        priority = fields["priority"]
        if rtype == "MX" and not (isinstance(priority, int) and 0 <= priority <= 65535):
            return error(400, 9101, "priority is required for MX records")
        others = [r for r in self.records.values() if r["zone_id"] == zid and r["name"] == name and r["id"] != rid]
        if any(r["type"] == rtype and r["content"] == content for r in others):
            return error(400, 81058, "An identical record already exists.")
        # not in the schema (CNAMERecord says only that the content must not match the name): the
        # live API refuses a CNAME beside an A, AAAA or CNAME with 81053 "An A, AAAA, or CNAME
        # record with that host already exists", so the fake refuses exactly those, no other types
        address = {"A", "AAAA", "CNAME"}
        if (rtype == "CNAME" and any(r["type"] in address for r in others)) or (
                rtype in address and any(r["type"] == "CNAME" for r in others)):
            return error(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
        rid = rid or f"{next(self._ids):032x}"
        rec = {"id": rid, "zone_id": zid, "zone_name": zone, "name": name, "type": rtype, "content": content,
               "proxied": proxied, "proxiable": rtype in PROXIABLE, "ttl": 1 if proxied else ttl,
               "comment": fields["comment"], "tags": list(fields["tags"] or []), "settings": dict(fields["settings"] or {}),
               "priority": priority if rtype == "MX" else None}
        self.records[rid] = rec
        return Reply(200, envelope(dict(rec)))


def _txt_content(content: str) -> str:
    """TXTRecord `content`: "quoted character strings (RFC 1035), each with a length of up to 255
    bytes. Strings exceeding this allowed maximum length are automatically split." Unquoted text
    is taken as one string. (Written apart from the client's own quoting on purpose.)"""
    text = content.strip()
    strings = shlex.split(text, posix=True) if text.startswith('"') and text.endswith('"') else [content]
    out: list[str] = []
    for s in strings:
        data = s.encode()
        while True:
            cut = min(len(data), 255)
            while cut < len(data) and (data[cut] & 0xC0) == 0x80:  # never inside a UTF-8 sequence
                cut -= 1
            out.append(data[:cut].decode())
            data = data[cut:]
            if not data:
                break
    return " ".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in out)
