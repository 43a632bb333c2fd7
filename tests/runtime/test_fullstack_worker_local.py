"""examples/fullstack-worker under `--local deploy`: the queue's worker is a Bun function (npm's Bun, the layer
tscloud publishes) that the emulator runs under real Bun. A message sent with boto3 is processed (its log
line is in the worker's log group), one the handler rejects reaches the DLQ after max_receive_count receives,
the target = "worker" schedule names the worker and a role that may invoke only it, a schedule due in a few
seconds runs the worker (the emulator fires schedules), and a redeploy changes nothing. The worker reads [api.secrets] at init through tscloud's resolver, which the Bun layer
imports as NODE_OPTIONS names it: it logs the value's sha256 and length, and the value is in no output,
configuration, journal, log or file of the project, and its role may read that secret and no other."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3

from tests.cli.secret_support import files_holding, pieces
from tests.cli.state_support import journal_text
from tests.cli.test_examples_local import copy_example, tagged
from tests.conftest import CliResult, run_cli
from tests.runtime.test_emulator_bun import log_lines, wait_until

VALUE = "s3cr3t-Wk7Bn2-Zq9-8d31fa"
ROLLED_VALUE = "s3cr3t-Pm4Tx6-Hd2-7ab0c5"
# A job of kind "secret" makes the worker log what it sees of STRIPE_KEY: a digest and a length, never the value.
SECRET_JOB = """  if (job.kind === "secret") {
    const seen = process.env.STRIPE_KEY ?? "";
    const digest = new Bun.CryptoHasher("sha256").update(seen).digest("hex");
    console.log(`secret STRIPE_KEY sha256 ${digest} length ${seen.length}`);
    return;
  }
"""


def seen(value: str) -> str:
    """The line the worker logs for a "secret" job when STRIPE_KEY holds ``value``."""
    return f"secret STRIPE_KEY sha256 {hashlib.sha256(value.encode()).hexdigest()} length {len(value)}"


def clients(project: Path) -> dict[str, Any]:
    endpoint = run_cli("--output", "json", "local", "status", cwd=project).json()["endpoint"]
    kw: Any = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "tscloud-local",
               "aws_secret_access_key": "tscloud-local"}
    return {name: boto3.client(name, **kw) for name in ("sqs", "logs", "scheduler", "iam", "lambda", "secretsmanager")}  # type: ignore[call-overload]


def test_bun_worker_processes_the_queue_and_rejects_to_the_dlq(tmp_path: Path, bun: Path) -> None:
    project = copy_example("fullstack-worker", tmp_path)
    config = project / "tscloud.toml"
    # The example's 60 s visibility would take three minutes to reach the DLQ after 3 receives: 6 s here,
    # the worker's timeout below it as the config requires.
    text = config.read_text()
    text = re.sub(r"(?m)^visibility_timeout = 60", "visibility_timeout = 6", text)
    text = re.sub(r"(?m)^worker_timeout = 10", "worker_timeout = 5", text)
    config.write_text(text.replace('LOG_LEVEL = "info"\n', 'LOG_LEVEL = "info"\n\n[api.secrets]\n'
                                   'STRIPE_KEY = "secret:STRIPE_KEY"\n'))
    handler = project / "worker" / "index.ts"
    code = handler.read_text()
    marker = "  if (job.kind === \"reject\")"
    handler.write_text(code.replace(marker, SECRET_JOB + marker))
    printed: list[CliResult] = []
    stored = run_cli("--local", "secret", "set", "STRIPE_KEY", cwd=project, input=VALUE)
    printed.append(stored)
    assert stored.code == 0, stored.output
    deployed = run_cli("--local", "--output", "json", "deploy", cwd=project, timeout=900)
    printed.append(deployed)
    assert deployed.code == 0, deployed.output[-3000:]
    outputs: dict[str, Any] = deployed.json()["outputs"]
    assert outputs["worker_function"] == "shopwk-dev-worker"
    assert outputs["worker_log_group"] == "/aws/lambda/shopwk-dev-worker"
    aws = clients(project)
    sqs, lam = aws["sqs"], aws["lambda"]

    fn = lam.get_function(FunctionName="shopwk-dev-worker")["Configuration"]
    assert (fn["Runtime"], fn["Handler"], fn["Architectures"]) == ("provided.al2023", "index.fetch", ["arm64"])
    [layer] = fn["Layers"]
    assert ":layer:shopwk-dev-bun-arm64:" in layer["Arn"]
    [mapping] = lam.list_event_source_mappings(FunctionName="shopwk-dev-worker")["EventSourceMappings"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (10, 1)

    variables = fn["Environment"]["Variables"]
    secret_arn = aws["secretsmanager"].describe_secret(SecretId="tscloud/shopwk/dev/STRIPE_KEY")["ARN"]
    assert json.loads(variables["TSCLOUD_SECRETS"]) == {"STRIPE_KEY": secret_arn}
    assert "STRIPE_KEY" not in variables and variables["TSCLOUD_SECRETS_VERSION"]
    assert variables["NODE_OPTIONS"] == "--import ./_tscloud/secrets.mjs"
    role_name = fn["Role"].rsplit("/", 1)[1]
    [role_policy] = aws["iam"].list_role_policies(RoleName=role_name)["PolicyNames"]
    reads = [st for st in aws["iam"].get_role_policy(RoleName=role_name, PolicyName=role_policy)[
        "PolicyDocument"]["Statement"] if any(a.startswith(("secretsmanager:", "kms:", "ssm:")) for a in st["Action"])]
    assert reads == [{"Sid": "ReadSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                      "Resource": [secret_arn]}]

    sqs.send_message(QueueUrl=outputs["queue_url"], MessageBody=json.dumps({"kind": "secret", "id": "6"}))
    sqs.send_message(QueueUrl=outputs["queue_url"], MessageBody=json.dumps({"kind": "email", "id": "7"}))
    sqs.send_message(QueueUrl=outputs["queue_url"], MessageBody=json.dumps({"kind": "reject", "id": "8"}))

    def in_dlq() -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = sqs.receive_message(QueueUrl=outputs["dlq_url"], MaxNumberOfMessages=10,
                                                        VisibilityTimeout=0).get("Messages", [])
        return got

    dead = wait_until(in_dlq, "the rejected job in the DLQ", timeout=120)
    assert [json.loads(m["Body"]) for m in dead] == [{"kind": "reject", "id": "8"}]
    def logged_three_failures() -> list[str] | None:
        # an invocation's lines are written as it ends, which may be after SQS has moved the message on
        lines = log_lines(aws["logs"], outputs["worker_log_group"])
        return lines if sum(line.startswith("failed ") for line in lines) >= 3 else None

    lines = wait_until(logged_three_failures, "the third failed receive in the worker's log", timeout=30)
    assert "processed job 7 (email) on Bun 1.4.4" in lines
    assert seen(VALUE) in lines
    failed = [line for line in lines if line.startswith("failed ")]
    assert [re.sub(r"^failed \S+ ", "", line) for line in failed] == [
        f"(receive {n}): Error: job 8 cannot be done" for n in (1, 2, 3)]  # max_receive_count = 3
    attributes = sqs.get_queue_attributes(QueueUrl=outputs["queue_url"], AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")

    # the worker's schedule: the function's ARN, through a role that may invoke it and nothing else
    scheduled = aws["scheduler"].get_schedule(GroupName="shopwk-dev", Name="hourly-report")["Target"]
    assert scheduled["Arn"] == fn["FunctionArn"]
    assert json.loads(scheduled["Input"]) == {"schedule": "hourly-report"}
    role = scheduled["RoleArn"].rsplit("/", 1)[1]
    iam = aws["iam"]
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "scheduler.amazonaws.com"}]
    [policy] = iam.list_role_policies(RoleName=role)["PolicyNames"]
    statements = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]["Statement"]
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in statements] == [
        ("Allow", ["lambda:InvokeFunction"], [fn["FunctionArn"]])]
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    task = aws["scheduler"].get_schedule(GroupName="shopwk-dev", Name="nightly-cleanup")["Target"]
    assert task["Arn"].endswith(":cluster/shopwk-dev") and task["RoleArn"] != scheduled["RoleArn"]
    # the emulator fires schedules when AWS would: a one-time schedule due in a few seconds runs the worker
    # with its input, and is deleted after, as ActionAfterCompletion asks
    due = (datetime.now(timezone.utc) + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S")
    aws["scheduler"].create_schedule(
        GroupName="shopwk-dev", Name="once", ScheduleExpression=f"at({due})", FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE", Target={"Arn": fn["FunctionArn"], "RoleArn": scheduled["RoleArn"],
                                                "Input": json.dumps({"schedule": "once"})})
    wait_until(lambda: "schedule once ran" in log_lines(aws["logs"], outputs["worker_log_group"]),
               "the one-time schedule running the worker", timeout=60)
    assert "once" not in [s["Name"] for s in aws["scheduler"].list_schedules(GroupName="shopwk-dev")["Schedules"]]

    # --roll points the worker at the new version: the next execution environment reads it, and the
    # redeploy below is all unchanged
    rolled = run_cli("--local", "--output", "json", "secret", "set", "STRIPE_KEY", "--roll", cwd=project,
                     input=ROLLED_VALUE, timeout=600)
    printed.append(rolled)
    assert rolled.code == 0, rolled.output[-3000:]
    assert {"function": "shopwk-dev-worker", "state": "updated"} in rolled.json()["rolled"]
    sqs.send_message(QueueUrl=outputs["queue_url"], MessageBody=json.dumps({"kind": "secret", "id": "9"}))
    wait_until(lambda: seen(ROLLED_VALUE) in log_lines(aws["logs"], outputs["worker_log_group"]),
               "the worker reading the rolled value", timeout=120,
               seen=lambda: (log_lines(aws["logs"], outputs["worker_log_group"])[-30:],
                             sqs.get_queue_attributes(QueueUrl=outputs["queue_url"], AttributeNames=["All"])))

    again = run_cli("--local", "--output", "json", "deploy", cwd=project, timeout=600)
    printed.append(again)
    assert again.code == 0, again.output[-3000:]
    assert {s["status"] for s in again.json()["steps"]} == {"unchanged"}
    assert len(lam.list_layer_versions(LayerName="shopwk-dev-bun-arm64")["LayerVersions"]) == 1

    endpoint = run_cli("--output", "json", "local", "status", cwd=project).json()["endpoint"]
    function = json.dumps(lam.get_function(FunctionName="shopwk-dev-worker"), default=str)
    groups = aws["logs"].describe_log_groups(logGroupNamePrefix="/aws/lambda/shopwk-dev-")["logGroups"]
    logged = "\n".join(line for group in groups for line in log_lines(aws["logs"], group["logGroupName"]))
    for value in (VALUE, ROLLED_VALUE):
        assert pieces(value, (journal_text(endpoint, "shopwk") or "") + function + logged) == []

    gone = run_cli("--local", "--yes", "destroy", "--no-snapshot", cwd=project, timeout=600)
    printed.append(gone)
    assert gone.code == 0, gone.output[-3000:]
    for value in (VALUE, ROLLED_VALUE):
        for result in printed:
            assert pieces(value, result.output) == [], result.output[-2000:]
        assert files_holding(value, tmp_path) == []
    # the stage's own secret outlives `destroy` by design (`secret remove` schedules its deletion): gone for
    # good here, and then nothing tagged with the app is left
    aws["secretsmanager"].delete_secret(SecretId=secret_arn, ForceDeleteWithoutRecovery=True)
    assert tagged(endpoint, "shopwk") == []
