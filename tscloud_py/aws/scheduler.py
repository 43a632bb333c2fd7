"""EventBridge Scheduler: one schedule group per app and stage, schedules inside it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tscloud_py.aws._tags import tag_list
from tscloud_py.aws.session import call, ignoring, paginate

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory


@dataclass(frozen=True)
class TaskSchedule:
    """A schedule that runs one Fargate task of a family's latest ACTIVE revision with a command override."""

    expression: str
    timezone: str
    enabled: bool
    cluster_arn: str
    role_arn: str  # what the scheduler assumes to call ecs:RunTask
    task_family_arn: str  # no revision, so a new revision does not touch the schedules
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    public_ip: bool
    container: str
    command: tuple[str, ...]

    def api(self) -> dict[str, Any]:
        """The schedule as CreateSchedule/UpdateSchedule arguments (also what GetSchedule answers)."""
        return {
            "ScheduleExpression": self.expression, "ScheduleExpressionTimezone": self.timezone,
            "State": "ENABLED" if self.enabled else "DISABLED",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {
                "Arn": self.cluster_arn,
                "RoleArn": self.role_arn,
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
                "EcsParameters": {
                    "TaskDefinitionArn": self.task_family_arn,
                    "LaunchType": "FARGATE", "TaskCount": 1, "PlatformVersion": "LATEST",
                    "NetworkConfiguration": {"awsvpcConfiguration": {
                        "Subnets": sorted(self.subnets), "SecurityGroups": list(self.security_groups),
                        "AssignPublicIp": "ENABLED" if self.public_ip else "DISABLED"}},
                },
                "Input": json.dumps({"containerOverrides": [{"name": self.container, "command": list(self.command)}]},
                                    sort_keys=True),
            },
        }


@dataclass(frozen=True)
class FunctionSchedule:
    """A schedule that invokes one Lambda function with a fixed JSON input."""

    expression: str
    timezone: str
    enabled: bool
    function_arn: str
    role_arn: str  # what the scheduler assumes to call lambda:InvokeFunction
    input: str

    def api(self) -> dict[str, Any]:
        """The schedule as CreateSchedule/UpdateSchedule arguments (also what GetSchedule answers)."""
        return {
            "ScheduleExpression": self.expression, "ScheduleExpressionTimezone": self.timezone,
            "State": "ENABLED" if self.enabled else "DISABLED",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": self.function_arn, "RoleArn": self.role_arn, "Input": self.input,
                       "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}},
        }


Schedule = TaskSchedule | FunctionSchedule


class Scheduler:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("scheduler", region)

    def group(self, name: str) -> dict[str, Any] | None:
        with ignoring("ResourceNotFoundException"):
            return dict(call(self.c.get_schedule_group, "scheduler:GetScheduleGroup", Name=name))
        return None

    def create_group(self, name: str, tags: dict[str, str]) -> None:
        call(self.c.create_schedule_group, "scheduler:CreateScheduleGroup", Name=name, Tags=tag_list(tags),
             ClientToken=f"{name}-group"[:64])

    def delete_group(self, name: str) -> None:
        with ignoring("ResourceNotFoundException"):
            call(self.c.delete_schedule_group, "scheduler:DeleteScheduleGroup", Name=name)

    def schedules(self, group: str) -> list[str]:
        """The names of the group's schedules; none if there is no such group."""
        with ignoring("ResourceNotFoundException"):
            return [str(s["Name"]) for s in paginate(self.c, "list_schedules", "Schedules", GroupName=group)]
        return []

    def schedule(self, group: str, name: str) -> dict[str, Any] | None:
        with ignoring("ResourceNotFoundException"):
            return dict(call(self.c.get_schedule, "scheduler:GetSchedule", GroupName=group, Name=name))
        return None

    def create(self, group: str, name: str, schedule: Schedule, token: str) -> None:
        call(self.c.create_schedule, "scheduler:CreateSchedule", GroupName=group, Name=name, ClientToken=token,
             **schedule.api())

    def update(self, group: str, name: str, schedule: Schedule) -> None:
        call(self.c.update_schedule, "scheduler:UpdateSchedule", GroupName=group, Name=name, **schedule.api())

    def delete(self, group: str, name: str) -> None:
        with ignoring("ResourceNotFoundException"):
            call(self.c.delete_schedule, "scheduler:DeleteSchedule", GroupName=group, Name=name)
