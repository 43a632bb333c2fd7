"""What `tscloud status` adds for a stage's web ACL and alarms, read live from CloudWatch and SNS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tscloud_py.engine.step import Outputs
from tscloud_py.presets.naming import Names

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.config.schema import Config


def watch_status(config: Config, aws: ClientFactory, names: Names, outputs: dict[str, Outputs]) -> dict[str, Any]:
    status: dict[str, Any] = {}
    settings = config.web_acl
    if settings is not None and "web-acl" in outputs:
        status["waf"] = waf_status(aws, names, settings, outputs["web-acl"])
    return status


def waf_status(aws: ClientFactory, names: Names, settings: Any, recorded: Outputs) -> dict[str, Any]:
    """Requests the web ACL blocked and counted in the last hour, per rule (WAF reports CloudFront-scope
    metrics in us-east-1, dimensions WebACL and Rule: each named by its VisibilityConfig MetricName)."""
    from tscloud_py.aws.cloudwatch import CloudWatch, Metric
    from tscloud_py.aws.wafv2 import CLOUDFRONT_REGION, WAF_NAMESPACE
    from tscloud_py.presets.steps.web_acl import web_acl_spec

    spec = web_acl_spec(names, settings)
    rules = [f"{spec.name}-{rule}" for rule in spec.rule_names()]
    kinds = ("BlockedRequests", "CountedRequests")
    metrics = [Metric(WAF_NAMESPACE, kind, (("WebACL", spec.name), ("Rule", rule))) for kind in kinds
               for rule in rules]
    sums = CloudWatch(aws, CLOUDFRONT_REGION).sums(metrics)
    blocked, counted = sums[:len(rules)], sums[len(rules):]
    by_rule = {rule.removeprefix(f"{spec.name}-"): f"{int(b)} blocked, {int(c)} counted"
               for rule, b, c in zip(rules, blocked, counted, strict=True) if b or c}
    return {"web_acl": recorded.get("web_acl_name", spec.name), "mode": spec.mode,
            "blocked_last_hour": int(sum(blocked)), "counted_last_hour": int(sum(counted)),
            **({"by_rule": by_rule} if by_rule else {})}
