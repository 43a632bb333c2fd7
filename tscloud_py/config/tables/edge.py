"""[waf] and [alerts]: what stands in front of a distribution and who is told when something breaks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tscloud_py.config.tables.common import meta

# AWS's bounds for a rate-based rule's limit (requests per evaluation window, here 300 s).
RATE_LIMIT_MIN = 10
RATE_LIMIT_MAX = 2_000_000_000
DEFAULT_MANAGED_RULES = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                         "AWSManagedRulesAmazonIpReputationList")
PATH_PREFIX = r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,255}"
SNS_TOPIC_ARN = r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}"


@dataclass
class WafConfig:
    enabled: bool | None = field(default=None, metadata=meta(
        "attach a web ACL to the stage's distribution; default: on for a production stage (stage = \"prod\" or "
        "\"production\"), on wherever a [waf] table is written, off otherwise"))
    mode: Literal["block", "count"] = field(default="block", metadata=meta(
        "block: rules block what they match; count: they only count it (a safe first rollout)"))
    rate_limit_per_5min: int = field(default=2000, metadata=meta(
        "requests one client IP may make in 5 minutes before it is blocked", min=RATE_LIMIT_MIN,
        max=RATE_LIMIT_MAX))
    rate_limit_paths: dict[str, int] = field(default_factory=dict, metadata=meta(
        "tighter limits for path prefixes, e.g. { \"/api/\" = 300, \"/login\" = 50 }", key_pattern=PATH_PREFIX))
    managed_rules: list[str] = field(default_factory=lambda: list(DEFAULT_MANAGED_RULES), metadata=meta(
        "AWS managed rule groups evaluated after the rate limits", pattern=r"AWSManagedRules[A-Za-z0-9]{1,100}",
        pattern_help="expected an AWS managed rule group name like AWSManagedRulesCommonRuleSet", max_items=10))
    block_countries: list[str] = field(default_factory=list, metadata=meta(
        "ISO 3166 two-letter country codes whose viewers are refused", pattern=r"[A-Z]{2}",
        pattern_help="expected a two-letter country code like RU", max_items=200))
    frontend: bool = field(default=False, metadata=meta(
        "fullstack-app: also attach it to [frontend]'s distribution, which tscloud does not own (refused when "
        "that distribution has another web ACL)"))


@dataclass
class AlertsConfig:
    email: str | None = field(default=None, metadata=meta(
        "who is told: an SNS topic {app}-{stage}-alerts is made and this address subscribed (confirm the mail)",
        pattern=r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}", pattern_help="expected an email address"))
    sns_topic_arn: str | None = field(default=None, metadata=meta(
        "an existing SNS topic to notify instead of email", pattern=SNS_TOPIC_ARN,
        pattern_help="expected an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"))
    http_5xx_percent: float = field(default=5.0, metadata=meta(
        "load balancer targets' and CloudFront's 5xx responses, percent of requests over 5 minutes",
        min=0.1, max=100))
    database_cpu_percent: float = field(default=80.0, metadata=meta("RDS CPU over 10 minutes", min=1, max=100))
    database_free_storage_gb: float = field(default=2.0, metadata=meta("RDS free storage below this", min=0.1))
    database_connections: int = field(default=80, metadata=meta("RDS connections above this", min=1))
    redis_memory_percent: float = field(default=80.0, metadata=meta("Redis memory used", min=1, max=100))
    queue_oldest_seconds: int = field(default=900, metadata=meta(
        "age of the oldest message in a queue", min=60, max=1209600))
    lambda_errors: int = field(default=5, metadata=meta("Lambda errors in 5 minutes", min=1))
