"""`tscloud iam bootstrap --github OWNER/REPO`: GitHub's OIDC identity provider and the roles CI assumes
with it, so a workflow deploys with no long-lived key.

- the plan role holds the ``--for plan`` policy (reads only) and trusts pull requests of the repository;
- the deploy role holds the ``--for deploy`` policy and trusts only the main branch and the protected
  environments named (a job that runs in an environment gets ``environment:NAME`` as its subject, not its ref);
- with [preview], the preview role holds the ``--for preview`` policy (the preview host's and stages' names and
  state only) and trusts only the ``preview`` environment, where the workflow's preview jobs run. The deploy
  role may not trust that environment too: a pull request's job could then deploy the config's stage.

The roles live under the IAM path ``/tscloud-ci/``: the deploy and preview policies may write roles named
``{app}-{stage}-*`` and ``{app}-preview-*`` only at the root path, so no CI role can rewrite its own policy or
trust.
Every write is preceded by a read and sent only when what is there differs: a second run writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tscloud_py.errors import UsageError

if TYPE_CHECKING:
    from tscloud_py.aws.iam import Iam

GITHUB_HOST = "token.actions.githubusercontent.com"
GITHUB_URL = f"https://{GITHUB_HOST}"
AUDIENCE = "sts.amazonaws.com"
ROLE_PATH = "/tscloud-ci/"
POLICY_NAME = "tscloud"
DEFAULT_ENVIRONMENT = "production"
# The GitHub environment the workflow's preview jobs run in, which only the preview role trusts.
PREVIEW_ENVIRONMENT = "preview"
_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")


def check_repo(repo: str) -> str:
    if not _REPO.match(repo) or repo.endswith((".", "/")):
        raise UsageError(f"--github {repo}: expected OWNER/REPO, as in github.com/OWNER/REPO")
    return repo


def role_name(app: str, stage: str, purpose: str) -> str:
    return f"{app}-{stage}-ci-{purpose}"


def provider_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:oidc-provider/{GITHUB_HOST}"


def trust(account: str, subjects: list[str]) -> dict[str, Any]:
    """Assumable only through GitHub's OIDC tokens for this audience and these subjects."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn(account)},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{GITHUB_HOST}:aud": AUDIENCE,
                                       f"{GITHUB_HOST}:sub": subjects if len(subjects) > 1 else subjects[0]}},
    }]}


@dataclass(frozen=True)
class CiRole:
    purpose: str  # "deploy" | "plan" | "preview"
    name: str
    trust: dict[str, Any]
    policy: dict[str, Any]


@dataclass
class Bootstrap:
    """What bootstrap makes: the provider and the roles; ``written`` the writes a run sent."""

    provider: str
    roles: list[CiRole]
    arns: dict[str, str] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {"provider": {"arn": self.provider, "url": GITHUB_URL, "audiences": [AUDIENCE]},
                "roles": {r.purpose: {"name": r.name, "path": ROLE_PATH, "arn": self.arns.get(r.purpose),
                                      "trust": r.trust, "policy": r.policy} for r in self.roles}}


def plan_roles(app: str, stage: str, account: str, repo: str, environments: list[str],
               policies: dict[str, dict[str, Any]]) -> Bootstrap:
    """The provider and roles for ``repo``; ``policies`` by purpose ("deploy", "plan", and "preview" for a
    config with [preview])."""
    environments = environments or [DEFAULT_ENVIRONMENT]
    if "preview" in policies and PREVIEW_ENVIRONMENT in environments:
        raise UsageError(f"--environment {PREVIEW_ENVIRONMENT}: the preview role trusts that environment, where "
                         f"pull requests' preview jobs run; the deploy role must not, or they could deploy {stage}",
                         f"leave out --environment {PREVIEW_ENVIRONMENT}")
    deploy_subjects = [f"repo:{repo}:ref:refs/heads/main", *(f"repo:{repo}:environment:{e}" for e in environments)]
    roles = [CiRole("deploy", role_name(app, stage, "deploy"), trust(account, deploy_subjects), policies["deploy"]),
             CiRole("plan", role_name(app, stage, "plan"), trust(account, [f"repo:{repo}:pull_request"]),
                    policies["plan"])]
    if "preview" in policies:
        roles.append(CiRole("preview", role_name(app, stage, "preview"),
                            trust(account, [f"repo:{repo}:environment:{PREVIEW_ENVIRONMENT}"]), policies["preview"]))
    return Bootstrap(provider_arn(account), roles)


def apply_roles(iam: Iam, plan: Bootstrap, tags: dict[str, str]) -> Bootstrap:
    """Make what is missing and correct what differs; nothing is written where all is as wanted."""
    from tscloud_py.presets.diffing import canonical_policy

    if plan.provider not in iam.oidc_providers():
        iam.create_oidc_provider(GITHUB_URL, [AUDIENCE], tags)
        plan.written.append(f"created the OIDC provider {plan.provider}")
    for role in plan.roles:
        found = iam.role(role.name)
        if found is None:
            plan.arns[role.purpose] = iam.create_role(role.name, role.trust, tags,
                                                      f"tscloud CI {role.purpose} (GitHub OIDC)", path=ROLE_PATH)
            plan.written.append(f"created the role {role.name}")
        else:
            if found.get("Path", "/") != ROLE_PATH:
                raise UsageError(f"role {role.name} exists at the path {found.get('Path')}, where the deploy "
                                 f"policy could rewrite it; delete it or rename the app, then re-run")
            plan.arns[role.purpose] = str(found["Arn"])
            if canonical_policy(found["AssumeRolePolicyDocument"]) != canonical_policy(role.trust):
                iam.update_trust(role.name, role.trust)
                plan.written.append(f"updated the trust of {role.name}")
        current = iam.inline_policies(role.name).get(POLICY_NAME) if found else None
        if current is None or canonical_policy(current) != canonical_policy(role.policy):
            iam.put_policy(role.name, POLICY_NAME, role.policy)
            plan.written.append(f"{'updated' if current else 'wrote'} the policy of {role.name}")
    return plan
