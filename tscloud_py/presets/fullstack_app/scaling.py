"""Autoscaling (CPU target tracking for the API, queue backlog per task for a worker) and
EventBridge Scheduler jobs run as ECS RunTask with a command override."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tscloud_py.aws.autoscaling import resource_id
from tscloud_py.aws.retry import retry_new_role
from tscloud_py.aws.scheduler import TaskSchedule
from tscloud_py.concurrency import each, together
from tscloud_py.engine.step import Change, Outputs, StepContext
from tscloud_py.presets.diffing import canonical
from tscloud_py.presets.fullstack_app.common import Env, FsStep, compare
from tscloud_py.presets.naming import token


class AutoscalingStep(FsStep):
    kind = "Application Auto Scaling"

    def __init__(self, step_id: str, env: Env, *, needs: Sequence[str], worker: bool) -> None:
        super().__init__(step_id, env, needs=needs)
        self.worker = worker

    def wanted(self, ctx: StepContext) -> dict[str, dict[str, Any]]:
        """resource id -> {"min", "max", "policies": {name: config}}."""
        cfg = self.env.config
        assert cfg.api is not None
        cluster = ctx.output("cluster", "cluster")
        api_service = ctx.output("service", "service")
        out: dict[str, dict[str, Any]] = {resource_id(cluster, api_service): {
            "min": cfg.api.min_count, "max": cfg.api.max_count, "policies": {self.env.name("api-cpu"): {
                "TargetValue": float(cfg.api.cpu_target),
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                "ScaleOutCooldown": 60, "ScaleInCooldown": 180, "DisableScaleIn": False}}}}
        if self.worker:
            assert cfg.queue is not None
            worker = ctx.output("worker-service", "service")
            out[resource_id(cluster, worker)] = {
                "min": cfg.queue.worker_min_count, "max": cfg.queue.worker_max_count,
                "policies": {self.env.name("worker-backlog"): {
                    "TargetValue": float(cfg.queue.backlog_per_task),
                    "CustomizedMetricSpecification": {"Metrics": [
                        {"Id": "visible", "ReturnData": False, "MetricStat": {"Stat": "Sum", "Metric": {
                            "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                            "Dimensions": [{"Name": "QueueName", "Value": ctx.output("queue", "queue_name")}]}}},
                        {"Id": "tasks", "ReturnData": False, "MetricStat": {"Stat": "Average", "Metric": {
                            "Namespace": "ECS/ContainerInsights", "MetricName": "RunningTaskCount",
                            "Dimensions": [{"Name": "ClusterName", "Value": cluster},
                                           {"Name": "ServiceName", "Value": worker}]}}},
                        {"Id": "backlog", "Label": "visible messages per running task", "ReturnData": True,
                         "Expression": "visible / IF(tasks > 0, tasks, 1)"}]},
                    "ScaleOutCooldown": 60, "ScaleInCooldown": 300, "DisableScaleIn": False}}}
        return out

    def read(self, ctx: StepContext) -> Any | None:
        scaling = self.env.autoscaling
        rids = list(self.wanted(ctx))
        read = each(rids, lambda rid: together(lambda: scaling.target(rid), lambda: scaling.policies(rid)))
        found = {rid: {"target": target, "policies": policies}
                 for rid, (target, policies) in zip(rids, read, strict=True) if target is not None}
        return found or None

    def _plan(self, ctx: StepContext, observed: dict[str, Any]) -> tuple[list[Change], list[tuple[str, str, str]]]:
        """What differs and the work it calls for, (action, resource id, policy name): the one computation
        behind diff and apply."""
        changes: list[Change] = []
        work: list[tuple[str, str, str]] = []
        for rid, want in self.wanted(ctx).items():
            have = observed.get(rid)
            if have is None:
                changes.append(Change(f"scalable target {rid}", None, f"{want['min']}..{want['max']} tasks"))
                work.append(("register new", rid, ""))
            else:
                before = len(changes)
                compare(changes, f"{rid} capacity",
                        [have["target"].get("MinCapacity"), have["target"].get("MaxCapacity")],
                        [want["min"], want["max"]])
                if len(changes) > before:
                    work.append(("register", rid, ""))
            policies = (have or {}).get("policies", {})
            for name, config in want["policies"].items():
                policy = policies.get(name)
                current = (policy or {}).get("TargetTrackingScalingPolicyConfiguration")
                if current is None or canonical(_subset(current, config)) != canonical(config):
                    if have is not None:
                        changes.append(Change(f"policy {name}", None if policy is None else "different",
                                              "target tracking"))
                    work.append(("put", rid, name))
            for name in set(policies) - set(want["policies"]):
                changes.append(Change(f"policy {name}", "present", None))
                work.append(("delete", rid, name))
        return changes, work

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        return self._plan(ctx, observed or {})[0]

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        asg = self.env.autoscaling
        wanted = self.wanted(ctx)
        for action, rid, name in self._plan(ctx, observed or {})[1]:
            if action in ("register new", "register"):
                asg.register_target(rid, wanted[rid]["min"], wanted[rid]["max"],
                                    self.tags if action == "register new" else {})
            elif action == "put":
                asg.put_target_tracking(rid, name, wanted[rid]["policies"][name])
            else:
                asg.delete_policy(rid, name)
        return self.outputs(ctx, None)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"targets": sorted(self.wanted(ctx))}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        for rid, have in observed.items():
            for name in have["policies"]:
                self.env.autoscaling.delete_policy(rid, name)
            self.env.autoscaling.deregister_target(rid)


def _subset(have: Any, want: Any) -> Any:
    """``have`` reduced to the keys ``want`` sets (AWS adds defaults); numbers compared as floats."""
    if isinstance(want, dict) and isinstance(have, dict):
        return {k: _subset(have.get(k), v) for k, v in want.items()}
    if isinstance(want, list) and isinstance(have, list) and len(want) == len(have):
        return [_subset(h, w) for h, w in zip(have, want, strict=True)]
    if isinstance(want, float) and isinstance(have, (int, float)) and not isinstance(have, bool):
        return float(have)
    return have


class SchedulesStep(FsStep):
    """One schedule group per app and stage; each [[schedules]] entry runs the API task with a command."""

    kind = "EventBridge Scheduler"

    @property
    def group(self) -> str:
        return self.env.prefix

    def wanted(self, ctx: StepContext) -> dict[str, TaskSchedule]:
        family = self.env.arn("ecs", f"task-definition/{ctx.output('api-task-definition', 'family')}")
        return {s.name: TaskSchedule(
            s.expression, s.timezone, s.enabled, cluster_arn=ctx.output("cluster", "cluster_arn"),
            role_arn=ctx.output("roles", "scheduler_role_arn"), task_family_arn=family,
            subnets=tuple(ctx.output("network", "task_subnets")),
            security_groups=(ctx.output("security-groups", "service_sg"),),
            public_ip=bool(ctx.output("network", "assign_public_ip")), container="api", command=tuple(s.command))
            for s in self.env.config.schedules}

    def read(self, ctx: StepContext) -> Any | None:
        scheduler = self.env.scheduler
        group, names = together(lambda: scheduler.group(self.group), lambda: scheduler.schedules(self.group))
        if group is None:
            return None
        return dict(zip(names, each(names, lambda name: scheduler.schedule(self.group, name)), strict=True))

    def _changes(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        """What differs, the one computation behind diff and apply: per schedule, None -> create,
        "different" -> update, to None -> delete; the group, when missing, comes first."""
        want = self.wanted(ctx)
        changes = [Change("schedule group", None, self.group)] if observed is None else []
        for name, schedule in want.items():
            have = (observed or {}).get(name)
            config = schedule.api()
            if have is None:
                changes.append(Change(f"schedule {name}", None, schedule.expression))
            elif canonical(_subset(have, config)) != canonical(config):
                changes.append(Change(f"schedule {name}", "different", schedule.expression))
        for name in set(observed or {}) - set(want):
            changes.append(Change(f"schedule {name}", "present", None))
        return changes

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        return self._changes(ctx, observed)

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        sched = self.env.scheduler
        want = self.wanted(ctx)
        for change in self._changes(ctx, observed):
            if change.field == "schedule group":
                sched.create_group(self.group, self.tags)
                continue
            name = change.field.removeprefix("schedule ")
            if change.old is None:
                schedule = want[name]
                retry_new_role(sched.create)(self.group, name, schedule,
                                             token(self.group, name, canonical(schedule.api()))[:64])
            elif change.new is None:
                sched.delete(self.group, name)
            else:
                retry_new_role(sched.update)(self.group, name, want[name])
        return self.outputs(ctx, None)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"group": self.group, "schedules": sorted(s.name for s in self.env.config.schedules)}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        for name in observed:
            self.env.scheduler.delete(self.group, name)
        self.env.scheduler.delete_group(self.group)
