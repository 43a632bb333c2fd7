"""Route53 as a DNS provider (through the thin client in tscloud_py/aws/route53.py)."""

from __future__ import annotations

from typing import Any

from tscloud_py.aws.route53 import Route53
from tscloud_py.aws.session import ClientFactory
from tscloud_py.dns.base import Provider, Record, Zone, txt_joined, txt_quoted
from tscloud_py.dns.names import normalize


def txt_to_route53(value: str) -> str:
    """A TXT value as Route53 wants it: quoted, split into 255-byte strings."""
    return txt_quoted(value)


def txt_from_route53(value: str) -> str:
    """Join Route53's quoted TXT strings back into one value."""
    return txt_joined(value)


class Route53Provider(Provider):
    name = "route53"
    apex_cname_type = "A"  # an alias A record
    min_ttl = 0

    def __init__(self, factory: ClientFactory, *, zone: str | None = None, zone_id: str | None = None) -> None:
        super().__init__(zone=zone, zone_id=zone_id)
        self.r53 = Route53(factory)

    def _lookup_zone(self, name: str) -> Zone:
        return self._zone_by_id_or_probe(
            name, zone_of_id=self._zone_of_id, probe=self._probe, zone_word="hosted zone",
            missing_hint="create the hosted zone, or set [dns] provider to where the domain's DNS is served")

    def _zone_of_id(self, zone_id: str) -> Zone:
        z = self.r53.get_hosted_zone(zone_id)
        return Zone(z["Id"].split("/")[-1], normalize(z["Name"]))

    def _probe(self, candidate: str) -> Zone | None:
        found = self.r53.find_hosted_zone(candidate)
        return Zone(found["Id"].split("/")[-1], candidate) if found is not None else None

    def pointer_record(self, name: str, hostname: str, *, alias_zone_id: str | None = None,
                       prefer_alias: bool = False, ttl: int = 300) -> Record:
        if prefer_alias and alias_zone_id:
            return Record(name, "A", [hostname], ttl, alias_zone_id=alias_zone_id)
        return super().pointer_record(name, hostname, alias_zone_id=alias_zone_id, ttl=ttl)

    def list_records(self, zone: Zone, name: str | None = None, type: str | None = None) -> list[Record]:
        out: list[Record] = []
        for rrset in self.r53.record_sets(zone.id, normalize(name) if name else None):
            if type and rrset["Type"] != type.upper():
                continue
            if rrset.get("SetIdentifier"):
                continue  # weighted/latency/... sets are not ours to manage
            out.append(self._from_rrset(rrset))
        return out

    @staticmethod
    def _from_rrset(rrset: dict[str, Any]) -> Record:
        alias = rrset.get("AliasTarget")
        if alias:
            target = normalize(alias["DNSName"])
            return Record(rrset["Name"], rrset["Type"], [target], 0, alias_zone_id=alias["HostedZoneId"])
        rtype = rrset["Type"]
        values = [rr["Value"] for rr in rrset.get("ResourceRecords", [])]
        if rtype in ("TXT", "SPF"):
            values = [txt_from_route53(v) for v in values]
        return Record(rrset["Name"], rtype, values, int(rrset.get("TTL", 300)))

    @staticmethod
    def _to_rrset(record: Record) -> dict[str, Any]:
        if record.alias_zone_id:
            return {"Name": record.name + ".", "Type": record.type,
                    "AliasTarget": {"HostedZoneId": record.alias_zone_id, "DNSName": record.values[0] + ".",
                                    "EvaluateTargetHealth": False}}
        values = record.values
        if record.type in ("TXT", "SPF"):
            values = [txt_to_route53(v) for v in values]
        elif record.type in ("CNAME", "NS", "PTR"):
            values = [v + "." for v in values]
        return {"Name": record.name + ".", "Type": record.type, "TTL": record.ttl,
                "ResourceRecords": [{"Value": v} for v in values]}

    def _write(self, zone: Zone, record: Record, current: Record | None) -> None:
        if current is not None and bool(current.alias_zone_id) != bool(record.alias_zone_id):
            # an alias set cannot be UPSERTed into a plain one (or back): replace it
            self.r53.change(zone.id, "DELETE", self._to_rrset(current))
        self.r53.change(zone.id, "UPSERT", self._to_rrset(record))

    def _remove(self, zone: Zone, current: Record) -> None:
        self.r53.change(zone.id, "DELETE", self._to_rrset(current))
