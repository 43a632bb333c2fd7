"""Which CloudWatch alarms a stage gets for what it runs ([alerts]), as values: pure, no AWS.

A preset says what it runs as ``Watched`` items (a kind, a label and references to the outputs that name the
resource); ``alarms_for`` turns their resolved values into ``MetricAlarm``s, each with the region it lives in
(CloudFront's metrics are in us-east-1, everything else in the stage's region), and ``dashboard_body`` draws
the same metrics on one dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tscloud_py.aws.cloudwatch import Metric, MetricAlarm
from tscloud_py.config.tables.edge import AlertsConfig
from tscloud_py.engine.ref import Ref
from tscloud_py.presets.naming import Names

CLOUDFRONT_METRICS_REGION = "us-east-1"
GIB = 1024 ** 3
Kind = Literal["alb", "service", "database", "aurora", "redis", "queue", "function", "distribution"]


@dataclass(frozen=True)
class Watched:
    """One thing a stage runs that alarms watch; ``refs`` name it (a load balancer's ARN, a queue's URL...)."""

    kind: Kind
    label: str
    refs: tuple[tuple[str, Ref[Any]], ...]


def watched(kind: Kind, label: str, **refs: Ref[Any]) -> Watched:
    return Watched(kind, label, tuple(sorted(refs.items())))


@dataclass(frozen=True)
class PlacedAlarm:
    region: str
    alarm: MetricAlarm


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def alarms_for(names: Names, alerts: AlertsConfig, kind: Kind, label: str, values: dict[str, Any],
               actions: dict[str, tuple[str, ...]]) -> list[PlacedAlarm]:
    """The alarms for one watched thing; ``actions`` are the topic ARNs per region (none where absent)."""
    region = CLOUDFRONT_METRICS_REGION if kind == "distribution" else names.region
    out: list[PlacedAlarm] = []

    def add(what: str, description: str, threshold: float, comparison: str, *, metric: Metric | None = None,
            statistic: str = "Sum", period: int = 300, periods: int = 1, expression: str | None = None,
            metrics: tuple[tuple[Metric, str], ...] = ()) -> None:
        out.append(PlacedAlarm(region, MetricAlarm(
            name=names.resource(f"alarm-{label}-{what}"), description=f"{names.description(label)}: {description}",
            threshold=threshold, comparison=comparison, metric=metric, statistic=statistic, period=period,
            evaluation_periods=periods, expression=expression, metrics=metrics,
            actions=actions.get(region, ()))))

    pct = alerts.http_5xx_percent
    dims: tuple[tuple[str, str], ...]
    if kind == "alb":
        lb = ("LoadBalancer", str(values["lb_arn"]).split(":loadbalancer/", 1)[-1])
        tg = ("TargetGroup", str(values["tg_arn"]).rsplit(":", 1)[-1])
        elb = "AWS/ApplicationELB"
        add("5xx", f"targets answer 5xx to more than {pct:g}% of requests", pct, "GreaterThanThreshold",
            expression="IF(m1 > 0, 100 * m0 / m1, 0)",
            metrics=((Metric(elb, "HTTPCode_Target_5XX_Count", (lb,)), "Sum"),
                     (Metric(elb, "RequestCount", (lb,)), "Sum")))
        add("unhealthy", "a target is unhealthy for 3 minutes", 0, "GreaterThanThreshold",
            metric=Metric(elb, "UnHealthyHostCount", (tg, lb)), statistic="Maximum", period=60, periods=3)
    elif kind == "service":
        dims = (("ClusterName", str(values["cluster"])), ("ServiceName", str(values["service"])))
        insights = "ECS/ContainerInsights"
        add("running", "fewer tasks running than desired for 5 minutes", 0, "GreaterThanThreshold",
            expression="m1 - m0", period=60, periods=5,
            metrics=((Metric(insights, "RunningTaskCount", dims), "Average"),
                     (Metric(insights, "DesiredTaskCount", dims), "Average")))
    elif kind in ("database", "aurora"):
        rds = "AWS/RDS"
        dims = (("DBClusterIdentifier" if kind == "aurora" else "DBInstanceIdentifier", str(values["identifier"])),)
        add("cpu", f"CPU above {alerts.database_cpu_percent:g}% for 10 minutes", alerts.database_cpu_percent,
            "GreaterThanThreshold", metric=Metric(rds, "CPUUtilization", dims), statistic="Average", periods=2)
        if kind == "database":
            add("storage", f"less than {alerts.database_free_storage_gb:g} GB free",
                alerts.database_free_storage_gb * GIB, "LessThanThreshold",
                metric=Metric(rds, "FreeStorageSpace", dims), statistic="Minimum")
        add("connections", f"more than {alerts.database_connections} connections", alerts.database_connections,
            "GreaterThanThreshold", metric=Metric(rds, "DatabaseConnections", dims), statistic="Maximum")
    elif kind == "redis":
        dims = (("CacheClusterId", f"{values['group_id']}-001"),)  # the primary node
        add("memory", f"memory above {alerts.redis_memory_percent:g}%", alerts.redis_memory_percent,
            "GreaterThanThreshold", metric=Metric("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", dims),
            statistic="Maximum")
        add("evictions", "keys evicted for lack of memory", 0, "GreaterThanThreshold",
            metric=Metric("AWS/ElastiCache", "Evictions", dims))
    elif kind == "queue":
        sqs = "AWS/SQS"
        dlq = (("QueueName", _queue_name(str(values["dlq_url"]))),)
        queue = (("QueueName", _queue_name(str(values["queue_url"]))),)
        add("dlq", "messages in the dead-letter queue", 0, "GreaterThanThreshold",
            metric=Metric(sqs, "ApproximateNumberOfMessagesVisible", dlq), statistic="Maximum")
        add("age", f"oldest message older than {alerts.queue_oldest_seconds} s", alerts.queue_oldest_seconds,
            "GreaterThanThreshold", metric=Metric(sqs, "ApproximateAgeOfOldestMessage", queue), statistic="Maximum")
    elif kind == "function":
        dims = (("FunctionName", str(values["function_name"])),)
        add("errors", f"{alerts.lambda_errors} or more errors in 5 minutes", alerts.lambda_errors,
            "GreaterThanOrEqualToThreshold", metric=Metric("AWS/Lambda", "Errors", dims))
        add("throttles", "invocations throttled", 0, "GreaterThanThreshold",
            metric=Metric("AWS/Lambda", "Throttles", dims))
    elif kind == "distribution":
        dims = (("DistributionId", str(values["distribution_id"])), ("Region", "Global"))
        add("5xx", f"more than {pct:g}% of viewer requests answered 5xx", pct, "GreaterThanThreshold",
            metric=Metric("AWS/CloudFront", "5xxErrorRate", dims), statistic="Average")
    return out


def _widget_metrics(alarm: MetricAlarm) -> list[list[Any]]:
    def row(metric: Metric, stat: str, extra: dict[str, Any]) -> list[Any]:
        dims = [part for pair in metric.dimensions for part in pair]
        return [metric.namespace, metric.name, *dims, {"stat": stat, **extra}]

    if alarm.expression is None:
        assert alarm.metric is not None
        return [row(alarm.metric, alarm.statistic, {})]
    rows = [row(m, stat, {"id": f"m{i}", "visible": False}) for i, (m, stat) in enumerate(alarm.metrics)]
    return [*rows, [{"expression": alarm.expression, "label": alarm.name, "id": "e0"}]]


def dashboard_body(alarms: list[PlacedAlarm]) -> dict[str, Any]:
    """One graph per alarm, two to a row, with the alarm's threshold drawn on it."""
    widgets = []
    for i, placed in enumerate(alarms):
        alarm = placed.alarm
        widgets.append({
            "type": "metric", "x": (i % 2) * 12, "y": (i // 2) * 6, "width": 12, "height": 6,
            "properties": {"title": alarm.name, "region": placed.region, "period": alarm.period,
                           "metrics": _widget_metrics(alarm),
                           "annotations": {"horizontal": [{"label": "alarm", "value": alarm.threshold}]}}})
    return {"widgets": widgets}
