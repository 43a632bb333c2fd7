"""The action catalogue (aws/actions.py) against what the typed clients send (aws/operations_index.py), and
the policies `tscloud iam policy` builds from them for every example (issue 27)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tscloud_py.aws.actions import ANY, CATALOGUE, NO_RESOURCE_LEVEL, RESOURCE_KINDS, writes
from tscloud_py.aws.operations_index import boto_methods, every_label, every_operation
from tscloud_py.aws.session import ClientFactory
from tscloud_py.config.load import load_config
from tscloud_py.operations.iam_policy import ANY_SIDS, Scope, policy_for, reasons

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ("static-site", "fullstack-app", "fullstack-build", "fullstack-worker", "ssr-app", "api-domain")
# api-domain's own config writes DNS through Porkbun, whose provider wants its keys when built: its local
# variant (Route 53, which adds the DNS actions) is the one whose policy has something to say about DNS.
CONFIGS = {"api-domain": "tscloud.local.toml"}


def test_each_call_label_names_the_operation_its_boto3_method_sends() -> None:
    wrong = []
    for label in every_label():
        service, _, op = label.label.partition(":")
        if label.method and boto_methods(service).get(label.method) != op:
            wrong.append(f"{label.module}:{label.line} {label.label} wraps {label.method}")
    assert wrong == []
    assert len(every_label()) > 200


def test_every_operation_a_client_sends_has_a_catalogue_entry_and_no_entry_is_for_nothing() -> None:
    sent = {str(op) for op in every_operation()}
    assert sorted(sent - set(CATALOGUE)) == []
    assert sorted(set(CATALOGUE) - sent) == []


def test_every_grant_names_a_known_resource_kind_and_every_star_says_why() -> None:
    for op, grants in CATALOGUE.items():
        for grant in grants:
            assert grant.resource == ANY or grant.resource in RESOURCE_KINDS, op
            assert grant.actions and all(":" in a and "*" not in a for a in grant.actions), op
            if grant.resource == ANY:
                assert grant.why in ANY_SIDS, op
                # a write on "*" only where AWS takes no resource for it
                if any(writes(a) for a in grant.actions):
                    assert grant.why == NO_RESOURCE_LEVEL, op


def _policy(example: str, purpose: str) -> dict:
    config = load_config(REPO / "examples" / example / CONFIGS.get(example, "tscloud.toml"))
    scope = Scope(config.app, config.stage, config.region, "123456789012", "tscloud-state-123456789012-us-east-1")
    return policy_for(config, ClientFactory(region=config.region, endpoint_url="http://127.0.0.1:9"), purpose, scope)


def _writes(stmt: dict) -> list[str]:
    return [a for a in stmt["Action"] if writes(a)]


@pytest.mark.parametrize("example", EXAMPLES)
def test_no_policy_allows_every_action_or_a_write_on_every_resource_but_where_aws_says_so(example: str) -> None:
    for purpose in ("deploy", "destroy", "plan", "all", "secrets"):
        for stmt in _policy(example, purpose)["Statement"]:
            assert "*" not in stmt["Action"] and not any(a.endswith(":*") for a in stmt["Action"])
            if stmt["Resource"] == "*" and _writes(stmt):
                conditioned = "Conditioned" if "Condition" in stmt else ""
                assert stmt["Sid"] == ANY_SIDS[NO_RESOURCE_LEVEL] + conditioned, (example, purpose, stmt)
        # each such Sid has its reason, conditioned or not
        assert set(reasons(_policy(example, purpose)).values()) <= set(ANY_SIDS), (example, purpose)


@pytest.mark.parametrize("example", EXAMPLES)
def test_a_plan_policy_has_no_write_action(example: str) -> None:
    plan = _policy(example, "plan")
    assert [a for s in plan["Statement"] for a in _writes(s)] == []
    deploy = {a for s in _policy(example, "deploy")["Statement"] for a in s["Action"]}
    assert {a for s in plan["Statement"] for a in s["Action"]} < deploy


def test_pass_role_only_for_our_roles_and_only_to_the_service_that_takes_them() -> None:
    policy = _policy("fullstack-app", "deploy")
    passing = [s for s in policy["Statement"] if "iam:PassRole" in s["Action"]]
    assert {s["Condition"]["StringEquals"]["iam:PassedToService"] for s in passing} == {
        "ecs-tasks.amazonaws.com", "scheduler.amazonaws.com"}
    for stmt in passing:
        assert stmt["Action"] == ["iam:PassRole"]
        assert stmt["Resource"] == "arn:aws:iam::123456789012:role/shopfs-dev-*"


def test_a_static_site_policy_holds_only_what_a_static_site_calls() -> None:
    actions = {a for s in _policy("static-site", "all")["Statement"] for a in s["Action"]}
    # `tscloud secret` too: its secrets (and SSM parameters they reference), the rolling restart of the
    # services that read them and the update of the functions that do (UpdateFunctionConfiguration's entry
    # carries iam:PassRole, of the stage's roles to Lambda only)
    assert {a.split(":")[0] for a in actions} == {"s3", "cloudfront", "secretsmanager", "ecs", "elasticloadbalancing",
                                                  "lambda", "ssm", "iam"}
    assert {"lambda:UpdateFunctionConfiguration", "ecs:UpdateService"} <= actions
    assert "cloudfront:CreateFunction" not in actions  # ssr-app's edge function, not a static site's
    deploy = {a for s in _policy("static-site", "deploy")["Statement"] for a in s["Action"]}
    assert {a.split(":")[0] for a in deploy} == {"s3", "cloudfront"}
