"""The emulator fires EventBridge Scheduler's schedules when AWS would (moto stores them and runs nothing):
a rate, a cron and a one-time at() schedule deliver their target at their times and not before, a disabled
schedule or one past its EndDate does not, a one-time schedule with ActionAfterCompletion = DELETE is gone
once it has fired, and an ECS target starts the task with the schedule's parameters. The clock is the
runner's own, moved by the test; the schedules, queue and cluster are moto's (in-process, with the fidelity
layer). A Lambda target is run under real Bun in tests/runtime/test_fullstack_worker_local.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tscloud_py.emulator.schedules import ScheduleRunner

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/scheduler"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        yield {name: boto3.client(name, region_name=REGION) for name in ("scheduler", "sqs", "ecs", "ec2")}  # type: ignore[call-overload]


def queue(aws: dict[str, Any], name: str) -> tuple[str, str]:
    url = aws["sqs"].create_queue(QueueName=name)["QueueUrl"]
    return url, aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def schedule(aws: dict[str, Any], name: str, expression: str, target: dict[str, Any], **extra: Any) -> None:
    aws["scheduler"].create_schedule(Name=name, ScheduleExpression=expression, FlexibleTimeWindow={"Mode": "OFF"},
                                     Target={"RoleArn": ROLE, **target}, **extra)


def received(aws: dict[str, Any], url: str, wait: float = 3.0) -> list[str]:
    """The bodies that arrive within ``wait`` seconds (a schedule's delivery runs on its own thread)."""
    bodies: list[str] = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        got = aws["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for m in got:
            bodies.append(m["Body"])
            aws["sqs"].delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if not got:
            time.sleep(0.1)
    return bodies


def test_rate_cron_and_at_schedules_deliver_at_their_times(aws: dict[str, Any]) -> None:
    url, arn = queue(aws, "jobs")
    now = datetime.now(timezone.utc)
    schedule(aws, "every-minute", "rate(1 minute)", {"Arn": arn, "Input": "rate"})
    schedule(aws, "cron", "cron(* * * * ? *)", {"Arn": arn, "Input": "cron"})
    at = (now + timedelta(seconds=90)).strftime("%Y-%m-%dT%H:%M:%S")
    schedule(aws, "once", f"at({at})", {"Arn": arn, "Input": "once"}, ActionAfterCompletion="DELETE")
    schedule(aws, "off", "rate(1 minute)", {"Arn": arn, "Input": "off"}, State="DISABLED")
    schedule(aws, "ended", "cron(* * * * ? *)", {"Arn": arn, "Input": "ended"}, EndDate=now - timedelta(days=1))
    clock = Clock()  # from after the schedules were made, as the emulator's runner sees them
    runner = ScheduleRunner(clock)

    runner.tick()
    assert received(aws, url, wait=0.5) == []
    clock.advance(60)  # one minute's start, and the rate's first period
    runner.tick()
    assert sorted(received(aws, url)) == ["cron", "rate"]
    clock.advance(40)  # past the at() time; the rate's second period is later
    runner.tick()
    later = received(aws, url)
    assert "once" in later and "rate" not in later
    names = [s["Name"] for s in aws["scheduler"].list_schedules()["Schedules"]]
    assert "once" not in names and {"every-minute", "cron", "off", "ended"} <= set(names)
    clock.advance(600)  # a long pause is made up once per schedule and time, never beyond what is due
    runner.tick()
    assert received(aws, url).count("rate") == 10


def test_an_ecs_target_starts_the_task_as_scheduler_does(aws: dict[str, Any]) -> None:
    vpc = aws["ec2"].create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = aws["ec2"].create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    cluster = aws["ecs"].create_cluster(clusterName="shop")["cluster"]["clusterArn"]
    definition = aws["ecs"].register_task_definition(
        family="shop-api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "api", "image": "nginx", "essential": True}])["taskDefinition"]
    clock = Clock()
    runner = ScheduleRunner(clock)
    schedule(aws, "nightly", "rate(1 day)", {
        "Arn": cluster, "Input": '{"containerOverrides": [{"name": "api", "command": ["nginx", "-v"]}]}',
        "EcsParameters": {"TaskDefinitionArn": definition["taskDefinitionArn"], "TaskCount": 1,
                          "LaunchType": "FARGATE", "NetworkConfiguration": {"awsvpcConfiguration": {
                              "Subnets": [subnet], "AssignPublicIp": "DISABLED"}}}})
    runner.tick()
    clock.advance(24 * 3600 + 1)
    runner.tick()
    deadline = time.monotonic() + 3
    while not (tasks := aws["ecs"].list_tasks(cluster=cluster)["taskArns"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    [task] = aws["ecs"].describe_tasks(cluster=cluster, tasks=tasks)["tasks"]
    assert task["taskDefinitionArn"] == definition["taskDefinitionArn"]
    assert task["startedBy"] == "events-scheduler"
    assert task["overrides"]["containerOverrides"][0]["command"] == ["nginx", "-v"]
