"""EventBridge Scheduler's schedules fire in the emulator when AWS would fire them.

moto stores schedules and never runs them. Here one thread looks at every schedule once a second and, for
each time its expression names since it last looked (``config.schedule_expression``: at, rate, cron in the
schedule's time zone, between its StartDate and EndDate, while ENABLED), delivers the target as Scheduler's
templated targets do:

- a Lambda function: invoked asynchronously with the target's Input as the event (``{}`` without one), in
  the emulator's runtime (``lambda_.invoke``), its output in the function's log group;
- an SQS queue: the Input sent as a message;
- an ECS cluster: RunTask with the target's EcsParameters (task definition, count, launch type, network)
  and the Input's overrides, as Scheduler's ECS target does. The emulator records the task as ECS would
  start it; it does not run the container image.

A one-time (at) schedule with ActionAfterCompletion = DELETE is deleted once it has fired. Schedules are
looked at from the moment the emulator starts: a time passed while it was stopped is not made up for, and a
rate schedule counts its periods from its last change (AWS: from its creation or StartDate). A
FLEXIBLE window fires at the window's start, and retries and dead-letter queues are not emulated.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from tscloud_py.config.schedule_expression import ExpressionError, fire_times, parse
from tscloud_py.emulator.backends import each_backend

TICK_S = 1.0
UTC = timezone.utc


def _moment(value: Any) -> datetime | None:
    """A StartDate, EndDate or creation time as moto keeps it (epoch seconds, a datetime or ISO text)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) or str(value).replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(value), UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class ScheduleRunner:
    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self._seen: dict[tuple[str, float], datetime] = {}  # (schedule ARN, last change) -> looked at up to
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = clock()
        self.on_change: Callable[[], None] = lambda: None

    def start(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change
        self._stop.clear()
        self._started = self.clock()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(TICK_S):
            self.tick()

    def tick(self) -> None:
        """Fire what is due since the last tick."""
        now = self.clock()
        seen: dict[tuple[str, float], datetime] = {}
        for account, region, backend in each_backend("moto.scheduler.models", "scheduler_backends"):
            for group in list(backend.schedule_groups.values()):
                for schedule in list(group.schedules.values()):
                    times = self.due(schedule, now, seen)
                    # a one-time schedule (at) asked to go once it has run
                    if times and str(schedule.schedule_expression).startswith("at(") and \
                            schedule.action_after_completion == "DELETE":
                        del group.schedules[schedule.name]
                        self.on_change()
                    for when in times:
                        threading.Thread(target=self.fire, args=(account, region, schedule, when),
                                         name=f"schedule-{schedule.name}", daemon=True).start()
        self._seen = seen  # deleted and changed schedules drop out

    def due(self, schedule: Any, now: datetime, seen: dict[tuple[str, float], datetime]) -> list[datetime]:
        changed = float(schedule.last_modified_date)
        key = (str(schedule.arn), changed)
        after = self._seen.get(key) or max(self._started, _moment(changed) or now)
        seen[key] = now
        if schedule.state != "ENABLED":
            return []
        try:
            expression = parse(str(schedule.schedule_expression))
        except ExpressionError:
            return []
        zone = ZoneInfo(str(schedule.schedule_expression_timezone or "UTC"))
        times = fire_times(expression, after=after, until=now, anchor=_moment(changed) or now,
                           local=lambda t: t.astimezone(zone).replace(tzinfo=None),
                           utc=lambda t: t.replace(tzinfo=zone).astimezone(UTC))
        start, end = _moment(schedule.start_date), _moment(schedule.end_date)
        return [t for t in times if (start is None or t >= start) and (end is None or t <= end)]

    def fire(self, account: str, region: str, schedule: Any, when: datetime) -> None:
        target = dict(schedule.target or {})
        arn = str(target.get("Arn", ""))
        payload = str(target.get("Input") or "{}")
        service = arn.split(":")[2] if arn.count(":") >= 5 else ""
        try:
            if service == "lambda":
                _invoke(account, region, arn, payload)
            elif service == "sqs":
                _send(account, region, arn, payload)
            elif service == "ecs":
                _run_task(account, region, arn, target.get("EcsParameters") or {}, payload)
        except Exception:  # a target gone or failing: Scheduler's retries and DLQ are not emulated
            return
        self.on_change()


def _invoke(account: str, region: str, arn: str, payload: str) -> None:
    from moto.awslambda.models import lambda_backends

    from tscloud_py.emulator.lambda_ import invoke as local_invoke

    fn = lambda_backends[arn.split(":")[4] or account][arn.split(":")[3] or region].get_function(arn)
    if local_invoke.runs_here(fn):
        local_invoke.invoke(fn, payload.encode())


def _send(account: str, region: str, arn: str, payload: str) -> None:
    from moto.sqs.models import sqs_backends

    parts = arn.split(":")
    sqs_backends[parts[4] or account][parts[3] or region].send_message(parts[5], payload)


def _run_task(account: str, region: str, cluster_arn: str, params: dict[str, Any], payload: str) -> None:
    from moto.ecs.models import ecs_backends

    parts = cluster_arn.split(":")
    overrides = json.loads(payload) if payload.strip().startswith("{") else {}
    network = params.get("NetworkConfiguration") or {}
    vpc = network.get("awsvpcConfiguration") or {}
    ecs_backends[parts[4] or account][parts[3] or region].run_task(
        cluster_arn, str(params["TaskDefinitionArn"]), int(params.get("TaskCount") or 1),
        overrides or None, "events-scheduler", None, params.get("LaunchType"),
        {"awsvpcConfiguration": {"subnets": vpc.get("Subnets", []), "securityGroups": vpc.get("SecurityGroups", []),
                                 "assignPublicIp": vpc.get("AssignPublicIp", "DISABLED")}} if vpc else None,
        params.get("Group"), params.get("PlatformVersion"))


RUNNER = ScheduleRunner()
