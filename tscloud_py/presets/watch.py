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
    if config.alerts is not None and "alarms" in outputs:
        status["alarms"] = alarm_status(aws, names, with_distribution="distribution" in outputs)
    topics = outputs.get("alerts-topic", {}).get("topic_arns")
    if config.alerts is not None and config.alerts.email and topics:
        status["alerts_email"] = email_status(aws, config.alerts.email, topics)
    return status


# what needs a look first
_STATE_ORDER = {"ALARM": 0, "INSUFFICIENT_DATA": 1, "OK": 2}


def alarm_status(aws: ClientFactory, names: Names, *, with_distribution: bool) -> dict[str, str]:
    """Each alarm's state, those in ALARM first (with CloudWatch's reason)."""
    from tscloud_py.aws.cloudwatch import CloudWatch
    from tscloud_py.presets.steps.alarm_catalogue import CLOUDFRONT_METRICS_REGION
    from tscloud_py.presets.steps.alarms import alarm_prefix

    regions = [names.region]
    if with_distribution and CLOUDFRONT_METRICS_REGION not in regions:
        regions.append(CLOUDFRONT_METRICS_REGION)
    found = [a for region in regions for a in CloudWatch(aws, region).alarms(alarm_prefix(names))]
    found.sort(key=lambda a: (_STATE_ORDER.get(str(a.get("StateValue")), 3), str(a["AlarmName"])))
    return {str(a["AlarmName"]): str(a.get("StateValue", "?")) + (f" ({a['StateReason']})"
                                                                  if a.get("StateValue") == "ALARM" else "")
            for a in found}


def email_status(aws: ClientFactory, email: str, topics: dict[str, str]) -> dict[str, str]:
    """Per region's topic: whether ``email`` confirmed its subscription (SNS mails nothing until it does)."""
    from tscloud_py.aws.sns import Sns

    out = {}
    for region, arn in sorted(topics.items()):
        subscribed = [s for s in Sns(aws, region).subscriptions(arn) if s.endpoint == email]
        out[f"{email} ({region})"] = ("not subscribed" if not subscribed else
                                      "pending confirmation: follow the link AWS mailed" if subscribed[0].pending
                                      else "confirmed")
    return out


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
