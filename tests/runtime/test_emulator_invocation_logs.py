"""Each invocation's output lands in its own START..END block of the function's log group, none lost: a
handler that prints many lines just before it answers, invoked back to back, under AWS's runtime client in
the emulator (moto in-process with the fidelity layer). The runtime's output is read by a thread of its own,
so the answer can arrive before the last lines are read; before, those lines could be dropped (a CI run lost
a worker's log line that way)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tscloud_py.lambda_runtime.ric_install import RIC_ENV

LINES = 150
HANDLER = f"""exports.handler = async (event) => {{
  for (let i = 0; i < {LINES}; i++) console.log(`call ${{event.n}} line ${{i}}`);
  return {{ n: event.n }};
}};
"""


@pytest.fixture
def lam(ric: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv(RIC_ENV, str(ric))
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "lambda.amazonaws.com"}}]}
        role = iam.create_role(RoleName="logs", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as z:
            z.writestr("index.js", HANDLER)
        client = boto3.client("lambda", region_name="us-east-1")
        client.create_function(FunctionName="chatty", Runtime="nodejs20.x", Role=role, Handler="index.handler",
                               Code={"ZipFile": code.getvalue()}, Timeout=30)
        yield {"lambda": client, "logs": boto3.client("logs", region_name="us-east-1")}


def blocks(logs: Any) -> list[list[str]]:
    events = logs.filter_log_events(logGroupName="/aws/lambda/chatty")["events"]
    lines = [line for e in sorted(events, key=lambda e: e["timestamp"]) for line in e["message"].splitlines()]
    out: list[list[str]] = []
    for line in lines:
        if line.startswith("START RequestId:"):
            out.append([])
        elif not re.match(r"(END|REPORT) RequestId:", line) and out:
            out[-1].append(line)
    return out


def test_every_line_is_in_its_own_invocations_log(lam: dict[str, Any]) -> None:
    import time

    calls = 12
    for n in range(calls):
        answer = lam["lambda"].invoke(FunctionName="chatty", Payload=json.dumps({"n": n}).encode())
        assert json.loads(answer["Payload"].read()) == {"n": n}
    deadline = time.monotonic() + 30
    while len(found := blocks(lam["logs"])) < calls and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(found) == calls
    for n, block in enumerate(found):
        # the runtime client writes "time<TAB>request id<TAB>INFO<TAB>message"; the first block also holds
        # its start-up line, as the first invocation's stream does on AWS
        said = [line.rsplit("\t", 1)[-1] for line in block if "\tINFO\t" in line]
        assert said == [f"call {n} line {i}" for i in range(LINES)], (n, said[:2], said[-2:], len(said))
