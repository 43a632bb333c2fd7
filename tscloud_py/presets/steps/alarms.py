"""[alerts]: an SNS topic that mails someone, the stage's CloudWatch alarms and its dashboard.

``AlertTopicStep`` makes ``{app}-{stage}-alerts`` in each region an alarm lives in (an alarm notifies a topic
of its own region only: CloudFront's alarms are in us-east-1) and subscribes the address; the subscription is
pending until the address confirms. ``AlarmsStep`` owns every alarm named ``{app}-{stage}-alarm-...`` and the
dashboard ``{app}-{stage}``: what the catalogue wants is computed once (``_wanted``) and diff and apply both
read ``_plan``; an alarm is written only when DescribeAlarms shows it otherwise (PutMetricAlarm is an upsert).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tscloud_py.aws.cloudwatch import CloudWatch, Dashboard
from tscloud_py.aws.sns import Sns
from tscloud_py.config.tables.edge import AlertsConfig
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.presets.naming import Names
from tscloud_py.presets.steps.alarm_catalogue import (
    CLOUDFRONT_METRICS_REGION,
    PlacedAlarm,
    Watched,
    alarms_for,
    dashboard_body,
)

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory


def alarm_prefix(names: Names) -> str:
    return names.resource("alarm-")


def alarm_regions(names: Names, watched: Sequence[Watched]) -> list[str]:
    """The regions the stage's alarms live in: its own for what runs there, us-east-1 for a distribution."""
    regions = [names.region] if any(w.kind != "distribution" for w in watched) else []
    if any(w.kind == "distribution" for w in watched) and CLOUDFRONT_METRICS_REGION not in regions:
        regions.append(CLOUDFRONT_METRICS_REGION)
    return regions


class AlertTopicStep(Step):
    kind = "SNS topic"
    provides = frozenset({"topic_arns"})

    def __init__(self, step_id: str, sns: dict[str, Sns], names: Names, email: str) -> None:
        self.id, self.sns, self.names, self.email = step_id, sns, names, email
        self.topic = names.resource("alerts")

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        found: dict[str, Any] = {}
        for region, sns in self.sns.items():
            arn = sns.find_topic(self.topic)
            if arn is not None:
                found[region] = {"arn": arn, "tags": sns.tags(arn),
                                 "emails": [s.endpoint for s in sns.subscriptions(arn) if s.protocol == "email"]}
        return found or None

    def _missing(self, observed: dict[str, Any] | None) -> dict[str, list[str]]:
        """Per region: what is missing ("topic", "subscription", "tags")."""
        out: dict[str, list[str]] = {}
        for region in self.sns:
            seen = (observed or {}).get(region)
            if seen is None:
                out[region] = ["topic", "subscription"]
                continue
            todo = [] if self.email in seen["emails"] else ["subscription"]
            if any(seen["tags"].get(k) != v for k, v in self.names.tags(self.id).items()):
                todo.append("tags")
            if todo:
                out[region] = todo
        return out

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        changes = []
        for region, todo in self._missing(observed).items():
            if "topic" in todo:
                changes.append(Change(f"create SNS topic {self.topic} in {region}, subscribe {self.email} "
                                      "(pending until the address confirms)"))
            else:
                changes += [Change(f"{what} of {self.topic} in {region}", None,
                                   self.email if what == "subscription" else self.names.tags(self.id))
                            for what in todo]
        return changes

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        arns = {region: seen["arn"] for region, seen in (observed or {}).items()}
        for region, todo in self._missing(observed).items():
            sns = self.sns[region]
            if "topic" in todo:
                arns[region] = sns.create_topic(self.topic, self.names.tags(self.id))
            elif "tags" in todo:
                sns.tag(arns[region], self.names.tags(self.id))
            if "subscription" in todo:
                sns.subscribe_email(arns[region], self.email)
        return {"topic_arns": arns}

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        return {"topic_arns": {region: seen["arn"] for region, seen in observed.items()}}

    def destroy(self, ctx: StepContext, observed: dict[str, Any]) -> None:
        for region, seen in observed.items():
            self.sns[region].delete_topic(seen["arn"])  # its subscriptions go with it

    def destroy_changes(self, observed: Any) -> list[Change]:
        return [Change(f"delete SNS topic {self.topic} in {', '.join(observed)}", destructive=True)]


@dataclass
class _Plan:
    put: list[PlacedAlarm] = field(default_factory=list)
    delete: dict[str, list[str]] = field(default_factory=dict)  # region -> names
    dashboard: Dashboard | None = None
    changes: list[Change] = field(default_factory=list)


class AlarmsStep(Step):
    kind = "CloudWatch alarms"
    provides = frozenset({"alarms", "dashboard"})

    def __init__(self, step_id: str, cloudwatch: dict[str, CloudWatch], names: Names, alerts: AlertsConfig, *,
                 needs: Sequence[str], watched: Sequence[Watched], topic_arns: Ref[dict[str, str]] | None) -> None:
        self.id, self.cloudwatch, self.names, self.alerts = step_id, cloudwatch, names, alerts
        self.needs = tuple(needs)
        self.watched, self.topic_arns = tuple(watched), topic_arns
        self.prefix = alarm_prefix(names)
        self.dashboard_name = names.prefix

    def _actions(self, ctx: StepContext) -> dict[str, tuple[str, ...]]:
        if self.topic_arns is not None:
            return {region: (arn,) for region, arn in ctx.get(self.topic_arns).items()}
        arn = str(self.alerts.sns_topic_arn)
        return {arn.split(":")[3]: (arn,)}

    def _wanted(self, ctx: StepContext) -> list[PlacedAlarm]:
        actions = self._actions(ctx)
        out: list[PlacedAlarm] = []
        for item in self.watched:
            values = {key: ctx.get(ref) for key, ref in item.refs}
            out += alarms_for(self.names, self.alerts, item.kind, item.label, values, actions)
        return out

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        alarms = {region: {a["AlarmName"]: a for a in cw.alarms(self.prefix)} for region, cw in self.cloudwatch.items()}
        dashboard = self.cloudwatch[self.names.region].dashboard(self.dashboard_name)
        if not any(alarms.values()) and dashboard is None:
            return None
        return {"alarms": alarms, "dashboard": dashboard}

    def _plan(self, ctx: StepContext, observed: dict[str, Any] | None) -> _Plan:
        plan = _Plan()
        live: dict[str, dict[str, Any]] = (observed or {}).get("alarms", {})
        wanted = self._wanted(ctx)
        for placed in wanted:
            have = live.get(placed.region, {}).get(placed.alarm.name)
            if have is None:
                plan.put.append(placed)
                plan.changes.append(Change(f"create alarm {placed.alarm.name} ({placed.region})"))
                continue
            differences = placed.alarm.differences(have)
            if differences:
                plan.put.append(placed)
                plan.changes += [Change(f"alarm {placed.alarm.name}: {key}", old, new) for key, old, new in differences]
        keep = {(p.region, p.alarm.name) for p in wanted}
        for region, found in live.items():
            extra = sorted(name for name in found if (region, name) not in keep)
            if extra:
                plan.delete[region] = extra
                plan.changes += [Change(f"delete alarm {name} ({region})", destructive=True) for name in extra]
        dashboard = Dashboard(self.dashboard_name, dashboard_body(wanted))
        current = (observed or {}).get("dashboard")
        if current is None or current.body != dashboard.body:
            plan.dashboard = dashboard
            plan.changes.append(Change(f"{'create' if current is None else 'update'} dashboard {dashboard.name} "
                                       f"({len(wanted)} graphs)"))
        return plan

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        return self._plan(ctx, observed).changes

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        plan = self._plan(ctx, observed)
        for placed in plan.put:
            self.cloudwatch[placed.region].put_alarm(placed.alarm, self.names.tags(self.id))
        for region, names in plan.delete.items():
            self.cloudwatch[region].delete_alarms(names)
        if plan.dashboard is not None:
            self.cloudwatch[self.names.region].put_dashboard(plan.dashboard)
        return {"alarms": sorted(p.alarm.name for p in self._wanted(ctx)), "dashboard": self.dashboard_name}

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        names = sorted(name for found in observed["alarms"].values() for name in found)
        return {"alarms": names, "dashboard": self.dashboard_name}

    def destroy(self, ctx: StepContext, observed: dict[str, Any]) -> None:
        for region, found in observed["alarms"].items():
            if found:
                self.cloudwatch[region].delete_alarms(sorted(found))
        if observed.get("dashboard") is not None:
            self.cloudwatch[self.names.region].delete_dashboard(self.dashboard_name)

    def destroy_changes(self, observed: Any) -> list[Change]:
        count = sum(len(found) for found in observed["alarms"].values())
        return [Change(f"delete {count} alarms and dashboard {self.dashboard_name}", destructive=True)]


def alert_steps(names: Names, alerts: AlertsConfig | None, aws: ClientFactory,
                watched: Sequence[Watched]) -> list[Step]:
    """The [alerts] steps for what a preset runs (``watched``); none without [alerts]. The alarms step needs the
    steps whose outputs name what it watches, and the topic."""
    if alerts is None or not watched:
        return []
    regions = alarm_regions(names, watched)
    steps: list[Step] = []
    topic = None
    alarm_needs = [ref.step_id for item in watched for _key, ref in item.refs]
    if alerts.email:
        topic = AlertTopicStep("alerts-topic", {r: Sns(aws, r) for r in regions}, names, alerts.email)
        steps.append(topic)
        alarm_needs.append("alerts-topic")
    # the dashboard is kept in the stage's region, whether or not an alarm is
    watching = dict.fromkeys([*regions, names.region])
    steps.append(AlarmsStep("alarms", {r: CloudWatch(aws, r) for r in watching}, names, alerts,
                            needs=sorted(set(alarm_needs)), watched=watched,
                            topic_arns=topic.output("topic_arns") if topic else None))
    return steps

