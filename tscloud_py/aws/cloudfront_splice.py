"""Pure functions that splice an origin + cache behavior into a CloudFront DistributionConfig.

No boto3 here: everything works on the plain ``DistributionConfig`` dict that
``GetDistributionConfig`` returns and ``UpdateDistribution`` accepts.

- ``CustomOrigin`` (an ALB, an API Gateway domain, a Lambda Function URL) and
  ``S3Origin`` (a bucket behind Origin Access Control) describe an origin;
  ``Behavior`` describes its cache behavior, with the API defaults (all HTTP
  methods, managed CachingDisabled, managed AllViewerExceptHostHeader,
  redirect-to-https, compression), each overridable.
- ``splice_origin`` / ``remove_origin`` return a new deep copy and touch
  nothing else: every other field, list order and Quantity is preserved.
  Empty lists use the AWS shape ``{"Quantity": 0}`` (no ``Items`` key).
- CloudFront evaluates cache behaviors in list order, so the new behavior goes
  in front of the first existing behavior whose pattern is more general
  (``pattern_subsumes``); otherwise it goes last.
- Refusals are ``UsageError`` subclasses (exit 2, one line).
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tscloud_py.aws.cloudfront_model import (
    ALL_METHODS,
    CACHING_DISABLED,
    ORIGIN_REQUEST_ALL_VIEWER_EXCEPT_HOST,
    READ_METHODS,
)
from tscloud_py.aws.cloudfront_patterns import normalize_pattern, pattern_subsumes
from tscloud_py.errors import TscloudError, UsageError

READ_OPTIONS_METHODS = ("GET", "HEAD", "OPTIONS")
METHOD_SETS = {"all": ALL_METHODS, "get-head": READ_METHODS, "get-head-options": READ_OPTIONS_METHODS}
PROTOCOL_POLICIES = ("https-only", "http-only", "match-viewer")
VIEWER_PROTOCOL_POLICIES = ("redirect-to-https", "https-only", "allow-all")
SSL_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2")
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
DEFAULT_MAX_ORIGINS = 25
DEFAULT_MAX_BEHAVIORS = 25
MAX_CUSTOM_HEADERS = 10

# Headers CloudFront refuses as custom origin headers (CloudFront developer guide).
FORBIDDEN_HEADERS = frozenset(h.lower() for h in (
    "Cache-Control", "Connection", "Content-Length", "Cookie", "Host", "If-Match", "If-Modified-Since",
    "If-None-Match", "If-Range", "If-Unmodified-Since", "Max-Forwards", "Pragma", "Proxy-Authorization",
    "Proxy-Connection", "Range", "Request-Range", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Via",
    "X-Real-Ip",
))
FORBIDDEN_HEADER_PREFIXES = ("x-amz-", "x-edge-")

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_PATTERN_CHARS = re.compile(r"^[A-Za-z0-9_\-.*$/~\"'@:+&?]+$")
_ORIGIN_ID = re.compile(r"^[^\s]{1,128}$")


# -- errors ----------------------------------------------------------------------------
class SpliceError(UsageError):
    """A refused splice/remove: exit 2, nothing written."""

    default_hint = "see `tscloud cloudfront show ID` for the distribution's origins and behaviors"


class ReservedPatternError(SpliceError):
    """`/`, `/*` (or anything as general) belongs to the default behavior."""


class OriginIdCollisionError(SpliceError):
    default_hint = "pass --replace to overwrite it, or pick another --origin-id"


class PathPatternCollisionError(SpliceError):
    default_hint = "pass --replace to overwrite that behavior, or pick another --path-pattern"


class DefaultOriginError(SpliceError):
    default_hint = "the default behavior must keep its origin; change it in the distribution itself"


class OriginInUseError(SpliceError):
    default_hint = "remove the origin from the origin group first"


class MalformedDomainError(SpliceError):
    default_hint = "pass a bare host name, e.g. my-alb-123.us-east-1.elb.amazonaws.com (no scheme, no path)"


class InvalidOriginError(SpliceError):
    pass


class QuotaExceededError(SpliceError):
    default_hint = "remove an unused origin/behavior first, or request a CloudFront quota increase"


class UnknownDistributionError(UsageError):
    default_hint = "list distributions with `aws cloudfront list-distributions`"


class SpliceConflictError(TscloudError):
    """Someone kept changing the distribution between our read and our write."""

    default_hint = "another writer keeps changing this distribution; re-run when it is quiet"


# -- origin and behavior descriptions ----------------------------------------------------
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

    def all_headers(self) -> list[tuple[str, str]]:
        pairs = list(self.headers)
        if self.verify_secret is not None:
            pairs.append((ORIGIN_VERIFY_HEADER, self.verify_secret))
        return pairs

    def validate(self) -> None:
        _validate_common(self.id, self.domain, self.origin_path, self.all_headers())
        if self.protocol not in PROTOCOL_POLICIES:
            raise InvalidOriginError(f"--protocol: expected one of {', '.join(PROTOCOL_POLICIES)}, "
                                     f"got {self.protocol!r}")
        for name, port in (("HTTP port", self.http_port), ("HTTPS port", self.https_port)):
            if not 1 <= port <= 65535:
                raise InvalidOriginError(f"origin {self.id}: {name} must be 1-65535, got {port}")
        if not self.ssl_protocols or any(p not in SSL_PROTOCOLS for p in self.ssl_protocols):
            raise InvalidOriginError(f"origin {self.id}: SSL protocols must be among {', '.join(SSL_PROTOCOLS)}")
        for name, value, lo, hi in (("read timeout", self.read_timeout, 1, 180),
                                    ("keepalive timeout", self.keepalive_timeout, 1, 180),
                                    ("connection attempts", self.connection_attempts, 1, 3),
                                    ("connection timeout", self.connection_timeout, 1, 10)):
            if not lo <= value <= hi:
                raise InvalidOriginError(f"origin {self.id}: {name} must be {lo}-{hi}, got {value}")
        if self.verify_secret is not None and len(self.verify_secret) < 16:
            raise InvalidOriginError(f"origin {self.id}: the origin-verify secret must be at least 16 characters")

    def to_api(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "DomainName": self.domain,
            "OriginPath": self.origin_path,
            "CustomHeaders": _headers_api(self.all_headers()),
            "CustomOriginConfig": {
                "HTTPPort": self.http_port,
                "HTTPSPort": self.https_port,
                "OriginProtocolPolicy": self.protocol,
                "OriginSslProtocols": {"Quantity": len(self.ssl_protocols), "Items": list(self.ssl_protocols)},
                "OriginReadTimeout": self.read_timeout,
                "OriginKeepaliveTimeout": self.keepalive_timeout,
            },
            "ConnectionAttempts": self.connection_attempts,
            "ConnectionTimeout": self.connection_timeout,
            "OriginShield": {"Enabled": False},
        }


@dataclass(frozen=True)
class S3Origin:
    """A bucket origin (its regional domain) read through Origin Access Control."""

    id: str
    domain: str
    oac_id: str
    origin_path: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    connection_attempts: int = 3
    connection_timeout: int = 10

    def validate(self) -> None:
        _validate_common(self.id, self.domain, self.origin_path, list(self.headers))
        if ".s3" not in self.domain or not self.domain.endswith((".amazonaws.com", ".amazonaws.com.cn")):
            raise MalformedDomainError(f"--domain: {self.domain!r} is not an S3 bucket domain "
                                       "(<bucket>.s3.<region>.amazonaws.com)")
        if not re.fullmatch(r"[A-Za-z0-9]{1,64}", self.oac_id):
            raise InvalidOriginError(f"--s3-oac-id: {self.oac_id!r} is not an Origin Access Control id")

    def to_api(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "DomainName": self.domain,
            "OriginPath": self.origin_path,
            "CustomHeaders": _headers_api(list(self.headers)),
            "S3OriginConfig": {"OriginAccessIdentity": ""},
            "OriginAccessControlId": self.oac_id,
            "ConnectionAttempts": self.connection_attempts,
            "ConnectionTimeout": self.connection_timeout,
            "OriginShield": {"Enabled": False},
        }


Origin = CustomOrigin | S3Origin


@dataclass(frozen=True)
class Behavior:
    """A cache behavior; the defaults are the ones an API wants."""

    path_pattern: str
    allowed_methods: tuple[str, ...] = ALL_METHODS
    cached_methods: tuple[str, ...] = READ_METHODS
    cache_policy_id: str = CACHING_DISABLED
    origin_request_policy_id: str | None = ORIGIN_REQUEST_ALL_VIEWER_EXCEPT_HOST
    response_headers_policy_id: str | None = None
    viewer_protocol_policy: str = "redirect-to-https"
    compress: bool = True

    def validate(self) -> None:
        validate_path_pattern(self.path_pattern)
        if self.viewer_protocol_policy not in VIEWER_PROTOCOL_POLICIES:
            raise SpliceError(f"--viewer-protocol-policy: expected one of {', '.join(VIEWER_PROTOCOL_POLICIES)}, "
                              f"got {self.viewer_protocol_policy!r}")
        if tuple(sorted(self.allowed_methods)) not in {tuple(sorted(m)) for m in METHOD_SETS.values()}:
            raise SpliceError("--allowed-methods: expected GET,HEAD or GET,HEAD,OPTIONS or all seven methods")
        if not set(self.cached_methods) <= set(self.allowed_methods) or \
                tuple(sorted(self.cached_methods)) not in {("GET", "HEAD"), ("GET", "HEAD", "OPTIONS")}:
            raise SpliceError("cached methods must be GET,HEAD or GET,HEAD,OPTIONS and within the allowed methods")
        if not self.cache_policy_id:
            raise SpliceError("--cache-policy-id: must not be empty")

    def to_api(self, origin_id: str) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "PathPattern": self.path_pattern,
            "TargetOriginId": origin_id,
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
            "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
            "ViewerProtocolPolicy": self.viewer_protocol_policy,
            "AllowedMethods": {
                "Quantity": len(self.allowed_methods),
                "Items": list(self.allowed_methods),
                "CachedMethods": {"Quantity": len(self.cached_methods), "Items": list(self.cached_methods)},
            },
            "SmoothStreaming": False,
            "Compress": self.compress,
            "LambdaFunctionAssociations": {"Quantity": 0},
            "FunctionAssociations": {"Quantity": 0},
            "FieldLevelEncryptionId": "",
            "CachePolicyId": self.cache_policy_id,
        }
        if self.origin_request_policy_id:
            doc["OriginRequestPolicyId"] = self.origin_request_policy_id
        if self.response_headers_policy_id:
            doc["ResponseHeadersPolicyId"] = self.response_headers_policy_id
        return doc


@dataclass(frozen=True)
class Limits:
    max_origins: int = DEFAULT_MAX_ORIGINS
    max_behaviors: int = DEFAULT_MAX_BEHAVIORS


def function_url_origin(origin_id: str, function_url: str, **kw: Any) -> CustomOrigin:
    """A Lambda Function URL (``https://abc.lambda-url.us-east-1.on.aws/``) as a custom origin."""
    host = re.sub(r"^https://", "", function_url.strip()).rstrip("/")
    return CustomOrigin(origin_id, host, **kw)


# -- validation -------------------------------------------------------------------------
def validate_domain(domain: str) -> None:
    """A bare DNS host name: no scheme, no port, no path, at least two labels."""
    bad = MalformedDomainError(f"--domain: {domain!r} is not a host name")
    if not domain or len(domain) > 253 or "." not in domain.strip("."):
        raise bad
    labels = domain[:-1].split(".") if domain.endswith(".") else domain.split(".")
    if not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise bad


def validate_path_pattern(pattern: str) -> None:
    if not pattern or len(pattern) > 255 or not _PATTERN_CHARS.match(pattern):
        raise SpliceError(f"--path-pattern: {pattern!r} is not a CloudFront path pattern "
                          "(1-255 of A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & and the wildcards * ?)")
    if normalize_pattern(pattern) == "/" or pattern_subsumes(pattern, "/*"):
        raise ReservedPatternError(f"--path-pattern: {pattern!r} matches every path; that is the default "
                                   "behavior, which this command never changes")


def _validate_common(origin_id: str, domain: str, origin_path: str, headers: list[tuple[str, str]]) -> None:
    if not _ORIGIN_ID.match(origin_id):
        raise InvalidOriginError(f"--origin-id: {origin_id!r} must be 1-128 characters without spaces")
    validate_domain(domain)
    if origin_path and (not origin_path.startswith("/") or origin_path.endswith("/") or "*" in origin_path
                        or "?" in origin_path or len(origin_path) > 255):
        raise InvalidOriginError(f"--origin-path: {origin_path!r} must start with / and not end with / "
                                 "(e.g. /prod)")
    if len(headers) > MAX_CUSTOM_HEADERS:
        raise InvalidOriginError(f"--header: at most {MAX_CUSTOM_HEADERS} custom origin headers")
    seen: set[str] = set()
    for name, value in headers:
        low = name.lower()
        if not _HEADER_NAME.match(name) or low in FORBIDDEN_HEADERS or low.startswith(FORBIDDEN_HEADER_PREFIXES):
            raise InvalidOriginError(f"--header: {name!r} cannot be a CloudFront custom origin header")
        if low in seen:
            raise InvalidOriginError(f"--header: {name!r} given twice")
        if not value or len(value) > 1783:
            raise InvalidOriginError(f"--header: {name} needs a value of 1-1783 characters")
        seen.add(low)


def _headers_api(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    if not pairs:
        return {"Quantity": 0}
    return {"Quantity": len(pairs), "Items": [{"HeaderName": k, "HeaderValue": v} for k, v in pairs]}


def placement_index(behaviors: list[dict[str, Any]], pattern: str) -> int:
    """Where a new behavior goes: before the first more general (shadowing) one, else last."""
    for i, existing in enumerate(behaviors):
        if pattern_subsumes(str(existing.get("PathPattern", "")), pattern):
            return i
    return len(behaviors)


# -- matching ---------------------------------------------------------------------------
def _is_empty(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_is_empty(v) for v in value.values())
    return value in (None, "", False, 0, [])


def contains(existing: Any, desired: Any) -> bool:
    """Whether ``existing`` (as read back from CloudFront) already holds ``desired``.

    Keys CloudFront adds are ignored; a key it leaves out counts as equal to an
    empty desired value; list order is not significant (AWS reorders methods).
    """
    if isinstance(desired, dict):
        if not isinstance(existing, dict):
            return False
        return all(contains(existing[k], v) if k in existing else _is_empty(v) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(existing, list) or len(existing) != len(desired):
            return False
        remaining = list(existing)
        for item in desired:
            hit = next((i for i, e in enumerate(remaining) if contains(e, item)), None)
            if hit is None:
                return False
            remaining.pop(hit)
        return True
    return bool(existing == desired)


# -- splice / remove --------------------------------------------------------------------
def items_of(node: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return list((node or {}).get("Items") or [])


def _set_items(parent: dict[str, Any], key: str, items: list[dict[str, Any]]) -> None:
    node = parent.setdefault(key, {})
    node["Quantity"] = len(items)
    if items:
        node["Items"] = items
    else:
        node.pop("Items", None)


def origin_ids(config: Mapping[str, Any]) -> list[str]:
    return [str(o["Id"]) for o in items_of(config.get("Origins"))]


def default_origin_id(config: Mapping[str, Any]) -> str:
    return str((config.get("DefaultCacheBehavior") or {}).get("TargetOriginId", ""))


def splice_origin(config: Mapping[str, Any], origin: Origin, behavior: Behavior, *, replace: bool = False,
                  limits: Limits | None = None) -> dict[str, Any]:
    """A copy of ``config`` with ``origin`` and its ``behavior`` in place; nothing else changes.

    Already there (identical): an unchanged copy. Origin id or path pattern
    taken by something different: refused unless ``replace`` (then replaced
    where it stands).
    """
    origin.validate()
    behavior.validate()
    limits = limits or Limits()
    new = copy.deepcopy(dict(config))
    want_origin = origin.to_api()
    want_behavior = behavior.to_api(origin.id)
    pattern = normalize_pattern(behavior.path_pattern)
    if default_origin_id(new) == origin.id:
        raise DefaultOriginError(f"--origin-id: {origin.id!r} is the default behavior's origin; "
                                 "this command never changes the default behavior")

    origins = items_of(new.get("Origins"))
    behaviors = items_of(new.get("CacheBehaviors"))
    o_idx = next((i for i, o in enumerate(origins) if o.get("Id") == origin.id), None)
    b_idx = next((i for i, b in enumerate(behaviors)
                  if normalize_pattern(str(b.get("PathPattern", ""))) == pattern), None)
    same_origin = o_idx is not None and contains(origins[o_idx], want_origin)
    same_behavior = b_idx is not None and contains(behaviors[b_idx], want_behavior)
    if same_origin and same_behavior:
        return new
    if o_idx is not None and not same_origin and not replace:
        raise OriginIdCollisionError(f"--origin-id: origin {origin.id!r} already exists with a different "
                                     f"configuration (domain {origins[o_idx].get('DomainName')})")
    if b_idx is not None and not same_behavior and not replace:
        target = behaviors[b_idx].get("TargetOriginId")
        raise PathPatternCollisionError(f"--path-pattern: {behavior.path_pattern!r} already has a behavior "
                                        f"(target origin {target!r})")

    if o_idx is None:
        origins.append(want_origin)
    elif not same_origin:
        origins[o_idx] = want_origin
    if b_idx is None:
        behaviors.insert(placement_index(behaviors, behavior.path_pattern), want_behavior)
    elif not same_behavior:
        behaviors[b_idx] = want_behavior

    if o_idx is None and len(origins) > limits.max_origins:
        raise QuotaExceededError(f"origin quota: the distribution would have {len(origins)} origins "
                                 f"(limit {limits.max_origins})")
    if b_idx is None and len(behaviors) > limits.max_behaviors:
        raise QuotaExceededError(f"cache-behavior quota: the distribution would have {len(behaviors)} cache "
                                 f"behaviors (limit {limits.max_behaviors})")
    _set_items(new, "Origins", origins)
    _set_items(new, "CacheBehaviors", behaviors)
    return new


def remove_origin(config: Mapping[str, Any], origin_id: str) -> dict[str, Any]:
    """A copy of ``config`` without ``origin_id`` and the behaviors that target it.

    An origin that is not there: an unchanged copy.
    """
    new = copy.deepcopy(dict(config))
    if default_origin_id(new) == origin_id:
        raise DefaultOriginError(f"--origin-id: {origin_id!r} is the default behavior's origin; "
                                 "refusing to remove it")
    origins = items_of(new.get("Origins"))
    if not any(o.get("Id") == origin_id for o in origins):
        return new
    for group in items_of(new.get("OriginGroups")):
        members = items_of(group.get("Members") or {})
        if any(m.get("OriginId") == origin_id for m in members):
            raise OriginInUseError(f"--origin-id: {origin_id!r} is a member of origin group {group.get('Id')!r}")
    _set_items(new, "Origins", [o for o in origins if o.get("Id") != origin_id])
    behaviors = items_of(new.get("CacheBehaviors"))
    kept = [b for b in behaviors if b.get("TargetOriginId") != origin_id]
    if len(kept) != len(behaviors):
        _set_items(new, "CacheBehaviors", kept)
    return new


@dataclass
class SpliceResult:
    """What attach/detach did (or, with ``dry_run``, would do)."""

    distribution_id: str
    status: str  # created | updated | deleted | unchanged
    previous: dict[str, Any]
    config: dict[str, Any]
    etag: str
    attempts: int = 1
    dry_run: bool = False
    written: bool = False

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"

    def changes(self) -> list[str]:
        return summarize_changes(self.previous, self.config).lines

    def diff(self) -> str:
        return render_diff(self.previous, self.config)

    def to_json(self) -> dict[str, Any]:
        return {
            "distribution_id": self.distribution_id,
            "status": self.status,
            "dry_run": self.dry_run,
            "written": self.written,
            "attempts": self.attempts,
            "etag": self.etag,
            "changes": self.changes(),
        }


def splice_status(previous: Mapping[str, Any], new: Mapping[str, Any], origin_id: str) -> str:
    if previous == new:
        return "unchanged"
    before, after = origin_id in origin_ids(previous), origin_id in origin_ids(new)
    if after and not before:
        return "created"
    if before and not after:
        return "deleted"
    return "updated"


# -- rendering --------------------------------------------------------------------------
def mask_value(value: str) -> str:
    """``abcd…(32 chars)``: never the whole secret (short values show no prefix at all)."""
    prefix = value[:4] if len(value) >= 12 else ""
    return f"{prefix}…({len(value)} chars)"


def mask_secrets(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with every custom origin header value masked (they carry origin-verify secrets)."""
    masked = copy.deepcopy(dict(config))
    for origin in items_of(masked.get("Origins")):
        for header in items_of(origin.get("CustomHeaders")):
            header["HeaderValue"] = mask_value(str(header.get("HeaderValue", "")))
    return masked


@dataclass
class ChangeSummary:
    lines: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.lines


def summarize_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> ChangeSummary:
    """One line per origin/behavior added, removed, changed or moved; then other top-level keys."""
    out = ChangeSummary()
    old_o = {o["Id"]: o for o in items_of(old.get("Origins"))}
    new_o = {o["Id"]: o for o in items_of(new.get("Origins"))}
    for oid, o in new_o.items():
        if oid not in old_o:
            out.lines.append(f"+ origin {oid} -> {o.get('DomainName')}{o.get('OriginPath') or ''}")
        elif old_o[oid] != o:
            out.lines.append(f"~ origin {oid} -> {o.get('DomainName')}{o.get('OriginPath') or ''}")
    out.lines += [f"- origin {oid}" for oid in old_o if oid not in new_o]
    old_b = items_of(old.get("CacheBehaviors"))
    new_b = items_of(new.get("CacheBehaviors"))
    old_pos = {b.get("PathPattern"): (i, b) for i, b in enumerate(old_b)}
    new_pats = {b.get("PathPattern") for b in new_b}
    for i, b in enumerate(new_b):
        pat = b.get("PathPattern")
        where = f"(position {i + 1} of {len(new_b)}, then default)"
        if pat not in old_pos:
            out.lines.append(f"+ behavior {pat} -> {b.get('TargetOriginId')} {where}")
        elif old_pos[pat][1] != b:
            out.lines.append(f"~ behavior {pat} -> {b.get('TargetOriginId')} {where}")
    out.lines += [f"- behavior {p} -> {b.get('TargetOriginId')}" for p, (_, b) in old_pos.items()
                  if p not in new_pats]
    for key in sorted(set(old) | set(new)):
        if key not in ("Origins", "CacheBehaviors") and old.get(key) != new.get(key):
            out.lines.append(f"~ {key}")
    return out


def _json_lines(value: Any) -> list[str]:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str).splitlines()


def _element_diff(title: str, old: Any, new: Any) -> list[str]:
    if old is None:
        return [f"+ {title}", *(f"+   {line}" for line in _json_lines(new))]
    if new is None:
        return [f"- {title}", *(f"-   {line}" for line in _json_lines(old))]
    body = difflib.unified_diff(_json_lines(old), _json_lines(new), lineterm="", n=2)
    return [f"~ {title}", *(f"  {line}" for line in list(body)[2:])]


def render_diff(old: Mapping[str, Any], new: Mapping[str, Any], *, label: str = "distribution config") -> str:
    """A readable diff for --dry-run: a summary, then each changed origin / behavior / key (secrets masked)."""
    summary = summarize_changes(old, new)
    if summary.empty:
        return f"no changes to the {label}"
    old_m, new_m = mask_secrets(old), mask_secrets(new)
    out = [*summary.lines, ""]
    old_o = {o["Id"]: o for o in items_of(old_m.get("Origins"))}
    new_o = {o["Id"]: o for o in items_of(new_m.get("Origins"))}
    for oid in [*new_o, *(k for k in old_o if k not in new_o)]:
        if old_o.get(oid) != new_o.get(oid):
            out += _element_diff(f"origin {oid}", old_o.get(oid), new_o.get(oid))
    old_b = {b.get("PathPattern"): b for b in items_of(old_m.get("CacheBehaviors"))}
    new_b = {b.get("PathPattern"): b for b in items_of(new_m.get("CacheBehaviors"))}
    for pat in [*new_b, *(k for k in old_b if k not in new_b)]:
        if old_b.get(pat) != new_b.get(pat):
            out += _element_diff(f"cache behavior {pat}", old_b.get(pat), new_b.get(pat))
    if list(old_b) != list(new_b):
        out.append(f"  evaluation order: {', '.join(map(str, old_b)) or '(none)'} -> "
                   f"{', '.join(map(str, new_b)) or '(none)'} (then default)")
    for key in [k for k in new_m if k not in ("Origins", "CacheBehaviors")] + \
               [k for k in old_m if k not in new_m]:
        if old_m.get(key) != new_m.get(key):
            out += _element_diff(key, old_m.get(key), new_m.get(key))
    return "\n".join(out)
