"""A fake Porkbun JSON API v3 enforcing the real contract.

Every endpoint is a POST whose JSON body carries ``apikey`` and
``secretapikey``; errors are HTTP 400 with ``{"status": "ERROR", "message"}``
(``Invalid API key. (001)`` for a wrong key, ``(002)`` for a wrong secret).
``domain/listAll`` pages by ``start`` (``page_size`` per call, 1000 at
Porkbun). Records: ``retrieve`` gives FQDN names and string ids/ttls;
``create`` takes a zone-relative name; TTL is at least 600; a CNAME or ALIAS
shares its name with no other record, an ALIAS none with an A/AAAA, and identical records are refused.
New domains can carry Porkbun's parked defaults (apex ALIAS and wildcard
CNAME to pixie.porkbun.com).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from tests.fakes.http_base import FakeServer, Reply, Req

API_KEY = "pk1_testkey"
SECRET_KEY = "sk1_testsecret"
PARKED = "pixie.porkbun.com"
ADDRESS = {"A", "AAAA"}


def clash(a: str, b: str) -> bool:
    pair = {a, b}
    return a != b and ("CNAME" in pair or ("ALIAS" in pair and bool(pair & ADDRESS)))


def err(message: str, status: int = 400) -> Reply:
    return Reply(status, {"status": "ERROR", "message": message})


class FakePorkbun(FakeServer):
    def __init__(self, domains: tuple[str, ...] = ("example.com",), *, parked: bool = True,
                 page_size: int = 1000) -> None:
        super().__init__()
        self.page_size = page_size
        self._ids = itertools.count(100000001)
        self.domains: dict[str, list[dict[str, Any]]] = {}
        for d in domains:
            self.add_domain(d, parked=parked)

    def add_domain(self, domain: str, *, parked: bool = True) -> None:
        self.domains[domain] = []
        if parked:
            self.add_record(domain, "", "ALIAS", PARKED)
            self.add_record(domain, "*", "CNAME", PARKED)

    def add_record(self, domain: str, sub: str, rtype: str, content: str, ttl: int = 600, prio: int = 0) -> str:
        rid = str(next(self._ids))
        name = f"{sub}.{domain}" if sub else domain
        self.domains[domain].append({"id": rid, "name": name, "type": rtype, "content": content,
                                     "ttl": str(ttl), "prio": str(prio), "notes": ""})
        return rid

    def records(self, domain: str, name: str | None = None, rtype: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.domains[domain] if (name is None or r["name"] == name)
                and (rtype is None or r["type"] == rtype)]

    def rate_limited(self) -> Reply:
        return err("Rate limit exceeded. Please slow down.", 429)

    def handle(self, req: Req) -> Reply:
        if req.method != "POST":
            return err("All API requests must be POST requests.")
        body = req.body if isinstance(req.body, dict) else {}
        if not body.get("apikey") or not body.get("secretapikey"):
            return err("All API requests require an API key.")
        if body["apikey"] != API_KEY:
            return err("Invalid API key. (001)")
        if body["secretapikey"] != SECRET_KEY:
            return err("Invalid API key. (002)")
        path = req.path.removeprefix("/api/json/v3")
        if path == "/ping":
            return Reply(200, {"status": "SUCCESS", "yourIp": "127.0.0.1"})
        if path == "/domain/listAll":
            start = int(body.get("start", 0))
            names = sorted(self.domains)[start: start + self.page_size]
            return Reply(200, {"status": "SUCCESS", "domains": [
                {"domain": d, "status": "ACTIVE", "tld": d.rsplit(".", 1)[-1], "autoRenew": 1} for d in names]})
        m = re.fullmatch(r"/dns/(retrieve|create|edit|delete)/([^/]+)(?:/(\d+))?", path)
        if not m:
            return err("Invalid endpoint.", 404)
        action, domain, rid = m.groups()
        if domain not in self.domains:
            return err("Invalid domain.")
        records = self.domains[domain]
        if action == "retrieve":
            found = [dict(r) for r in records if rid is None or r["id"] == rid]
            return Reply(200, {"status": "SUCCESS", "cloudflare": "enabled", "records": found})
        if action == "delete":
            target = next((r for r in records if r["id"] == rid), None)
            if target is None:
                return err("Invalid record ID.")
            records.remove(target)
            return Reply(200, {"status": "SUCCESS"})
        sub = str(body.get("name", "")).lower().strip(".")
        rtype = str(body.get("type", "")).upper()
        content = str(body.get("content", ""))
        if not rtype or not content:
            return err("Could not add DNS record: type and content are required.")
        ttl = max(600, int(body.get("ttl") or 600))
        name = f"{sub}.{domain}" if sub else domain
        others = [r for r in records if r["name"] == name and r["id"] != rid]
        if any(r["type"] == rtype and r["content"] == content for r in others):
            return err("Could not add DNS record: an identical record already exists.")
        if any(clash(rtype, r["type"]) for r in others):
            return err(f"Could not add DNS record: a CNAME or ALIAS record already exists with the host {name}.")
        prio = int(body.get("prio") or 0)
        if rtype == "MX" and " " in content:
            return err("Could not add DNS record: the MX priority goes in prio, not in content.")
        if action == "create":
            new_id = self.add_record(domain, sub, rtype, content, ttl, prio)
            return Reply(200, {"status": "SUCCESS", "id": int(new_id)})
        target = next((r for r in records if r["id"] == rid), None)
        if target is None:
            return err("Could not edit DNS record: invalid record ID.")
        target.update(name=name, type=rtype, content=content, ttl=str(ttl), prio=str(prio))
        return Reply(200, {"status": "SUCCESS"})
