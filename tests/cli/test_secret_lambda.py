"""`secret:NAME` in ssr-app's [ssr.environment] and a worker's environment, through the real CLI against the
per-user emulator (`--local`), the functions run by AWS's runtime client (aws-lambda-ric): each function's
configuration holds only where the secret lives, tscloud's resolver reads the value at init, and the handler
sees it (it answers the value's sha256, never the value); the roles may read exactly that secret; `plan` lists
what each step reads; `secret set --roll` reaches new execution environments and leaves a plan of `none`; a
missing secret stops plan and deploy before any write.

One deploy serves every assertion (the module's fixture), its emulator in the module's own state directory,
apart from the HOME and TMPDIR the commands get, so the scan of those finds what the commands left.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.secret_support import Stage, files_holding, own_emulator, pieces
from tests.cli.site_support import all_roles, boto
from tests.cli.state_support import journal_text
from tests.conftest import REPO
from tscloud_py.lambda_runtime.ric_install import find_ric
from tscloud_py.presets.naming import region_code

VALUE = "s3cr3t-Qzv7Wx-Kp4-5be27a"
ROLLED_VALUE = "s3cr3t-Jh2Rn8-Yc6-c40d19"
CONFIG = """
app = "{app}"
preset = "ssr-app"

[ssr]
dir = ".output"

[ssr.environment]
NODE_OPTIONS = "--enable-source-maps"
GREETING = "hello"
STRIPE_KEY = "{ref}"

[[ssr.workers]]
name = "jobs"
dir = "worker"

[ssr.workers.environment]
STRIPE_KEY = "{ref}"
"""
# What each handler answers: a digest of the value it sees and what it was started with; never the value.
REPORT = """import { createHash } from "node:crypto";
const seen = () => ({
  sha256: createHash("sha256").update(process.env.STRIPE_KEY ?? "").digest("hex"),
  greeting: process.env.GREETING ?? null,
  node_options: process.env.NODE_OPTIONS ?? null,
});
"""
SERVER = REPORT + """export const handler = awslambda.streamifyResponse(async (event, stream) => {
  stream = awslambda.HttpResponseStream.from(stream, { statusCode: 200, headers: { "content-type": "application/json" } });
  stream.write(JSON.stringify(seen()));
  stream.end();
});
"""
WORKER = REPORT + "export async function handler(event) { return seen(); }\n"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Deployed(Stage):
    def invoke(self, function: str) -> dict[str, Any]:
        answer = boto(self.endpoint, "lambda").invoke(FunctionName=f"{self.app}-dev-{function}", Payload=b"{}",
                                                      LogType="Tail")
        payload = answer["Payload"].read()
        assert "FunctionError" not in answer, (payload, base64.b64decode(answer.get("LogResult") or b""))
        doc: dict[str, Any] = json.loads(payload)
        return doc

    def configuration(self, function: str) -> dict[str, Any]:
        conf: dict[str, Any] = boto(self.endpoint, "lambda").get_function_configuration(
            FunctionName=f"{self.app}-dev-{function}")
        return conf


def project(root: Path, app: str, ref: str) -> Path:
    """An ssr-app whose server (a streaming Nitro build) and worker report what they see."""
    path = root / app
    shutil.copytree(REPO / "examples" / "ssr-app", path, ignore=shutil.ignore_patterns(".tscloud"))
    server = path / ".output" / "server"
    shutil.rmtree(server)
    server.mkdir()
    (server / "package.json").write_text('{"type": "module"}\n')
    (server / "index.mjs").write_text(SERVER)
    (path / "worker" / "index.mjs").write_text(WORKER)
    (path / "tscloud.toml").write_text(CONFIG.format(app=app, ref=ref))
    return path


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    ric = find_ric(REPO)
    if ric is None:
        if os.environ.get("CI") == "true":
            pytest.fail("aws-lambda-ric is not installed (CI=true: .ci/run installs it)")
        pytest.skip("aws-lambda-ric is not installed (`tscloud ssr doctor` installs it into tscloud's cache)")
    root = tmp_path_factory.mktemp("fn-secrets")
    app = f"fns{uuid.uuid4().hex[:6]}"
    with own_emulator(root) as env:
        d = Deployed(root, project(root, app, "secret:STRIPE_KEY"), {**env, "TSCLOUD_AWS_LAMBDA_RIC": str(ric)}, app)
        stored = d.cli("--output", "json", "secret", "set", "STRIPE_KEY", stdin=VALUE)
        assert stored.code == 0, stored.output
        assert stored.json()["used_by"] == ["function", "worker-jobs"]
        d.first_deploy(VALUE + "-unused")
        yield d


def test_the_functions_see_the_value_and_their_configuration_only_where_it_lives(deployed: Deployed) -> None:
    d = deployed
    for function in ("server", "jobs"):
        seen = d.invoke(function)
        assert seen["sha256"] == sha256(VALUE), function
        # the resolver took itself out of NODE_OPTIONS: the user's options are what the handler's children get
        assert seen["node_options"] == ("--enable-source-maps" if function == "server" else None), seen
        variables = d.configuration(function)["Environment"]["Variables"]
        assert json.loads(variables["TSCLOUD_SECRETS"]) == {"STRIPE_KEY": d.secret_arn("STRIPE_KEY")}
        assert "STRIPE_KEY" not in variables and variables["TSCLOUD_SECRETS_VERSION"]
        assert variables["NODE_OPTIONS"].startswith("--import ./_tscloud/secrets.mjs")
        assert pieces(VALUE, json.dumps(d.configuration(function))) == []
    assert d.invoke("server")["greeting"] == "hello"  # a plain variable stays plain


def test_each_role_may_read_only_the_secret_its_function_references(deployed: Deployed) -> None:
    d = deployed
    iam = boto(d.endpoint, "iam")
    for role in (f"{d.app}-dev-{region_code('us-east-1')}-server", f"{d.app}-dev-{region_code('us-east-1')}-jobs"):
        policy: Any = iam.get_role_policy(RoleName=role, PolicyName="tscloud-server")["PolicyDocument"]
        if isinstance(policy, str):
            policy = json.loads(policy)
        reads = [st for st in policy["Statement"] if any(a.startswith(("secretsmanager:", "kms:", "ssm:"))
                                                         for a in st["Action"])]
        assert reads == [{"Sid": "ReadSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                          "Resource": [d.secret_arn("STRIPE_KEY")]}], role
        assert d.secret_arn("UNUSED_KEY") not in json.dumps(policy)


def test_plan_lists_what_each_step_reads_and_secret_list_names_the_functions(deployed: Deployed) -> None:
    d = deployed
    plan = d.cli("--output", "json", "plan")
    assert plan.code == 0, plan.output
    doc = plan.json()
    assert {s["action"] for s in doc["steps"]} == {"none"}, plan.stdout
    assert doc["secrets"] == {
        "function": {"key": "ssr.environment", "refs": {"STRIPE_KEY": "secret:STRIPE_KEY"}},
        "worker-jobs": {"key": "ssr.workers[0].environment", "refs": {"STRIPE_KEY": "secret:STRIPE_KEY"}}}
    text = d.cli("plan")
    assert "secrets: function reads STRIPE_KEY (secret:STRIPE_KEY)" in text.stdout, text.output
    assert "secrets: worker-jobs reads STRIPE_KEY (secret:STRIPE_KEY)" in text.stdout, text.output
    listed = d.cli("--output", "json", "secret", "list").json()["secrets"]
    assert [(s["name"], s["used_by"]) for s in listed] == [("STRIPE_KEY", ["function", "worker-jobs"]),
                                                            ("UNUSED_KEY", [])]


def test_roll_reaches_new_execution_environments_and_the_next_plan_is_none(deployed: Deployed) -> None:
    d = deployed
    before = {f: d.configuration(f)["Environment"]["Variables"]["TSCLOUD_SECRETS_VERSION"] for f in ("server", "jobs")}
    rolled = d.cli("--output", "json", "secret", "set", "STRIPE_KEY", "--roll", stdin=ROLLED_VALUE)
    assert rolled.code == 0, rolled.output
    assert rolled.json()["rolled"] == [{"function": f"{d.app}-dev-server", "state": "updated"},
                                       {"function": f"{d.app}-dev-jobs", "state": "updated"}]
    for function in ("server", "jobs"):
        conf = d.configuration(function)
        assert conf["LastUpdateStatus"] == "Successful"
        assert conf["Environment"]["Variables"]["TSCLOUD_SECRETS_VERSION"] != before[function]
        assert d.invoke(function)["sha256"] == sha256(ROLLED_VALUE), function
    plan = d.cli("--output", "json", "plan")
    assert plan.code == 0, plan.output
    assert {s["action"] for s in plan.json()["steps"]} == {"none"}, plan.stdout
    again = d.cli("--output", "json", "secret", "set", "STRIPE_KEY", "--roll", stdin=ROLLED_VALUE)
    assert [r["state"] for r in again.json()["rolled"]] == ["updated", "updated"]  # a new version, again
    assert pieces(ROLLED_VALUE, rolled.output + plan.output + again.output) == []


def test_the_value_is_in_no_output_configuration_journal_log_or_file(deployed: Deployed) -> None:
    d = deployed
    status = d.cli("-v", "status")
    outputs = d.cli("--output", "json", "outputs")
    assert status.code == outputs.code == 0, status.output + outputs.output
    for value in (VALUE, ROLLED_VALUE):
        for text in d.outputs:
            assert pieces(value, text) == [], text[-2000:]
        assert pieces(value, journal_text(d.endpoint, d.app) or "") == []
        for function in ("server", "jobs"):
            assert pieces(value, json.dumps(d.configuration(function), default=str)) == []
        logs = boto(d.endpoint, "logs")
        for group in logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{d.app}-dev-")["logGroups"]:
            events = logs.filter_log_events(logGroupName=group["logGroupName"])["events"]
            assert pieces(value, json.dumps(events)) == []
        assert files_holding(value, d.project, Path(d.env["HOME"]), Path(d.env["TMPDIR"])) == []
    assert list((d.project / ".tscloud").rglob("*.json"))  # the run records were scanned


def test_a_missing_secret_refuses_plan_and_deploy_with_no_write(deployed: Deployed) -> None:
    d = deployed
    app = f"mis{uuid.uuid4().hex[:6]}"
    path = project(d.root, app, "secret:MAIL_KEY")
    for command in ("plan", "deploy"):
        refused = d.cli(command, project=path)
        assert refused.code == 2, refused.output
        assert "ssr.environment.STRIPE_KEY" in refused.stderr, refused.stderr
        assert "`tscloud secret set MAIL_KEY`" in refused.stderr and "Traceback" not in refused.output
    assert journal_text(d.endpoint, app) is None
    names = [f["FunctionName"] for f in boto(d.endpoint, "lambda").list_functions()["Functions"]]
    assert [n for n in names if n.startswith(app)] == []
    assert [r for r in all_roles(boto(d.endpoint, "iam")) if r["RoleName"].startswith(app)] == []
    assert boto(d.endpoint, "logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{app}")["logGroups"] == []
