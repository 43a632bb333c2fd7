"""`tscloud cloudfront show` as data: origins, then cache behaviors in evaluation order (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tscloud_py.aws.cloudfront.model import (
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    ORIGIN_REQUEST_ALL_VIEWER_EXCEPT_HOST,
    ORIGIN_REQUEST_CORS_S3,
    items_of,
)
from tscloud_py.aws.cloudfront.splice import mask_value

_POLICY_NAMES = {
    CACHING_DISABLED: "CachingDisabled",
    CACHING_OPTIMIZED: "CachingOptimized",
    ORIGIN_REQUEST_ALL_VIEWER_EXCEPT_HOST: "AllViewerExceptHostHeader",
    ORIGIN_REQUEST_CORS_S3: "CORS-S3Origin",
}


def policy_name(policy_id: str | None) -> str:
    if not policy_id:
        return "none"
    return _POLICY_NAMES.get(policy_id, policy_id)


def describe_distribution(dist_id: str, domain_name: str, status: str, config: Mapping[str, Any],
                          etag: str) -> dict[str, Any]:
    """`cloudfront show` as data: origins, then behaviors in evaluation order (default last); secrets masked."""
    origins = []
    for o in items_of(config.get("Origins")):
        custom = o.get("CustomOriginConfig")
        if o.get("S3OriginConfig") is not None or o.get("OriginAccessControlId"):
            oac = o.get("OriginAccessControlId")
            kind = f"s3 (OAC {oac})" if oac else "s3"
        elif o.get("VpcOriginConfig"):
            kind = f"vpc origin {o['VpcOriginConfig'].get('VpcOriginId')}"
        elif custom:
            tls = ",".join((custom.get("OriginSslProtocols") or {}).get("Items") or [])
            kind = f"custom {custom.get('OriginProtocolPolicy')}" + (f" {tls}" if tls else "")
        elif ".s3." in str(o.get("DomainName", "")) or ".s3-" in str(o.get("DomainName", "")):
            kind = "s3"
        else:
            kind = "custom"
        origins.append({
            "id": o.get("Id"), "domain": o.get("DomainName"), "origin_path": o.get("OriginPath") or "",
            "kind": kind,
            "headers": {h.get("HeaderName"): mask_value(str(h.get("HeaderValue", "")))
                        for h in items_of(o.get("CustomHeaders"))},
        })
    behaviors = []
    ordered = [*items_of(config.get("CacheBehaviors")), dict(config.get("DefaultCacheBehavior") or {})]
    for i, b in enumerate(ordered):
        default = i == len(ordered) - 1
        behaviors.append({
            "position": i + 1, "default": default,
            "path_pattern": "*" if default else b.get("PathPattern"),
            "target_origin_id": b.get("TargetOriginId"),
            "viewer_protocol_policy": b.get("ViewerProtocolPolicy"),
            "allowed_methods": list((b.get("AllowedMethods") or {}).get("Items") or []),
            "cache_policy": policy_name(b.get("CachePolicyId")),
            "origin_request_policy": policy_name(b.get("OriginRequestPolicyId")),
            "compress": bool(b.get("Compress")),
        })
    return {
        "id": dist_id, "domain_name": domain_name, "status": status, "enabled": bool(config.get("Enabled")),
        "etag": etag, "aliases": list((config.get("Aliases") or {}).get("Items") or []),
        "origins": origins, "behaviors": behaviors,
    }
