"""The action catalogue (aws/actions.py) against what the typed clients send (aws/operations_index.py), and
the policies `tscloud iam policy` builds from them for every example (issue 27)."""

from __future__ import annotations

import dataclasses
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from tscloud_py.aws.actions import ANY, CATALOGUE, NO_RESOURCE_LEVEL, RESOURCE_KINDS, writes
from tscloud_py.aws.operations_index import boto_methods, every_label, every_operation
from tscloud_py.aws.session import ClientFactory
from tscloud_py.config.load import load_config
from tscloud_py.config.schema import Config, PreviewConfig
from tscloud_py.errors import ConfigError
from tscloud_py.operations.iam_policy import ANY_SIDS, Scope, policy_for, reasons

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ("static-site", "fullstack-app", "fullstack-build", "fullstack-worker", "ssr-app", "api-domain")
# api-domain's own config writes DNS through Porkbun, whose provider wants its keys when built: its local
# variant (Route 53, which adds the DNS actions) is the one whose policy has something to say about DNS.
CONFIGS = {"api-domain": "tscloud.local.toml"}
# the presets that take [preview]
PREVIEWS = ("static-site", "ssr-app")


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


def _config(example: str, **changes: object) -> Config:
    config = load_config(REPO / "examples" / example / CONFIGS.get(example, "tscloud.toml"))
    return dataclasses.replace(config, **changes)


def _scope(config: Config) -> Scope:
    return Scope(config.app, config.stage, config.region, "123456789012", "tscloud-state-123456789012-us-east-1")


def _policy_of(config: Config, purpose: str) -> dict:
    factory = ClientFactory(region=config.region, endpoint_url="http://127.0.0.1:9")
    return policy_for(config, factory, purpose, _scope(config))


def _policy(example: str, purpose: str) -> dict:
    return _policy_of(_config(example), purpose)


def _preview_policy(example: str, stage: str = "dev") -> dict:
    return _policy_of(_config(example, stage=stage, preview=PreviewConfig(domain="preview.example.com")), "preview")


def _writes(stmt: dict) -> list[str]:
    return [a for a in stmt["Action"] if writes(a)]


def _star_only_where_aws_says_so(policy: dict, why: object) -> None:
    for stmt in policy["Statement"]:
        assert "*" not in stmt["Action"] and not any(a.endswith(":*") for a in stmt["Action"])
        if stmt["Resource"] == "*" and _writes(stmt):
            conditioned = "Conditioned" if "Condition" in stmt else ""
            assert stmt["Sid"] == ANY_SIDS[NO_RESOURCE_LEVEL] + conditioned, (why, stmt)
    # each such Sid has its reason, conditioned or not
    assert set(reasons(policy).values()) <= set(ANY_SIDS), why


@pytest.mark.parametrize("example", EXAMPLES)
def test_no_policy_allows_every_action_or_a_write_on_every_resource_but_where_aws_says_so(example: str) -> None:
    for purpose in ("deploy", "destroy", "plan", "all", "secrets"):
        _star_only_where_aws_says_so(_policy(example, purpose), (example, purpose))
    if example in PREVIEWS:
        _star_only_where_aws_says_so(_preview_policy(example), (example, "preview"))


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


def _actions(policy: dict) -> set[str]:
    return {a for s in policy["Statement"] for a in s["Action"]}


# What the preview host's router needs (its store and its CloudFront Function) and a stage's key writes.
ROUTER = {"cloudfront:CreateKeyValueStore", "cloudfront:DescribeKeyValueStore", "cloudfront:DeleteKeyValueStore",
          "cloudfront-keyvaluestore:DescribeKeyValueStore", "cloudfront-keyvaluestore:GetKey",
          "cloudfront-keyvaluestore:PutKey", "cloudfront-keyvaluestore:DeleteKey", "cloudfront-keyvaluestore:ListKeys",
          "cloudfront:CreateFunction", "cloudfront:UpdateFunction", "cloudfront:PublishFunction",
          "cloudfront:DescribeFunction"}


@pytest.mark.parametrize("example", PREVIEWS)
def test_a_preview_policy_holds_the_router_and_nothing_of_the_stage_s_data_tiers(example: str) -> None:
    actions = _actions(_preview_policy(example))
    assert actions >= ROUTER
    assert {a.split(":")[0] for a in actions} & {"ecs", "rds", "elasticache", "ec2", "sqs", "secretsmanager"} == set()
    # `preview list`: the store's keys and each stage's files
    assert {"cloudfront-keyvaluestore:ListKeys", "s3:ListBucket"} <= actions
    # an ssr-app stage's own server behind the host (a Function URL the router signs for); a static site's none
    if example == "ssr-app":
        assert {"lambda:CreateFunction", "lambda:CreateFunctionUrlConfig", "lambda:AddPermission",
                "iam:PassRole"} <= actions
    else:
        assert {a.split(":")[0] for a in actions} & {"lambda", "iam"} == set()


def _resources(stmt: dict) -> list[str]:
    return [stmt["Resource"]] if isinstance(stmt["Resource"], str) else list(stmt["Resource"])


def _stage_arns(scope: Scope) -> list[str]:
    """An ARN of each kind named after ``scope``'s stage, as one of its resources would be ("*" read as "x")."""
    named = [p for patterns in RESOURCE_KINDS.values() for p in patterns
             if any(word in p for word in ("{prefix}", "{stage}", "{lb}"))]
    return [scope.fill(p).replace("*", "x") for p in named]


@pytest.mark.parametrize("example", PREVIEWS)
@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_a_preview_policy_never_reaches_the_config_s_own_stage(example: str, stage: str) -> None:
    """A pull request's preview job cannot touch {app}-prod-*, its lock or its journal; it does reach the
    host's names and state keys and every preview stage's."""
    policy = _preview_policy(example, stage)
    config = _config(example, stage=stage)
    stage_arns = _stage_arns(_scope(config))
    for stmt in policy["Statement"]:
        reaching = [arn for arn in stage_arns for r in _resources(stmt) if fnmatchcase(arn, r)]
        # only reads on the whole account ("*", log-group:*: listings AWS takes no narrower resource for)
        if reaching:
            assert _writes(stmt) == [] and not any(config.app in r for r in _resources(stmt)), (stmt, reaching)
    resources = [r for stmt in policy["Statement"] for r in _resources(stmt)]
    for preview_stage in ("preview", "preview-pr-1"):
        state = _scope(dataclasses.replace(config, stage=preview_stage))
        for pattern in ("arn:aws:s3:::{state}/locks/{app}/{stage}", "arn:aws:s3:::{state}/journals/{app}/{stage}.json",
                        "arn:aws:s3:::{prefix}-site-0123abcd/index.html"):
            arn = state.fill(pattern)
            assert any(fnmatchcase(arn, r) for r in resources), arn


def test_a_config_without_preview_is_refused_a_preview_policy() -> None:
    with pytest.raises(ConfigError) as refused:
        _policy("static-site", "preview")
    assert refused.value.key == "preview"
    with pytest.raises(ConfigError) as taken:
        _preview_policy("static-site", stage="preview-x")  # its names and state would be a preview stage's
    assert taken.value.key == "stage"
