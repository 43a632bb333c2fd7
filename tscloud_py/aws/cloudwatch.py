"""CloudWatch: metric sums for `tscloud status`, metric alarms and dashboards.

``MetricAlarm`` is what a preset wants of one alarm; only it spells PutMetricAlarm's arguments (``api()``)
and it compares itself with what DescribeAlarms answers (``differences``), so an unchanged alarm is never
written again (PutMetricAlarm is an upsert: sending it unread would be a write on every deploy).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from tscloud_py.aws._tags import tag_list, tags_dict
from tscloud_py.aws.session import call, ignoring, paginate

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory

NOT_FOUND = ("ResourceNotFound", "ResourceNotFoundException")


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]

    def api(self) -> dict[str, Any]:
        return {"Namespace": self.namespace, "MetricName": self.name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions]}


@dataclass(frozen=True)
class MetricAlarm:
    """One alarm on one metric, or on a metric math ``expression`` over ``metrics`` (named m0, m1, ...)."""

    name: str
    description: str
    threshold: float
    comparison: str  # GreaterThanThreshold, LessThanThreshold, GreaterThanOrEqualToThreshold, ...
    metric: Metric | None = None
    statistic: str = "Sum"
    period: int = 300
    evaluation_periods: int = 1
    expression: str | None = None
    metrics: tuple[tuple[Metric, str], ...] = ()  # (metric, statistic) for an expression
    treat_missing: str = "notBreaching"
    actions: tuple[str, ...] = ()

    def api(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "AlarmName": self.name, "AlarmDescription": self.description, "Threshold": self.threshold,
            "ComparisonOperator": self.comparison, "EvaluationPeriods": self.evaluation_periods,
            "TreatMissingData": self.treat_missing, "ActionsEnabled": True,
            "AlarmActions": list(self.actions), "OKActions": list(self.actions)}
        if self.expression is None:
            assert self.metric is not None
            doc.update(self.metric.api(), Statistic=self.statistic, Period=self.period)
        else:
            queries: list[dict[str, Any]] = [
                {"Id": f"m{i}", "ReturnData": False,
                 "MetricStat": {"Metric": m.api(), "Period": self.period, "Stat": stat}}
                for i, (m, stat) in enumerate(self.metrics)]
            queries.append({"Id": "e0", "Expression": self.expression, "Label": self.name, "ReturnData": True})
            doc["Metrics"] = queries
        return doc

    def differences(self, live: dict[str, Any]) -> list[tuple[str, Any, Any]]:
        """(key, live, wanted) for each argument we set that DescribeAlarms shows otherwise."""
        out: list[tuple[str, Any, Any]] = []
        for key, wanted in self.api().items():
            have = live.get(key)
            if key == "Dimensions" or key == "Metrics":
                same = _canonical(have) == _canonical(wanted)
            elif key == "Threshold":
                same = have is not None and float(have) == float(wanted)
            else:
                same = have == wanted
            if not same:
                out.append((key, have, wanted))
        return out


def _canonical(value: Any) -> str:
    """Lists of dimensions or queries as one comparable text (order of dimensions does not matter)."""
    def norm(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items() if x not in (None, [], {})}
        if isinstance(v, list):
            items = [norm(x) for x in v]
            if all(isinstance(x, dict) and set(x) == {"Name", "Value"} for x in items):
                items.sort(key=lambda x: (x["Name"], x["Value"]))
            return items
        return v
    return json.dumps(norm(value or []), sort_keys=True, default=str)


@dataclass(frozen=True)
class Dashboard:
    name: str
    body: dict[str, Any] = field(default_factory=dict)


class CloudWatch:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("cloudwatch", region)

    # -- metrics -----------------------------------------------------------------------------
    def sums(self, metrics: Sequence[Metric], *, hours: float = 1.0, now: datetime | None = None) -> list[float]:
        """Each metric's Sum over the last ``hours`` (0 where nothing was reported), in one request.

        The window ends at the start of the next minute, so everything reported up to now is inside it:
        EndTime is exclusive, and a store that truncates it to the second (moto does) would otherwise miss a
        data point reported in the same second as the query."""
        if not metrics:
            return []
        now = now or datetime.now(timezone.utc)
        end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        start = end - timedelta(hours=hours)
        period = max(60, int(hours * 3600))
        queries = [{"Id": f"m{i}", "ReturnData": True,
                    "MetricStat": {"Metric": m.api(), "Period": period, "Stat": "Sum"}} for i, m in enumerate(metrics)]
        out = call(self.c.get_metric_data, "cloudwatch:GetMetricData", MetricDataQueries=queries,
                   StartTime=start, EndTime=end)
        found = {r["Id"]: sum(float(v) for v in r.get("Values", [])) for r in out.get("MetricDataResults", [])}
        return [found.get(f"m{i}", 0.0) for i in range(len(metrics))]

    def put_counts(self, metrics: Iterable[Metric], value: float = 1.0) -> None:
        data = [{**m.api(), "Value": value, "Unit": "Count"} for m in metrics]
        if data:
            namespace = data[0].pop("Namespace")
            for item in data[1:]:
                item.pop("Namespace")
            call(self.c.put_metric_data, "cloudwatch:PutMetricData", Namespace=namespace, MetricData=data)

    # -- alarms ------------------------------------------------------------------------------
    def alarms(self, prefix: str) -> list[dict[str, Any]]:
        return list(paginate(self.c, "describe_alarms", "MetricAlarms", AlarmNamePrefix=prefix,
                             AlarmTypes=["MetricAlarm"]))

    def put_alarm(self, alarm: MetricAlarm, tags: dict[str, str]) -> None:
        call(self.c.put_metric_alarm, "cloudwatch:PutMetricAlarm", **alarm.api(), Tags=tag_list(tags))

    def delete_alarms(self, names: Sequence[str]) -> None:
        for start in range(0, len(names), 100):  # DeleteAlarms takes at most 100 names
            call(self.c.delete_alarms, "cloudwatch:DeleteAlarms", AlarmNames=list(names[start:start + 100]))

    def tags(self, arn: str) -> dict[str, str]:
        return tags_dict(call(self.c.list_tags_for_resource, "cloudwatch:ListTagsForResource",
                              ResourceARN=arn).get("Tags"))

    def tag(self, arn: str, tags: dict[str, str]) -> None:
        call(self.c.tag_resource, "cloudwatch:TagResource", ResourceARN=arn, Tags=tag_list(tags))

    # -- dashboards --------------------------------------------------------------------------
    def dashboard(self, name: str) -> Dashboard | None:
        with ignoring(*NOT_FOUND):
            out = call(self.c.get_dashboard, "cloudwatch:GetDashboard", DashboardName=name)
            return Dashboard(name, json.loads(out.get("DashboardBody") or "{}"))
        return None

    def put_dashboard(self, dashboard: Dashboard) -> None:
        call(self.c.put_dashboard, "cloudwatch:PutDashboard", DashboardName=dashboard.name,
             DashboardBody=json.dumps(dashboard.body, sort_keys=True))

    def delete_dashboard(self, name: str) -> None:
        with ignoring(*NOT_FOUND):
            call(self.c.delete_dashboards, "cloudwatch:DeleteDashboards", DashboardNames=[name])
