"""Steps shared by presets: an ACM certificate validated through any DNS provider, one DNS record, and a
log group.

``CertificateStep`` finds (or requests) a certificate for exactly the given
names, writes the DNS validation CNAMEs through the configured provider and
waits for ISSUED. ``DnsRecordStep`` points a name at a host name another step
produced (a distribution, an API Gateway domain, a load balancer).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from tscloud_py.aws.acm import Acm
from tscloud_py.aws.logs import Logs
from tscloud_py.dns.base import Provider, Record
from tscloud_py.dns.names import normalize
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, PendingOutput, Step, StepContext
from tscloud_py.presets.naming import Names


class CertificateStep(Step):
    """An ACM certificate for ``domains``, validated by DNS records written through ``provider``.

    Outputs ``certificate_arn``. A certificate tagged for this app/stage/step is
    ours (destroy deletes it and its validation records); an ISSUED certificate
    that already covers every name is reused and never deleted.
    """

    kind = "ACM certificate"
    provides = frozenset({"certificate_arn", "reused"})

    def __init__(self, step_id: str, acm: Acm, provider: Provider, domains: list[str], names: Names) -> None:
        self.id = step_id
        self.needs = ()
        self.acm = acm
        self.provider = provider
        self.domains = list(dict.fromkeys(normalize(d) for d in domains))
        self.names = names

    @property
    def tags(self) -> dict[str, str]:
        return self.names.tags(self.id)

    def _observed(self, cert: dict[str, Any], owned: bool) -> dict[str, Any]:
        return {"arn": cert["CertificateArn"], "status": cert.get("Status"), "owned": owned,
                "names": self.acm.names(cert)}

    def read(self, ctx: StepContext) -> Any | None:
        recorded = ctx.recorded("certificate_arn")
        if recorded and f":{self.acm.region}:" in recorded:  # fast path: the journal's hint, verified
            cert = self.acm.describe(recorded)
            if cert and cert.get("Status") in ("ISSUED", "PENDING_VALIDATION"):
                names = sorted(set(self.acm.names(cert)))
                tags = self.acm.tags(recorded)
                owned = all(tags.get(k) == v for k, v in self.tags.items())
                if (owned and names == sorted(self.domains)) or (not owned and cert.get("Status") == "ISSUED"):
                    return self._observed(cert, owned)
        cert = self.acm.find_tagged(self.domains, self.tags)
        if cert is not None:
            return self._observed(cert, True)
        cert = self.acm.find_issued(self.domains)
        if cert is not None:
            return self._observed(cert, False)
        return None

    def _request(self) -> str:
        """Request the certificate with an idempotency token, so a request whose answer was lost and that
        is sent again makes no second certificate. ACM honours a token for an hour, answering with the
        certificate it made even once that is gone (deleted by a destroy, say): then the token is spent,
        and the next is derived from the ARN it answered, so a resend of that request is idempotent too."""
        seed = "/".join([self.names.app, self.names.stage, self.id, self.acm.region, *sorted(self.domains)])
        for _attempt in range(5):
            token = hashlib.sha256(seed.encode()).hexdigest()[:32]  # ACM: at most 32 word characters
            arn = self.acm.request(self.domains, token=token, tags=self.tags)
            cert = self.acm.describe(arn)
            if cert is not None and sorted(set(self.acm.names(cert))) == sorted(self.domains):
                return arn
            seed += "/" + arn
        from tscloud_py.errors import AwsError

        raise AwsError("acm:RequestCertificate", "IdempotentParameterMismatch",
                       f"ACM keeps answering with certificates that are gone or for other names (last {arn})")

    def _missing_validation(self, arn: str) -> list[dict[str, str]]:
        cert = self.acm.describe(arn) or {}
        missing = []
        for option in cert.get("DomainValidationOptions") or []:
            rr = option.get("ResourceRecord")
            if not rr:
                continue
            current = self.provider.get(rr["Name"], "CNAME")
            if current is None or current.values != [normalize(rr["Value"])]:
                missing.append({"name": normalize(rr["Name"]), "value": normalize(rr["Value"])})
        return missing

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is None:
            return [Change("certificate", None, ", ".join(self.domains))]
        changes = []
        if observed["status"] != "ISSUED":
            changes.append(Change("status", observed["status"], "ISSUED"))
        if observed["owned"]:
            changes += [Change(f"validation CNAME {m['name']}", None, m["value"])
                        for m in self._missing_validation(observed["arn"])]
        return changes

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        if observed is None:
            arn = self._request()
            ctx.log(f"requested a certificate for {', '.join(self.domains)} in {self.acm.region}")
            owned = True
        else:
            arn, owned = observed["arn"], observed["owned"]
        written: list[str] = []
        if owned:
            records = self.acm.validation_records(arn, clock=ctx.clock, progress=ctx.progress())
            for rr in records:
                # never proxied: ACM must see the CNAME itself
                status = self.provider.upsert(Record(rr["name"], "CNAME", [rr["value"]], 300, proxied=False))
                if status != "unchanged":
                    ctx.log(f"validation CNAME {rr['name']} {status} at {self.provider.name}")
                written.append(rr["name"])
        self.acm.wait_issued(arn, clock=ctx.clock, progress=ctx.progress())
        if written:
            ctx.log(f"validated through {', '.join(written)}")
        return {"certificate_arn": arn, "reused": not owned}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"certificate_arn": observed["arn"], "reused": not observed["owned"]}

    def destroy_changes(self, observed: Any) -> list[Change]:
        if not observed.get("owned"):
            return [Change("keep (a certificate this app did not create)")]
        return [Change("delete certificate and its validation CNAMEs", destructive=True)]

    def _shared(self, arn: str, domain: str, record_name: str) -> bool:
        """Whether another live certificate (this region) validates through the same record (ACM reuses
        one validation CNAME per name and account, so a renewal elsewhere may still need it)."""
        for cert in self.acm.certificates_covering([domain], ("ISSUED", "PENDING_VALIDATION")):
            if cert["CertificateArn"] == arn:
                continue
            for option in cert.get("DomainValidationOptions") or []:
                rr = option.get("ResourceRecord")
                if rr and normalize(rr["Name"]) == record_name:
                    return True
        return False

    def destroy(self, ctx: StepContext, observed: Any) -> str | None:
        if not observed.get("owned"):
            ctx.log(f"kept {observed['arn']}: not created by this app")
            return "kept"
        arn = observed["arn"]
        cert = self.acm.describe(arn) or {}
        for option in cert.get("DomainValidationOptions") or []:
            rr = option.get("ResourceRecord")
            if not rr:
                continue
            name, value = normalize(rr["Name"]), normalize(rr["Value"])
            if self._shared(arn, option["DomainName"], name):
                ctx.log(f"kept validation CNAME {name}: another certificate for {option['DomainName']} uses it")
                continue
            current = self.provider.get(name, "CNAME")
            if current is not None and current.values == [value]:
                self.provider.delete(name, "CNAME")
        self.acm.delete(arn, clock=ctx.clock, progress=ctx.progress())
        return None


class DnsRecordStep(Step):
    """Points ``name`` at the host name another step outputs (``target``).

    ``record_type`` "CNAME" writes a CNAME (at the apex: what the provider
    serves instead); "ALIAS" asks for a Route53 alias A record where the
    provider is Route53 (needs ``alias_zone_id``, a literal or an output
    reference), and behaves like "CNAME" elsewhere. Destroy removes the record
    only while it still points where this step pointed it.
    """

    kind = "DNS record"
    provides = frozenset({"name", "type", "value"})

    def __init__(self, step_id: str, provider: Provider, name: str, target: Ref[str], *,
                 record_type: str = "CNAME", alias_zone_id: str | Ref[str | None] | None = None,
                 needs: Sequence[str]) -> None:
        self.id = step_id
        self.provider = provider
        self.name = normalize(name)
        self.target = target
        self.record_type = record_type.upper()
        self.alias_zone_id = alias_zone_id
        self.needs = tuple(needs)

    def _target(self, ctx: StepContext) -> str:
        return normalize(str(ctx.get(self.target)))

    def _alias_zone(self, ctx: StepContext) -> str | None:
        if isinstance(self.alias_zone_id, Ref):
            value = ctx.get(self.alias_zone_id)
            return str(value) if value else None
        return self.alias_zone_id

    def _record(self, target: str, alias_zone: str | None) -> Record:
        if self.record_type in ("CNAME", "ALIAS"):
            return self.provider.pointer_record(self.name, target, alias_zone_id=alias_zone,
                                                prefer_alias=self.record_type == "ALIAS")
        return Record(self.name, self.record_type, [target], alias_zone_id=alias_zone)

    def _served_type(self, ctx: StepContext) -> str:
        try:
            return self._record(self._target(ctx), self._alias_zone(ctx)).type
        except PendingOutput:
            # the target is not known yet: the type only depends on the name (and the provider)
            return self._record("target.invalid", "Z0").type

    def read(self, ctx: StepContext) -> Any | None:
        current = self.provider.get(self.name, self._served_type(ctx))
        return current.to_json() if current is not None else None

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        wanted = self._record(self._target(ctx), self._alias_zone(ctx))
        if observed is None:
            return [Change(f"{wanted.type} {self.name}", None, wanted.values[0])]
        if not self.provider.same(Record(**observed), wanted):
            return [Change(f"{wanted.type} {self.name}", observed["values"], wanted.values[0])]
        return []

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        wanted = self._record(self._target(ctx), self._alias_zone(ctx))
        status = self.provider.upsert(wanted)
        ctx.log(f"{wanted.type} {self.name} -> {wanted.values[0]} {status} at {self.provider.name}")
        return {"name": self.name, "type": wanted.type, "value": wanted.values[0]}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"name": self.name, "type": observed["type"], "value": observed["values"][0]}

    def _ours(self, ctx: StepContext) -> str | None:
        """Where this config points the name (from the target step's live read), None when unknown."""
        try:
            return normalize(self._record(self._target(ctx), self._alias_zone(ctx)).values[0])
        except PendingOutput:
            return None

    def destroy_disagreement(self, ctx: StepContext, observed: Any) -> str | None:
        recorded, ours = ctx.recorded("value"), self._ours(ctx)
        values = observed.get("values") or []
        if recorded is None or ours is None or normalize(str(recorded)) == ours:
            return None
        if values == [normalize(str(recorded))]:
            return (f"the journal says this app pointed {observed['type']} {self.name} at {values[0]}, where it "
                    f"points now, but this config points it at {ours}")
        return None

    def destroy(self, ctx: StepContext, observed: Any) -> str | None:
        # The record goes only while it points where this config points it: never on the journal's word.
        ours = self._ours(ctx)
        if ours is None or (observed.get("values") or []) != [ours]:
            ctx.log(f"kept {observed['type']} {self.name}: it does not point where this app pointed it")
            return "kept"
        self.provider.delete(self.name, observed["type"])
        return None

    def destroy_changes(self, observed: Any) -> list[Change]:
        return [Change(f"delete {observed['type']} {self.name} -> {', '.join(observed.get('values') or [])}",
                       destructive=False)]


class LogGroupStep(Step):
    """A CloudWatch log group with a retention: where a function or a container writes."""

    kind = "CloudWatch log group"
    provides = frozenset({"log_group", "log_group_arn"})

    def __init__(self, step_id: str, logs: Logs, name: str, retention_days: int, names: Names) -> None:
        self.id, self.logs, self.name, self.retention = step_id, logs, name, retention_days
        self.names = names

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        return self.logs.group(self.name)

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        if observed is None:
            return [Change(f"create log group {self.name} ({self.retention} days)")]
        if observed.get("retentionInDays") != self.retention:
            return [Change("retention_days", observed.get("retentionInDays"), self.retention)]
        return []

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        if observed is None:
            self.logs.create(self.name, self.names.tags(self.id))
        self.logs.set_retention(self.name, self.retention)
        return self.outputs(ctx, self.logs.group(self.name) or {})

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        return {"log_group": self.name, "log_group_arn": str(observed.get("arn", "")).removesuffix(":*")}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.logs.delete(self.name)
