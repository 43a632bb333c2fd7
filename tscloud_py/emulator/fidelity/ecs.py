"""ECS services as AWS describes them (their deployment configuration, one deployment per revision), and
RunTask of a Fargate task whose containers name no memory."""

from __future__ import annotations

from typing import Any


def apply() -> None:
    _service_deployment_configuration()
    _deployment_per_revision()
    _container_memory_optional()


_MEMORY_KEYS = ("memory", "memoryReservation", "Memory", "MemoryReservation")


def _container_memory_optional() -> None:
    """A container definition of a Fargate task needs no memory of its own: the task's memory bounds it (ECS
    developer guide, task definition parameters, "memory": required at task or container level). moto adds
    up container memory to place a RunTask and fails with a TypeError on a container that has none."""
    from types import SimpleNamespace

    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend._calculate_task_resource_requirements

    def calculate(task_definition: Any) -> Any:
        containers = [c if any(k in c for k in _MEMORY_KEYS) else {**c, "memory": 0}
                      for c in task_definition.container_definitions]
        return original(SimpleNamespace(container_definitions=containers))  # type: ignore[arg-type]

    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(calculate)  # type: ignore[method-assign]


# what AWS fills in for a REPLICA service created without a deploymentConfiguration
DEFAULT_DEPLOYMENT_CONFIGURATION = {"deploymentCircuitBreaker": {"enable": False, "rollback": False},
                                    "maximumPercent": 200, "minimumHealthyPercent": 100}


def _service_deployment_configuration() -> None:
    """AWS's DescribeServices returns every service's deploymentConfiguration (the one it was created with,
    AWS's defaults filled in); moto drops it at CreateService and so returns none."""
    from moto.ecs.responses import EC2ContainerServiceResponse

    original = EC2ContainerServiceResponse.create_service

    def create_service(self: Any) -> Any:
        answer = original(self)
        asked = self._get_param("deploymentConfiguration") or {}
        config = {**DEFAULT_DEPLOYMENT_CONFIGURATION, **asked}
        cluster = str(self._get_param("cluster", "default")).split("/")[-1]
        service = self.ecs_backend._get_service(cluster, self._get_param("serviceName"))
        service.deployment_configuration = config
        if self._get_param("healthCheckGracePeriodSeconds") is not None:
            service.health_check_grace_period_seconds = self._get_int_param("healthCheckGracePeriodSeconds")
        return answer

    EC2ContainerServiceResponse.create_service = create_service  # type: ignore[method-assign]


def _deployment_per_revision() -> None:
    """In AWS an UpdateService to a new task definition starts a new PRIMARY deployment of it (the old one
    stays ACTIVE until the new one has replaced its tasks); moto keeps one deployment with the old task
    definition. Here the new revision gets its own PRIMARY deployment, which has finished at once with the
    service's counts: the emulator runs no tasks to replace, so there is nothing to drain."""
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend.update_service

    def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
        revision = service_properties.get("task_definition")
        service = original(self, service_properties)
        if revision:
            service.task_definition = self.describe_task_definition(revision).arn  # AWS answers with the ARN
        deployments = list(getattr(service, "deployments", None) or [])
        if revision and deployments and deployments[0].get("taskDefinition") != service.task_definition:
            current = dict(deployments[0])
            done = service.running_count >= service.desired_count
            current.update(taskDefinition=service.task_definition, status="PRIMARY",
                           desiredCount=service.desired_count, runningCount=service.running_count,
                           pendingCount=max(0, service.desired_count - service.running_count),
                           rolloutState="COMPLETED" if done else "IN_PROGRESS")
            service.deployments = [current]
        return service

    EC2ContainerServiceBackend.update_service = update_service  # type: ignore[method-assign]
