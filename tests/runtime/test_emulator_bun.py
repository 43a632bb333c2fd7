"""The emulator runs provided.al2023 functions with the Bun layer (real Bun) as it runs node ones: Invoke,
a Function URL, and an SQS event source mapping that delivers the queue's messages in batches, deletes
what succeeded, and leaves what the function reported failed to come back after the visibility timeout
and reach the DLQ after maxReceiveCount receives."""

from __future__ import annotations

import io
import json
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import boto3

from tests.bun_support import HOST_ARCH
from tests.conftest import run_cli
from tscloud_py.emulator.daemon import local_urls

HANDLER = """
export async function fetch(request, { event, context }) {
  const url = new URL(request.url);
  if (url.pathname !== "/_lambda/event") return new Response(`bun ${Bun.version} at ${url.pathname}`);
  const ev = await request.json();
  if (!ev.Records) return Response.json({ got: ev, bun: Bun.version });
  console.log(`batch of ${ev.Records.length}`);
  const batchItemFailures = [];
  for (const r of ev.Records) {
    console.log(`processed ${r.body} (receive ${r.attributes.ApproximateReceiveCount})`);
    if (r.body.startsWith("reject")) batchItemFailures.push({ itemIdentifier: r.messageId });
  }
  return Response.json({ batchItemFailures });
}
"""


def code_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("index.mjs", HANDLER)
    return out.getvalue()


def wait_until(check: Any, what: str, timeout: float = 60.0, seen: Any = None) -> Any:
    """``check()`` once it is truthy; on a timeout, the failure shows what ``seen()`` returns then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}" + (f"; seen: {seen()!r}" if seen is not None else ""))


def log_lines(logs: Any, group: str) -> list[str]:
    try:
        events = logs.filter_log_events(logGroupName=group)["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [line for e in events for line in e["message"].splitlines()]


def test_bun_function_invoke_url_and_queue(tmp_path: Path, bun_layer_zip: Path) -> None:
    published = run_cli("--local", "--output", "json", "lambda", "layer", "publish", str(bun_layer_zip),
                        "--name", "bun", "--runtime", "provided.al2023", "--arch", HOST_ARCH, cwd=tmp_path,
                        timeout=300)
    assert published.code == 0, published.output[-2000:]
    endpoint = run_cli("--output", "json", "local", "status", cwd=tmp_path).json()["endpoint"]
    kw: Any = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "tscloud-local",
               "aws_secret_access_key": "tscloud-local"}
    lam: Any = boto3.client("lambda", **kw)
    sqs: Any = boto3.client("sqs", **kw)
    logs: Any = boto3.client("logs", **kw)
    role = boto3.client("iam", **kw).create_role(RoleName="bun-fn", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]
    lam.create_function(FunctionName="bun-fn", Runtime="provided.al2023", Handler="index.fetch",
                        Role=role["Arn"], Code={"ZipFile": code_zip()}, Timeout=5,
                        Architectures=[HOST_ARCH], Layers=[published.json()["arn"]])

    invoked = lam.invoke(FunctionName="bun-fn", Payload=json.dumps({"hello": 1}).encode())
    assert json.loads(invoked["Payload"].read()) == {"got": {"hello": 1}, "bun": "1.4.4"}

    aws_url = lam.create_function_url_config(FunctionName="bun-fn", AuthType="NONE")["FunctionUrl"]
    urls = local_urls(endpoint)
    local = urls.function_url(aws_url) if urls else None
    assert local is not None
    with urllib.request.urlopen(local.rstrip("/") + "/hello", timeout=60) as resp:
        assert resp.read() == b"bun 1.4.4 at /hello"

    dlq = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # visibility above the function's timeout, as AWS requires: a slow cold start on a busy machine must not
    # let a message in flight be received again
    queue = sqs.create_queue(QueueName="jobs", Attributes={
        "VisibilityTimeout": "6", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                                                "maxReceiveCount": 2})})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam.create_event_source_mapping(FunctionName="bun-fn", EventSourceArn=queue_arn, BatchSize=10,
                                    MaximumBatchingWindowInSeconds=1,
                                    FunctionResponseTypes=["ReportBatchItemFailures"])
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": body}
                                                    for i, body in enumerate(["ok-1", "ok-2", "reject-1"])])

    def in_dlq() -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10,
                                                        VisibilityTimeout=0).get("Messages", [])
        return got

    dead = wait_until(in_dlq, "the rejected message in the DLQ")
    assert [m["Body"] for m in dead] == ["reject-1"]
    lines = log_lines(logs, "/aws/lambda/bun-fn")
    assert "batch of 3" in lines  # one invocation for the three, within the batching window
    processed = [line for line in lines if line.startswith("processed ")]
    # the two that succeeded once each; the rejected one on each of its two receives, then the DLQ
    assert sorted(processed) == ["processed ok-1 (receive 1)", "processed ok-2 (receive 1)",
                                 "processed reject-1 (receive 1)", "processed reject-1 (receive 2)"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert any(line.startswith("REPORT RequestId:") and "Init Duration:" in line for line in lines)
