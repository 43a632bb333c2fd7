"""The stage's own secrets through the real CLI against the per-user emulator (`--local`): `secret set`
from stdin, `secret:NAME` in [api.secrets] deployed as the task definition's valueFrom, the value nowhere
else, a value given as an argument refused, `--roll` reaching steady state with a plan of nothing after,
a missing secret refused before any write, and an execution role that may read only what it references.

One deploy serves every assertion (the module's fixture); its emulator lives in the module's own state
directory, apart from the HOME and TMPDIR the commands get, so the scan of those finds what the commands
left, not the emulator's own state (locally the emulator is where the value lives, as AWS is remotely).
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.cli.secret_support import Stage, files_holding, own_emulator, pieces
from tests.cli.site_support import all_roles, boto
from tests.cli.state_support import journal_text
from tscloud_py.presets.naming import region_code

VALUE = "s3cr3t-Stripe-Key-7f1d2c"
ROLLED_VALUE = "s3cr3t-Rolled-Key-90ab3e"
CONFIG = """
app = "{app}"
preset = "fullstack-app"

[api]
image = "public.ecr.aws/docker/library/nginx:1.27-alpine"
port = 80
health_check = "/"

[api.secrets]
STRIPE_KEY = "secret:STRIPE_KEY"
{extra}"""


@dataclass
class Deployed(Stage):
    kms_key: dict[str, Any] = field(default_factory=dict)


def on_terminal(d: Deployed, *args: str, answers: list[tuple[str, str]]) -> tuple[int, str]:
    """Run `tscloud --local ARGS` on a pseudo-terminal (stdin, stdout and stderr), typing each answer once
    its prompt has appeared; returns the exit code and everything the terminal showed."""
    env = {**{k: v for k, v in os.environ.items() if k != "CI"}, **d.env, "TERM": "xterm"}
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tscloud_py", "--local", *args], cwd=d.project, env=env,
                            stdin=secondary, stdout=secondary, stderr=secondary, close_fds=True)
    os.close(secondary)
    shown, pending = b"", list(answers)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if pending and pending[0][0].encode() in shown:
            os.write(primary, pending.pop(0)[1].encode() + b"\r")
            shown = shown.replace(answers[len(answers) - len(pending) - 1][0].encode(), b"", 1)
        ready, _, _ = select.select([primary], [], [], 0.2)
        if ready:
            try:
                data = os.read(primary, 65536)
            except OSError:
                break
            if not data:
                break
            shown += data
        elif proc.poll() is not None:
            break
    code = proc.wait(timeout=30)
    os.close(primary)
    return code, shown.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    root = tmp_path_factory.mktemp("secrets")
    app = f"sec{uuid.uuid4().hex[:6]}"
    project = root / app
    project.mkdir()
    (project / "tscloud.toml").write_text(CONFIG.format(app=app, extra='DB_URL = "secret:DB_URL"\n'))
    with own_emulator(root) as env:
        d = Deployed(root, project, env, app)
        stored = d.cli("secret", "set", "STRIPE_KEY", stdin=VALUE)
        assert stored.code == 0, stored.output
        assert f"local emulator: {d.endpoint}" in stored.stderr, stored.stderr
        # encrypted with a customer key: the execution role may decrypt with that key, for Secrets Manager
        d.kms_key = boto(d.endpoint, "kms").create_key(Description=app)["KeyMetadata"]
        keyed = d.cli("secret", "set", "DB_URL", "--kms-key", d.kms_key["KeyId"], stdin=VALUE + "-db")
        assert keyed.code == 0, keyed.output
        d.first_deploy(VALUE + "-unused\n")
        yield d


def test_set_prints_the_name_and_version_only_and_the_task_definition_reads_the_arn(deployed: Deployed) -> None:
    d = deployed
    again = d.cli("--output", "json", "secret", "set", "STRIPE_KEY", stdin=VALUE + "\n")
    assert again.code == 0, again.output
    doc = again.json()
    assert doc["name"] == "STRIPE_KEY" and doc["used_by"] == ["api-task-definition"]
    versions = boto(d.endpoint, "secretsmanager").list_secret_version_ids(SecretId=doc["arn"])["Versions"]
    assert doc["version"] in [v["VersionId"] for v in versions] and len(versions) >= 2
    value = boto(d.endpoint, "secretsmanager").get_secret_value(SecretId=doc["arn"])["SecretString"]
    assert value == VALUE  # stdin's trailing newline is not part of it
    tags = {t["Key"]: t["Value"] for t in boto(d.endpoint, "secretsmanager").describe_secret(
        SecretId=doc["arn"])["Tags"]}
    assert tags["tscloud:app"] == d.app and tags["tscloud:stage"] == "dev"

    ecs = boto(d.endpoint, "ecs")
    family = ecs.describe_task_definition(taskDefinition=f"{d.app}-dev-api")["taskDefinition"]
    container = family["containerDefinitions"][0]
    assert container["secrets"] == [{"name": "DB_URL", "valueFrom": d.secret_arn("DB_URL")},
                                    {"name": "STRIPE_KEY", "valueFrom": d.secret_arn("STRIPE_KEY")}]
    assert all(VALUE not in json.dumps(e) for e in container.get("environment", []))

    listed = d.cli("--output", "json", "secret", "list").json()["secrets"]
    assert [(s["name"], s["set"], s["used_by"]) for s in listed] == [
        ("DB_URL", True, ["api-task-definition"]), ("STRIPE_KEY", True, ["api-task-definition"]),
        ("UNUSED_KEY", True, [])]
    assert all(s["last_changed"] for s in listed)


def test_a_value_given_as_an_argument_is_refused_in_one_line(deployed: Deployed) -> None:
    d = deployed
    refused = d.cli("secret", "set", "STRIPE_KEY", "given-on-argv-123")
    assert refused.code == 2, refused.output
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "value on the command line is refused" in errors[0], refused.stderr
    assert "given-on-argv" not in refused.output
    as_name = d.cli("secret", "set", "STRIPE_KEY=given-on-argv-123")
    assert as_name.code == 2 and "given-on-argv" not in as_name.output, as_name.output
    alias = d.cli("secret", "set", "NEW_KEY", "--kms-key", "alias/mine", stdin=VALUE)
    assert alias.code == 2 and "--kms-key" in alias.stderr, alias.output
    value = boto(d.endpoint, "secretsmanager").get_secret_value(SecretId=d.secret_arn("STRIPE_KEY"))
    assert value["SecretString"] in (VALUE, ROLLED_VALUE)
    names = [s["Name"] for s in boto(d.endpoint, "secretsmanager").list_secrets()["SecretList"]]
    assert f"tscloud/{d.app}/dev/NEW_KEY" not in names


def test_reveal_only_on_a_terminal_and_remove_refused_while_read(deployed: Deployed) -> None:
    d = deployed
    piped = d.cli("secret", "get", "STRIPE_KEY", "--reveal")
    assert piped.code == 2 and "terminal" in piped.stderr and pieces(VALUE, piped.output) == [], piped.output
    used = d.cli("secret", "remove", "STRIPE_KEY")
    assert used.code == 2 and "api-task-definition" in used.stderr, used.output
    assert boto(d.endpoint, "secretsmanager").describe_secret(SecretId=d.secret_arn("STRIPE_KEY")).get(
        "DeletedDate") is None


def test_a_terminal_is_asked_with_hidden_input_and_reveal_asks_first(deployed: Deployed) -> None:
    d = deployed
    typed = "s3cr3t-Typed-Key-41c0aa"
    code, screen = on_terminal(d, "secret", "set", "TYPED_KEY",
                               answers=[("value:", typed), ("Repeat for confirmation:", typed)])
    assert code == 0 and "TYPED_KEY  version " in screen, screen
    assert typed not in screen  # the prompt does not echo what is typed
    stored = boto(d.endpoint, "secretsmanager").get_secret_value(SecretId=f"tscloud/{d.app}/dev/TYPED_KEY")
    assert stored["SecretString"] == typed

    code, screen = on_terminal(d, "secret", "get", "TYPED_KEY", "--reveal", answers=[("[y/N]", "n")])
    assert code != 0 and "aborted" in screen and typed not in screen, screen  # declined: nothing shown
    code, screen = on_terminal(d, "secret", "get", "TYPED_KEY", "--reveal", answers=[("[y/N]", "y")])
    assert code == 0 and typed in screen, screen
    removed = d.cli("secret", "remove", "TYPED_KEY", "--recovery-days", "7")
    assert removed.code == 0, removed.output


def test_on_a_terminal_set_of_a_secret_in_use_offers_the_restart(deployed: Deployed) -> None:
    d = deployed
    ecs = boto(d.endpoint, "ecs")
    before = ecs.describe_services(cluster=f"{d.app}-dev", services=[f"{d.app}-dev-api"])["services"][0]
    value = boto(d.endpoint, "secretsmanager").get_secret_value(SecretId=d.secret_arn("DB_URL"))["SecretString"]
    code, screen = on_terminal(d, "secret", "set", "DB_URL", answers=[
        ("value:", value), ("Repeat for confirmation:", value), ("new value? [y/N]", "y")])
    assert code == 0 and f"rolled {d.app}-dev-api: deployment " in screen and value not in screen, screen
    after = ecs.describe_services(cluster=f"{d.app}-dev", services=[f"{d.app}-dev-api"])["services"][0]
    assert after["deployments"][0]["id"] != before["deployments"][0]["id"]


def test_roll_makes_a_new_deployment_that_reaches_steady_state_and_the_next_plan_is_none(deployed: Deployed
                                                                                        ) -> None:
    d = deployed
    ecs = boto(d.endpoint, "ecs")
    before = ecs.describe_services(cluster=f"{d.app}-dev", services=[f"{d.app}-dev-api"])["services"][0]
    rolled = d.cli("--output", "json", "secret", "set", "STRIPE_KEY", "--roll", stdin=ROLLED_VALUE)
    assert rolled.code == 0, rolled.output
    doc = rolled.json()
    assert [(r["service"], r["state"]) for r in doc["rolled"]] == [(f"{d.app}-dev-api", "steady")]
    after = ecs.describe_services(cluster=f"{d.app}-dev", services=[f"{d.app}-dev-api"])["services"][0]
    assert after["deployments"][0]["id"] == doc["rolled"][0]["deployment"] != before["deployments"][0]["id"]
    assert after["taskDefinition"] == before["taskDefinition"]  # the same revision, new tasks
    # steady as ECS tells it, not only as tscloud reported: one deployment left, completed, all tasks running
    assert [(x["status"], x["rolloutState"]) for x in after["deployments"]] == [("PRIMARY", "COMPLETED")]
    assert after["deployments"][0]["runningCount"] == after["deployments"][0]["desiredCount"] >= 1
    plan = d.cli("--output", "json", "plan")
    assert plan.code == 0, plan.output
    assert {s["action"] for s in plan.json()["steps"]} == {"none"}, plan.stdout
    assert pieces(ROLLED_VALUE, rolled.output + plan.output) == []


def test_a_missing_secret_refuses_plan_and_deploy_with_no_write(deployed: Deployed) -> None:
    d = deployed
    app = f"mis{uuid.uuid4().hex[:6]}"
    project = d.root / app
    project.mkdir()
    (project / "tscloud.toml").write_text(CONFIG.format(app=app, extra='MAIL_KEY = "secret:MAIL_KEY"\n'))
    listed = d.cli("--output", "json", "secret", "list", project=project)
    assert [(s["name"], s["set"]) for s in listed.json()["secrets"]] == [("MAIL_KEY", False), ("STRIPE_KEY", False)]
    for command in ("plan", "deploy"):
        refused = d.cli(command, project=project)
        assert refused.code == 2, refused.output
        assert "api.secrets.MAIL_KEY" in refused.stderr and "`tscloud secret set MAIL_KEY`" in refused.stderr
        assert "Traceback" not in refused.output
    assert journal_text(d.endpoint, app) is None
    assert not (project / ".tscloud").exists() or not list((project / ".tscloud").rglob("*.json"))
    clusters = boto(d.endpoint, "ecs").describe_clusters(clusters=[f"{app}-dev"])["clusters"]
    assert [c for c in clusters if c.get("status") == "ACTIVE"] == []
    assert boto(d.endpoint, "logs").describe_log_groups(logGroupNamePrefix=f"/tscloud/{app}/")["logGroups"] == []
    assert [r for r in all_roles(boto(d.endpoint, "iam")) if r["RoleName"].startswith(app)] == []
    groups = boto(d.endpoint, "ec2").describe_security_groups()["SecurityGroups"]
    assert [g for g in groups if app in g["GroupName"]] == []


def test_the_execution_role_may_read_only_the_referenced_secrets(deployed: Deployed) -> None:
    d = deployed
    role = f"{d.app}-dev-{region_code('us-east-1')}-exec"
    policy: Any = boto(d.endpoint, "iam").get_role_policy(RoleName=role, PolicyName=role)["PolicyDocument"]
    if isinstance(policy, str):
        policy = json.loads(policy)
    reads = [st for st in policy["Statement"] if any(a.startswith(("secretsmanager:", "kms:")) for a in st["Action"])]
    assert reads == [
        {"Sid": "ReadSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
         "Resource": sorted([d.secret_arn("DB_URL"), d.secret_arn("STRIPE_KEY")])},
        {"Sid": "DecryptSecrets", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [d.kms_key["Arn"]],
         "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}}]
    assert d.secret_arn("UNUSED_KEY") not in json.dumps(policy)


def test_remove_schedules_the_deletion_of_an_unused_secret(deployed: Deployed) -> None:
    d = deployed
    removed = d.cli("--output", "json", "secret", "remove", "UNUSED_KEY", "--recovery-days", "7")
    assert removed.code == 0, removed.output
    assert removed.json()["recovery_days"] == 7 and removed.json()["deletion_date"]
    gone = boto(d.endpoint, "secretsmanager").describe_secret(SecretId=f"tscloud/{d.app}/dev/UNUSED_KEY")
    assert gone.get("DeletedDate")
    listed = d.cli("--output", "json", "secret", "list").json()["secrets"]
    assert [s["name"] for s in listed] == ["DB_URL", "STRIPE_KEY"]


def test_the_value_is_in_no_output_journal_record_or_file(deployed: Deployed) -> None:
    """Last in the module: the scan covers every command the tests above ran (set, deploy, --roll, plan,
    list, remove, the refusals) and what they left."""
    d = deployed
    plan = d.cli("-v", "plan")
    as_json = d.cli("--output", "json", "plan")
    status = d.cli("-v", "status")
    outputs = d.cli("--output", "json", "outputs")
    assert plan.code == as_json.code == status.code == outputs.code == 0, plan.output + status.output
    for value in (VALUE, ROLLED_VALUE):
        for text in d.outputs:
            assert pieces(value, text) == [], text[-2000:]
        assert pieces(value, journal_text(d.endpoint, d.app) or "") == []
        assert files_holding(value, d.project, Path(d.env["HOME"]), Path(d.env["TMPDIR"])) == []
    records = list((d.project / ".tscloud").rglob("*.json"))
    assert records and list((d.project / ".tscloud").rglob("*.html"))  # the run records and timelines scanned


def test_a_secret_deleted_by_hand_does_not_keep_the_stage_from_being_destroyed(deployed: Deployed) -> None:
    """After the scan (it reads what this leaves too): the stage's STRIPE_KEY deleted outside tscloud, as from
    the console; destroy needs no secret's value nor its ARN, and removes the stage."""
    d = deployed
    boto(d.endpoint, "secretsmanager").delete_secret(SecretId=f"tscloud/{d.app}/dev/STRIPE_KEY",
                                                     ForceDeleteWithoutRecovery=True)
    gone = d.cli("--yes", "destroy", "--no-snapshot")
    assert gone.code == 0, gone.output[-2000:]
    assert json.loads(journal_text(d.endpoint, d.app) or "{}")["steps"] == {}
    assert [r for r in all_roles(boto(d.endpoint, "iam")) if r["RoleName"].startswith(d.app)] == []
    clusters = boto(d.endpoint, "ecs").describe_clusters(clusters=[f"{d.app}-dev"])["clusters"]
    assert [c for c in clusters if c.get("status") == "ACTIVE"] == []
