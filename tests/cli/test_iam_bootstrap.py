"""`tscloud iam bootstrap --github OWNER/REPO` (issue 27, "Done means" 2): GitHub's OIDC provider and two roles,
their trust limited to the main branch (and the protected environment) for deploy and to pull requests for
plan, each holding the policy `tscloud iam policy` prints for it; a second run sends no write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.site_support import boto, make_site, tscloud
from tests.conftest import MotoServer
from tests.fakes.aws_proxy import AwsProxy
from tscloud_py.aws.session import is_mutating

SUB = "token.actions.githubusercontent.com:sub"


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[AwsProxy]:
    counting = AwsProxy(moto_server.endpoint)
    counting.start()
    yield counting
    counting.stop()


def _policy(project: Path, endpoint: str, purpose: str) -> dict:
    printed = tscloud(project, endpoint, "--output", "json", "iam", "policy", "--for", purpose)
    assert printed.code == 0, printed.output
    return dict(printed.json()["policy"])


def test_bootstrap_makes_the_provider_and_two_roles_once(proxy: AwsProxy, moto_server: MotoServer,
                                                         tmp_path: Path) -> None:
    project = make_site(tmp_path, "boot")
    with proxy.recording() as first:
        made = tscloud(project, proxy.endpoint, "--output", "json", "iam", "bootstrap", "--github", "acme/shop")
    assert made.code == 0, made.output
    doc = made.json()
    assert len(doc["written"]) == 5  # the provider, two roles, two policies
    assert {r.api_operation for r in first if is_mutating(r.api_operation)} == {
        "CreateOpenIDConnectProvider", "CreateRole", "PutRolePolicy"}

    iam = boto(moto_server.endpoint, "iam")
    providers = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" in providers
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=doc["provider"]["arn"])
    assert got["ClientIDList"] == ["sts.amazonaws.com"]

    deploy = iam.get_role(RoleName="boot-dev-ci-deploy")["Role"]
    plan = iam.get_role(RoleName="boot-dev-ci-plan")["Role"]
    assert deploy["Path"] == plan["Path"] == "/tscloud-ci/"  # outside role/boot-dev-*, which the deploy may write
    assert {doc["roles"]["deploy"]["arn"], doc["roles"]["plan"]["arn"]} == {deploy["Arn"], plan["Arn"]}
    (deploy_trust,) = deploy["AssumeRolePolicyDocument"]["Statement"]
    (plan_trust,) = plan["AssumeRolePolicyDocument"]["Statement"]
    for stmt in (deploy_trust, plan_trust):
        assert stmt["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert stmt["Principal"] == {"Federated": doc["provider"]["arn"]}
        assert stmt["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    assert deploy_trust["Condition"]["StringEquals"][SUB] == [
        "repo:acme/shop:ref:refs/heads/main", "repo:acme/shop:environment:production"]
    assert plan_trust["Condition"]["StringEquals"][SUB] == "repo:acme/shop:pull_request"
    # each role holds the policy `iam policy` prints for what it runs
    for role, purpose in (("boot-dev-ci-deploy", "deploy"), ("boot-dev-ci-plan", "plan")):
        held = iam.get_role_policy(RoleName=role, PolicyName="tscloud")["PolicyDocument"]
        assert held == _policy(project, proxy.endpoint, purpose)

    with proxy.recording() as second:
        again = tscloud(project, proxy.endpoint, "iam", "bootstrap", "--github", "acme/shop")
    assert again.code == 0, again.output
    assert [r.describe() for r in second if is_mutating(r.api_operation)] == []
    assert "nothing to change" in again.stdout
    assert f"deploy role: {deploy['Arn']}" in again.stdout and f"plan role:   {plan['Arn']}" in again.stdout


def test_bootstrap_print_touches_nothing_and_a_changed_environment_rewrites_only_the_trust(
        proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    project = make_site(tmp_path, "bootp")
    with proxy.recording() as sent:
        shown = tscloud(project, proxy.endpoint, "--output", "json", "iam", "bootstrap", "--github", "acme/shop",
                        "--environment", "prod", "--print")
    assert shown.code == 0, shown.output
    assert [r.api_operation for r in sent] == ["GetCallerIdentity"]
    assert shown.json()["roles"]["deploy"]["trust"]["Statement"][0]["Condition"]["StringEquals"][SUB] == [
        "repo:acme/shop:ref:refs/heads/main", "repo:acme/shop:environment:prod"]

    assert tscloud(project, proxy.endpoint, "iam", "bootstrap", "--github", "acme/shop").code == 0
    with proxy.recording() as changed:
        moved = tscloud(project, proxy.endpoint, "--output", "json", "iam", "bootstrap", "--github", "acme/shop",
                        "--environment", "prod")
    assert moved.code == 0, moved.output
    assert moved.json()["written"] == ["updated the trust of bootp-dev-ci-deploy"]
    assert [r.api_operation for r in changed if is_mutating(r.api_operation)] == ["UpdateAssumeRolePolicy"]


@pytest.mark.parametrize("repo", ["acme", "acme/shop/x", "-acme/shop", "acme/sh op"])
def test_bootstrap_refuses_a_repository_that_is_not_owner_slash_name(repo: str, tmp_path: Path) -> None:
    project = make_site(tmp_path, "bootbad")
    result = tscloud(project, "http://127.0.0.1:9", "iam", "bootstrap", "--github", repo, "--print",
                     "--account", "123456789012")
    assert result.code == 2
    assert result.stderr.splitlines()[0] == f"error: --github {repo}: expected OWNER/REPO, as in github.com/OWNER/REPO"


def test_with_preview_a_third_role_holds_the_preview_policy_and_trusts_only_the_preview_environment(
        proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    project = make_site(tmp_path, "bootpv")
    with (project / "tscloud.toml").open("a") as config:
        config.write('\n[preview]\ndomain = "preview.example.com"\n')
    with proxy.recording() as sent:
        shown = tscloud(project, proxy.endpoint, "--output", "json", "iam", "bootstrap", "--github", "acme/shop",
                        "--print")
    assert shown.code == 0, shown.output
    assert [r.api_operation for r in sent] == ["GetCallerIdentity"]
    roles = shown.json()["roles"]
    assert sorted(roles) == ["deploy", "plan", "preview"]
    assert roles["preview"]["name"] == "bootpv-dev-ci-preview"
    assert roles["preview"]["policy"] == _policy(project, proxy.endpoint, "preview")
    subjects = {p: r["trust"]["Statement"][0]["Condition"]["StringEquals"][SUB] for p, r in roles.items()}
    assert subjects == {"deploy": ["repo:acme/shop:ref:refs/heads/main", "repo:acme/shop:environment:production"],
                        "plan": "repo:acme/shop:pull_request", "preview": "repo:acme/shop:environment:preview"}

    made = tscloud(project, proxy.endpoint, "--output", "json", "iam", "bootstrap", "--github", "acme/shop")
    assert made.code == 0, made.output
    assert "created the role bootpv-dev-ci-preview" in made.json()["written"]
    iam = boto(moto_server.endpoint, "iam")
    preview = iam.get_role(RoleName="bootpv-dev-ci-preview")["Role"]
    assert preview["Path"] == "/tscloud-ci/"  # outside role/bootpv-preview-*, which the preview policy may write
    assert preview["AssumeRolePolicyDocument"] == roles["preview"]["trust"]
    assert iam.get_role_policy(RoleName="bootpv-dev-ci-preview", PolicyName="tscloud")["PolicyDocument"] == \
        roles["preview"]["policy"]

    with proxy.recording() as second:
        again = tscloud(project, proxy.endpoint, "iam", "bootstrap", "--github", "acme/shop")
    assert again.code == 0, again.output
    assert [r.describe() for r in second if is_mutating(r.api_operation)] == []
    assert f"preview role: {preview['Arn']}" in again.stdout

    # the deploy role trusting the preview environment too would let a pull request's job deploy dev
    refused = tscloud(project, proxy.endpoint, "iam", "bootstrap", "--github", "acme/shop", "--environment",
                      "production", "--environment", "preview")
    assert refused.code == 2
    assert refused.stderr.splitlines()[0].startswith("error: --environment preview: the preview role trusts")
