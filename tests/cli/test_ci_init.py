"""`tscloud ci init github` (issue 27, "Done means" 3): the workflow it writes validates against GitHub's
published workflow schema (tests/fixtures/github/github-workflow.json, SchemaStore's copy), holds no
long-lived key, and its `run:` blocks that call tscloud run in order against the emulator: plan on a pull
request, deploy on main, a preview stage deployed and destroyed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import yaml

from tests.cli.test_examples_local import copy_example
from tests.conftest import REPO, run_cli

SCHEMA = REPO / "tests" / "fixtures" / "github" / "github-workflow.json"
PREVIEW = '\n[preview]\ndomain = "preview.example.com"\n'


def init(project: Path, *args: str) -> dict[str, Any]:
    written = run_cli("ci", "init", "github", "--account", "123456789012", *args, cwd=project)
    assert written.code == 0, written.output
    doc: dict[str, Any] = yaml.safe_load((project / ".github" / "workflows" / "tscloud.yml").read_text())
    return doc


def test_the_workflow_validates_and_holds_no_key(tmp_path: Path) -> None:
    project = copy_example("static-site", tmp_path)
    schema = json.loads(SCHEMA.read_text())
    plain = init(project)
    jsonschema.validate(plain, schema)
    assert sorted(plain["jobs"]) == ["deploy", "plan"]
    text = (project / ".github" / "workflows" / "tscloud.yml").read_text()
    for key in ("aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "secrets."):
        assert key not in text
    assert plain["permissions"] == {"contents": "read", "id-token": "write"}
    assert plain["jobs"]["deploy"]["environment"] == "production"
    assert plain["jobs"]["deploy"]["concurrency"] == {"group": "tscloud-dev", "cancel-in-progress": False}
    assert set().union(*map(_roles, plain["jobs"].values())) == {f"{ROLES}-plan", f"{ROLES}-deploy"}
    installs = [s["run"] for job in plain["jobs"].values() for s in job["steps"] if "pip install" in s.get("run", "")]
    assert set(installs) == {'pip install "tscloud==0.1.0"'}

    again = run_cli("ci", "init", "github", "--account", "123456789012", cwd=project)
    assert again.code == 2 and again.stderr.startswith("error: --force: ")

    with (project / "tscloud.toml").open("a") as config:
        config.write(PREVIEW)
    previews = init(project, "--force", "--environment", "prod")
    jsonschema.validate(previews, schema)
    assert sorted(previews["jobs"]) == ["deploy", "plan", "preview", "preview-destroy"]
    assert previews["jobs"]["deploy"]["environment"] == "prod"
    # the preview jobs as the preview role, in the one environment it trusts (and the deploy role does not)
    role = {name: _roles(job) for name, job in previews["jobs"].items()}
    assert role == {"plan": {f"{ROLES}-plan"}, "deploy": {f"{ROLES}-deploy"}, "preview": {f"{ROLES}-preview"},
                    "preview-destroy": {f"{ROLES}-preview"}}
    assert {previews["jobs"][j]["environment"] for j in ("preview", "preview-destroy")} == {"preview"}
    header = (project / ".github" / "workflows" / "tscloud.yml").read_text().split("\nname: ")[0]
    assert "tscloud iam bootstrap --github OWNER/REPO --environment prod\n" in header
    assert "--environment preview" not in header


ROLES = "arn:aws:iam::123456789012:role/tscloud-ci/hello-site-dev-ci"


def _roles(job: dict[str, Any]) -> set[str]:
    return {step["with"]["role-to-assume"] for step in job["steps"]
            if "configure-aws-credentials" in step.get("uses", "")}


def _tscloud_blocks(workflow: dict[str, Any], job: str) -> list[str]:
    return [s["run"] for s in workflow["jobs"][job]["steps"]
            if any(line.strip().startswith("tscloud ") for line in s.get("run", "").splitlines())]


def test_the_workflow_runs_plan_deploy_and_a_preview_against_the_emulator(tmp_path: Path) -> None:
    project = copy_example("static-site", tmp_path)
    with (project / "tscloud.toml").open("a") as config:
        config.write(PREVIEW)
    workflow = init(project)
    summary = tmp_path / "summary.md"
    # the preview host needs its zone (in the emulator's Route 53) and `preview setup`, done once by hand
    assert run_cli("--local", "--output", "json", "plan", cwd=project).code == 0
    endpoint = run_cli("--output", "json", "local", "status", cwd=project).json()["endpoint"]
    boto3.client("route53", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="tscloud-local",
                 aws_secret_access_key="tscloud-local").create_hosted_zone(Name="example.com", CallerReference="ci")
    setup = run_cli("--local", "--yes", "preview", "setup", cwd=project, timeout=600)
    assert setup.code == 0, setup.output[-3000:]

    env = {**os.environ, "CI": "1", "GITHUB_STEP_SUMMARY": str(summary), "PREVIEW": "pr-7",
           "TSCLOUD_PY": sys.executable}
    # `tscloud` on the runner is the installed command; here it is this checkout's, against the emulator
    command = 'tscloud() { "$TSCLOUD_PY" -m tscloud_py --local "$@"; }\nset -euo pipefail\n'
    for job in ("plan", "deploy", "preview", "preview-destroy"):
        for block in _tscloud_blocks(workflow, job):
            ran = subprocess.run(["bash", "-c", command + block], cwd=project, env=env, capture_output=True,
                                 text=True, timeout=600)
            assert ran.returncode == 0, (job, block, ran.stdout[-2000:], ran.stderr[-3000:])
    plan = json.loads((project / "plan.json").read_text())
    assert {s["id"]: s["action"] for s in plan["steps"]}["distribution"] == "create"  # planned before the deploy
    assert summary.read_text().startswith("### tscloud plan (dev)\n```json\n{")
    listed = run_cli("--local", "--output", "json", "outputs", cwd=project)
    assert listed.code == 0 and listed.json()["distribution_id"], listed.output
    stages = run_cli("--local", "--output", "json", "preview", "list", cwd=project)
    assert stages.code == 0, stages.output
    assert "pr-7" not in stages.stdout  # deployed, then destroyed when the pull request closed
