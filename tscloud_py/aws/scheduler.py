"""EventBridge Scheduler: one schedule group per app and stage, schedules inside it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tscloud_py.aws._tags import tag_list
from tscloud_py.aws.session import call, ignoring, paginate

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory


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

    def create(self, group: str, name: str, token: str, **kwargs: Any) -> None:
        call(self.c.create_schedule, "scheduler:CreateSchedule", GroupName=group, Name=name, ClientToken=token,
             **kwargs)

    def update(self, group: str, name: str, **kwargs: Any) -> None:
        call(self.c.update_schedule, "scheduler:UpdateSchedule", GroupName=group, Name=name, **kwargs)

    def delete(self, group: str, name: str) -> None:
        with ignoring("ResourceNotFoundException"):
            call(self.c.delete_schedule, "scheduler:DeleteSchedule", GroupName=group, Name=name)
