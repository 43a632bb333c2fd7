"""One model of a CloudFront DistributionConfig, as plain data (no boto3, no I/O).

- Values: ``CustomOrigin``, ``S3Origin`` and ``Behavior`` render the API's shapes (``to_api``), with
  CloudFront's fixed values (managed policy ids, method sets) defined once here.
- ``Owned``: what one owner manages in a distribution (top-level settings, origins, behaviors).
- ``merge(live, owned)``: the ONE way to write what we own into a live config. Our top-level settings
  replace theirs; our origins and behaviors replace the live element with the same id / path pattern
  where it stands (keys we do not model survive); new behaviors go in front of the first more general
  one (CloudFront evaluates behaviors in order); everything else is left as it was.
- ``config_changes(live, wanted)``: the ONE comparator, with CloudFront's semantics. Every value of
  ``wanted`` must be in ``live`` (keys CloudFront adds are ignored); a key ``live`` leaves out equals
  only an empty wanted value (``""``, ``None``, a list with no items) -- ``False`` and ``0`` are values.
  Order matters where CloudFront evaluates it (cache behaviors, an origin group's primary-then-secondary
  members); every other list (aliases, methods, headers, error responses, origins...) is a set.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from tscloud_py.aws.cloudfront.patterns import normalize_pattern, pattern_subsumes

# Managed policy ids are fixed by AWS (documented in the CloudFront developer guide).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ORIGIN_REQUEST_ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ORIGIN_REQUEST_CORS_S3 = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
RESPONSE_HEADERS_SECURITY = "67f7725c-6f97-4210-82d7-5512b31e9d03"
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"

ALL_METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE")
READ_METHODS = ("GET", "HEAD")
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"

# An origin is of one kind: writing ours over a live one drops the other kinds' config.
_ORIGIN_KINDS = ("S3OriginConfig", "CustomOriginConfig", "VpcOriginConfig")
# The legacy cache settings cannot stand next to a cache policy.
_LEGACY_CACHE_KEYS = ("ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL")


# -- values -----------------------------------------------------------------------------
def list_api(items: Sequence[Any]) -> dict[str, Any]:
    """CloudFront's list shape; an empty list is ``{"Quantity": 0}`` (no ``Items`` key)."""
    return {"Quantity": len(items), "Items": list(items)} if items else {"Quantity": 0}


def _headers_api(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return list_api([{"HeaderName": k, "HeaderValue": v} for k, v in pairs])


@dataclass(frozen=True)
class CustomOrigin:
    """An HTTP(S) origin: an ALB, an API Gateway domain, a Lambda Function URL."""

    id: str
    domain: str
    origin_path: str = ""
    protocol: str = "https-only"
    http_port: int = 80
    https_port: int = 443
    ssl_protocols: tuple[str, ...] = ("TLSv1.2",)
    read_timeout: int = 30
    keepalive_timeout: int = 5
    connection_attempts: int = 3
    connection_timeout: int = 10
    headers: tuple[tuple[str, str], ...] = ()
    verify_secret: str | None = None  # sent as X-Origin-Verify; never printed in full
    oac_id: str | None = None  # a Lambda OAC signing requests to a Function URL

    def all_headers(self) -> list[tuple[str, str]]:
        pairs = list(self.headers)
        if self.verify_secret is not None:
            pairs.append((ORIGIN_VERIFY_HEADER, self.verify_secret))
        return pairs

    def to_api(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "Id": self.id,
            "DomainName": self.domain,
            "OriginPath": self.origin_path,
            "CustomHeaders": _headers_api(self.all_headers()),
            "CustomOriginConfig": {
                "HTTPPort": self.http_port,
                "HTTPSPort": self.https_port,
                "OriginProtocolPolicy": self.protocol,
                "OriginSslProtocols": list_api(self.ssl_protocols),
                "OriginReadTimeout": self.read_timeout,
                "OriginKeepaliveTimeout": self.keepalive_timeout,
            },
            "ConnectionAttempts": self.connection_attempts,
            "ConnectionTimeout": self.connection_timeout,
            "OriginShield": {"Enabled": False},
        }
        if self.oac_id:
            doc["OriginAccessControlId"] = self.oac_id
        return doc


@dataclass(frozen=True)
class S3Origin:
    """A private bucket (its regional domain) read through Origin Access Control (no legacy OAI)."""

    id: str
    domain: str
    oac_id: str
    origin_path: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    connection_attempts: int = 3
    connection_timeout: int = 10

    def to_api(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "DomainName": self.domain,
            "OriginPath": self.origin_path,
            "CustomHeaders": _headers_api(self.headers),
            "S3OriginConfig": {"OriginAccessIdentity": ""},
            "OriginAccessControlId": self.oac_id,
            "ConnectionAttempts": self.connection_attempts,
            "ConnectionTimeout": self.connection_timeout,
            "OriginShield": {"Enabled": False},
        }


@dataclass(frozen=True)
class VpcOrigin:
    """A private load balancer reached through a CloudFront VPC origin (``vpc_origin_id``); ``domain`` is the
    load balancer's DNS name. Nothing but CloudFront reaches it, so no origin-verify header is sent."""

    id: str
    domain: str
    vpc_origin_id: str
    origin_path: str = ""
    read_timeout: int = 30
    keepalive_timeout: int = 5
    connection_attempts: int = 3
    connection_timeout: int = 10

    def to_api(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "DomainName": self.domain,
            "OriginPath": self.origin_path,
            "CustomHeaders": _headers_api(()),
            "VpcOriginConfig": {"VpcOriginId": self.vpc_origin_id, "OriginReadTimeout": self.read_timeout,
                                "OriginKeepaliveTimeout": self.keepalive_timeout},
            "ConnectionAttempts": self.connection_attempts,
            "ConnectionTimeout": self.connection_timeout,
            "OriginShield": {"Enabled": False},
        }


Origin = CustomOrigin | S3Origin | VpcOrigin


@dataclass(frozen=True)
class Behavior:
    """A cache behavior; the defaults are the ones an API wants. The default behavior has no pattern."""

    path_pattern: str = ""
    allowed_methods: tuple[str, ...] = ALL_METHODS
    cached_methods: tuple[str, ...] = READ_METHODS
    cache_policy_id: str = CACHING_DISABLED
    origin_request_policy_id: str | None = ORIGIN_REQUEST_ALL_VIEWER_EXCEPT_HOST
    response_headers_policy_id: str | None = None
    viewer_protocol_policy: str = "redirect-to-https"
    compress: bool = True
    functions: tuple[tuple[str, str], ...] = ()  # (event type, CloudFront Function ARN)

    def to_api(self, origin_id: str) -> dict[str, Any]:
        doc: dict[str, Any] = {"PathPattern": self.path_pattern} if self.path_pattern else {}
        doc.update({
            "TargetOriginId": origin_id,
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
            "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
            "ViewerProtocolPolicy": self.viewer_protocol_policy,
            "AllowedMethods": {**list_api(self.allowed_methods), "CachedMethods": list_api(self.cached_methods)},
            "SmoothStreaming": False,
            "Compress": self.compress,
            "LambdaFunctionAssociations": {"Quantity": 0},
            "FunctionAssociations": list_api([{"EventType": e, "FunctionARN": a} for e, a in self.functions]),
            "FieldLevelEncryptionId": "",
            "CachePolicyId": self.cache_policy_id,
        })
        if self.origin_request_policy_id:
            doc["OriginRequestPolicyId"] = self.origin_request_policy_id
        if self.response_headers_policy_id:
            doc["ResponseHeadersPolicyId"] = self.response_headers_policy_id
        return doc


class Route(NamedTuple):
    """A behavior and the origin it sends requests to."""

    origin_id: str
    behavior: Behavior


@dataclass(frozen=True)
class Owned:
    """What one owner manages in a distribution.

    ``prune``: behaviors that target one of ``origins`` but are not in ``routes`` are removed (the
    owner lists all of its behaviors); without it, behaviors are only added or replaced.
    """

    settings: Mapping[str, Any] = field(default_factory=dict)
    origins: tuple[Origin, ...] = ()
    routes: tuple[Route, ...] = ()
    default: Route | None = None
    prune: bool = False


# -- merge ------------------------------------------------------------------------------
def items_of(node: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return list((node or {}).get("Items") or [])


def set_items(parent: dict[str, Any], key: str, items: list[dict[str, Any]]) -> None:
    node = parent.setdefault(key, {})
    node["Quantity"] = len(items)
    if items:
        node["Items"] = items
    else:
        node.pop("Items", None)


def placement_index(behaviors: Sequence[Mapping[str, Any]], pattern: str) -> int:
    """Where a new behavior goes: before the first more general (shadowing) one, else last."""
    for i, existing in enumerate(behaviors):
        if pattern_subsumes(str(existing.get("PathPattern", "")), pattern):
            return i
    return len(behaviors)


def behavior_index(behaviors: Sequence[Mapping[str, Any]], pattern: str) -> int | None:
    want = normalize_pattern(pattern)
    return next((i for i, b in enumerate(behaviors) if normalize_pattern(str(b.get("PathPattern", ""))) == want),
                None)


def origin_index(origins: Sequence[Mapping[str, Any]], origin_id: str) -> int | None:
    return next((i for i, o in enumerate(origins) if o.get("Id") == origin_id), None)


def write_over(live: Mapping[str, Any] | None, ours: Mapping[str, Any]) -> dict[str, Any]:
    """One origin or behavior: our keys replace theirs; keys we do not model survive."""
    merged = dict(live or {})
    if any(k in ours for k in _ORIGIN_KINDS):
        for kind in _ORIGIN_KINDS:
            merged.pop(kind, None)
    if "CachePolicyId" in ours:
        for key in _LEGACY_CACHE_KEYS:
            merged.pop(key, None)
    merged.update(copy.deepcopy(dict(ours)))
    return merged


def merge(live: Mapping[str, Any], owned: Owned) -> dict[str, Any]:
    """A copy of ``live`` with what ``owned`` manages written in; nothing else changes, and an element
    that already holds our values is not rewritten (so a merge that changes nothing returns ``live``)."""
    new = copy.deepcopy(dict(live))
    for key, value in owned.settings.items():
        if key not in new or not contains(new[key], value):
            new[key] = copy.deepcopy(value)
    if owned.default is not None:
        api = owned.default.behavior.to_api(owned.default.origin_id)
        if not contains(new.get("DefaultCacheBehavior"), api):
            new["DefaultCacheBehavior"] = write_over(new.get("DefaultCacheBehavior"), api)
    origins = items_of(new.get("Origins"))
    for origin in owned.origins:
        api = origin.to_api()
        at = origin_index(origins, origin.id)
        if at is None:
            origins.append(api)
        elif not contains(origins[at], api):
            origins[at] = write_over(origins[at], api)
    behaviors = items_of(new.get("CacheBehaviors"))
    if owned.prune:
        ours = {o.id for o in owned.origins}
        keep = {normalize_pattern(r.behavior.path_pattern) for r in owned.routes}
        behaviors = [b for b in behaviors if b.get("TargetOriginId") not in ours
                     or normalize_pattern(str(b.get("PathPattern", ""))) in keep]
    for route in owned.routes:
        api = route.behavior.to_api(route.origin_id)
        at = behavior_index(behaviors, route.behavior.path_pattern)
        if at is None:
            behaviors.insert(placement_index(behaviors, route.behavior.path_pattern), api)
        elif not contains(behaviors[at], api):
            behaviors[at] = write_over(behaviors[at], api)
    if items_of(new.get("Origins")) != origins or "Origins" not in new:
        set_items(new, "Origins", origins)
    if items_of(new.get("CacheBehaviors")) != behaviors or "CacheBehaviors" not in new:
        set_items(new, "CacheBehaviors", behaviors)
    return new


# -- compare ----------------------------------------------------------------------------
class Difference(NamedTuple):
    path: str
    old: Any
    new: Any


# Lists CloudFront evaluates in order, by the key that holds them.
_ORDERED = frozenset({"CacheBehaviors", "Members"})


def _empty(value: Any) -> bool:
    if isinstance(value, dict) and "Quantity" in value:
        return not value.get("Items") and all(_empty(v) for k, v in value.items() if k not in ("Quantity", "Items"))
    return value is None or value == "" or value == [] or value == {}


def config_changes(live: Any, wanted: Any, path: str = "") -> list[Difference]:
    """What differs between ``live`` (as CloudFront returns it) and ``wanted``; empty: nothing to write."""
    if isinstance(wanted, dict):
        if not isinstance(live, dict):
            return [Difference(path or "(config)", live, wanted)]
        if "Quantity" in wanted:
            return _list_changes(live, wanted, path)
        out: list[Difference] = []
        for key, value in wanted.items():
            sub = f"{path}.{key}" if path else key
            if key not in live:
                if not _empty(value):
                    out.append(Difference(sub, None, value))
            elif key in ("Origins", "CacheBehaviors") and not path:
                out.extend(_keyed_changes(key, live[key], value))
            else:
                out.extend(config_changes(live[key], value, sub))
        return out
    if isinstance(wanted, list):
        if not isinstance(live, list) or not _same_items(live, wanted, ordered=False):
            return [Difference(path, live, wanted)]
        return []
    if wanted != live:
        return [Difference(path, live, wanted)]
    return []


def contains(live: Any, wanted: Any) -> bool:
    """``config_changes`` as a yes/no: ``live`` already holds every value of ``wanted``."""
    return not config_changes(live, wanted)


def _list_changes(live: Mapping[str, Any], wanted: Mapping[str, Any], path: str) -> list[Difference]:
    """A ``{Quantity, Items, ...}`` shape: the items as one value (a set unless ordered), then the rest."""
    name = path.rsplit(".", 1)[-1]
    have, want = items_of(live), items_of(wanted)
    out: list[Difference] = []
    if not _same_items(have, want, ordered=name in _ORDERED):
        out.append(Difference(path, have, want))
    for key, value in wanted.items():
        if key not in ("Quantity", "Items"):
            out.extend(config_changes(live, {key: value}, path))
    return out


def _same_items(have: Sequence[Any], want: Sequence[Any], *, ordered: bool) -> bool:
    if len(have) != len(want):
        return False
    if ordered:
        return all(contains(h, w) for h, w in zip(have, want, strict=True))
    remaining = list(have)
    for item in want:
        hit = next((i for i, h in enumerate(remaining) if contains(h, item)), None)
        if hit is None:
            return False
        remaining.pop(hit)
    return True


def _keyed_changes(key: str, live: Any, wanted: Mapping[str, Any]) -> list[Difference]:
    """Origins by Id (a set), cache behaviors by path pattern (evaluated in order)."""
    ident = "Id" if key == "Origins" else "PathPattern"
    have = {str(x.get(ident)): x for x in items_of(live if isinstance(live, dict) else None)}
    want = {str(x.get(ident)): x for x in items_of(wanted)}
    out: list[Difference] = []
    for name, item in want.items():
        if name not in have:
            out.append(Difference(f"{key}.{name}", None, item.get("DomainName") or item.get("TargetOriginId")))
        else:
            out.extend(config_changes(have[name], item, f"{key}.{name}"))
    out += [Difference(f"{key}.{name}", item.get("DomainName") or item.get("TargetOriginId"), None)
            for name, item in have.items() if name not in want]
    if key == "CacheBehaviors":
        before = [n for n in have if n in want]
        after = [n for n in want if n in have]
        if before != after:
            out.append(Difference("CacheBehaviors.order", before, after))
    return out
