"""Rollout truth with botocore's Stubber: success only when the new revision's tasks are RUNNING,
HEALTHY and healthy in the target group; a rollback or a circuit-breaker failure is reported with the
service events, the stopped tasks' reasons and the target health."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from tscloud_py.aws.ecs import Ecs
from tscloud_py.aws.elbv2 import Elbv2
from tscloud_py.aws.session import ClientFactory
from tscloud_py.presets.fullstack_app.rollout import RolloutFailedError, rollout_poll

TD1 = "arn:aws:ecs:us-east-1:123456789012:task-definition/shop-dev-api:1"
TD2 = "arn:aws:ecs:us-east-1:123456789012:task-definition/shop-dev-api:2"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-dev-api/0123456789abcdef"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/shop-dev/{}"


@pytest.fixture
def env() -> Any:
    factory = ClientFactory(region="us-east-1", credentials={"aws_access_key_id": "x", "aws_secret_access_key": "y"})
    return SimpleNamespace(ecs=Ecs(factory), elbv2=Elbv2(factory))


def service(td: str, deployments: list[dict[str, Any]], events: list[str] | None = None) -> dict[str, Any]:
    return {"services": [{"serviceName": "shop-dev-api", "status": "ACTIVE", "taskDefinition": td,
                          "desiredCount": 2, "runningCount": 2, "deployments": deployments,
                          "events": [{"id": str(i), "message": m} for i, m in enumerate(events or [])]}]}


def deployment(td: str, state: str, running: int = 2, status: str = "PRIMARY") -> dict[str, Any]:
    return {"id": f"ecs-svc/{td[-1]}", "status": status, "taskDefinition": td, "desiredCount": 2,
            "runningCount": running, "rolloutState": state, "rolloutStateReason": f"deployment {state.lower()}"}


def task(n: int, td: str, ip: str, last: str = "RUNNING", health: str = "HEALTHY", **extra: Any) -> dict[str, Any]:
    return {"taskArn": TASK.format(n), "taskDefinitionArn": td, "lastStatus": last, "healthStatus": health,
            "attachments": [{"type": "ElasticNetworkInterface",
                             "details": [{"name": "privateIPv4Address", "value": ip}]}], **extra}


def targets(*states: tuple[str, str]) -> dict[str, Any]:
    return {"TargetHealthDescriptions": [{"Target": {"Id": ip, "Port": 80}, "TargetHealth": {"State": s}}
                                         for ip, s in states]}


def stub_running_tasks(ecs: Stubber, tasks: list[dict[str, Any]]) -> None:
    ecs.add_response("list_tasks", {"taskArns": [t["taskArn"] for t in tasks]},
                     {"cluster": "shop-dev", "serviceName": "shop-dev-api", "desiredStatus": "RUNNING"})
    ecs.add_response("describe_tasks", {"tasks": tasks}, {"cluster": "shop-dev", "tasks": [t["taskArn"] for t in tasks]})


def test_steady_only_when_new_tasks_are_healthy_in_the_target_group(env: Any) -> None:
    with Stubber(env.ecs.c) as ecs, Stubber(env.elbv2.c) as elb:
        # 1: old deployment still draining
        ecs.add_response("describe_services", service(TD2, [deployment(TD2, "IN_PROGRESS", 1),
                                                            deployment(TD1, "COMPLETED", 2, "ACTIVE")]))
        # 2: one deployment, tasks RUNNING and HEALTHY, but one target still in its initial checks
        tasks = [task(1, TD2, "10.0.1.10"), task(2, TD2, "10.0.2.11")]
        ecs.add_response("describe_services", service(TD2, [deployment(TD2, "COMPLETED")]))
        stub_running_tasks(ecs, tasks)
        elb.add_response("describe_target_health", targets(("10.0.1.10", "healthy"), ("10.0.2.11", "initial")),
                         {"TargetGroupArn": TG})
        # 3: both healthy
        ecs.add_response("describe_services", service(TD2, [deployment(TD2, "COMPLETED")]))
        stub_running_tasks(ecs, tasks)
        elb.add_response("describe_target_health", targets(("10.0.1.10", "healthy"), ("10.0.2.11", "healthy"),
                                                           ("10.0.3.99", "draining")), {"TargetGroupArn": TG})
        first = rollout_poll(env.ecs, env.elbv2, "shop-dev", "shop-dev-api", TD2, TG)
        assert not first.done and "draining" in first.state
        second = rollout_poll(env.ecs, env.elbv2, "shop-dev", "shop-dev-api", TD2, TG)
        assert not second.done and second.state == "1/2 targets healthy"
        third = rollout_poll(env.ecs, env.elbv2, "shop-dev", "shop-dev-api", TD2, TG)
        assert third.done
        ecs.assert_no_pending_responses()
        elb.assert_no_pending_responses()


def test_container_health_checks_gate_success(env: Any) -> None:
    with Stubber(env.ecs.c) as ecs, Stubber(env.elbv2.c):
        ecs.add_response("describe_services", service(TD2, [deployment(TD2, "COMPLETED")]))
        stub_running_tasks(ecs, [task(1, TD2, "10.0.1.10", health="UNKNOWN"), task(2, TD2, "10.0.2.11")])
        poll = rollout_poll(env.ecs, env.elbv2, "shop-dev", "shop-dev-api", TD2, TG)
        assert not poll.done and poll.state == "waiting for container health checks"


def stub_report(ecs: Stubber, elb: Stubber) -> None:
    stopped = task(7, TD2, "10.0.1.77", last="STOPPED", stoppedReason="Essential container in task exited",
                   containers=[{"name": "api", "exitCode": 137, "reason": "OutOfMemoryError: Container killed"}])
    ecs.add_response("list_tasks", {"taskArns": [stopped["taskArn"]]},
                     {"cluster": "shop-dev", "serviceName": "shop-dev-api", "desiredStatus": "STOPPED"})
    ecs.add_response("describe_tasks", {"tasks": [stopped]}, {"cluster": "shop-dev", "tasks": ANY})
    elb.add_response("describe_target_health", {"TargetHealthDescriptions": [
        {"Target": {"Id": "10.0.1.77", "Port": 80},
         "TargetHealth": {"State": "unhealthy", "Reason": "Target.Timeout", "Description": "Request timed out"}}]},
        {"TargetGroupArn": TG})


def test_circuit_breaker_failure_is_reported_with_events_reasons_and_target_health(env: Any) -> None:
    with Stubber(env.ecs.c) as ecs, Stubber(env.elbv2.c) as elb:
        ecs.add_response("describe_services", service(TD2, [deployment(TD2, "FAILED", 0)],
                                                      ["(service shop-dev-api) deployment failed: tasks failed to start."]))
        stub_report(ecs, elb)
        with pytest.raises(RolloutFailedError) as failure:
            rollout_poll(env.ecs, env.elbv2, "shop-dev", "shop-dev-api", TD2, TG)
    text = failure.value.message
    assert "circuit breaker stopped the rollout" in text
    assert "deployment failed: tasks failed to start." in text
    assert "Essential container in task exited" in text and "exit 137 OutOfMemoryError" in text
    assert "10.0.1.77:80 unhealthy (Target.Timeout: Request timed out)" in text


def test_rollback_to_the_old_revision_is_a_failure(env: Any) -> None:
    with Stubber(env.ecs.c) as ecs, Stubber(env.elbv2.c) as elb:
        # the circuit breaker rolled back: the service runs revision 1 again and lists no deployment of 2
        ecs.add_response("describe_services", service(TD1, [deployment(TD1, "IN_PROGRESS", 2)],
                                                      ["(service shop-dev-api) rolling back to shop-dev-api:1"]))
        stub_report(ecs, elb)
        with pytest.raises(RolloutFailedError) as failure:
            rollout_poll(env.ecs, env.elbv2, "shop-dev", "shop-dev-api", TD2, TG)
    assert "rolled back to an older revision" in failure.value.message
    assert "rolling back to shop-dev-api:1" in failure.value.message
