"""`tscloud ci init github`: the GitHub Actions workflow that plans pull requests and deploys main with the
roles `tscloud iam bootstrap` makes, through GitHub's OIDC tokens (no long-lived key in the repository).

- pull requests: `tscloud plan --output json` as the plan role, the plan posted as the job's summary;
- main: `tscloud deploy --yes` as the deploy role, in the protected environment (whose name the deploy role
  trusts), one run per stage at a time;
- with [preview]: `tscloud preview deploy pr-N` when a pull request opens or moves, `preview destroy` when
  it closes, as the preview role (the preview host's and stages' names only) in the ``preview`` environment,
  the only subject that role trusts.

Each `run:` line that calls tscloud holds one command, so the file reads (and is tested) command by command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tscloud_py.operations.ci_roles import (
    DEFAULT_ENVIRONMENT,
    PREVIEW_ENVIRONMENT,
    ROLE_PATH,
    role_name,
)

WORKFLOW = Path(".github") / "workflows" / "tscloud.yml"
PYTHON = "3.12"
# The header's word on the preview jobs' credentials, with [preview].
PREVIEW_NOTE = f"""
# The preview jobs run in the {json.dumps(PREVIEW_ENVIRONMENT)} environment as the preview role, which bootstrap
# makes for [preview] and which may touch only the preview host and stages (`tscloud iam policy --for preview`)."""


@dataclass(frozen=True)
class Workflow:
    app: str
    stage: str
    region: str
    account: str
    version: str  # the tscloud the workflow installs: the one that wrote it
    environment: str = DEFAULT_ENVIRONMENT
    preview: bool = False
    directory: str = "."  # the project's folder, from the repository's root

    def role(self, purpose: str) -> str:
        return f"arn:aws:iam::{self.account}:role{ROLE_PATH}{role_name(self.app, self.stage, purpose)}"


def _q(value: str) -> str:
    """A YAML scalar quoted (JSON's double-quoted strings are YAML's)."""
    return json.dumps(value)


def _setup(workflow: Workflow, purpose: str) -> str:
    return f"""      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: {_q(PYTHON)}
      - run: pip install {_q(f"tscloud=={workflow.version}")}
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: {_q(workflow.role(purpose))}
          aws-region: {_q(workflow.region)}
"""


def render(workflow: Workflow) -> str:
    stage = workflow.stage
    preview_jobs = _preview_jobs(workflow) if workflow.preview else ""
    return f"""# Written by `tscloud ci init github` (tscloud {workflow.version}).
# Credentials come from GitHub's OIDC token (no access key is stored): run once, with admin credentials,
#   tscloud iam bootstrap --github OWNER/REPO --environment {workflow.environment}
# and protect the {_q(workflow.environment)} environment in the repository's settings.\
{PREVIEW_NOTE if workflow.preview else ""}
name: tscloud

"on":
  pull_request:
    types: [opened, synchronize, reopened, closed]
  push:
    branches: [main]

permissions:
  contents: read
  id-token: write

defaults:
  run:
    working-directory: {_q(workflow.directory)}

jobs:
  plan:
    if: github.event_name == 'pull_request' && github.event.action != 'closed'
    runs-on: ubuntu-latest
    concurrency:
      group: tscloud-plan-${{{{ github.event.number }}}}
      cancel-in-progress: true
    steps:
{_setup(workflow, "plan")}      - name: tscloud plan
        run: |
          tscloud --stage {stage} --output json plan > plan.json
          {{ echo '### tscloud plan ({stage})'; echo '```json'; cat plan.json; echo '```'; }} >> "$GITHUB_STEP_SUMMARY"

  deploy:
    if: github.event_name == 'push' && github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    environment: {_q(workflow.environment)}
    concurrency:
      group: tscloud-{stage}
      cancel-in-progress: false
    steps:
{_setup(workflow, "deploy")}      - name: tscloud deploy
        run: |
          tscloud --stage {stage} deploy --yes
{preview_jobs}"""


def _preview_jobs(workflow: Workflow) -> str:
    return (_preview_job(workflow, "preview", "!=", 'tscloud preview deploy "$PREVIEW"')
            + _preview_job(workflow, "preview-destroy", "==", 'tscloud preview destroy "$PREVIEW" --yes'))


def _preview_job(workflow: Workflow, name: str, closed: str, command: str) -> str:
    """A job on a pull request (``closed``: "==" when it closes, "!=" otherwise) on the stage pr-N."""
    return f"""
  {name}:
    if: github.event_name == 'pull_request' && github.event.action {closed} 'closed'
    runs-on: ubuntu-latest
    environment: {_q(PREVIEW_ENVIRONMENT)}
    concurrency:
      group: tscloud-preview-pr-${{{{ github.event.number }}}}
      cancel-in-progress: false
    env:
      PREVIEW: pr-${{{{ github.event.number }}}}
    steps:
{_setup(workflow, "preview")}      - name: {command.split(' "')[0]}
        run: |
          {command}
"""


def repository_root(project: Path) -> Path:
    """The enclosing git repository's root (where GitHub reads workflows), else the project's folder."""
    for folder in (project, *project.parents):
        if (folder / ".git").exists():
            return folder
    return project
