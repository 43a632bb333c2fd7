"""ALB listener rules as the local edge evaluates them: priority order, the default last, every condition of a
rule must match, header names case-insensitive and values with wildcards, unknown conditions never match."""

from __future__ import annotations

from typing import Any

from tscloud_py.emulator.edge.alb_origin import choose_actions

DEFAULT = {"Priority": "default", "IsDefault": True, "Conditions": [], "Actions": [{"Type": "fixed-response"}]}


def rule(priority: int, name: str, *conditions: dict[str, Any]) -> dict[str, Any]:
    return {"Priority": str(priority), "IsDefault": False, "Conditions": list(conditions),
            "Actions": [{"Type": "forward", "TargetGroupArn": name}]}


def header(name: str, *values: str) -> dict[str, Any]:
    return {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": name, "Values": list(values)}}


def picked(rules: list[dict[str, Any]], path: str = "/", headers: list[tuple[str, str]] | None = None,
           host: str = "example.com") -> str:
    actions = choose_actions(rules, path=path, host=host, method="GET", headers=headers or [])
    return str(actions[0].get("TargetGroupArn") or actions[0]["Type"])


def test_priority_then_default() -> None:
    rules = [DEFAULT, rule(20, "b", {"Field": "path-pattern", "Values": ["/api/*"]}),
             rule(10, "a", {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/v1/*"]}})]
    assert picked(rules, "/api/v1/x") == "a"
    assert picked(rules, "/api/v2/x") == "b"
    assert picked(rules, "/other") == "fixed-response"


def test_header_conditions() -> None:
    rules = [DEFAULT, rule(10, "verified", header("X-Origin-Verify", "abc*"))]
    assert picked(rules, headers=[("x-origin-verify", "ABC123")]) == "verified"  # name and value case-insensitive
    assert picked(rules, headers=[("X-Origin-Verify", "zzz")]) == "fixed-response"
    assert picked(rules) == "fixed-response"


def test_all_conditions_of_a_rule_must_match_and_unknown_ones_never_do() -> None:
    both = rule(10, "both", header("X-A", "1"), {"Field": "host-header", "HostHeaderConfig": {"Values": ["*.shop.com"]}})
    unknown = rule(20, "unknown", {"Field": "source-ip", "SourceIpConfig": {"Values": ["0.0.0.0/0"]}})
    rules = [DEFAULT, both, unknown]
    assert picked(rules, headers=[("X-A", "1")], host="www.shop.com:443") == "both"
    assert picked(rules, headers=[("X-A", "1")], host="www.other.com") == "fixed-response"
