"""ACM: find, request, validate (DNS) and delete certificates.

Region rule (the caller picks): us-east-1 for CloudFront; the API's own region
for API Gateway regional domain names and for ALB listeners.
"""

from __future__ import annotations

from typing import Any

from tscloud_py.aws.session import ClientFactory, call, ignoring, paginate
from tscloud_py.aws.waiters import Clock, Poll, ProgressCallback, WaitPolicy, wait_for
from tscloud_py.errors import AwsError

LIVE_STATUSES = ("ISSUED", "PENDING_VALIDATION")
BAD_STATUSES = ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE")


def _norm(name: str) -> str:
    return name.strip().rstrip(".").lower()


def covers(pattern: str, name: str) -> bool:
    """Whether a certificate name (exact, or ``*.example.com``) covers ``name``."""
    p, n = _norm(pattern), _norm(name)
    if p == n:
        return True
    if p.startswith("*."):
        base = p[2:]
        return n.endswith("." + base) and "." not in n[: -len(base) - 1]
    return False


def covers_all(cert_names: list[str], wanted: list[str]) -> bool:
    return all(any(covers(c, w) for c in cert_names) for w in wanted)


class Acm:
    def __init__(self, factory: ClientFactory, region: str) -> None:
        self.factory = factory
        self.region = region

    @property
    def client(self) -> Any:
        return self.factory.client("acm", self.region)

    # -- reading -----------------------------------------------------------------
    def describe(self, arn: str) -> dict[str, Any] | None:
        with ignoring("ResourceNotFoundException"):
            cert: dict[str, Any] = call(self.client.describe_certificate, "acm:DescribeCertificate",
                                        CertificateArn=arn)["Certificate"]
            return cert
        return None

    def names(self, cert: dict[str, Any]) -> list[str]:
        names = [_norm(n) for n in cert.get("SubjectAlternativeNames") or []]
        main = _norm(cert.get("DomainName", ""))
        return names if main in names else [main, *names]

    def tags(self, arn: str) -> dict[str, str]:
        with ignoring("ResourceNotFoundException"):
            resp = call(self.client.list_tags_for_certificate, "acm:ListTagsForCertificate", CertificateArn=arn)
            return {t["Key"]: t.get("Value", "") for t in resp.get("Tags", [])}
        return {}

    def summaries(self, statuses: tuple[str, ...] = LIVE_STATUSES) -> list[dict[str, Any]]:
        return list(paginate(self.client, "list_certificates", "CertificateSummaryList",
                             CertificateStatuses=list(statuses)))

    def certificates_covering(self, domains: list[str], statuses: tuple[str, ...], *,
                              subject: str | None = None) -> list[dict[str, Any]]:
        """Full descriptions of certificates whose names cover every domain, newest first
        (only those whose subject is ``subject``, when given: saves a describe per other certificate)."""
        out = []
        for summary in self.summaries(statuses):
            if subject is not None and _norm(summary.get("DomainName", "")) != _norm(subject):
                continue
            listed = summary.get("SubjectAlternativeNameSummaries")
            if listed and not summary.get("HasAdditionalSubjectAlternativeNames") and not covers_all(listed, domains):
                continue
            cert = self.describe(summary["CertificateArn"])
            if cert is not None and cert.get("Status") in statuses and covers_all(self.names(cert), domains):
                out.append(cert)
        out.sort(key=lambda c: str(c.get("CreatedAt") or ""), reverse=True)
        return out

    def find_issued(self, domains: list[str]) -> dict[str, Any] | None:
        """An ISSUED certificate covering every name (exact or by wildcard), or None."""
        found = self.certificates_covering(domains, ("ISSUED",))
        return found[0] if found else None

    def find_tagged(self, domains: list[str], tags: dict[str, str]) -> dict[str, Any] | None:
        """An ISSUED or PENDING_VALIDATION certificate for exactly these names carrying all ``tags``
        (requested by ``request``, so its subject is ``domains[0]``)."""
        wanted = sorted({_norm(d) for d in domains})
        for cert in self.certificates_covering(domains, LIVE_STATUSES, subject=domains[0]):
            if sorted(set(self.names(cert))) != wanted:
                continue
            have = self.tags(cert["CertificateArn"])
            if all(have.get(k) == v for k, v in tags.items()):
                return cert
        return None

    # -- writing -----------------------------------------------------------------
    def request(self, domains: list[str], *, token: str, tags: dict[str, str]) -> str:
        """Request a DNS-validated certificate for ``domains`` (the first is the subject)."""
        names = [_norm(d) for d in domains]
        resp = call(self.client.request_certificate, "acm:RequestCertificate", DomainName=names[0],
                    SubjectAlternativeNames=names, ValidationMethod="DNS", IdempotencyToken=token[:32],
                    Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        return str(resp["CertificateArn"])

    def validation_records(self, arn: str, *, clock: Clock | None = None, progress: ProgressCallback | None = None,
                           policy: WaitPolicy | None = None) -> list[dict[str, str]]:
        """The DNS validation CNAMEs (name, type, value), deduplicated. ACM fills them in asynchronously."""

        def check() -> Poll[list[dict[str, str]]]:
            cert = self.describe(arn)
            if cert is None:
                raise AwsError("acm:DescribeCertificate", "ResourceNotFoundException", f"{arn} disappeared")
            options = cert.get("DomainValidationOptions") or []
            records = [o.get("ResourceRecord") for o in options]
            if cert.get("Status") == "ISSUED" and not any(records):
                return Poll.finished([], "issued")
            if not options or not all(records):
                return Poll.pending("waiting for validation records")
            out: dict[str, dict[str, str]] = {}
            for rr in records:
                assert rr is not None
                name = _norm(rr["Name"])
                out[name] = {"name": name, "type": str(rr.get("Type", "CNAME")), "value": _norm(rr["Value"])}
            return Poll.finished(list(out.values()), "ready")

        return wait_for(check, what="ACM validation records", clock=clock, progress=progress,
                        policy=policy or WaitPolicy(timeout=300, first_interval=1, max_interval=5))

    def wait_issued(self, arn: str, *, clock: Clock | None = None, progress: ProgressCallback | None = None,
                    policy: WaitPolicy | None = None) -> dict[str, Any]:
        """Wait until the certificate is ISSUED; a failed validation raises with ACM's reason."""

        def check() -> Poll[dict[str, Any]]:
            cert = self.describe(arn)
            if cert is None:
                raise AwsError("acm:DescribeCertificate", "ResourceNotFoundException", f"{arn} disappeared")
            status = str(cert.get("Status"))
            if status == "ISSUED":
                return Poll.finished(cert, status)
            if status in BAD_STATUSES:
                reason = cert.get("FailureReason") or status
                raise AwsError("acm:DescribeCertificate", f"Certificate{status.title().replace('_', '')}",
                               f"certificate {arn} is {status}: {reason}",
                               "check that the validation CNAMEs are served by the domain's DNS, then re-run")
            return Poll.pending(status.lower().replace("_", " "))

        return wait_for(check, what="certificate ISSUED", clock=clock, progress=progress,
                        policy=policy or WaitPolicy(timeout=3600, first_interval=5, max_interval=30))

    def delete(self, arn: str, *, clock: Clock | None = None, progress: ProgressCallback | None = None) -> None:
        """Delete the certificate; waits (bounded) while AWS still reports it in use after a detach."""

        def attempt() -> Poll[bool]:
            try:
                with ignoring("ResourceNotFoundException"):
                    call(self.client.delete_certificate, "acm:DeleteCertificate", CertificateArn=arn)
            except AwsError as exc:
                if exc.code == "ResourceInUseException":
                    return Poll.pending("in use")
                raise
            return Poll.finished(True, "deleted")

        wait_for(attempt, what="certificate released", clock=clock, progress=progress,
                 policy=WaitPolicy(timeout=600, first_interval=5, max_interval=30))
