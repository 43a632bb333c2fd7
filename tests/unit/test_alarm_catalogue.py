"""The alarm catalogue (pure): each kind's alarms, their metrics as the cost estimate counts them, names per
stage, the CloudFront alarm in us-east-1 with that region's topic, and MetricAlarm comparing itself with what
DescribeAlarms answers (AWS's extra keys and a dimension order ignored)."""

from __future__ import annotations

from typing import Any

import pytest

from tscloud_py.aws.cloudwatch import MetricAlarm
from tscloud_py.config.tables.edge import AlertsConfig
from tscloud_py.cost.inputs import ALARM_METRICS
from tscloud_py.presets.naming import Names
from tscloud_py.presets.steps.alarm_catalogue import alarms_for, dashboard_body

NAMES = Names("shop", "dev", "eu-west-1")
VALUES: dict[str, dict[str, Any]] = {
    "alb": {"lb_arn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop-dev/50dc6c495c0c9188",
            "tg_arn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-dev-api/73e2d6bc24d8a067"},
    "service": {"cluster": "shop-dev", "service": "shop-dev-api"},
    "database": {"identifier": "shop-dev-db"},
    "aurora": {"identifier": "shop-dev-db"},
    "redis": {"group_id": "shop-dev-redis"},
    "queue": {"queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-dev-jobs",
              "dlq_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-dev-jobs-dlq"},
    "function": {"function_name": "shop-dev-server"},
    "distribution": {"distribution_id": "E2QWRUHAPOMQZL"},
}
ACTIONS = {"eu-west-1": ("arn:aws:sns:eu-west-1:123456789012:shop-dev-alerts",),
           "us-east-1": ("arn:aws:sns:us-east-1:123456789012:shop-dev-alerts",)}


def metric_count(alarm: MetricAlarm) -> int:
    return len(alarm.metrics) if alarm.expression else 1


@pytest.mark.parametrize("kind", sorted(ALARM_METRICS))
def test_each_kind_puts_as_many_metrics_as_the_estimate_counts(kind: str) -> None:
    placed = alarms_for(NAMES, AlertsConfig(email="ops@example.com"), kind, "x", VALUES[kind], ACTIONS)  # type: ignore[arg-type]
    assert sum(metric_count(p.alarm) for p in placed) == ALARM_METRICS[kind]
    assert all(p.alarm.name.startswith("shop-dev-alarm-x-") for p in placed)
    assert all(p.alarm.actions == ACTIONS[p.region] for p in placed)
    assert {p.region for p in placed} == {"us-east-1" if kind == "distribution" else "eu-west-1"}


def test_thresholds_come_from_the_config_and_dimensions_name_the_resource() -> None:
    alerts = AlertsConfig(email="ops@example.com", database_free_storage_gb=5, queue_oldest_seconds=120)
    db = {p.alarm.name: p.alarm for p in alarms_for(NAMES, alerts, "database", "db", VALUES["database"], ACTIONS)}
    assert db["shop-dev-alarm-db-storage"].threshold == 5 * 1024 ** 3
    queue = {p.alarm.name: p.alarm for p in alarms_for(NAMES, alerts, "queue", "jobs", VALUES["queue"], ACTIONS)}
    age = queue["shop-dev-alarm-jobs-age"]
    assert age.threshold == 120 and age.metric is not None
    assert age.metric.dimensions == (("QueueName", "shop-dev-jobs"),)
    alb = alarms_for(NAMES, alerts, "alb", "api", VALUES["alb"], ACTIONS)[1].alarm
    assert alb.metric is not None and alb.metric.dimensions == (
        ("TargetGroup", "targetgroup/shop-dev-api/73e2d6bc24d8a067"), ("LoadBalancer", "app/shop-dev/50dc6c495c0c9188"))


def test_an_alarm_equals_what_describe_alarms_answers_for_it() -> None:
    for kind in ("alb", "database"):
        for placed in alarms_for(NAMES, AlertsConfig(email="a@b.co"), kind, "x", VALUES[kind], ACTIONS):  # type: ignore[arg-type]
            described = {**placed.alarm.api(), "AlarmArn": "arn:aws:cloudwatch:...", "StateValue": "OK",
                         "Threshold": float(placed.alarm.threshold)}
            if "Dimensions" in described:
                described["Dimensions"] = list(reversed(described["Dimensions"]))
            assert placed.alarm.differences(described) == []
            changed = {**described, "Threshold": placed.alarm.threshold + 1}
            assert [key for key, _old, _new in placed.alarm.differences(changed)] == ["Threshold"]


def test_the_dashboard_draws_every_alarm() -> None:
    placed = [p for kind in ("alb", "distribution") for p in alarms_for(
        NAMES, AlertsConfig(email="a@b.co"), kind, "x", VALUES[kind], ACTIONS)]  # type: ignore[arg-type]
    widgets = dashboard_body(placed)["widgets"]
    assert [w["properties"]["title"] for w in widgets] == [p.alarm.name for p in placed]
    assert widgets[-1]["properties"]["region"] == "us-east-1"
