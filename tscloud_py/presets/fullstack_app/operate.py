"""Operate: live service status for `tscloud status`, and CloudWatch Logs for `tscloud logs`."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from tscloud_py.aws.ecs import Ecs
from tscloud_py.aws.elbv2 import Elbv2
from tscloud_py.aws.logs import Logs
from tscloud_py.aws.waiters import ProgressCallback, WaitPolicy, wait_for
from tscloud_py.engine.step import Outputs
from tscloud_py.errors import UsageError, WaitTimeoutError
from tscloud_py.presets.fullstack_app.rollout import (
    RolloutFailedError,
    primary_deployment,
    rollout_poll,
    rollout_report,
)


def service_status(ecs: Ecs, elbv2: Elbv2, cluster: str, name: str, tg_arn: str | None) -> dict[str, Any]:
    svc = ecs.service(cluster, name)
    if svc is None:
        return {"state": "missing"}
    primary = primary_deployment(svc)
    out: dict[str, Any] = {
        "tasks": f"{svc.get('runningCount', 0)} running / {svc.get('desiredCount', 0)} desired"
                 + (f" ({svc['pendingCount']} pending)" if svc.get("pendingCount") else ""),
        "revision": str(svc.get("taskDefinition", "")).rsplit("/", 1)[-1],
        "rollout": (primary.get("rolloutState") or "unknown").lower()
                   + (f", {len(svc.get('deployments', [])) - 1} older deployment(s) draining"
                      if len(svc.get("deployments", [])) > 1 else ""),
    }
    if tg_arn:
        health = Counter(str(h["TargetHealth"]["State"]) for h in elbv2.target_health(tg_arn))
        out["targets"] = ", ".join(f"{n} {state}" for state, n in sorted(health.items())) or "none registered"
    events = svc.get("events", [])
    if events:
        out["last_event"] = str(events[0].get("message", ""))
    return out


def live_status(ecs: Ecs, elbv2: Elbv2, outputs: dict[str, Outputs]) -> dict[str, Any]:
    status: dict[str, Any] = {}
    cluster = outputs.get("cluster", {}).get("cluster")
    if cluster and "service" in outputs:
        status["api"] = service_status(ecs, elbv2, cluster, outputs["service"]["service"],
                                       outputs.get("load-balancer", {}).get("tg_arn"))
    if cluster and "worker-service" in outputs:
        status["worker"] = service_status(ecs, elbv2, cluster, outputs["worker-service"]["service"], None)
    return status


def restart_service(ecs: Ecs, elbv2: Elbv2, cluster: str, name: str, *, timeout: int,
                    progress: ProgressCallback | None = None) -> str | None:
    """A new deployment of the service's current revision (its new tasks read their secrets again),
    waited for until it is steady and its targets healthy; returns the deployment's id, or None when the
    service is not deployed. A rollout that fails raises RolloutFailedError with its report."""
    svc = ecs.service(cluster, name)
    if svc is None:
        return None
    td_arn = str(svc["taskDefinition"])
    tg_arn = next((str(lb["targetGroupArn"]) for lb in svc.get("loadBalancers", []) if lb.get("targetGroupArn")),
                  None)
    deployment = str(primary_deployment(ecs.force_new_deployment(cluster, name)).get("id", ""))
    try:
        wait_for(lambda: rollout_poll(ecs, elbv2, cluster, name, td_arn, tg_arn),
                 what=f"{name}: new tasks running and healthy",
                 policy=WaitPolicy(timeout=timeout, first_interval=3, max_interval=15), progress=progress)
    except WaitTimeoutError as exc:
        raise RolloutFailedError(rollout_report(ecs, elbv2, cluster, name, td_arn, tg_arn,
                                                headline=str(exc))) from exc
    return deployment


def parse_since(text: str) -> float:
    """'10m', '2h', '30s', '1d' -> seconds."""
    m = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not m:
        raise UsageError(f"--since: expected a duration like 30s, 10m, 2h or 1d, got {text!r}")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def tail(logs: Logs, group: str, *, role: str, since: float, filter_text: str | None, follow: bool,
         emit: Callable[[str], None], poll: float = 2.0, clock: Callable[[], float] = time.time,
         sleep: Callable[[float], None] = time.sleep, max_polls: int | None = None) -> int:
    """Print events of ``role``'s streams (awslogs prefix = role) since ``since`` seconds ago."""
    start_ms = int((clock() - since) * 1000)
    seen: set[str] = set()
    printed = 0
    polls = 0
    while True:
        for event in _events(logs, group, start_ms, filter_text, role):
            key = str(event.get("eventId") or (event.get("timestamp"), event.get("message")))
            if key in seen:
                continue
            seen.add(key)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(event.get("timestamp", 0)) / 1000))
            stream = str(event.get("logStreamName", "")).split("/")
            task = stream[-1][:8] if len(stream) > 2 else ""
            emit(f"{stamp} {role}{'/' + task if task else ''} {str(event.get('message', '')).rstrip()}")
            printed += 1
            start_ms = max(start_ms, int(event.get("timestamp", 0)))
        polls += 1
        if not follow or (max_polls is not None and polls >= max_polls):
            return printed
        sleep(poll)


def _events(logs: Logs, group: str, start_ms: int, filter_text: str | None, role: str) -> Iterator[dict[str, Any]]:
    pattern = f'"{filter_text}"' if filter_text else None
    return logs.events(group, start_ms=start_ms, filter_pattern=pattern, prefix=f"{role}/")
