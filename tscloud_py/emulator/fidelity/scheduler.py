"""EventBridge Scheduler's idempotent CreateSchedule."""

from __future__ import annotations

from typing import Any


def apply() -> None:
    _schedule_client_tokens()


def _schedule_client_tokens() -> None:
    """EventBridge Scheduler's CreateSchedule takes a ClientToken "to ensure the idempotency of the
    request": sent again with the token that created the schedule, AWS answers with that schedule's ARN.

    moto ignores the token and answers ConflictException, so a create whose answer was lost and that the
    SDK sent again (the token unchanged) would fail although the schedule is there, as asked.
    """
    import json

    from moto.scheduler.responses import EventBridgeSchedulerResponse

    original = EventBridgeSchedulerResponse.create_schedule

    def create_schedule(self: Any) -> str:
        token = self._get_param("ClientToken")
        group = self.scheduler_backend.schedule_groups.get(self._get_param("GroupName") or "default")
        existing = group.schedules.get(self.uri.split("?")[0].split("/")[-1]) if group is not None else None
        if token and existing is not None and getattr(existing, "client_token", None) == token:
            return json.dumps({"ScheduleArn": existing.arn})
        answer: str = original(self)
        made = self.scheduler_backend.schedule_groups[self._get_param("GroupName") or "default"].schedules
        made[self.uri.split("?")[0].split("/")[-1]].client_token = token
        return answer

    EventBridgeSchedulerResponse.create_schedule = create_schedule  # type: ignore[method-assign]
