"""ssr-app queue workers: an SQS queue with a DLQ feeding a function that reports partial batch failures.

Per ``[[ssr.workers]]`` entry ``name``: ``queue-NAME`` (queue + DLQ with a redrive policy, visibility
6x the function timeout as AWS recommends), ``worker-logs-NAME``, ``worker-role-NAME`` (its logs,
receive/delete on its queue, plus the entry's permissions), ``worker-NAME`` (the function) and
``worker-events-NAME`` (the event source mapping with ``ReportBatchItemFailures``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tscloud_py.aws.iam import Iam
from tscloud_py.aws.lambda_ import Lambda
from tscloud_py.aws.logs import Logs
from tscloud_py.aws.sqs import Sqs
from tscloud_py.build.zipper import ZipEntry, build_zip, code_sha256, dir_entries
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.presets.naming import Names
from tscloud_py.presets.ssr_app.steps import FunctionStep, ServerRoleStep
from tscloud_py.presets.steps.common import LogGroupStep
from tscloud_py.presets.steps.secrets import FunctionSecrets, resolver_entry

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.config.tables.ssr import SsrWorker

DLQ_RETENTION = str(14 * 24 * 3600)


class QueueStep(Step):
    kind = "SQS queue + DLQ"
    provides = frozenset({"queue_url", "queue_arn", "dlq_url", "dlq_arn"})

    def __init__(self, step_id: str, sqs: Sqs, name: str, names: Names, *, visibility: int,
                 max_receive_count: int) -> None:
        self.id, self.sqs, self.name = step_id, sqs, name
        self.dlq_name = f"{name}-dlq"
        self.visibility, self.max_receive_count = visibility, max_receive_count
        self.names = names

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        url, dlq_url = self.sqs.queue_url(self.name), self.sqs.queue_url(self.dlq_name)
        if url is None and dlq_url is None:
            return None
        return {"url": url, "dlq_url": dlq_url, "attributes": self.sqs.attributes(url) if url else {},
                "dlq_attributes": self.sqs.attributes(dlq_url) if dlq_url else {}}

    def _attributes(self, dlq_arn: str) -> dict[str, str]:
        return {"VisibilityTimeout": str(self.visibility), "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": self.max_receive_count}, separators=(",", ":"))}

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        if observed is None:
            return [Change(f"create queue {self.name} (visibility {self.visibility}s) and DLQ {self.dlq_name} "
                           f"after {self.max_receive_count} receives")]
        changes = []
        if observed["dlq_url"] is None:
            changes.append(Change(f"create DLQ {self.dlq_name}"))
        if observed["url"] is None:
            return [*changes, Change(f"create queue {self.name}")]
        have = observed["attributes"]
        if have.get("VisibilityTimeout") != str(self.visibility):
            changes.append(Change("VisibilityTimeout", have.get("VisibilityTimeout"), str(self.visibility)))
        redrive = json.loads(have.get("RedrivePolicy") or "{}")
        dlq_arn = observed["dlq_attributes"].get("QueueArn")
        if str(redrive.get("maxReceiveCount")) != str(self.max_receive_count) or \
                redrive.get("deadLetterTargetArn") != dlq_arn:
            changes.append(Change("RedrivePolicy", redrive or None,
                                  {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": self.max_receive_count}))
        return changes

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        tags = self.names.tags(self.id)
        dlq_url = (observed or {}).get("dlq_url") or self.sqs.create(
            self.dlq_name, {"MessageRetentionPeriod": DLQ_RETENTION}, tags)
        dlq_arn = self.sqs.attributes(dlq_url)["QueueArn"]
        url = (observed or {}).get("url")
        if url is None:
            url = self.sqs.create(self.name, self._attributes(dlq_arn), tags)
        else:
            self.sqs.set_attributes(url, self._attributes(dlq_arn))
        return self._outputs(url, self.sqs.attributes(url)["QueueArn"], dlq_url, dlq_arn)

    @staticmethod
    def _outputs(url: str, arn: str, dlq_url: str, dlq_arn: str) -> Outputs:
        return {"queue_url": url, "queue_arn": arn, "dlq_url": dlq_url, "dlq_arn": dlq_arn}

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        return self._outputs(observed["url"], observed["attributes"]["QueueArn"], observed["dlq_url"],
                             observed["dlq_attributes"]["QueueArn"])

    def destroy(self, ctx: StepContext, observed: dict[str, Any]) -> None:
        for url in (observed.get("url"), observed.get("dlq_url")):
            if url:
                self.sqs.delete(url)


class EventSourceStep(Step):
    kind = "Lambda event source mapping"

    def __init__(self, step_id: str, lam: Lambda, function_name: str, *, queue_arn: Ref[str], needs: Sequence[str],
                 batch_size: int, window: int) -> None:
        self.id, self.lam, self.function_name = step_id, lam, function_name
        self.queue_arn = queue_arn
        self.needs = tuple(needs)
        self.batch_size, self.window = batch_size, window

    def wanted(self, ctx: StepContext) -> Any:
        return {"BatchSize": self.batch_size, "MaximumBatchingWindowInSeconds": self.window,
                "FunctionResponseTypes": ["ReportBatchItemFailures"]}

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        arn = ctx.get(self.queue_arn)
        for mapping in self.lam.event_source_mappings(self.function_name):
            if mapping.get("EventSourceArn") == arn:
                return mapping
        return None

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        if observed is None:
            return [Change(f"map the queue to {self.function_name} (batch {self.batch_size}, window {self.window}s, "
                           "partial batch failures)")]
        have = {"BatchSize": observed.get("BatchSize"),
                "MaximumBatchingWindowInSeconds": observed.get("MaximumBatchingWindowInSeconds") or 0,
                "FunctionResponseTypes": list(observed.get("FunctionResponseTypes") or [])}
        return [Change(k, have[k], v) for k, v in self.wanted(ctx).items() if have[k] != v]

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        if observed is None:
            mapping = self.lam.create_event_source_mapping(self.function_name, ctx.get(self.queue_arn),
                                                           batch_size=self.batch_size, window_seconds=self.window)
        else:
            mapping = self.lam.update_event_source_mapping(observed["UUID"], batch_size=self.batch_size,
                                                           window_seconds=self.window)
        return {"uuid": mapping["UUID"]}

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        return {"uuid": observed["UUID"]}

    def destroy(self, ctx: StepContext, observed: dict[str, Any]) -> None:
        self.lam.delete_event_source_mapping(observed["UUID"])


def worker_code(directory: Path, extra: Sequence[ZipEntry] = ()) -> tuple[bytes, str]:
    data = build_zip([*dir_entries(directory), *extra])
    return data, code_sha256(data)


def worker_steps(aws: ClientFactory, worker: SsrWorker, names: Names, *, base_dir: Path,
                 default_runtime: str, secrets: FunctionSecrets | None = None) -> list[Step]:
    name = names.resource(worker.name)
    lam = Lambda(aws)
    code_dir = (base_dir / worker.dir).resolve()
    cache: dict[str, tuple[bytes, str]] = {}

    def code() -> tuple[bytes, str]:
        if "zip" not in cache:
            cache["zip"] = worker_code(code_dir, [resolver_entry()] if secrets is not None else [])
        return cache["zip"]

    queue = QueueStep(f"queue-{worker.name}", Sqs(aws), name, names, visibility=max(30, 6 * worker.timeout),
                      max_receive_count=worker.max_receive_count)
    logs = LogGroupStep(f"worker-logs-{worker.name}", Logs(aws), names.function_log_group(name), 14, names)
    role = ServerRoleStep(f"worker-role-{worker.name}", Iam(aws), names.regional(worker.name),
                          [(list(p.actions), list(p.resources)) for p in worker.permissions], names,
                          needs=[logs.id, queue.id], log_group_arn=logs.output("log_group_arn"),
                          queue_arn=queue.output("queue_arn"), legacy_name=name, secrets=secrets)
    function = FunctionStep(f"worker-{worker.name}", lam, name, code, names, runtime=worker.runtime or default_runtime,
                            handler=worker.handler, memory=worker.memory, timeout=worker.timeout,
                            architecture=worker.architecture, environment={**worker.environment},
                            layers=list(worker.layers), role_arn=role.output("role_arn"),
                            needs=[role.id, logs.id], description=f"worker {worker.name}", secrets=secrets)
    events = EventSourceStep(f"worker-events-{worker.name}", lam, name, queue_arn=queue.output("queue_arn"),
                             needs=[queue.id, function.id], batch_size=worker.batch_size,
                             window=worker.batching_window)
    return [queue, logs, role, function, events]
