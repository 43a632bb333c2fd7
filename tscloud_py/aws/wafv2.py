"""WAFv2 web ACLs of scope CLOUDFRONT: they live in us-east-1 whatever the stage's region.

``WebAclSpec`` is what a preset wants (rules as values, rendered once by ``api()`` and compared with what
WAF describes by ``differences``). Updates and deletes carry the LockToken WAF handed out with the last
read; a token gone stale (someone wrote in between) is answered WAFOptimisticLockException, and the
client reads again and resends, as the distribution's ETag round trip does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from tscloud_py.aws._tags import tag_list, tags_dict
from tscloud_py.aws.retry import codes, create_or_adopt, retrying
from tscloud_py.aws.session import call, ignoring
from tscloud_py.errors import AwsError

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory

CLOUDFRONT_REGION = "us-east-1"
SCOPE = "CLOUDFRONT"
NOT_FOUND = ("WAFNonexistentItemException",)
STALE_TOKEN = "WAFOptimisticLockException"
# arn:aws:wafv2:us-east-1:123456789012:global/webacl/NAME/ID (global: scope CLOUDFRONT; regional otherwise)
ACL_ARN = re.compile(r"arn:aws[a-z-]*:wafv2:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<scope>global|regional)/"
                     r"webacl/(?P<name>[\w-]{1,128})/(?P<id>[0-9a-f-]{1,36})")
# where the local edge reads a viewer's country (CloudFront adds it for origins; on loopback the viewer sends it)
COUNTRY_HEADER = "CloudFront-Viewer-Country"
# where WAF reports its metrics: BlockedRequests, CountedRequests, by WebACL and Rule (their MetricNames)
WAF_NAMESPACE = "AWS/WAFV2"


def parse_acl_arn(arn: str) -> dict[str, str] | None:
    """The ARN's region, account, scope (global|regional), name and id; None for anything else."""
    match = ACL_ARN.fullmatch(arn)
    return match.groupdict() if match else None


def _visibility(metric: str) -> dict[str, Any]:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": metric}


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "root"


@dataclass(frozen=True)
class WebAclSpec:
    """A web ACL allowing by default, with rules in this order: countries, each path's rate limit, the
    general rate limit, the managed rule groups. ``count`` mode counts what each rule would block."""

    name: str
    mode: Literal["block", "count"] = "block"
    rate_limit: int = 2000
    path_limits: tuple[tuple[str, int], ...] = ()
    managed: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    description: str = ""

    @property
    def _action(self) -> dict[str, Any]:
        return {"Count": {}} if self.mode == "count" else {"Block": {}}

    def rule_names(self) -> list[str]:
        return [r["Name"] for r in self.rules()]

    def rules(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = []

        def add(name: str, statement: dict[str, Any], *, managed: bool = False) -> None:
            rule: dict[str, Any] = {"Name": name, "Priority": len(rules), "Statement": statement,
                                    "VisibilityConfig": _visibility(f"{self.name}-{name}")}
            if managed:
                rule["OverrideAction"] = {"Count": {}} if self.mode == "count" else {"None": {}}
            else:
                rule["Action"] = self._action
            rules.append(rule)

        if self.countries:
            add("block-countries", {"GeoMatchStatement": {"CountryCodes": list(self.countries)}})
        for path, limit in self.path_limits:
            scope_down = {"ByteMatchStatement": {
                "SearchString": path.encode(), "FieldToMatch": {"UriPath": {}},
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "STARTS_WITH"}}
            add(f"rate-limit-{_slug(path)}", {"RateBasedStatement": {
                "Limit": limit, "AggregateKeyType": "IP", "EvaluationWindowSec": 300,
                "ScopeDownStatement": scope_down}})
        add("rate-limit", {"RateBasedStatement": {"Limit": self.rate_limit, "AggregateKeyType": "IP",
                                                  "EvaluationWindowSec": 300}})
        for group in self.managed:
            add(group, {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": group}}, managed=True)
        return rules

    def api(self) -> dict[str, Any]:
        """What CreateWebACL and UpdateWebACL take besides the name, scope, id and token."""
        doc = {"DefaultAction": {"Allow": {}}, "Rules": self.rules(), "VisibilityConfig": _visibility(self.name)}
        return {**doc, "Description": self.description} if self.description else doc

    def differences(self, live: dict[str, Any]) -> list[tuple[str, Any, Any]]:
        """(what, live, wanted) for each thing we set that WAF describes otherwise (its defaults ignored)."""
        out: list[tuple[str, Any, Any]] = []
        wanted = self.api()
        for key in ("DefaultAction", "VisibilityConfig", "Description"):
            if key in wanted and not _holds(live.get(key), wanted[key]):
                out.append((key, live.get(key), wanted[key]))
        live_rules = {r.get("Name"): r for r in live.get("Rules") or []}
        if sorted(live_rules, key=str) != sorted(self.rule_names()):
            out.append(("Rules", sorted(map(str, live_rules)), self.rule_names()))
            return out
        for rule in wanted["Rules"]:
            if not _holds(live_rules[rule["Name"]], rule):
                out.append((f"Rules.{rule['Name']}", _shown(live_rules[rule["Name"]]), _shown(rule)))
        return out


def _shown(rule: dict[str, Any]) -> dict[str, Any]:
    return {k: rule.get(k) for k in ("Priority", "Action", "OverrideAction", "Statement") if rule.get(k) is not None}


def _holds(live: Any, wanted: Any) -> bool:
    """Whether ``live`` has every value of ``wanted``; keys WAF adds (its defaults) are ignored."""
    if isinstance(wanted, dict):
        return isinstance(live, dict) and all(_holds(live.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(live, list) and len(live) == len(wanted) and all(map(_holds, live, wanted))
    if isinstance(wanted, bytes) and isinstance(live, (bytes, str)):
        return (live.encode() if isinstance(live, str) else live) == wanted
    return bool(live == wanted)


@dataclass(frozen=True)
class WebAcl:
    name: str
    id: str
    arn: str
    lock_token: str
    config: dict[str, Any] = field(default_factory=dict)


class Wafv2:
    def __init__(self, factory: ClientFactory) -> None:
        self.c = factory.client("wafv2", CLOUDFRONT_REGION)
        self.create_c = factory.client("wafv2", CLOUDFRONT_REGION, once=True)

    def _summaries(self) -> Iterator[dict[str, Any]]:
        marker: str | None = None
        while True:
            page = call(self.c.list_web_acls, "wafv2:ListWebACLs", Scope=SCOPE, Limit=100,
                        **({"NextMarker": marker} if marker else {}))
            yield from page.get("WebACLs", [])
            marker = page.get("NextMarker")
            if not marker or not page.get("WebACLs"):
                return

    def find(self, name: str) -> WebAcl | None:
        for summary in self._summaries():
            if summary.get("Name") == name:
                return self.get(name, str(summary["Id"]))
        return None

    def get(self, name: str, acl_id: str) -> WebAcl | None:
        with ignoring(*NOT_FOUND):
            out = call(self.c.get_web_acl, "wafv2:GetWebACL", Name=name, Scope=SCOPE, Id=acl_id)
            acl = out["WebACL"]
            return WebAcl(str(acl["Name"]), str(acl["Id"]), str(acl["ARN"]), str(out["LockToken"]), dict(acl))
        return None

    def get_by_arn(self, arn: str) -> WebAcl | None:
        parts = parse_acl_arn(arn)
        return self.get(parts["name"], parts["id"]) if parts and parts["scope"] == "global" else None

    def tags(self, arn: str) -> dict[str, str]:
        out = call(self.c.list_tags_for_resource, "wafv2:ListTagsForResource", ResourceARN=arn)
        return tags_dict(out.get("TagInfoForResource", {}).get("TagList"))

    def tag(self, arn: str, tags: dict[str, str]) -> None:
        call(self.c.tag_resource, "wafv2:TagResource", ResourceARN=arn, Tags=tag_list(tags))

    def create(self, spec: WebAclSpec, tags: dict[str, str]) -> WebAcl:
        def create() -> WebAcl:
            call(self.create_c.create_web_acl, "wafv2:CreateWebACL", Name=spec.name, Scope=SCOPE,
                 **({"Tags": tag_list(tags)} if tags else {}), **spec.api())
            found = self.find(spec.name)
            assert found is not None, "WAF answered CreateWebACL but lists no such web ACL"
            return found

        return create_or_adopt(create, lambda: self.find(spec.name), "wafv2:CreateWebACL",
                               exists=("WAFDuplicateItemException",))

    def _with_fresh_token(self, acl: WebAcl, send: Callable[[WebAcl], None], what: str) -> None:
        """``send`` with the token we hold; on a stale token, read again and resend (a few times)."""
        current = [acl]

        def attempt() -> None:
            try:
                send(current[0])
            except AwsError as exc:
                fresh = self.get(acl.name, acl.id) if exc.code == STALE_TOKEN else None
                if fresh is not None:
                    current[0] = fresh
                raise

        retrying(codes(STALE_TOKEN), what=what, attempts=5, waits=lambda n: min(2.0, 0.2 * n))(attempt)

    def update(self, acl: WebAcl, spec: WebAclSpec) -> None:
        self._with_fresh_token(acl, lambda a: call(
            self.c.update_web_acl, "wafv2:UpdateWebACL", Name=a.name, Scope=SCOPE, Id=a.id, LockToken=a.lock_token,
            **spec.api()), f"web ACL {acl.name} changed under us")

    def delete(self, acl: WebAcl) -> None:
        with ignoring(*NOT_FOUND):
            self._with_fresh_token(acl, lambda a: call(
                self.c.delete_web_acl, "wafv2:DeleteWebACL", Name=a.name, Scope=SCOPE, Id=a.id,
                LockToken=a.lock_token), f"web ACL {acl.name} changed under us")
