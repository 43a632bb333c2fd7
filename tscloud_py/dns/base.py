"""The DNS Provider interface every implementation (route53, cloudflare, porkbun, godaddy) follows.

Records are handled as *record sets*: one (name, type) with every value. An
upsert sets the set to exactly the given values (so multi-value TXT keeps every
value, and re-running never duplicates); delete removes the whole set.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from tscloud_py.dns.names import normalize, registrable_domain
from tscloud_py.errors import TscloudError, UsageError

#: the hosted zone id every CloudFront distribution lives in (for Route53 alias records)
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"

#: record types whose values are host names (normalised like names)
HOST_VALUE_TYPES = frozenset({"CNAME", "ALIAS", "NS", "PTR"})


class DnsError(TscloudError):
    """A DNS provider refused or failed a request."""

    default_hint = "check the record and the provider's dashboard; re-run to retry"

    def __init__(self, provider: str, message: str, hint: str | None = None, *, code: str = "DnsError",
                 status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}", hint)
        self.provider = provider
        self.code = code
        self.status = status


class DnsAuthError(DnsError):
    """The provider rejected our credentials."""

    default_hint = "check the provider's API credentials"


#: RFC 1035 3.3: a TXT character-string holds at most 255 bytes
TXT_CHUNK_BYTES = 255
_QUOTED_RUN = re.compile(r'\s*"((?:[^"\\]|\\.)*)"')


def txt_strings(value: str) -> list[str] | None:
    """The character-strings of a TXT value written as quoted strings (``"a" "b"``), unescaped;
    None if the value is not entirely quoted strings (then it is one plain value)."""
    parts: list[str] = []
    pos, text = 0, value.rstrip()
    while pos < len(text):
        m = _QUOTED_RUN.match(text, pos)
        if m is None:
            return None
        parts.append(re.sub(r"\\(.)", r"\1", m.group(1)))
        pos = m.end()
    return parts or None


def txt_quoted(value: str, chunk: int = TXT_CHUNK_BYTES) -> str:
    """A TXT value as quoted character-strings of at most ``chunk`` UTF-8 bytes each (never splitting
    a character), the form Route53 requires and Cloudflare stores."""
    chunks: list[str] = []
    current, size = "", 0
    for ch in value:
        width = len(ch.encode())
        if size + width > chunk:
            chunks.append(current)
            current, size = "", 0
        current += ch
        size += width
    chunks.append(current)
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


def txt_joined(value: str) -> str:
    """One TXT value: quoted character-strings are concatenated (RFC 7208 3.3 reads them so)."""
    strings = txt_strings(value)
    return "".join(strings) if strings is not None else value.strip()


def normalize_value(rtype: str, value: str) -> str:
    """A record value in its canonical form: host names normalised, TXT unquoted."""
    if rtype in HOST_VALUE_TYPES:
        return normalize(value)
    if rtype == "MX":
        parts = value.split()
        if len(parts) == 2:
            return f"{parts[0]} {normalize(parts[1])}"
        return value.strip()
    if rtype == "TXT":
        return txt_joined(value)
    return value.strip()


def split_mx(value: str) -> tuple[int, str]:
    """``"10 mail.example.com"`` -> (10, "mail.example.com"); APIs that keep priority apart need it."""
    parts = value.split()
    if len(parts) == 2 and parts[0].isdigit():
        return int(parts[0]), parts[1]
    return 0, value


def join_mx(priority: Any, host: str) -> str:
    return f"{int(priority or 0)} {host}"


@dataclass(frozen=True)
class Zone:
    id: str
    name: str


@dataclass
class Record:
    """One record set. ``values`` are canonical (see ``normalize_value``).

    ``alias_zone_id`` is set for a Route53 alias record (``values[0]`` is then
    the alias target's DNS name). ``proxied`` is Cloudflare's orange cloud;
    ``None`` means "keep what is there" on update.
    """

    name: str
    type: str
    values: list[str]
    ttl: int = 300
    proxied: bool | None = None
    alias_zone_id: str | None = None
    ids: list[str] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.name = normalize(self.name)
        self.type = self.type.upper()
        seen: list[str] = []
        for v in self.values:
            nv = normalize_value(self.type, v)
            if nv not in seen:
                seen.append(nv)
        if not seen:
            raise UsageError(f"{self.type} record {self.name}: at least one value is needed")
        self.values = seen

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "type": self.type, "values": list(self.values), "ttl": self.ttl}
        if self.proxied is not None:
            doc["proxied"] = self.proxied
        if self.alias_zone_id:
            doc["alias_zone_id"] = self.alias_zone_id
        return doc


def merge_sets(records: list[Record]) -> list[Record]:
    """Group single-value records into record sets (name, type), keeping order."""
    sets: dict[tuple[str, str], Record] = {}
    for r in records:
        key = (r.name, r.type)
        if key in sets:
            s = sets[key]
            s.values.extend(v for v in r.values if v not in s.values)
            s.ids.extend(r.ids)
        else:
            sets[key] = Record(r.name, r.type, list(r.values), r.ttl, r.proxied, r.alias_zone_id, list(r.ids))
    return list(sets.values())


class Provider(ABC):
    """One DNS provider. Subclasses implement zone lookup, listing, writing and removing a set."""

    #: the provider's name, as in [dns] provider
    name: str = ""
    #: how a CNAME at the zone apex is served: "CNAME" (flattened), "ALIAS", "A" (Route53 alias), or None
    apex_cname_type: str | None = None
    #: the smallest TTL the provider accepts
    min_ttl: int = 1
    #: the record types the provider's API takes (None: any)
    record_types: frozenset[str] | None = None

    def __init__(self, *, zone: str | None = None, zone_id: str | None = None) -> None:
        self.zone_override = normalize(zone) if zone else None
        self.zone_id_override = zone_id
        self._zones: dict[str, Zone] = {}  # by queried name
        self._probed: dict[str, Zone | None] = {}  # candidate zone name -> what the provider said

    # -- what subclasses implement ---------------------------------------------
    @abstractmethod
    def _lookup_zone(self, name: str) -> Zone:
        """Find the zone ``name`` lives in (uncached)."""

    @abstractmethod
    def list_records(self, zone: Zone, name: str | None = None, type: str | None = None) -> list[Record]:
        """Record sets in ``zone``, optionally only those at ``name`` and/or of ``type``."""

    @abstractmethod
    def _write(self, zone: Zone, record: Record, current: Record | None) -> None:
        """Make the set (record.name, record.type) exactly ``record``. ``current`` is what exists."""

    @abstractmethod
    def _remove(self, zone: Zone, current: Record) -> None:
        """Remove the whole set ``current``."""

    # -- the interface ------------------------------------------------------------
    @property
    def can_serve_apex_cname(self) -> bool:
        return self.apex_cname_type is not None

    def find_zone(self, name: str) -> Zone:
        norm = normalize(name)
        if norm not in self._zones:
            self._zones[norm] = self._lookup_zone(norm)
        return self._zones[norm]

    def _zone_by_id_or_probe(self, name: str, *, zone_of_id: Callable[[str], Zone],
                             probe: Callable[[str], Zone | None], zone_word: str, missing_hint: str) -> Zone:
        """A configured zone id (checked to contain ``name``), else the most specific candidate zone
        the provider knows (a delegated api.example.com beats example.com). Probes are cached."""
        if self.zone_id_override:
            zone = zone_of_id(self.zone_id_override)
            if name != zone.name and not name.endswith("." + zone.name):
                raise UsageError(f"{self.name}: '{name}' is not inside the {zone_word} {zone.name} ({zone.id})",
                                 "fix [dns] zone_id in tscloud.toml")
            return zone
        candidates = self.zone_candidates(name)
        for candidate in candidates:
            if candidate not in self._probed:
                self._probed[candidate] = probe(candidate)
            found = self._probed[candidate]
            if found is not None:
                return found
        raise UsageError(f"{self.name}: no {zone_word} for {name} (looked for {', '.join(candidates)})",
                         missing_hint)

    def zone_candidates(self, name: str) -> list[str]:
        """Zones ``name`` could live in, most specific first, down to the registrable domain."""
        floor = self.default_zone_name(name)
        if self.zone_override:
            return [floor]
        labels = name.split(".")
        candidates = [".".join(labels[i:]) for i in range(len(labels))]
        return candidates[: candidates.index(floor) + 1] if floor in candidates else [floor]

    def default_zone_name(self, name: str) -> str:
        """The configured zone, else the registrable domain of ``name``."""
        norm = normalize(name)
        if self.zone_override:
            if norm != self.zone_override and not norm.endswith("." + self.zone_override):
                raise UsageError(f"'{norm}' is not inside the configured zone '{self.zone_override}'",
                                 "fix [dns] zone in tscloud.toml")
            return self.zone_override
        return registrable_domain(norm)

    def check_type(self, rtype: str) -> None:
        """Refuse, before any request, a record type the provider's API does not take."""
        if self.record_types is not None and rtype.upper() not in self.record_types:
            raise UsageError(f"{self.name}: record type {rtype.upper()} is not supported",
                             f"{self.name} takes {', '.join(sorted(self.record_types))}")

    def get(self, name: str, type: str) -> Record | None:
        """The record set at (name, type), or None. A CNAME at the apex is looked up as served."""
        self.check_type(type)
        zone = self.find_zone(name)
        rtype = self._served_type(zone, normalize(name), type.upper())
        found = self.list_records(zone, normalize(name), rtype)
        if not found:
            return None
        if rtype == "A" and type.upper() == "CNAME" and not found[0].alias_zone_id:
            return None  # a plain A record at the apex is not what a CNAME there was served as
        return found[0]

    def upsert(self, record: Record) -> str:
        """Make the set exactly ``record``: "created", "updated" or "unchanged". Idempotent."""
        self.check_type(record.type)
        zone = self.find_zone(record.name)
        record = self.served_form(zone, record)
        found = self.list_records(zone, record.name, record.type)
        current = found[0] if found else None
        if current is not None and self.same(current, record):
            return "unchanged"
        self._write(zone, record, current)
        return "updated" if current is not None else "created"

    def delete(self, name: str, type: str) -> bool:
        """Remove the set (name, type). True if something was removed."""
        current = self.get(name, type)
        if current is None:
            return False
        self._remove(self.find_zone(name), current)
        return True

    def pointer_record(self, name: str, hostname: str, *, alias_zone_id: str | None = None,
                       prefer_alias: bool = False, ttl: int = 300) -> Record:
        """The record that points ``name`` at ``hostname`` here: a CNAME, or at the apex what the
        provider serves instead (Cloudflare: flattened CNAME, Porkbun: ALIAS, Route53: alias A).
        ``prefer_alias`` asks Route53 for an alias A record at any name (needs ``alias_zone_id``)."""
        zone = self.find_zone(name)
        return self.served_form(zone, Record(name, "CNAME", [hostname], ttl, alias_zone_id=alias_zone_id))

    def point_to(self, name: str, hostname: str, *, alias_zone_id: str | None = None,
                 prefer_alias: bool = False, ttl: int = 300) -> tuple[Record, str]:
        """Point ``name`` at ``hostname`` (see ``pointer_record``).

        Returns the record as written and "created" | "updated" | "unchanged".
        """
        record = self.pointer_record(name, hostname, alias_zone_id=alias_zone_id, prefer_alias=prefer_alias,
                                     ttl=ttl)
        return record, self.upsert(record)

    # -- shared rules -----------------------------------------------------------
    def effective_ttl(self, ttl: int) -> int:
        return max(ttl, self.min_ttl)

    def same(self, current: Record, wanted: Record) -> bool:
        if sorted(current.values) != sorted(wanted.values):
            return False
        if (current.alias_zone_id or None) != (wanted.alias_zone_id or None):
            return False
        if wanted.proxied is not None and bool(current.proxied) != wanted.proxied:
            return False
        if wanted.alias_zone_id or current.proxied:
            return True  # alias and proxied records have no TTL of their own
        return current.ttl == self.effective_ttl(wanted.ttl)

    def _served_type(self, zone: Zone, name: str, rtype: str) -> str:
        if rtype == "CNAME" and name == zone.name and self.apex_cname_type:
            return self.apex_cname_type
        return rtype

    def served_form(self, zone: Zone, record: Record) -> Record:
        """The record as this provider can serve it: a CNAME at the apex becomes ALIAS/alias A, or is refused."""
        if record.type != "CNAME":
            return record
        if record.name != zone.name:
            return replace(record, alias_zone_id=None)
        if self.apex_cname_type is None:
            raise UsageError(
                f"{self.name} cannot serve a CNAME at the zone apex {record.name} (it has no ALIAS or flattening)",
                f"use www.{record.name} instead, or move the zone to Route53 (dns.provider = \"route53\")")
        if self.apex_cname_type == "CNAME":
            return replace(record, alias_zone_id=None)
        if self.apex_cname_type == "A":
            target = record.values[0]
            zone_id = record.alias_zone_id or (CLOUDFRONT_ZONE_ID if target.endswith(".cloudfront.net") else None)
            if zone_id is None:
                raise UsageError(
                    f"{self.name}: a CNAME at the apex {record.name} becomes an alias A record, which needs "
                    f"the hosted zone id of {target}",
                    "pass the target's hosted zone id (--alias-zone-id; API Gateway regionalHostedZoneId, "
                    "ALB CanonicalHostedZoneId)")
            return replace(record, type="A", values=[target], alias_zone_id=zone_id)
        return replace(record, type=self.apex_cname_type, alias_zone_id=None)

    def __repr__(self) -> str:  # never show credentials
        return f"<{type(self).__name__} {self.name}>"
