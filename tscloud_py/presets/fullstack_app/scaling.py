"""Autoscaling (CPU target tracking for the API, queue backlog per task for a worker) and
EventBridge Scheduler jobs: ECS RunTask with a command override, or an invocation of the Lambda worker."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from tscloud_py.aws.autoscaling import AutoScaling, resource_id
from tscloud_py.aws.retry import retry_new_role
from tscloud_py.aws.scheduler import FunctionSchedule, Schedule, Scheduler, TaskSchedule
from tscloud_py.concurrency import each, together
from tscloud_py.config.schema import Config
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.presets.diffing import canonical
from tscloud_py.presets.fullstack_app.common import FsStep, compare
from tscloud_py.presets.naming import Names, token


class AutoscalingStep(FsStep):
    kind = "Application Auto Scaling"

    provides = frozenset({"targets"})

    def __init__(self, step_id: str, autoscaling: AutoScaling, config: Config, names: Names, *,
                 needs: Sequence[str], cluster: Step, service: Step, worker_service: Step | None,
                 queue: Step | None) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.autoscaling = autoscaling
        self.cluster: Ref[str] = cluster.output("cluster")
        self.service: Ref[str] = service.output("service")
        # a worker service scales on its queue's backlog
        self.worker: Ref[str] | None = worker_service.output("service") if worker_service else None
        self.queue_name: Ref[str] | None = queue.output("queue_name") if worker_service and queue else None

    def wanted(self, ctx: StepContext) -> dict[str, dict[str, Any]]:
        """resource id -> {"min", "max", "policies": {name: config}}."""
        cfg = self.config
        assert cfg.api is not None
        cluster = ctx.get(self.cluster)
        api_service = ctx.get(self.service)
        out: dict[str, dict[str, Any]] = {resource_id(cluster, api_service): {
            "min": cfg.api.min_count, "max": cfg.api.max_count, "policies": {self.names.resource("api-cpu"): {
                "TargetValue": float(cfg.api.cpu_target),
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                "ScaleOutCooldown": 60, "ScaleInCooldown": 180, "DisableScaleIn": False}}}}
        if self.worker is not None and self.queue_name is not None:
            assert cfg.queue is not None
            worker = ctx.get(self.worker)
            out[resource_id(cluster, worker)] = {
                "min": cfg.queue.worker_min_count, "max": cfg.queue.worker_max_count,
                "policies": {self.names.resource("worker-backlog"): {
                    "TargetValue": float(cfg.queue.backlog_per_task),
                    "CustomizedMetricSpecification": {"Metrics": [
                        {"Id": "visible", "ReturnData": False, "MetricStat": {"Stat": "Sum", "Metric": {
                            "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                            "Dimensions": [{"Name": "QueueName", "Value": ctx.get(self.queue_name)}]}}},
                        {"Id": "tasks", "ReturnData": False, "MetricStat": {"Stat": "Average", "Metric": {
                            "Namespace": "ECS/ContainerInsights", "MetricName": "RunningTaskCount",
                            "Dimensions": [{"Name": "ClusterName", "Value": cluster},
                                           {"Name": "ServiceName", "Value": worker}]}}},
                        {"Id": "backlog", "Label": "visible messages per running task", "ReturnData": True,
                         "Expression": "visible / IF(tasks > 0, tasks, 1)"}]},
                    "ScaleOutCooldown": 60, "ScaleInCooldown": 300, "DisableScaleIn": False}}}
        return out

    def read(self, ctx: StepContext) -> Any | None:
        scaling = self.autoscaling
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
        asg = self.autoscaling
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
                self.autoscaling.delete_policy(rid, name)
            self.autoscaling.deregister_target(rid)


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
    """One schedule group per app and stage; each [[schedules]] entry runs the API task with a command, or
    (target = "worker") invokes the worker function through a role that may invoke only it."""

    kind = "EventBridge Scheduler"
    provides = frozenset({"group", "schedules"})

    def __init__(self, step_id: str, scheduler: Scheduler, config: Config, names: Names, *,
                 account: Callable[[], str], needs: Sequence[str], task_definition: Step, cluster: Step,
                 roles: Step, network: Step, security_groups: Step, worker: Step | None = None,
                 invoker_role: Step | None = None) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.scheduler, self.account = scheduler, account
        self.family: Ref[str] = task_definition.output("family")
        self.cluster_arn: Ref[str] = cluster.output("cluster_arn")
        self.role_arn: Ref[str] = roles.output("scheduler_role_arn")
        self.subnets: Ref[list[str]] = network.output("task_subnets")
        self.public_ip: Ref[bool] = network.output("assign_public_ip")
        self.security_group: Ref[str] = security_groups.output("service_sg")
        self.function_arn: Ref[str] | None = worker.output("function_arn") if worker else None
        self.invoker_role_arn: Ref[str] | None = invoker_role.output("role_arn") if invoker_role else None

    @property
    def group(self) -> str:
        return self.names.prefix

    def wanted(self, ctx: StepContext) -> dict[str, Schedule]:
        out: dict[str, Schedule] = {}
        for s in self.config.schedules:
            if s.target == "worker":
                assert self.function_arn is not None and self.invoker_role_arn is not None
                out[s.name] = FunctionSchedule(
                    s.expression, s.timezone, s.enabled, function_arn=ctx.get(self.function_arn),
                    role_arn=ctx.get(self.invoker_role_arn), input=json.dumps({"schedule": s.name}))
                continue
            family = self.names.arn(self.account(), "ecs", f"task-definition/{ctx.get(self.family)}")
            out[s.name] = TaskSchedule(
                s.expression, s.timezone, s.enabled, cluster_arn=ctx.get(self.cluster_arn),
                role_arn=ctx.get(self.role_arn), task_family_arn=family, subnets=tuple(ctx.get(self.subnets)),
                security_groups=(ctx.get(self.security_group),), public_ip=bool(ctx.get(self.public_ip)),
                container="api", command=tuple(s.command))
        return out

    def read(self, ctx: StepContext) -> Any | None:
        scheduler = self.scheduler
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
        sched = self.scheduler
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
        return {"group": self.group, "schedules": sorted(s.name for s in self.config.schedules)}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        for name in observed:
            self.scheduler.delete(self.group, name)
        self.scheduler.delete_group(self.group)
