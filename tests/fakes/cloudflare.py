"""A fake Cloudflare API v4 (zones + dns_records) enforcing the real contract.

Auth: ``Authorization: Bearer <token>``; a malformed header gets 400 with code
6003/6111, a wrong token 403 with code 9109 (Cloudflare's real shapes).
Pagination: ``page``/``per_page`` with ``result_info``; ``max_per_page``
caps a page so clients must follow ``total_pages``. Record rules: a CNAME
shares its name with nothing (81053), identical records are refused (81058),
TTL is 1 (automatic) or 60..86400, only A/AAAA/CNAME can be proxied.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from tests.fakes.http_base import FakeServer, Reply, Req

TOKEN = "cf-test-token-0123456789abcdefghijklmnopq"
PROXIABLE = {"A", "AAAA", "CNAME"}


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
    def __init__(self, zones: tuple[str, ...] = ("example.com",), *, max_per_page: int = 100) -> None:
        super().__init__()
        self.token = TOKEN
        self.max_per_page = max_per_page
        self._ids = itertools.count(1)
        self.zones: dict[str, str] = {}
        self.records: dict[str, dict[str, Any]] = {}
        for z in zones:
            self.add_zone(z)

    def add_zone(self, name: str) -> str:
        zid = f"{next(self._ids):032x}"
        self.zones[zid] = name
        return zid

    def zone_id(self, name: str) -> str:
        return next(zid for zid, zname in self.zones.items() if zname == name)

    def add_record(self, zone: str, name: str, rtype: str, content: str, *, ttl: int = 1,
                   proxied: bool = False) -> str:
        rid = f"{next(self._ids):032x}"
        zid = self.zone_id(zone)
        self.records[rid] = {"id": rid, "zone_id": zid, "zone_name": zone, "name": name, "type": rtype,
                             "content": content, "proxied": proxied, "proxiable": rtype in PROXIABLE, "ttl": ttl}
        return rid

    def rate_limited(self) -> Reply:
        return error(429, 971, "Please wait and consider throttling your request speed")

    def _paged(self, items: list[Any], req: Req) -> Reply:
        page = int(req.query.get("page", 1))
        per_page = min(int(req.query.get("per_page", 20)), self.max_per_page)
        total = len(items)
        pages = max(1, -(-total // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        return Reply(200, envelope(chunk, {"page": page, "per_page": per_page, "count": len(chunk),
                                           "total_count": total, "total_pages": pages}))

    def handle(self, req: Req) -> Reply:
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or len(auth) < 20:
            return error(400, 6003, "Invalid request headers",
                         [{"code": 6111, "message": "Invalid format for Authorization header"}])
        if auth != f"Bearer {self.token}":
            return error(403, 9109, "Invalid access token")
        path = req.path.removeprefix("/client/v4")
        if path == "/zones" and req.method == "GET":
            zones = [{"id": zid, "name": name, "status": "active"} for zid, name in self.zones.items()
                     if "name" not in req.query or req.query["name"] == name]
            return self._paged(zones, req)
        m = re.fullmatch(r"/zones/([0-9a-f]+)", path)
        if m and req.method == "GET":
            if m.group(1) not in self.zones:
                return error(404, 7003, "Could not route to /zones, perhaps your object identifier is invalid?")
            return Reply(200, envelope({"id": m.group(1), "name": self.zones[m.group(1)], "status": "active"}))
        m = re.fullmatch(r"/zones/([0-9a-f]+)/dns_records(?:/([0-9a-f]+))?", path)
        if not m or m.group(1) not in self.zones:
            return error(404, 7003, "Could not route to that path, perhaps your object identifier is invalid?")
        zid, rid = m.group(1), m.group(2)
        if req.method == "GET" and rid is None:
            found = [r for r in self.records.values() if r["zone_id"] == zid
                     and req.query.get("name", r["name"]) == r["name"]
                     and req.query.get("type", r["type"]) == r["type"]]
            return self._paged(found, req)
        if req.method == "POST" and rid is None:
            return self._write(zid, None, req.body or {})
        if rid is None or rid not in self.records or self.records[rid]["zone_id"] != zid:
            return error(404, 81044, "Record does not exist.")
        if req.method == "PUT":
            return self._write(zid, rid, req.body or {})
        if req.method == "DELETE":
            del self.records[rid]
            return Reply(200, envelope({"id": rid}))
        return error(405, 10000, "Method not allowed")

    def _write(self, zid: str, rid: str | None, body: dict[str, Any]) -> Reply:
        zone = self.zones[zid]
        name, rtype, content = str(body.get("name", "")).lower(), body.get("type"), body.get("content")
        ttl = int(body.get("ttl", 1))
        proxied = bool(body.get("proxied", False))
        if not name or not rtype or content is None:
            return error(400, 9000, "DNS name, type and content are required")
        if name != zone and not name.endswith("." + zone):
            return error(400, 9005, "Content for record name is invalid: not within the zone")
        if ttl != 1 and not 60 <= ttl <= 86400:
            return error(400, 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")
        if proxied and rtype not in PROXIABLE:
            return error(400, 9004, "This record type cannot be proxied.")
        others = [r for r in self.records.values() if r["zone_id"] == zid and r["name"] == name and r["id"] != rid]
        if any(r["type"] == rtype and r["content"] == content for r in others):
            return error(400, 81058, "An identical record already exists.")
        if (rtype == "CNAME" and others) or any(r["type"] == "CNAME" for r in others):
            return error(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
        rid = rid or f"{next(self._ids):032x}"
        if rtype == "MX" and not isinstance(body.get("priority"), int):
            return error(400, 9101, "priority is required for MX records")
        rec = {"id": rid, "zone_id": zid, "zone_name": zone, "name": name, "type": rtype, "content": content,
               "proxied": proxied, "proxiable": rtype in PROXIABLE, "ttl": 1 if proxied else ttl}
        if rtype == "MX":
            rec["priority"] = body["priority"]
        self.records[rid] = rec
        return Reply(200, envelope(rec))
