"""ECS: clusters, task definitions, Fargate services, tasks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tscloud_py.aws._tags import tag_list_lower, tags_dict
from tscloud_py.aws.session import call, ignoring, paginate
from tscloud_py.aws.waiters import Poll, ProgressCallback, WaitPolicy, wait_for

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.aws.waiters import Clock


@dataclass(frozen=True)
class ServiceTarget:
    """Where a service's tasks register: a target group, the container and port it sends to."""

    target_group_arn: str
    container: str
    port: int
    grace_period: int  # seconds the health checks are ignored after a task starts


@dataclass(frozen=True)
class FargateService:
    """A Fargate service's settings that UpdateService changes in place."""

    name: str
    task_definition: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    public_ip: bool
    recreate: bool  # stop the old tasks before starting new ones (else roll: 200 %, never below 100 %)
    load_balancer: ServiceTarget | None = None
    # target groups the tasks also register in, same container and port: a load balancer being replaced
    # keeps serving until nothing sends to it
    also_target_groups: tuple[str, ...] = ()

    def api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "taskDefinition": self.task_definition,
            "networkConfiguration": {"awsvpcConfiguration": {
                "subnets": sorted(self.subnets), "securityGroups": sorted(self.security_groups),
                "assignPublicIp": "ENABLED" if self.public_ip else "DISABLED"}},
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                "maximumPercent": 100 if self.recreate else 200,
                "minimumHealthyPercent": 0 if self.recreate else 100},
        }
        if self.load_balancer is not None:
            lb = self.load_balancer
            out["healthCheckGracePeriodSeconds"] = lb.grace_period
            out["loadBalancers"] = [{"targetGroupArn": arn, "containerName": lb.container, "containerPort": lb.port}
                                    for arn in (lb.target_group_arn, *self.also_target_groups)]
        return out

    def differences(self, described: dict[str, Any]) -> list[tuple[str, Any, Any]]:
        """Each setting a DescribeServices answer does not match: (setting, have, want)."""
        want = self.api()
        net = (described.get("networkConfiguration") or {}).get("awsvpcConfiguration", {})
        have: dict[str, Any] = {
            "taskDefinition": described.get("taskDefinition"),
            "networkConfiguration": {"awsvpcConfiguration": {
                "subnets": sorted(net.get("subnets", [])), "securityGroups": sorted(net.get("securityGroups", [])),
                "assignPublicIp": net.get("assignPublicIp", "DISABLED")}},
        }
        dc = described.get("deploymentConfiguration") or {}
        have["deploymentConfiguration"] = {
            "deploymentCircuitBreaker": {k: dc.get("deploymentCircuitBreaker", {}).get(k)
                                         for k in ("enable", "rollback")},
            "maximumPercent": dc.get("maximumPercent"), "minimumHealthyPercent": dc.get("minimumHealthyPercent")}
        if self.load_balancer is not None:
            if "healthCheckGracePeriodSeconds" in described:
                have["healthCheckGracePeriodSeconds"] = described["healthCheckGracePeriodSeconds"]
            have["loadBalancers"] = [{k: lb.get(k) for k in ("targetGroupArn", "containerName", "containerPort")}
                                     for lb in described.get("loadBalancers", [])]
        return [(key, value, want[key]) for key, value in have.items() if _same_json(value) != _same_json(want[key])]


@dataclass(frozen=True)
class HealthCheck:
    """A container health check (ECS runs ``command``; CMD-SHELL or CMD form)."""

    command: tuple[str, ...]
    interval: int = 15
    timeout: int = 5
    retries: int = 3
    start_period: int = 0

    def api(self) -> dict[str, Any]:
        return {"command": list(self.command), "interval": self.interval, "timeout": self.timeout,
                "retries": self.retries, "startPeriod": self.start_period}


@dataclass(frozen=True)
class AppContainer:
    """The one container of a tscloud task: its image, plain environment, secrets and awslogs stream.

    ``secrets`` maps a variable to the ARN ECS reads it from (Secrets Manager, with an optional
    ``:key::`` suffix, or an SSM parameter); a value never goes here or into ``environment``."""

    name: str
    image: str
    environment: dict[str, str]
    secrets: dict[str, str]
    log_group: str
    log_region: str
    ports: tuple[int, ...] = ()
    health_check: HealthCheck | None = None
    command: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        both = sorted(set(self.environment) & set(self.secrets))
        if both:
            raise ValueError(f"container {self.name}: {', '.join(both)} set both as plain environment and secret")
        values = sorted(k for k, v in self.secrets.items() if not v.startswith("arn:"))
        if values:
            raise ValueError(f"container {self.name}: secrets {', '.join(values)} are not ARNs to read from")

    def api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "image": self.image,
            "essential": True,
            "environment": [{"name": k, "value": v} for k, v in sorted(self.environment.items())],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(self.secrets.items())],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": self.log_group, "awslogs-region": self.log_region,
                "awslogs-stream-prefix": self.name}},
            "readonlyRootFilesystem": False,
        }
        if self.ports:
            out["portMappings"] = [{"containerPort": port, "protocol": "tcp"} for port in self.ports]
        if self.health_check is not None:
            out["healthCheck"] = self.health_check.api()
        if self.command:
            out["command"] = list(self.command)
        return out


@dataclass(frozen=True)
class FargateTaskDefinition:
    """What tscloud registers: one Fargate (awsvpc) task with one container, its size, platform and roles."""

    family: str
    cpu: int
    memory: int
    arm64: bool
    execution_role_arn: str
    task_role_arn: str
    container: AppContainer

    def api(self) -> dict[str, Any]:
        """RegisterTaskDefinition's arguments (tags apart)."""
        return {
            "family": self.family,
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": str(self.cpu),
            "memory": str(self.memory),
            "runtimePlatform": {"cpuArchitecture": "ARM64" if self.arm64 else "X86_64",
                                "operatingSystemFamily": "LINUX"},
            "executionRoleArn": self.execution_role_arn,
            "taskRoleArn": self.task_role_arn,
            "containerDefinitions": [self.container.api()],
        }

    def differences(self, described: dict[str, Any]) -> list[tuple[str, Any, Any]]:
        """Each setting a DescribeTaskDefinition answer does not match: (setting, have, want); a container
        setting is named ``container <key>``. Only what we set is compared: AWS adds defaults and reorders."""
        want = self.api()
        found: list[tuple[str, Any, Any]] = []
        for key, value in want.items():
            if key != "containerDefinitions" and _same_json(described.get(key)) != _same_json(value):
                found.append((key, described.get(key), value))
        containers = described.get("containerDefinitions") or [{}]
        have = _container_as_set(containers[0], want["containerDefinitions"][0])
        for key, value in want["containerDefinitions"][0].items():
            if _same_json(have.get(key)) != _same_json(value):
                found.append((f"container {key}", have.get(key), value))
        if len(containers) != 1:
            found.append(("containers", len(containers), 1))
        return found


def _container_as_set(have: dict[str, Any], want: dict[str, Any]) -> dict[str, Any]:
    """A described container reduced to the keys we set, in our shape."""
    reduced: dict[str, Any] = {}
    for key in want:
        value = have.get(key)
        if key in ("environment", "secrets"):
            member = "value" if key == "environment" else "valueFrom"
            value = [{"name": e.get("name"), member: e.get(member)}
                     for e in sorted(value or [], key=lambda e: str(e.get("name")))]
        elif key == "portMappings":
            value = [{"containerPort": p.get("containerPort"), "protocol": p.get("protocol", "tcp")}
                     for p in value or []]
        elif key == "readonlyRootFilesystem":
            value = bool(value)
        reduced[key] = value
    reduced_json: dict[str, Any] = json.loads(json.dumps(reduced, default=str))
    return reduced_json


def _same_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class Ecs:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("ecs", region)

    # -- clusters ----------------------------------------------------------------------
    def cluster(self, name: str) -> dict[str, Any] | None:
        found = call(self.c.describe_clusters, "ecs:DescribeClusters", clusters=[name],
                     include=["TAGS", "SETTINGS"])["clusters"]
        live = [c for c in found if c.get("status") == "ACTIVE"]
        return live[0] if live else None

    def create_cluster(self, name: str, tags: dict[str, str], *, insights: bool) -> dict[str, Any]:
        return dict(call(self.c.create_cluster, "ecs:CreateCluster", clusterName=name, tags=tag_list_lower(tags),
                         settings=[{"name": "containerInsights",
                                    "value": "enabled" if insights else "disabled"}])["cluster"])

    def update_cluster_settings(self, name: str, *, insights: bool) -> None:
        call(self.c.update_cluster_settings, "ecs:UpdateClusterSettings", cluster=name,
             settings=[{"name": "containerInsights", "value": "enabled" if insights else "disabled"}])

    def delete_cluster(self, name: str) -> None:
        with ignoring("ClusterNotFoundException"):
            call(self.c.delete_cluster, "ecs:DeleteCluster", cluster=name)

    # -- task definitions ----------------------------------------------------------------
    def latest_task_definition(self, family: str) -> dict[str, Any] | None:
        """The latest ACTIVE revision of ``family`` (with its tags), or None."""
        with ignoring("ClientException", "InvalidParameterException"):
            out = call(self.c.describe_task_definition, "ecs:DescribeTaskDefinition", taskDefinition=family,
                       include=["TAGS"])
            td = dict(out["taskDefinition"])
            if td.get("status") != "ACTIVE":
                return None
            td["tags"] = tags_dict(out.get("tags"))
            return td
        return None

    def register_task_definition(self, definition: FargateTaskDefinition, tags: dict[str, str]) -> dict[str, Any]:
        """A new revision of the family; ECS keeps the older ones ACTIVE until they are deregistered."""
        return dict(call(self.c.register_task_definition, "ecs:RegisterTaskDefinition",
                         tags=tag_list_lower(tags), **definition.api())["taskDefinition"])

    def task_definition_arns(self, family: str) -> list[str]:
        return list(paginate(self.c, "list_task_definitions", "taskDefinitionArns", familyPrefix=family,
                             status="ACTIVE"))

    def deregister_task_definition(self, arn: str) -> None:
        with ignoring("ClientException"):
            call(self.c.deregister_task_definition, "ecs:DeregisterTaskDefinition", taskDefinition=arn)

    def delete_task_definitions(self, arns: list[str]) -> None:
        """Delete INACTIVE revisions (at most 10 per call); AWS keeps them, and their tags, otherwise."""
        for i in range(0, len(arns), 10):
            with ignoring("ClientException", "InvalidParameterException"):
                call(self.c.delete_task_definitions, "ecs:DeleteTaskDefinitions", taskDefinitions=arns[i:i + 10])

    # -- services --------------------------------------------------------------------
    def service(self, cluster: str, name: str) -> dict[str, Any] | None:
        with ignoring("ClusterNotFoundException"):
            found = call(self.c.describe_services, "ecs:DescribeServices", cluster=cluster, services=[name],
                         include=["TAGS"])["services"]
            live = [s for s in found if s.get("status") == "ACTIVE"]
            return live[0] if live else None
        return None

    def create_service(self, cluster: str, service: FargateService, *, desired: int, token: str,
                       tags: dict[str, str]) -> dict[str, Any]:
        """A replica Fargate service on the latest platform; its tags propagate to its tasks."""
        return dict(call(self.c.create_service, "ecs:CreateService", cluster=cluster, serviceName=service.name,
                         desiredCount=desired, launchType="FARGATE", platformVersion="LATEST",
                         schedulingStrategy="REPLICA", propagateTags="SERVICE", enableECSManagedTags=True,
                         clientToken=token, tags=tag_list_lower(tags), **service.api())["service"])

    def update_service(self, cluster: str, service: FargateService) -> dict[str, Any]:
        """Change the settings; a new task definition starts a rollout, nothing else forces one."""
        return dict(call(self.c.update_service, "ecs:UpdateService", cluster=cluster, service=service.name,
                         forceNewDeployment=False, **service.api())["service"])

    def remove_target_group(self, cluster: str, name: str, tg_arn: str) -> bool:
        """Stop registering the service's tasks in ``tg_arn``, keeping its other target groups; False when it
        registers none there (or the service is gone)."""
        service = self.service(cluster, name)
        current = list((service or {}).get("loadBalancers") or [])
        keep = [{k: lb[k] for k in ("targetGroupArn", "containerName", "containerPort") if k in lb}
                for lb in current if lb.get("targetGroupArn") != tg_arn]
        if len(keep) == len(current):
            return False
        call(self.c.update_service, "ecs:UpdateService", cluster=cluster, service=name, forceNewDeployment=False,
             loadBalancers=keep)
        return True

    def force_new_deployment(self, cluster: str, name: str) -> dict[str, Any]:
        """Replace the service's tasks with new ones of the same revision (they read their secrets anew)."""
        return dict(call(self.c.update_service, "ecs:UpdateService", cluster=cluster, service=name,
                         forceNewDeployment=True)["service"])

    def delete_service(self, cluster: str, name: str) -> None:
        with ignoring("ServiceNotFoundException", "ClusterNotFoundException"):
            call(self.c.delete_service, "ecs:DeleteService", cluster=cluster, service=name, force=True)

    def wait_service_gone(self, cluster: str, name: str, *, progress: ProgressCallback | None = None,
                          clock: Clock | None = None) -> None:
        """Until the service is INACTIVE (DRAINING services still hold the cluster and ENIs)."""

        def check() -> Poll[str]:
            with ignoring("ClusterNotFoundException"):
                found = call(self.c.describe_services, "ecs:DescribeServices", cluster=cluster,
                             services=[name])["services"]
                state = str(found[0].get("status")) if found else "INACTIVE"
                return Poll.finished(state, state) if state == "INACTIVE" else Poll.pending(state.lower())
            return Poll.finished("INACTIVE", "gone")

        wait_for(check, what=f"service {name} drained", policy=WaitPolicy(timeout=900, first_interval=2),
                 clock=clock, progress=progress)

    def services_for_target_group(self, tg_arn: str) -> list[dict[str, Any]]:
        """Every ACTIVE service, in any cluster, whose load balancer configuration names this target group."""
        found: list[dict[str, Any]] = []
        for cluster in paginate(self.c, "list_clusters", "clusterArns"):
            arns = list(paginate(self.c, "list_services", "serviceArns", cluster=cluster))
            for i in range(0, len(arns), 10):
                services = call(self.c.describe_services, "ecs:DescribeServices", cluster=cluster,
                                services=arns[i:i + 10])["services"]
                found += [s for s in services if s.get("status") == "ACTIVE" and any(
                    lb.get("targetGroupArn") == tg_arn for lb in s.get("loadBalancers") or [])]
        return found

    def task_definition(self, arn: str) -> dict[str, Any]:
        return dict(call(self.c.describe_task_definition, "ecs:DescribeTaskDefinition",
                         taskDefinition=arn)["taskDefinition"])

    # -- tasks -----------------------------------------------------------------------
    def tasks(self, cluster: str, service: str, desired_status: str = "RUNNING") -> list[dict[str, Any]]:
        arns = list(paginate(self.c, "list_tasks", "taskArns", cluster=cluster, serviceName=service,
                             desiredStatus=desired_status))
        out: list[dict[str, Any]] = []
        for i in range(0, len(arns), 100):
            out.extend(call(self.c.describe_tasks, "ecs:DescribeTasks", cluster=cluster,
                            tasks=arns[i:i + 100])["tasks"])
        return out


def task_ips(task: dict[str, Any]) -> list[str]:
    """The private IPv4 addresses of a task's ENI (awsvpc mode)."""
    ips: list[str] = []
    for att in task.get("attachments", []):
        for detail in att.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                ips.append(str(detail.get("value")))
    for container in task.get("containers", []):
        for ni in container.get("networkInterfaces", []):
            ip = ni.get("privateIpv4Address")
            if ip and ip not in ips:
                ips.append(str(ip))
    return ips
