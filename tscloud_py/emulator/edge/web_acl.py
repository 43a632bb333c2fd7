"""The web ACL a distribution names (its WebACLId), applied to each viewer request before anything else, as
CloudFront hands every request to WAF first.

Emulated: rate-based rules per client IP (requests counted over the rule's EvaluationWindowSec, a scope-down
byte match on the URI path), geo match by the ``CloudFront-Viewer-Country`` header the viewer sends (there
is no geolocation on loopback: a test or a person sets it), Block (403, CloudFront's error page) and Count
(let through, counted). Each verdict is reported to the emulator's CloudWatch the way WAF reports it
(namespace AWS/WAFV2, BlockedRequests / CountedRequests, dimensions WebACL and Rule), so `tscloud status`
reads local counts exactly as it reads AWS's. AWS managed rule groups are not emulated: a request passes
them, and a note header says so.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tscloud_py.aws.cloudwatch import CloudWatch, Metric
from tscloud_py.aws.wafv2 import COUNTRY_HEADER, WAF_NAMESPACE, Wafv2
from tscloud_py.emulator.edge.origins import EdgeRequest, EdgeResponse, error_page


@dataclass
class Verdict:
    blocked_by: str | None = None  # the rule whose Block ended the evaluation
    counted: list[str] = field(default_factory=list)  # rules whose Count matched
    notes: list[str] = field(default_factory=list)


class RateWindows:
    """Requests seen per (web ACL, rule, client IP) within each rule's window; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._seen: dict[tuple[str, str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def add(self, key: tuple[str, str, str], window: float) -> int:
        """Record one request now; how many this key made within the last ``window`` seconds, it included."""
        now = self.clock()
        with self._lock:
            seen = self._seen[key]
            seen.append(now)
            while seen and seen[0] <= now - window:
                seen.popleft()
            return len(seen)


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value or "").encode()


def _byte_match(statement: Mapping[str, Any], req: EdgeRequest) -> bool:
    field_to_match = statement.get("FieldToMatch") or {}
    if "UriPath" not in field_to_match:
        return False
    target, search = req.uri.encode(), _bytes(statement.get("SearchString"))
    tests: dict[str, Callable[[bytes], bool]] = {
        "STARTS_WITH": target.startswith, "ENDS_WITH": target.endswith, "EXACTLY": lambda s: target == s,
        "CONTAINS": lambda s: s in target}
    test = tests.get(str(statement.get("PositionalConstraint")))
    return test is not None and test(search)


def matches(statement: Mapping[str, Any], req: EdgeRequest) -> bool | None:
    """Whether a (non rate-based) statement matches; None for a statement the edge does not emulate."""
    if "GeoMatchStatement" in statement:
        country = (req.header(COUNTRY_HEADER) or "").upper()
        return country in statement["GeoMatchStatement"].get("CountryCodes", [])
    if "ByteMatchStatement" in statement:
        return _byte_match(statement["ByteMatchStatement"], req)
    return None


def evaluate(acl: Mapping[str, Any], req: EdgeRequest, windows: RateWindows) -> Verdict:
    """The rules in priority order: a matching Count rule counts and evaluation goes on; a matching Block rule
    ends it. A rate-based rule counts each request in its scope, and matches once the client is over it."""
    verdict = Verdict()
    for rule in sorted(acl.get("Rules") or [], key=lambda r: int(r.get("Priority", 0))):
        statement = rule.get("Statement") or {}
        metric = str((rule.get("VisibilityConfig") or {}).get("MetricName") or rule.get("Name"))
        if "RateBasedStatement" in statement:
            rate = statement["RateBasedStatement"]
            scope = rate.get("ScopeDownStatement")
            if scope is not None and not matches(scope, req):
                continue
            key = (str(acl.get("ARN")), str(rule.get("Name")), req.client_ip)
            hit = windows.add(key, float(rate.get("EvaluationWindowSec") or 300)) > int(rate["Limit"])
        else:
            found = matches(statement, req)
            if found is None:
                verdict.notes.append(f"WAF rule {rule.get('Name')} is not emulated (passed)")
                continue
            hit = found
        if not hit:
            continue
        action = rule.get("Action") or {}
        if "Block" in action:
            verdict.blocked_by = metric
            return verdict
        if "Count" in action:
            verdict.counted.append(metric)
    return verdict


def blocked_page() -> EdgeResponse:
    """What CloudFront answers for a request its web ACL blocked."""
    response = error_page(403, "Request blocked.", "We can't connect to the server for this app or website at "
                          "this time. There might be too much traffic or a configuration error. Try again later, "
                          "or contact the app or website owner.", origin="web ACL")
    response.headers.append(("X-Cache", "Error from cloudfront"))
    return response


class WebAclGate:
    def __init__(self, waf: Wafv2, cloudwatch: CloudWatch, windows: RateWindows | None = None) -> None:
        self.waf, self.cloudwatch = waf, cloudwatch
        self.windows = windows or RateWindows()

    def check(self, acl_arn: str, req: EdgeRequest) -> tuple[EdgeResponse | None, list[str]]:
        """(the 403 to answer instead, or None to go on; notes for the response)."""
        found = self.waf.get_by_arn(acl_arn)
        if found is None:
            return None, [f"web ACL {acl_arn} not found; nothing was filtered"]
        acl = found.config
        verdict = evaluate(acl, req, self.windows)
        name = str((acl.get("VisibilityConfig") or {}).get("MetricName") or found.name)

        def metric(what: str, rule: str) -> Metric:
            return Metric(WAF_NAMESPACE, what, (("WebACL", name), ("Rule", rule)))

        reported = [metric("CountedRequests", r) for r in verdict.counted]
        if verdict.blocked_by:
            reported.append(metric("BlockedRequests", verdict.blocked_by))
        self.cloudwatch.put_counts(reported)
        notes = verdict.notes + [f"web ACL {found.name}: counted by {r}" for r in verdict.counted]
        if verdict.blocked_by is None:
            return None, notes
        response = blocked_page()
        response.notes += [*notes, f"web ACL {found.name}: blocked by {verdict.blocked_by}"]
        return response, []
