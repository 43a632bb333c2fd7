"""Route53: hosted zones and record sets. Thin: no DNS semantics beyond the API's own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from tscloud_py.aws.session import ClientFactory, call, paginate
from tscloud_py.aws.waiters import Poll, ProgressCallback, WaitPolicy, wait_for


def _dns_name(name: str) -> str:
    """Route53's form of a name (octal escapes like \\052 for '*') back to plain text, no trailing dot."""
    return name.replace("\\052", "*").rstrip(".").lower()


class Route53:
    def __init__(self, factory: ClientFactory) -> None:
        self.factory = factory

    @property
    def client(self) -> Any:
        return self.factory.client("route53")

    def get_hosted_zone(self, zone_id: str) -> dict[str, Any]:
        zone_id = zone_id.split("/")[-1]
        zone: dict[str, Any] = call(self.client.get_hosted_zone, "route53:GetHostedZone", Id=zone_id)["HostedZone"]
        return zone

    def find_hosted_zone(self, name: str) -> dict[str, Any] | None:
        """The public hosted zone named exactly ``name`` (a private one only if no public one exists)."""
        wanted = name.rstrip(".").lower()
        resp = call(self.client.list_hosted_zones_by_name, "route53:ListHostedZonesByName",
                    DNSName=wanted + ".", MaxItems="10")
        matches = [z for z in resp.get("HostedZones", []) if _dns_name(z["Name"]) == wanted]
        matches.sort(key=lambda z: bool(z.get("Config", {}).get("PrivateZone")))
        return matches[0] if matches else None

    def record_sets(self, zone_id: str, name: str | None = None) -> Iterator[dict[str, Any]]:
        """Record sets of a zone (names unescaped); with ``name``, only the sets at that name."""
        kwargs: dict[str, Any] = {"HostedZoneId": zone_id.split("/")[-1]}
        wanted = name.rstrip(".").lower() if name else None
        if wanted:
            kwargs["StartRecordName"] = wanted + "."
        for rrset in paginate(self.client, "list_resource_record_sets", "ResourceRecordSets", **kwargs):
            rname = _dns_name(rrset["Name"])
            if wanted is not None and rname != wanted:
                break  # sets are sorted; everything at one name is contiguous from StartRecordName
            yield {**rrset, "Name": rname}

    def change(self, zone_id: str, action: str, rrset: dict[str, Any], comment: str = "tscloud") -> str:
        """One change (CREATE | UPSERT | DELETE); returns the change id."""
        resp = call(self.client.change_resource_record_sets, "route53:ChangeResourceRecordSets",
                    HostedZoneId=zone_id.split("/")[-1],
                    ChangeBatch={"Comment": comment, "Changes": [{"Action": action, "ResourceRecordSet": rrset}]})
        return str(resp["ChangeInfo"]["Id"])

    def wait_in_sync(self, change_id: str, *, progress: ProgressCallback | None = None,
                     policy: WaitPolicy | None = None) -> None:
        def check() -> Poll[str]:
            info = call(self.client.get_change, "route53:GetChange", Id=change_id.split("/")[-1])["ChangeInfo"]
            status = str(info["Status"])
            return Poll.finished(status, status) if status == "INSYNC" else Poll.pending(status)

        wait_for(check, what="Route53 change INSYNC", policy=policy or WaitPolicy(timeout=600, first_interval=2),
                 progress=progress)

    def create_hosted_zone(self, name: str) -> dict[str, Any]:
        resp = call(self.client.create_hosted_zone, "route53:CreateHostedZone", Name=name,
                    CallerReference=f"tscloud-{name}-{uuid.uuid4().hex[:8]}")
        zone: dict[str, Any] = resp["HostedZone"]
        return zone
