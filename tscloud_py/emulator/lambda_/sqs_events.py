"""SQS event source mappings as Lambda runs them: a poller per mapping delivers the queue's messages in batches.

moto invokes a mapped function inside SendMessage itself, one message at a time, and deletes or
re-shows the message at once (fidelity/lambda_.py turns that off). Lambda instead polls: it receives
up to ``BatchSize`` messages (waiting up to ``MaximumBatchingWindowInSeconds`` to fill a batch),
invokes the function once with them, and then

- on success deletes the batch, or, with ``ReportBatchItemFailures``, all but the
  ``batchItemFailures`` the function returned (a failure naming no message of the batch fails it whole);
- on an error deletes nothing.

What is not deleted becomes visible again after the queue's visibility timeout, and the queue's
redrive policy moves it to the DLQ after ``maxReceiveCount`` receives (moto's ReceiveMessage does).
Only functions the emulator runs (invoke.runs_here) are polled for; a disabled mapping is not.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from tscloud_py.emulator.backends import each_backend
from tscloud_py.emulator.lambda_ import invoke as local_invoke
from tscloud_py.errors import TscloudError

SCAN_S = 1.0  # how often new mappings are looked for, and an idle mapping's queue polled
ERROR_PAUSE_S = 5.0


def _backends() -> list[tuple[str, str, Any]]:
    return each_backend("moto.awslambda.models", "lambda_backends")


def _queue(account: str, region: str, arn: str) -> tuple[Any, Any] | None:
    """(SQS backend, queue) for an SQS queue ARN, or None when it is not (or no longer) there."""
    from moto.sqs.models import sqs_backends

    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        return None
    backend = sqs_backends[parts[4] or account][parts[3] or region]
    queue = backend.queues.get(parts[5])
    return (backend, queue) if queue is not None else None


def record(message: Any, queue_arn: str, region: str) -> dict[str, Any]:
    """One message as a Lambda SQS event record."""
    attributes = {"ApproximateReceiveCount": str(message.approximate_receive_count),
                  "SentTimestamp": str(message.sent_timestamp or 0), "SenderId": str(message.sender_id),
                  "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp or 0)}
    if message.group_id:
        attributes.update(MessageGroupId=str(message.group_id), MessageDeduplicationId=str(message.deduplication_id))
    user = {name: {key: value for key, value in (("stringValue", a.get("string_value")),
                                                  ("binaryValue", a.get("binary_value")),
                                                  ("dataType", a.get("data_type"))) if value is not None}
            for name, a in (message.message_attributes or {}).items()}
    return {"messageId": message.id, "receiptHandle": message.receipt_handle, "body": message.body,
            "attributes": attributes, "messageAttributes": user, "md5OfBody": message.body_md5,
            "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region}


def succeeded(records: list[dict[str, Any]], body: str, errored: bool, partial: bool) -> list[dict[str, Any]]:
    """The records Lambda deletes after an invocation answered ``body`` (``partial``: ReportBatchItemFailures)."""
    if errored:
        return []
    if not partial:
        return records
    try:
        answer = json.loads(body or "null")
    except ValueError:
        return records  # not a batch response: a plain success
    failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
    if not failures:
        return records
    ids = {r["messageId"] for r in records}
    failed = set()
    for failure in failures if isinstance(failures, list) else [None]:
        item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(item, str) or item not in ids:
            return []  # a malformed response fails the whole batch
        failed.add(item)
    return [r for r in records if r["messageId"] not in failed]


class SqsPoller:
    """One thread per SQS event source mapping the emulator holds, started when the mapping appears and
    ended when it is deleted."""

    def __init__(self) -> None:
        self._threads: dict[str, threading.Thread] = {}
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._scanner: threading.Thread | None = None
        self.on_change: Callable[[], None] = lambda: None

    def start(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change
        self._stop.clear()
        self._scanner = threading.Thread(target=self._scan_loop, name="sqs-event-sources", daemon=True)
        self._scanner.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake()

    def wake(self) -> None:
        """A message was sent: pollers waiting on an empty queue look again now."""
        with self._wake:
            self._wake.notify_all()

    def _idle(self, seconds: float) -> None:
        with self._wake:
            self._wake.wait(seconds)

    def _scan_loop(self) -> None:
        while not self._stop.is_set():
            for account, region, backend in _backends():
                for uuid, esm in list(backend._event_source_mappings.items()):
                    if str(esm.event_source_arn).split(":")[2:3] != ["sqs"]:
                        continue
                    thread = self._threads.get(uuid)
                    if thread is None or not thread.is_alive():
                        thread = threading.Thread(target=self._poll_loop, args=(account, region, backend, uuid),
                                                  name=f"sqs-esm-{uuid[:8]}", daemon=True)
                        self._threads[uuid] = thread
                        thread.start()
            self._stop.wait(SCAN_S)

    def _poll_loop(self, account: str, region: str, backend: Any, uuid: str) -> None:
        while not self._stop.is_set():
            esm = backend._event_source_mappings.get(uuid)
            if esm is None:
                return
            try:
                delivered = self._poll_once(account, region, backend, esm)
            except TscloudError:  # the function cannot run here (no runtime client, a missing layer)
                self._stop.wait(ERROR_PAUSE_S)
                continue
            if not delivered:
                self._idle(SCAN_S)

    def _poll_once(self, account: str, region: str, backend: Any, esm: Any) -> bool:
        """One batch received, delivered and settled; False when there was nothing to do."""
        if not esm.enabled:
            return False
        try:
            fn = backend.get_function(esm.function_arn)
        except Exception:  # moto's own not-found types: the function is gone
            return False
        found = _queue(account, region, str(esm.event_source_arn))
        if found is None or not local_invoke.runs_here(fn):
            return False
        sqs, queue = found
        size = int(esm.batch_size or 10)
        messages = self._receive(sqs, queue, size, int(esm.max_batch_window or 0))
        if not messages:
            return False
        self.on_change()  # receive counts changed, and a message may have moved to the DLQ
        records = [record(m, str(esm.event_source_arn), queue.region) for m in messages]
        body, errored, _ = local_invoke.invoke(fn, json.dumps({"Records": records}).encode())
        partial = "ReportBatchItemFailures" in (esm.function_response_types or [])
        for done in succeeded(records, body, errored, partial):
            try:
                sqs.delete_message(queue.name, done["receiptHandle"])
            except Exception:  # the queue was purged or deleted meanwhile
                continue
        self.on_change()
        return True

    def _receive(self, sqs: Any, queue: Any, size: int, window_s: int) -> list[Any]:
        visibility = int(queue.visibility_timeout or 30)
        messages = list(sqs.receive_message(queue.name, size, 0, visibility))
        deadline = time.monotonic() + window_s
        while messages and len(messages) < size and time.monotonic() < deadline and not self._stop.is_set():
            self._idle(min(0.2, max(0.0, deadline - time.monotonic())))
            messages += sqs.receive_message(queue.name, size - len(messages), 0, visibility)
        return messages


POLLER = SqsPoller()
