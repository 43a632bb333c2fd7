"""How CloudFront picks what serves a request, as pure functions over a DistributionConfig.

Cache behaviors are evaluated in the order the distribution lists them and the
first whose path pattern matches the request path wins; the default behavior
(pattern ``*``) comes last. Patterns are case-sensitive and match the path
only, never the query string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tscloud_py.aws.cloudfront.patterns import pattern_matches


def items_of(block: Any) -> list[dict[str, Any]]:
    if not isinstance(block, Mapping):
        return []
    return [dict(i) for i in (block.get("Items") or [])]


@dataclass(frozen=True)
class Behavior:
    position: int  # 1-based, in evaluation order
    pattern: str
    target_origin_id: str
    default: bool
    viewer_protocol_policy: str = "allow-all"
    allowed_methods: tuple[str, ...] = ("GET", "HEAD")
    response_headers_policy_id: str | None = None
    cache_policy_id: str | None = None
    functions: dict[str, str] = field(default_factory=dict)  # event type -> function ARN
    lambda_at_edge: tuple[str, ...] = ()

    def label(self) -> str:
        return f"{self.position} {self.pattern}" + (" (default)" if self.default else "")


def _behavior(position: int, doc: Mapping[str, Any], default: bool) -> Behavior:
    methods = tuple((doc.get("AllowedMethods") or {}).get("Items") or ("GET", "HEAD"))
    functions = {str(f.get("EventType")): str(f.get("FunctionARN"))
                 for f in items_of(doc.get("FunctionAssociations"))}
    at_edge = tuple(str(f.get("EventType")) for f in items_of(doc.get("LambdaFunctionAssociations")))
    return Behavior(position=position, pattern="*" if default else str(doc.get("PathPattern")),
                    target_origin_id=str(doc.get("TargetOriginId")), default=default,
                    viewer_protocol_policy=str(doc.get("ViewerProtocolPolicy") or "allow-all"),
                    allowed_methods=methods,
                    response_headers_policy_id=doc.get("ResponseHeadersPolicyId") or None,
                    cache_policy_id=doc.get("CachePolicyId") or None,
                    functions=functions, lambda_at_edge=at_edge)


def behaviors_of(config: Mapping[str, Any]) -> list[Behavior]:
    """Every cache behavior in evaluation order, the default last."""
    listed = items_of(config.get("CacheBehaviors"))
    out = [_behavior(i + 1, b, False) for i, b in enumerate(listed)]
    out.append(_behavior(len(listed) + 1, config.get("DefaultCacheBehavior") or {}, True))
    return out


def match_behavior(behaviors: list[Behavior], path: str) -> Behavior:
    """The first behavior whose pattern matches ``path`` (the URL path, no query string)."""
    for behavior in behaviors:
        if behavior.default or pattern_matches(behavior.pattern, path):
            return behavior
    raise ValueError("a distribution always has a default cache behavior")


def origin_by_id(config: Mapping[str, Any], origin_id: str) -> dict[str, Any] | None:
    return next((o for o in items_of(config.get("Origins")) if o.get("Id") == origin_id), None)


def apply_default_root_object(config: Mapping[str, Any], uri: str) -> str:
    """CloudFront serves DefaultRootObject for the root URL only, never for a subdirectory."""
    root = str(config.get("DefaultRootObject") or "")
    if uri == "/" and root:
        return "/" + root.lstrip("/")
    return uri


@dataclass(frozen=True)
class ErrorResponse:
    page_path: str | None
    response_code: int


def custom_error_response(config: Mapping[str, Any], status: int) -> ErrorResponse | None:
    """The distribution's custom error response for an origin's ``status``, if any (4xx/5xx only)."""
    if status < 400:
        return None
    for item in items_of(config.get("CustomErrorResponses")):
        if int(item.get("ErrorCode", 0)) != status:
            continue
        page = item.get("ResponsePagePath") or None
        code = str(item.get("ResponseCode") or "").strip()
        return ErrorResponse(page_path=page, response_code=int(code) if code else status)
    return None


def origin_key(origin_path: str, uri: str) -> str:
    """The S3 key for ``uri`` under an origin path: CloudFront prefixes the path, then drops the leading slash."""
    prefix = "/" + origin_path.strip("/") if origin_path.strip("/") else ""
    return (prefix + uri).lstrip("/")
