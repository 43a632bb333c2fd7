"""The printed policy under enforced IAM (issue 27, "Done means" 1): the emulator started with
TSCLOUD_LOCAL_ENFORCE_IAM=1 holds a role's requests to its policy. An example's deploy run as a role holding
`tscloud iam policy` with one action taken out fails with exit 1 naming exactly that action; given the
whole policy, the same deploy (converging from where the refused one stopped) succeeds."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_examples_local import copy_example
from tests.conftest import CliResult, run_cli
from tests.docker_support import image_example
from tscloud_py.emulator.enforce_iam import ENFORCE_IAM_ENV
from tscloud_py.errors import POLICY_HINT

ENFORCE = {ENFORCE_IAM_ENV: "1"}
ROLE = "enforced-deploy"


def _client(endpoint: str, service: str, **credentials: str) -> Any:
    import boto3

    keys = credentials or {"aws_access_key_id": "tscloud-local", "aws_secret_access_key": "tscloud-local"}
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", **keys)  # type: ignore[call-overload]


def as_role(project: Path, policy: dict[str, Any]) -> dict[str, str]:
    """The environment of a run as a role in the emulator holding ``policy`` (made, or its policy replaced)."""
    endpoint = run_cli("--output", "json", "local", "status", cwd=project).json()["endpoint"]
    iam = _client(endpoint, "iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=ROLE, PolicyName="tscloud", PolicyDocument=json.dumps(policy))
    creds = _client(endpoint, "sts").assume_role(RoleArn=f"arn:aws:iam::123456789012:role/{ROLE}",
                                                 RoleSessionName="ci")["Credentials"]
    return {**ENFORCE, "AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"]}


def without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    statements = []
    for stmt in policy["Statement"]:
        actions = [a for a in stmt["Action"] if a != action]
        if actions:
            statements.append({**stmt, "Action": actions})
    assert statements != policy["Statement"], f"{action} is not in the policy"
    return {**policy, "Statement": statements}


def assert_refused(refused: CliResult, removed: str) -> None:
    """Exit 1, one error: AWS's AccessDenied naming ``removed``, and the hint that names it too."""
    assert refused.code == 1, refused.output[-3000:]
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error: ")]
    hints = [line for line in refused.stderr.splitlines() if line.startswith("hint: ")]
    assert len(errors) == 1 and "AccessDenied" in errors[0], refused.stderr[-3000:]
    assert f"not authorized to perform: {removed}" in errors[0]
    assert hints and hints[0].startswith(f"hint: these credentials may not {removed}"), refused.stderr[-3000:]
    assert hints[0].endswith(POLICY_HINT)


def prove_enforced(project: Path, removed: str, *config: str) -> None:
    printed = run_cli(*config, "--local", "--output", "json", "iam", "policy", cwd=project, env=ENFORCE)
    assert printed.code == 0, printed.output
    policy = printed.json()["policy"]

    refused = run_cli(*config, "--local", "--yes", "deploy", cwd=project, env=as_role(project, without(policy, removed)),
                      timeout=900)
    assert_refused(refused, removed)

    deployed = run_cli(*config, "--local", "--yes", "deploy", cwd=project, env=as_role(project, policy), timeout=900)
    assert deployed.code == 0, deployed.output[-3000:]


@pytest.mark.parametrize(("example", "removed"), [
    ("static-site", "s3:PutObject"),
    # a condition met only by the service the role is passed to
    ("fullstack-app", "iam:PassRole"),
    # the Function URL CloudFront reaches through a Lambda OAC
    ("ssr-app", "lambda:CreateFunctionUrlConfig"),
])
def test_the_printed_policy_is_what_an_enforced_deploy_needs(example: str, removed: str, tmp_path: Path) -> None:
    prove_enforced(copy_example(example, tmp_path), removed)


def test_api_domain_under_enforced_iam(tmp_path: Path) -> None:
    project = copy_example("api-domain", tmp_path)
    # its README's setup (the zone and the API it points at), run as the account: it starts the emulator
    made = subprocess.run([sys.executable, "local_api.py"], cwd=project, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **ENFORCE})
    assert made.returncode == 0, made.stderr[-3000:]
    prove_enforced(project, "acm:RequestCertificate", "--config", "tscloud.local.toml")


def test_fullstack_build_under_enforced_iam(tmp_path: Path) -> None:
    """The image built on the real engine and pushed to the emulator's registry, its repository made by the role."""
    project, _docker = image_example(tmp_path)
    prove_enforced(project, "ecr:CreateRepository")
