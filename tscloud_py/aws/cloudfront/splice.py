"""`tscloud cloudfront add-origin` / `remove-origin` as pure functions on a DistributionConfig.

The origins, behaviors, merge and comparator are ``aws/cloudfront/model.py``'s; this module adds what the
command refuses (validation, collisions, quotas: ``UsageError`` subclasses, exit 2, one line),
``remove_origin``, and the dry-run rendering. No boto3 here.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tscloud_py.aws.cloudfront.model import (
    ALL_METHODS,
    READ_METHODS,
    Behavior,
    CustomOrigin,
    Origin,
    Owned,
    Route,
    S3Origin,
    VpcOrigin,
    behavior_index,
    config_changes,
    contains,
    items_of,
    merge,
    origin_index,
    set_items,
)
from tscloud_py.aws.cloudfront.patterns import normalize_pattern, pattern_subsumes
from tscloud_py.errors import TscloudError, UsageError

READ_OPTIONS_METHODS = ("GET", "HEAD", "OPTIONS")
METHOD_SETS = {"all": ALL_METHODS, "get-head": READ_METHODS, "get-head-options": READ_OPTIONS_METHODS}
PROTOCOL_POLICIES = ("https-only", "http-only", "match-viewer")
VIEWER_PROTOCOL_POLICIES = ("redirect-to-https", "https-only", "allow-all")
SSL_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2")
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


# -- validation of the model's values ----------------------------------------------------
def validate_custom_origin(origin: CustomOrigin) -> None:
    _validate_common(origin.id, origin.domain, origin.origin_path, origin.all_headers())
    if origin.protocol not in PROTOCOL_POLICIES:
        raise InvalidOriginError(f"--protocol: expected one of {', '.join(PROTOCOL_POLICIES)}, "
                                 f"got {origin.protocol!r}")
    for name, port in (("HTTP port", origin.http_port), ("HTTPS port", origin.https_port)):
        if not 1 <= port <= 65535:
            raise InvalidOriginError(f"origin {origin.id}: {name} must be 1-65535, got {port}")
    if not origin.ssl_protocols or any(p not in SSL_PROTOCOLS for p in origin.ssl_protocols):
        raise InvalidOriginError(f"origin {origin.id}: SSL protocols must be among {', '.join(SSL_PROTOCOLS)}")
    for name, value, lo, hi in (("read timeout", origin.read_timeout, 1, 180),
                                ("keepalive timeout", origin.keepalive_timeout, 1, 180),
                                ("connection attempts", origin.connection_attempts, 1, 3),
                                ("connection timeout", origin.connection_timeout, 1, 10)):
        if not lo <= value <= hi:
            raise InvalidOriginError(f"origin {origin.id}: {name} must be {lo}-{hi}, got {value}")
    if origin.verify_secret is not None and len(origin.verify_secret) < 16:
        raise InvalidOriginError(f"origin {origin.id}: the origin-verify secret must be at least 16 characters")


def validate_s3_origin(origin: S3Origin) -> None:
    _validate_common(origin.id, origin.domain, origin.origin_path, list(origin.headers))
    if ".s3" not in origin.domain or not origin.domain.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        raise MalformedDomainError(f"--domain: {origin.domain!r} is not an S3 bucket domain "
                                   "(<bucket>.s3.<region>.amazonaws.com)")
    if not re.fullmatch(r"[A-Za-z0-9]{1,64}", origin.oac_id):
        raise InvalidOriginError(f"--s3-oac-id: {origin.oac_id!r} is not an Origin Access Control id")


def validate_vpc_origin(origin: VpcOrigin) -> None:
    _validate_common(origin.id, origin.domain, origin.origin_path, [])
    if not re.fullmatch(r"vo_[A-Za-z0-9]{1,64}", origin.vpc_origin_id):
        raise InvalidOriginError(f"origin {origin.id}: {origin.vpc_origin_id!r} is not a VPC origin id")


def validate_origin(origin: Origin) -> None:
    if isinstance(origin, S3Origin):
        validate_s3_origin(origin)
    elif isinstance(origin, VpcOrigin):
        validate_vpc_origin(origin)
    else:
        validate_custom_origin(origin)


def validate_behavior(behavior: Behavior) -> None:
    validate_path_pattern(behavior.path_pattern)
    if behavior.viewer_protocol_policy not in VIEWER_PROTOCOL_POLICIES:
        raise SpliceError(f"--viewer-protocol-policy: expected one of {', '.join(VIEWER_PROTOCOL_POLICIES)}, "
                          f"got {behavior.viewer_protocol_policy!r}")
    if tuple(sorted(behavior.allowed_methods)) not in {tuple(sorted(m)) for m in METHOD_SETS.values()}:
        raise SpliceError("--allowed-methods: expected GET,HEAD or GET,HEAD,OPTIONS or all seven methods")
    if not set(behavior.cached_methods) <= set(behavior.allowed_methods) or \
            tuple(sorted(behavior.cached_methods)) not in {("GET", "HEAD"), ("GET", "HEAD", "OPTIONS")}:
        raise SpliceError("cached methods must be GET,HEAD or GET,HEAD,OPTIONS and within the allowed methods")
    if not behavior.cache_policy_id:
        raise SpliceError("--cache-policy-id: must not be empty")


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
    """A bare DNS host name: no scheme, no port, no path, at least two labels; or a loopback name
    (localhost, 127.0.0.1), which only the local edge serves: a server on this machine."""
    bad = MalformedDomainError(f"--domain: {domain!r} is not a host name")
    if domain == "localhost" or re.fullmatch(r"127(\.\d{1,3}){3}", domain):
        return
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


# -- splice / remove --------------------------------------------------------------------
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
    validate_origin(origin)
    validate_behavior(behavior)
    limits = limits or Limits()
    if default_origin_id(config) == origin.id:
        raise DefaultOriginError(f"--origin-id: {origin.id!r} is the default behavior's origin; "
                                 "this command never changes the default behavior")
    origins = items_of(config.get("Origins"))
    behaviors = items_of(config.get("CacheBehaviors"))
    o_idx = origin_index(origins, origin.id)
    b_idx = behavior_index(behaviors, behavior.path_pattern)
    if o_idx is not None and not replace and not contains(origins[o_idx], origin.to_api()):
        raise OriginIdCollisionError(f"--origin-id: origin {origin.id!r} already exists with a different "
                                     f"configuration (domain {origins[o_idx].get('DomainName')})")
    if b_idx is not None and not replace and not contains(behaviors[b_idx], behavior.to_api(origin.id)):
        target = behaviors[b_idx].get("TargetOriginId")
        raise PathPatternCollisionError(f"--path-pattern: {behavior.path_pattern!r} already has a behavior "
                                        f"(target origin {target!r})")
    new = merge(config, Owned(origins=(origin,), routes=(Route(origin.id, behavior),)))
    if o_idx is None and len(items_of(new.get("Origins"))) > limits.max_origins:
        raise QuotaExceededError(f"origin quota: the distribution would have {len(origins) + 1} origins "
                                 f"(limit {limits.max_origins})")
    if b_idx is None and len(items_of(new.get("CacheBehaviors"))) > limits.max_behaviors:
        raise QuotaExceededError(f"cache-behavior quota: the distribution would have {len(behaviors) + 1} cache "
                                 f"behaviors (limit {limits.max_behaviors})")
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
    set_items(new, "Origins", [o for o in origins if o.get("Id") != origin_id])
    behaviors = items_of(new.get("CacheBehaviors"))
    kept = [b for b in behaviors if b.get("TargetOriginId") != origin_id]
    if len(kept) != len(behaviors):
        set_items(new, "CacheBehaviors", kept)
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
    if not config_changes(previous, new) and not config_changes(new, previous):
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
    import difflib  # a dry run's rendering only

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
