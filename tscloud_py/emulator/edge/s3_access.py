"""Whether a bucket policy lets a distribution read an object, as S3 decides for an OAC-signed request.

With origin access control CloudFront signs the origin request as the service
principal ``cloudfront.amazonaws.com`` with ``AWS:SourceArn`` set to the
distribution's ARN. S3 then evaluates the bucket policy: an explicit Deny wins,
else an Allow is needed. Without OAC (or an OAI) the request is anonymous.
A missing key is 404 only if the caller may also ListBucket; otherwise S3
answers 403, which is why a SPA fallback maps both.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from tscloud_py.emulator.fidelity.iam import conditions_met

CLOUDFRONT_SERVICE = "cloudfront.amazonaws.com"


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _principal_matches(principal: Any, service: str | None) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if "*" in _listed(principal.get("AWS")):
        return True
    return service is not None and service in _listed(principal.get("Service"))


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _listed(statement["NotAction"]))
    return any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _listed(statement.get("Action")))


def _resource_matches(statement: Mapping[str, Any], resource: str) -> bool:
    if "NotResource" in statement:
        return not any(fnmatch.fnmatchcase(resource, r) for r in _listed(statement["NotResource"]))
    return any(fnmatch.fnmatchcase(resource, r) for r in _listed(statement.get("Resource")))


def policy_allows(policy: Mapping[str, Any] | None, *, action: str, resource: str,
                  source_arn: str | None) -> bool:
    """S3's verdict for the edge's request: the OAC service principal when ``source_arn`` is set, else anonymous."""
    if not policy:
        return False
    service = CLOUDFRONT_SERVICE if source_arn else None
    context = {"aws:SecureTransport": "true"}
    if source_arn:
        context.update({"AWS:SourceArn": source_arn, "AWS:SourceAccount": source_arn.split(":")[4]})
    allowed = False
    statements = policy.get("Statement") or []
    for st in statements if isinstance(statements, list) else [statements]:
        if "NotPrincipal" in st or not _principal_matches(st.get("Principal"), service):
            continue
        if not (_action_matches(st, action) and _resource_matches(st, resource)):
            continue
        condition = st.get("Condition")
        if condition and not conditions_met(condition, context):
            continue
        if st.get("Effect") == "Deny":
            return False
        if st.get("Effect") == "Allow":
            allowed = True
    return allowed


def object_read(policy: Mapping[str, Any] | None, bucket: str, key: str, source_arn: str | None) -> str:
    """``allowed``, ``denied`` or ``allowed-with-list`` (a missing key may then be reported as 404)."""
    if not policy_allows(policy, action="s3:GetObject", resource=f"arn:aws:s3:::{bucket}/{key}",
                         source_arn=source_arn):
        return "denied"
    if policy_allows(policy, action="s3:ListBucket", resource=f"arn:aws:s3:::{bucket}", source_arn=source_arn):
        return "allowed-with-list"
    return "allowed"
