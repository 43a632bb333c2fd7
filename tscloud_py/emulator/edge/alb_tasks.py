"""The service behind an ALB target group, run as one local container on a real Docker engine.

The ECS service that registers with the target group names its task
definition; its container for the load balancer runs from the task
definition's image (pulled from the emulator's registry with its ECR token when
the engine lacks it), with the task definition's environment and its secrets
resolved from the emulator's Secrets Manager into the container's environment
only (as ECS injects them), on the host network at its container port. The
container is removed when the edge stops.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from tscloud_py.aws.ecr import Ecr
from tscloud_py.aws.ecs import Ecs
from tscloud_py.aws.secrets import Secrets
from tscloud_py.errors import TscloudError

READY_TIMEOUT_S = 60.0


class TaskUnavailableError(Exception):
    """Why the target group's service cannot answer here; the edge shows it on a 502 page."""


@dataclass(frozen=True)
class RunningTask:
    service: str
    container_id: str
    port: int


class ServiceTasks:
    def __init__(self, ecs: Ecs, ecr: Ecr, secrets: Secrets) -> None:
        self.ecs, self.ecr, self.secrets = ecs, ecr, secrets
        self._lock = threading.Lock()
        self._running: dict[str, tuple[str, RunningTask]] = {}  # target group -> (task definition, task)
        self._client: Any = None

    def endpoint(self, tg_arn: str) -> RunningTask:
        services = self.ecs.services_for_target_group(tg_arn)
        if not services:
            raise TaskUnavailableError("no ECS service registers with this target group")
        service = services[0]
        task_def_arn = str(service["taskDefinition"])
        with self._lock:
            current = self._running.get(tg_arn)
            if current is not None and current[0] == task_def_arn:
                return current[1]
            if current is not None:
                self._remove(current[1].container_id)
            task = self._start(service, task_def_arn, tg_arn)
            self._running[tg_arn] = (task_def_arn, task)
            return task

    def _engine(self) -> Any:
        if self._client is None:
            from tscloud_py.build.docker_engine import api_client

            try:
                self._client = api_client()
            except TscloudError as exc:
                raise TaskUnavailableError(exc.message) from exc
        return self._client

    def _start(self, service: dict[str, Any], task_def_arn: str, tg_arn: str) -> RunningTask:
        lb = next(b for b in service.get("loadBalancers") or [] if b.get("targetGroupArn") == tg_arn)
        definition = self.ecs.task_definition(task_def_arn)
        containers = definition.get("containerDefinitions") or []
        container = next((c for c in containers if c.get("name") == lb.get("containerName")), None)
        if container is None:
            raise TaskUnavailableError(f"task definition {task_def_arn} has no container {lb.get('containerName')}")
        port = int(lb.get("containerPort") or 0)
        client = self._engine()
        image = str(container["image"])
        self._ensure_image(client, image)
        env = [f"{e['name']}={e['value']}" for e in container.get("environment") or []]
        for ref in container.get("secrets") or []:
            env.append(f"{ref['name']}={self._secret(str(ref['valueFrom']))}")
        name = f"tscloud-edge-{service.get('serviceName')}-{uuid.uuid4().hex[:6]}"
        created = client.create_container(
            image, name=name, environment=env, labels={"tscloud:edge": str(service.get("serviceArn"))},
            host_config=client.create_host_config(network_mode="host"))
        container_id = str(created["Id"])
        client.start(container_id)
        self._wait_ready(client, container_id, port)
        return RunningTask(str(service.get("serviceName")), container_id, port)

    def _ensure_image(self, client: Any, image: str) -> None:
        import docker.errors

        try:
            client.inspect_image(image)
            return
        except docker.errors.ImageNotFound:
            pass
        user, password, _endpoint = self.ecr.login()
        try:
            client.pull(image, auth_config={"username": user, "password": password})
        except docker.errors.APIError as exc:
            raise TaskUnavailableError(f"cannot pull {image}: {exc.explanation or exc}") from exc

    def _secret(self, value_from: str) -> str:
        """A Secrets Manager reference as ECS resolves it: an ARN, optionally ``:json-key:version-stage:version-id``."""
        import json

        parts = value_from.split(":")
        arn, key = ":".join(parts[:7]), parts[7] if len(parts) > 7 else ""
        value = self.secrets.value(arn)
        return str(json.loads(value)[key]) if key else value

    def _wait_ready(self, client: Any, container_id: str, port: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            state = client.inspect_container(container_id)["State"]
            if not state.get("Running"):
                logs = client.logs(container_id, tail=5).decode("utf-8", "replace").strip()
                self._remove(container_id)
                raise TaskUnavailableError(f"the container exited ({state.get('ExitCode')}): {logs}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return
            time.sleep(0.25)
        self._remove(container_id)
        raise TaskUnavailableError(f"the container did not listen on port {port} within {READY_TIMEOUT_S:.0f} s")

    def _remove(self, container_id: str) -> None:
        with contextlib.suppress(Exception):
            self._engine().remove_container(container_id, force=True)

    def close(self) -> None:
        with self._lock:
            running, self._running = list(self._running.values()), {}
        for _arn, task in running:
            self._remove(task.container_id)
