"""Autoscaling (CPU target tracking for the API, queue backlog per task for a worker) and
EventBridge Scheduler jobs run as ECS RunTask with a command override."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tscloud_py.aws.autoscaling import resource_id
from tscloud_py.concurrency import each, together
from tscloud_py.engine.step import Change, Outputs, StepContext
from tscloud_py.presets.diffing import canonical
from tscloud_py.presets.fullstack.common import Env, FsStep, compare, retry_new_role
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

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        observed = observed or {}
        changes: list[Change] = []
        for rid, want in self.wanted(ctx).items():
            have = observed.get(rid)
            if have is None:
                changes.append(Change(f"scalable target {rid}", None, f"{want['min']}..{want['max']} tasks"))
                continue
            compare(changes, f"{rid} capacity", [have["target"].get("MinCapacity"), have["target"].get("MaxCapacity")],
                    [want["min"], want["max"]])
            for name, config in want["policies"].items():
                policy = have["policies"].get(name)
                current = (policy or {}).get("TargetTrackingScalingPolicyConfiguration")
                if current is None or canonical(_subset(current, config)) != canonical(config):
                    changes.append(Change(f"policy {name}", None if policy is None else "different", "target tracking"))
            for name in set(have["policies"]) - set(want["policies"]):
                changes.append(Change(f"policy {name}", "present", None))
        return changes

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        observed = observed or {}
        asg = self.env.autoscaling
        for rid, want in self.wanted(ctx).items():
            have = observed.get(rid)
            if have is None or [have["target"].get("MinCapacity"), have["target"].get("MaxCapacity")] != \
                    [want["min"], want["max"]]:
                asg.register_target(rid, want["min"], want["max"], self.tags if have is None else {})
            policies = (have or {}).get("policies", {})
            for name, config in want["policies"].items():
                current = (policies.get(name) or {}).get("TargetTrackingScalingPolicyConfiguration")
                if current is None or canonical(_subset(current, config)) != canonical(config):
                    asg.put_target_tracking(rid, name, config)
            for name in set(policies) - set(want["policies"]):
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

    def wanted(self, ctx: StepContext) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for s in self.env.config.schedules:
            out[s.name] = {
                "ScheduleExpression": s.expression, "ScheduleExpressionTimezone": s.timezone,
                "State": "ENABLED" if s.enabled else "DISABLED",
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {
                    "Arn": ctx.output("cluster", "cluster_arn"),
                    "RoleArn": ctx.output("roles", "scheduler_role_arn"),
                    "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
                    "EcsParameters": {
                        # the family ARN (no revision): runs the latest ACTIVE revision, so a new
                        # revision does not touch the schedules
                        "TaskDefinitionArn": self.env.arn(
                            "ecs", f"task-definition/{ctx.output('api-task-definition', 'family')}"),
                        "LaunchType": "FARGATE", "TaskCount": 1, "PlatformVersion": "LATEST",
                        "NetworkConfiguration": {"awsvpcConfiguration": {
                            "Subnets": sorted(ctx.output("network", "task_subnets")),
                            "SecurityGroups": [ctx.output("security-groups", "service_sg")],
                            "AssignPublicIp": "ENABLED" if ctx.output("network", "assign_public_ip") else "DISABLED"}},
                    },
                    "Input": json.dumps({"containerOverrides": [{"name": "api", "command": list(s.command)}]},
                                        sort_keys=True),
                },
            }
        return out

    def read(self, ctx: StepContext) -> Any | None:
        scheduler = self.env.scheduler
        group, names = together(lambda: scheduler.group(self.group), lambda: scheduler.schedules(self.group))
        if group is None:
            return None
        return dict(zip(names, each(names, lambda name: scheduler.schedule(self.group, name)), strict=True))

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is None:
            return [Change("schedule group", None, self.group),
                    *(Change(f"schedule {n}", None, w["ScheduleExpression"]) for n, w in self.wanted(ctx).items())]
        changes: list[Change] = []
        want = self.wanted(ctx)
        for name, config in want.items():
            have = observed.get(name)
            if have is None:
                changes.append(Change(f"schedule {name}", None, config["ScheduleExpression"]))
            elif canonical(_subset(have, config)) != canonical(config):
                changes.append(Change(f"schedule {name}", "different", config["ScheduleExpression"]))
        for name in set(observed) - set(want):
            changes.append(Change(f"schedule {name}", "present", None))
        return changes

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        sched = self.env.scheduler
        if observed is None:
            sched.create_group(self.group, self.tags)
            observed = {}
        want = self.wanted(ctx)
        for name, config in want.items():
            have = observed.get(name)
            if have is None:
                retry_new_role(sched.create)(self.group, name, token(self.group, name, canonical(config))[:64],
                                             **config)
            elif canonical(_subset(have, config)) != canonical(config):
                retry_new_role(sched.update)(self.group, name, **config)
        for name in set(observed) - set(want):
            sched.delete(self.group, name)
        return self.outputs(ctx, None)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"group": self.group, "schedules": sorted(s.name for s in self.env.config.schedules)}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        for name in observed:
            self.env.scheduler.delete(self.group, name)
        self.env.scheduler.delete_group(self.group)
