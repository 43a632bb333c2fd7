"""Compute tier, part 2: the Fargate services and rollout truth.

A deploy reports success only when the new task definition's tasks are running and
healthy in the target group. A failed rollout (circuit breaker, timeout) fails the
step with the last service events, the stopped tasks' reasons and the target health.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tscloud_py.aws.ecs import Ecs, FargateService, ServiceTarget, task_ips
from tscloud_py.aws.elbv2 import Elbv2
from tscloud_py.aws.retry import retry_new_role
from tscloud_py.aws.waiters import Poll, WaitPolicy, wait_for
from tscloud_py.config.schema import Config
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.errors import TscloudError, WaitTimeoutError
from tscloud_py.presets.fullstack_app.common import FsStep
from tscloud_py.presets.naming import Names


class RolloutFailedError(TscloudError):
    """The new tasks never became running and healthy; ECS may have rolled back."""

    default_hint = ("fix the image, command or health check (see the reasons above) and re-run `tscloud deploy`; "
                    "`tscloud logs` shows the containers' output")

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.code = "RolloutFailed"


def primary_deployment(service: dict[str, Any]) -> dict[str, Any]:
    return next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {})


def rollout_poll(ecs: Ecs, elbv2: Elbv2, cluster: str, name: str, td_arn: str, tg_arn: str | None
                 ) -> Poll[dict[str, Any]]:
    """One look at a rollout. Raises RolloutFailedError when it failed or was rolled back."""
    svc = ecs.service(cluster, name)
    if svc is None:
        raise RolloutFailedError(f"service {name} disappeared during the rollout")
    ours = [d for d in svc.get("deployments", []) if d.get("taskDefinition") == td_arn]
    rolled_back = svc.get("taskDefinition") != td_arn
    if any(d.get("rolloutState") == "FAILED" for d in ours) or rolled_back:
        raise RolloutFailedError(rollout_report(ecs, elbv2, cluster, name, td_arn, tg_arn, svc,
                                                headline="the service was rolled back to an older revision"
                                                if rolled_back else "the deployment circuit breaker stopped the "
                                                "rollout"))
    primary = next((d for d in ours if d.get("status") == "PRIMARY"), None)
    if primary is None:  # AWS lists the new revision's deployment as PRIMARY once UpdateService returns
        return Poll.pending("waiting for the new revision's deployment")
    others = len(svc.get("deployments", [])) - 1
    desired = int(primary.get("desiredCount", svc.get("desiredCount", 0)))
    running = int(primary.get("runningCount", 0))
    state = str(primary.get("rolloutState") or "")
    if others > 0:
        return Poll.pending(f"{running}/{desired} new tasks running, old tasks draining")
    if (state and state != "COMPLETED") or running < desired:
        return Poll.pending(f"{running}/{desired} running ({state.lower() or 'in progress'})")
    tasks = [t for t in ecs.tasks(cluster, name) if t.get("taskDefinitionArn") == td_arn]
    if any(t.get("lastStatus") != "RUNNING" for t in tasks):
        return Poll.pending(f"{sum(t.get('lastStatus') == 'RUNNING' for t in tasks)}/{len(tasks)} tasks RUNNING")
    if any(t.get("healthStatus") not in ("HEALTHY", None) for t in tasks):
        return Poll.pending("waiting for container health checks")
    if tg_arn is not None and desired > 0:
        health = {str(h["Target"]["Id"]): str(h["TargetHealth"]["State"]) for h in elbv2.target_health(tg_arn)}
        ips = [ip for t in tasks for ip in task_ips(t)]
        healthy = [ip for ip in ips if health.get(ip) == "healthy"]
        # a target group with no healthy target serves nothing, whatever the service's counts say
        if not healthy or len(healthy) < min(desired, len(ips)) or len(healthy) < len(ips):
            return Poll.pending(f"{len(healthy)}/{len(ips)} targets healthy")
    return Poll.finished(svc, "steady")


def rollout_report(ecs: Ecs, elbv2: Elbv2, cluster: str, name: str, td_arn: str, tg_arn: str | None,
                   svc: dict[str, Any] | None = None, *, headline: str) -> str:
    """The multi-line failure report: service events, stopped tasks' reasons, target health."""
    svc = svc or ecs.service(cluster, name) or {}
    lines = [f"rollout of {td_arn.rsplit('/', 1)[-1]} failed: {headline}"]
    primary = primary_deployment(svc)
    if primary.get("rolloutStateReason"):
        lines.append(f"  rollout state: {primary.get('rolloutState')}: {primary['rolloutStateReason']}")
    events = list(svc.get("events", []))[:8]
    if events:
        lines.append("  last service events:")
        lines += [f"    {e.get('createdAt', '')} {e.get('message', '')}".rstrip() for e in events]
    stopped = [t for t in ecs.tasks(cluster, name, "STOPPED") if t.get("taskDefinitionArn") == td_arn][:5]
    if stopped:
        lines.append("  stopped tasks:")
        for t in stopped:
            reasons = [f"{c.get('name')}: exit {c.get('exitCode')} {c.get('reason', '')}".strip()
                       for c in t.get("containers", []) if c.get("exitCode") is not None or c.get("reason")]
            lines.append(f"    {str(t.get('taskArn', '')).rsplit('/', 1)[-1]}: {t.get('stoppedReason', 'stopped')}"
                         + (f" ({'; '.join(reasons)})" if reasons else ""))
    if tg_arn is not None:
        health = elbv2.target_health(tg_arn)
        lines.append("  target health:" if health else "  target health: no targets registered")
        for h in health:
            th = h.get("TargetHealth", {})
            lines.append(f"    {h['Target']['Id']}:{h['Target'].get('Port', '')} {th.get('State')}"
                         + (f" ({th.get('Reason')}: {th.get('Description', '')})" if th.get("Reason") else ""))
    return "\n".join(lines)


class ServiceStep(FsStep):
    """A Fargate service: circuit breaker with rollback, 100/200 (or recreate), grace period."""

    kind = "ECS Fargate service"

    provides = frozenset({"service", "service_arn", "cluster", "task_definition_arn"})

    def __init__(self, step_id: str, ecs: Ecs, elbv2: Elbv2, config: Config, names: Names, *, role: str,
                 needs: Sequence[str], cluster: Step, task_definition: Step, network: Step, security_groups: Step,
                 load_balancer: Step | None) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.ecs, self.elbv2 = ecs, elbv2
        self.role = role
        self.cluster: Ref[str] = cluster.output("cluster")
        self.task_definition_arn: Ref[str] = task_definition.output("task_definition_arn")
        self.subnets: Ref[list[str]] = network.output("task_subnets")
        self.public_ip: Ref[bool] = network.output("assign_public_ip")
        self.security_group: Ref[str] = security_groups.output("service_sg")
        # the API's target group; a worker serves no traffic
        self.target_group: Ref[str] | None = load_balancer.output("tg_arn") if load_balancer else None
        # the target group of a load balancer being replaced (public -> vpc), served until the distribution moves
        self.retiring: Ref[str | None] | None = load_balancer.output("retiring_tg_arn") if load_balancer else None

    @property
    def name(self) -> str:
        return self.names.resource(self.role)

    def _service(self, ctx: StepContext) -> FargateService:
        api = self.config.api
        assert api is not None
        target = ServiceTarget(ctx.get(self.target_group), self.role, api.port, api.grace_period) \
            if self.target_group else None
        retiring = ctx.get(self.retiring) if self.retiring else None
        return FargateService(self.name, ctx.get(self.task_definition_arn), tuple(ctx.get(self.subnets)),
                              (ctx.get(self.security_group),), public_ip=bool(ctx.get(self.public_ip)),
                              recreate=api.deployment == "recreate", load_balancer=target,
                              also_target_groups=(retiring,) if retiring else ())

    def _desired(self) -> int:
        cfg = self.config
        assert cfg.api is not None
        if self.role == "api":
            return cfg.api.desired_count
        assert cfg.queue is not None
        return max(cfg.queue.worker_min_count, 0)

    def read(self, ctx: StepContext) -> Any | None:
        return self.ecs.service(ctx.get(self.cluster), self.name)

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is None:
            return [Change("service", None, f"{self.name} ({self._desired()} tasks)")]
        changes = [Change(setting, have, want) for setting, have, want in self._service(ctx).differences(observed)]
        if not changes:
            primary = primary_deployment(observed)
            if len(observed.get("deployments", [])) > 1 or primary.get("rolloutState") not in (None, "COMPLETED"):
                changes.append(Change("rollout", primary.get("rolloutState") or "in progress", "COMPLETED"))
        return changes

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        cluster = ctx.get(self.cluster)
        service = self._service(ctx)
        if observed is None:
            observed = retry_new_role(self.ecs.create_service)(
                cluster, service, desired=self._desired(), token=self.names.token(self.name), tags=self.tags)
        elif service.differences(observed):
            observed = self.ecs.update_service(cluster, service)
        self.wait(ctx, cluster, service.task_definition)
        return self.outputs(ctx, observed)

    def wait(self, ctx: StepContext, cluster: str, td_arn: str) -> None:
        api = self.config.api
        assert api is not None
        tg_arn = ctx.get(self.target_group) if self.target_group else None
        try:
            wait_for(lambda: rollout_poll(self.ecs, self.elbv2, cluster, self.name, td_arn, tg_arn),
                     what=f"{self.name} tasks running and healthy",
                     policy=WaitPolicy(timeout=api.rollout_timeout, first_interval=3, max_interval=15),
                     clock=ctx.clock, progress=ctx.progress())
        except WaitTimeoutError as exc:
            raise RolloutFailedError(rollout_report(self.ecs, self.elbv2, cluster, self.name, td_arn, tg_arn,
                                                    headline=str(exc))) from exc

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"service": self.name, "service_arn": observed["serviceArn"], "cluster": ctx.get(self.cluster),
                "task_definition_arn": observed.get("taskDefinition")}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        cluster = ctx.get(self.cluster)
        self.ecs.delete_service(cluster, self.name)
        self.ecs.wait_service_gone(cluster, self.name, progress=ctx.progress(), clock=ctx.clock)
