"""An ECS service's running tasks as AWS has them: tasks that exist, registered in the service's target groups.

moto only counts a service's tasks (runningCount, from MOTO_ECS_SERVICE_RUNNING): it starts none, so
ListTasks finds none and the service's target groups stay empty, which DescribeTargetHealth answers the
same way for a service that serves and for one that never registered anything. Here every service's
running count is backed by tasks of its current revision (group ``service:NAME``, one ENI each in
awsvpc mode), each task's IP registered in the service's target groups as ECS registers it; a new
revision's tasks replace the old ones, and scaling in or deleting the service stops tasks and
deregisters them. ListTasks filtered by service answers that service's tasks only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def apply() -> None:
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface
    from moto.ecs.models import EC2ContainerServiceBackend

    # moto names an ENI's private DNS only in a VPC with DNS hostnames, and its Fargate task reads the name
    # whatever the VPC; AWS's task attachment lists it as the VPC has it
    if not hasattr(NetworkInterface, "private_dns_name"):
        NetworkInterface.private_dns_name = None  # type: ignore[assignment]

    for name in ("create_service", "update_service", "delete_service"):
        _reconcile_after(EC2ContainerServiceBackend, name)
    _new_tasks_on_placement_change(EC2ContainerServiceBackend)
    _list_tasks_by_service(EC2ContainerServiceBackend)


def _reconcile_after(backend_class: Any, name: str) -> None:
    original = getattr(backend_class, name)

    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        service = original(self, *args, **kwargs)
        _reconcile(self, service)
        return service

    setattr(backend_class, name, wrapped)


def _new_tasks_on_placement_change(backend_class: Any) -> None:
    """In AWS an UpdateService that changes the service's load balancers or network configuration starts a new
    deployment: new tasks, placed as now configured and registered in the target groups now listed, replace the
    old ones, which leave the target groups they were in. moto only stores the new settings; here the tasks are
    replaced, at once, as a new revision's are."""
    original = backend_class.update_service

    def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
        cluster = str(service_properties.get("cluster") or "default")
        before = self._get_service(cluster, str(service_properties.get("service", "")).split("/")[-1])
        placement = (json.dumps(before.load_balancers, sort_keys=True, default=str),
                     json.dumps(before.network_configuration, sort_keys=True, default=str))
        old_groups = _target_groups(before)
        service = original(self, service_properties)
        if (json.dumps(service.load_balancers, sort_keys=True, default=str),
                json.dumps(service.network_configuration, sort_keys=True, default=str)) != placement:
            _stop_tasks(self, service, old_groups)
            _reconcile(self, service)
        return service

    backend_class.update_service = update_service


def _target_groups(service: Any) -> list[tuple[str, int]]:
    return [(lb["targetGroupArn"], int(lb.get("containerPort") or 80))
            for lb in service.load_balancers if lb.get("targetGroupArn")]


def _stop_tasks(backend: Any, service: Any, groups: list[tuple[str, int]], keep: Sequence[Any] = ()) -> None:
    """Stop the service's running tasks but ``keep``, each deregistered from ``groups`` and its ENI released."""
    from moto.elbv2.models import elbv2_backends

    elbv2 = elbv2_backends[backend.account_id][backend.region_name]
    cluster = service.cluster_name
    for task in list(backend.tasks.get(cluster, {}).values()):
        if task.group != _group(service) or task.desired_status != "RUNNING" or task in keep:
            continue
        for arn, port in groups:
            elbv2.deregister_targets(arn, [{"Id": ip, "Port": port} for ip in _task_ips(task)])
        backend.stop_task(cluster, task.task_arn, "Scaling activity initiated by (deployment)")
        _release_enis(backend, task)


def _group(service: Any) -> str:
    return f"service:{service.name}"


def _task_ips(task: Any) -> list[str]:
    return [str(d["value"]) for att in task.attachments for d in att.get("details", [])
            if d.get("name") == "privateIPv4Address"]


def _reconcile(backend: Any, service: Any) -> None:
    from moto.elbv2.models import elbv2_backends

    cluster = service.cluster_name
    revision = service.task_definition if isinstance(service.task_definition, str) else service.task_definition.arn
    wanted = service.running_count if service.status == "ACTIVE" and revision else 0
    tasks = backend.tasks.setdefault(cluster, {})
    running = [t for t in tasks.values() if t.group == _group(service) and t.desired_status == "RUNNING"]
    keep = [t for t in running if t.task_definition_arn == revision][:wanted]
    elbv2 = elbv2_backends[backend.account_id][backend.region_name]
    groups = _target_groups(service)
    _stop_tasks(backend, service, groups, keep)
    if len(keep) >= wanted:
        return
    from moto.ecs.models import Task

    definition = backend.describe_task_definition(revision)
    for _ in range(wanted - len(keep)):
        # as moto's RunTask starts a Fargate task, but without its container-level memory sum (a Fargate task
        # definition may set memory on the task only, which that sum cannot add)
        task = Task(cluster=backend._get_cluster(cluster), task_definition=definition, container_instance_arn=None,
                    resource_requirements=None, backend=backend, group=_group(service), launch_type="FARGATE",
                    started_by=f"ecs-svc/{service.name}",
                    networking_configuration=service.network_configuration or None)
        task._transitions = []  # a service's task runs until the service stops it, not through to STOPPED
        tasks[task.task_arn] = task
        for arn, port in groups:
            elbv2.register_targets(arn, [{"Id": ip, "Port": port} for ip in _task_ips(task)])


def _release_enis(backend: Any, task: Any) -> None:
    """A stopped Fargate task's ENI is deleted (else its subnet and security groups could not be)."""
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[backend.account_id][backend.region_name]
    for att in task.attachments:
        for detail in att.get("details", []):
            if detail.get("name") == "networkInterfaceId":
                ec2.delete_network_interface(detail["value"])


def _list_tasks_by_service(backend_class: Any) -> None:
    original = backend_class.list_tasks

    def list_tasks(self: Any, cluster_str: str | None = None, container_instance: str | None = None,
                   family: str | None = None, started_by: str | None = None, service_name: str | None = None,
                   desiredStatus: str | None = None) -> Any:
        found = original(self, cluster_str, container_instance, family, started_by, None, desiredStatus)
        if not service_name:
            return found
        return [t for t in found if t.group == f"service:{service_name.split('/')[-1]}"]

    backend_class.list_tasks = list_tasks
