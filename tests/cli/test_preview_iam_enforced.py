"""`tscloud iam policy --for preview` under enforced IAM (issue 27: preview jobs in CI with no long-lived key).

examples/static-site with [preview]: `preview setup`, `preview deploy pr-1` and `pr-2`, `preview list`,
`preview destroy pr-1 --yes` and `preview prune` run as a role holding exactly the printed preview policy, in
the emulator started with TSCLOUD_LOCAL_ENFORCE_IAM=1 (which holds S3 requests to the bucket and object ARNs
they name: the host's bucket, and the state keys of the host and of each preview stage). With the store's
PutKey taken out, a stage's deploy fails with exit 1 naming that action. The zone the wildcard record goes
in is made beforehand as the account, as a person would."""

from __future__ import annotations

import time
from pathlib import Path

from tests.cli.test_examples_local import copy_example
from tests.cli.test_iam_enforced import ENFORCE, _client, as_role, assert_refused, without
from tests.conftest import CliResult, run_cli

PREVIEW = '\n[preview]\ndomain = "preview.example.com"\n'
REMOVED = "cloudfront-keyvaluestore:PutKey"


def _preview(project: Path, env: dict[str, str], *args: str, output: str = "json") -> CliResult:
    return run_cli("--local", "--yes", "--output", output, "preview", *args, cwd=project, env=env, timeout=600)


def test_the_preview_commands_run_as_the_preview_policy_and_no_less(tmp_path: Path) -> None:
    project = copy_example("static-site", tmp_path)
    with (project / "tscloud.toml").open("a") as config:
        config.write(PREVIEW)
    printed = run_cli("--local", "--output", "json", "iam", "policy", "--for", "preview", cwd=project, env=ENFORCE)
    assert printed.code == 0, printed.output
    policy = printed.json()["policy"]
    endpoint = run_cli("--output", "json", "local", "status", cwd=project).json()["endpoint"]
    _client(endpoint, "route53").create_hosted_zone(Name="example.com", CallerReference="preview-iam")

    setup = _preview(project, as_role(project, policy), "setup")
    assert setup.code == 0, setup.output[-3000:]
    # the router's store is written by every stage's deploy: without PutKey, refused where AWS would refuse it
    refused = _preview(project, as_role(project, without(policy, REMOVED)), "deploy", "pr-1", output="text")
    assert_refused(refused, REMOVED)

    role = as_role(project, policy)
    for name in ("pr-1", "pr-2"):
        deployed = _preview(project, role, "deploy", name)
        assert deployed.code == 0, deployed.output[-3000:]
    last_deploy = time.time()
    listed = _preview(project, role, "list")
    assert listed.code == 0, listed.output
    assert [s["name"] for s in listed.json()["stages"]] == ["pr-1", "pr-2"]
    destroyed = _preview(project, role, "destroy", "pr-1")
    assert destroyed.code == 0, destroyed.output[-3000:]
    time.sleep(max(0.0, last_deploy + 2.1 - time.time()))  # pr-2 is then over a second old
    pruned = _preview(project, role, "prune", "--older-than", "1s")
    assert pruned.code == 0, pruned.output[-3000:]
    assert pruned.json() == {"pruned": ["pr-2"]}
    assert _preview(project, role, "list").json() == {"stages": []}


def test_an_ssr_app_stage_and_its_own_server_run_as_the_preview_policy(tmp_path: Path) -> None:
    """An ssr-app stage adds its server (role, function, Function URL, the host's permission to call it):
    passed and named under {app}-preview-*, and all of it destroyed with the stage."""
    project = copy_example("ssr-app", tmp_path)
    with (project / "tscloud.toml").open("a") as config:
        config.write(PREVIEW)
    printed = run_cli("--local", "--output", "json", "iam", "policy", "--for", "preview", cwd=project, env=ENFORCE)
    assert printed.code == 0, printed.output
    endpoint = run_cli("--output", "json", "local", "status", cwd=project).json()["endpoint"]
    _client(endpoint, "route53").create_hosted_zone(Name="example.com", CallerReference="preview-iam-ssr")
    role = as_role(project, printed.json()["policy"])
    setup = _preview(project, role, "setup")
    assert setup.code == 0, setup.output[-3000:]
    deployed = _preview(project, role, "deploy", "pr-1")
    assert deployed.code == 0, deployed.output[-3000:]
    assert deployed.json()["outputs"]["function_name"].startswith("shop-preview-pr-1-")
    destroyed = _preview(project, role, "destroy", "pr-1")
    assert destroyed.code == 0, destroyed.output[-3000:]
    functions = _client(endpoint, "lambda").list_functions()["Functions"]
    assert [f["FunctionName"] for f in functions if f["FunctionName"].startswith("shop-preview-pr-1-")] == []


def test_a_config_without_preview_is_refused_the_preview_policy(tmp_path: Path) -> None:
    project = copy_example("static-site", tmp_path)
    refused = run_cli("iam", "policy", "--for", "preview", "--account", "123456789012", cwd=project)
    assert refused.code == 2
    (error,) = [line for line in refused.stderr.splitlines() if line.startswith("error: ")]
    assert error.startswith("error: tscloud.toml: preview: "), refused.stderr
