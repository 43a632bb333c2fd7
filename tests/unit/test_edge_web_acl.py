"""The local edge's web ACL evaluation (pure): rules in priority order, a rate limit per client IP within its
window (a client under it again once the window has moved on), a scope-down by path, Count going on and Block
ending the evaluation, a managed rule group passed with a note."""

from __future__ import annotations

from tscloud_py.aws.wafv2 import WebAclSpec
from tscloud_py.emulator.edge.origins import EdgeRequest
from tscloud_py.emulator.edge.web_acl import RateWindows, evaluate


def request(path: str = "/", ip: str = "10.0.0.1", country: str | None = None) -> EdgeRequest:
    headers = [("CloudFront-Viewer-Country", country)] if country else []
    return EdgeRequest("GET", path, "", headers, b"", ip)


def acl(spec: WebAclSpec) -> dict[str, object]:
    return {"ARN": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/a/1", **spec.api()}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_over_the_limit_within_the_window_is_blocked_until_it_moves_on() -> None:
    clock = Clock()
    windows = RateWindows(clock)
    rules = acl(WebAclSpec("a", rate_limit=10))
    verdicts = [evaluate(rules, request(), windows).blocked_by for _ in range(11)]
    assert verdicts == [None] * 10 + ["a-rate-limit"]
    assert evaluate(rules, request(ip="10.0.0.2"), windows).blocked_by is None  # per client IP
    clock.now += 301
    assert evaluate(rules, request(), windows).blocked_by is None


def test_path_limit_counts_only_its_prefix_and_count_mode_goes_on() -> None:
    windows = RateWindows(Clock())
    rules = acl(WebAclSpec("a", mode="count", rate_limit=100, path_limits=(("/api/", 10),), countries=("KP",),
                           managed=("AWSManagedRulesCommonRuleSet",)))
    for _ in range(15):
        evaluate(rules, request("/index.html"), windows)
    for _ in range(10):
        assert evaluate(rules, request("/api/x"), windows).counted == []
    verdict = evaluate(rules, request("/api/x", country="KP"), windows)
    assert verdict.blocked_by is None
    assert verdict.counted == ["a-block-countries", "a-rate-limit-api"]
    assert verdict.notes == ["WAF rule AWSManagedRulesCommonRuleSet is not emulated (passed)"]


def test_block_ends_the_evaluation_at_the_first_matching_rule() -> None:
    verdict = evaluate(acl(WebAclSpec("a", rate_limit=10, countries=("KP", "IR"))), request(country="IR"),
                       RateWindows(Clock()))
    assert verdict.blocked_by == "a-block-countries" and verdict.counted == []
