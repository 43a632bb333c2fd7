"""Crash safety for fullstack-app's Lambda worker (issue 30, "Done means" 4): a stage running with worker =
"in-process" moves to worker = "lambda" on Bun with a schedule targeting it, in the VPC (the stage has Redis);
that deploy is SIGKILLed right after each of its resource writes (the worker's steps: the layer, its security
group and rules, its log group, its role, the function, the mapping, the invoker role, the schedule), re-run at
once, and must end as an uninterrupted deploy does: one function in one worker group with Lambda's two ENIs,
one mapping, one layer version, nothing duplicated; then a deploy that writes nothing.

Cheap by construction: only the worker's writes are kill points, and the stage underneath is made once per
case without a kill."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.cli.crash_support import kill_then_rerun
from tests.cli.site_support import all_roles, boto
from tests.cli.state_support import ensure_bucket
from tests.conftest import MotoServer, run_cli
from tests.fakes.aws_proxy import AwsProxy

WORKERS = int(os.environ.get("TSCLOUD_CRASH_WORKERS", "2"))
HANDLER = "export function fetch(request) { return Response.json({ batchItemFailures: [] }); }\n"
WORKER = """
worker = "lambda"
worker_dir = "worker"
worker_runtime = "bun"
[[schedules]]
name = "hourly"
expression = "rate(1 hour)"
target = "worker"
"""


def in_process_stage(root: Path, app: str, endpoint: str) -> Path:
    """A deployed stage whose queue the API drains; its config then asks for the Lambda worker."""
    project = root / app
    (project / "worker").mkdir(parents=True)
    (project / "worker" / "index.ts").write_text(HANDLER)
    head = f'app = "{app}"\npreset = "fullstack-app"\n[api]\nimage = "public.ecr.aws/docker/library/nginx:1.27-alpine"\n' \
           'port = 80\nhealth_check = "/"\norigin = "public"\n[network]\nvpc = "new"\nnat_gateway = true\n[cache]\n' \
           '[queue]\n'
    (project / "tscloud.toml").write_text(head)
    made = run_cli("--endpoint-url", endpoint, "--output", "json", "deploy", cwd=project, timeout=300)
    assert made.code == 0, made.output[-2000:]
    (project / "tscloud.toml").write_text(head + WORKER)
    return project


def end_state(endpoint: str, app: str) -> dict[str, Any]:
    p = f"{app}-dev"
    lam, iam = boto(endpoint, "lambda"), boto(endpoint, "iam")
    functions = [f["FunctionName"].removeprefix(p) for f in lam.list_functions()["Functions"]
                 if f["FunctionName"].startswith(p)]
    roles = sorted(r["RoleName"].removeprefix(p) for r in all_roles(iam) if r["RoleName"].startswith(p))
    groups = boto(endpoint, "logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{p}")["logGroups"]
    ec2 = boto(endpoint, "ec2")
    worker_groups = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"{p}-worker"]}])["SecurityGroups"]
    enis = ec2.describe_network_interfaces(
        Filters=[{"Name": "description", "Values": [f"AWS Lambda VPC ENI-{p}-worker-*"]}])["NetworkInterfaces"]
    attached = [lam.get_function(FunctionName=f"{p}-worker")["Configuration"].get("VpcConfig", {}).get("SecurityGroupIds")
                for _ in functions[:1]]
    return {
        "functions": functions,
        "mappings": len(lam.list_event_source_mappings(FunctionName=f"{p}-worker")["EventSourceMappings"])
        if functions else 0,
        "layer_versions": len(lam.list_layer_versions(LayerName=f"{p}-bun-arm64")["LayerVersions"]),
        "roles": roles,
        "policies": sorted(len(iam.list_role_policies(RoleName=f"{p}{r}")["PolicyNames"]) for r in roles),
        "worker_log_groups": [(g["logGroupName"].removeprefix(f"/aws/lambda/{p}"), g.get("retentionInDays"))
                              for g in groups],
        "schedules": sorted(s["Name"] for s in boto(endpoint, "scheduler").list_schedules(GroupName=p)["Schedules"]),
        "queues": len(boto(endpoint, "sqs").list_queues(QueueNamePrefix=p).get("QueueUrls", [])),
        # in the VPC (there is Redis to reach): one group of its own, the function in it, Lambda's ENIs
        "worker_groups": len(worker_groups),
        "attached": [ids == [g["GroupId"] for g in worker_groups] for ids in attached],
        "enis": len(enis),
    }


REFERENCE: dict[str, Any] = {}


def _crash_case(moto: str, root: Path, n: int, keep_journal: bool) -> str | None:
    app = f"fwc{n}{'j' if keep_journal else 'x'}"
    project = in_process_stage(root, app, moto)
    run = kill_then_rerun(moto, project, n, app=app, keep_journal=keep_journal)
    if run.error is not None:
        return f"n={n} ({run.what}, journal {'kept' if keep_journal else 'deleted'}): {run.error}"
    state = end_state(moto, app)
    if state != REFERENCE["state"]:
        diff = {k: (state[k], REFERENCE["state"][k]) for k in state if state[k] != REFERENCE["state"][k]}
        return f"n={n} ({run.what}, journal {'kept' if keep_journal else 'deleted'}): end state differs {diff}"
    return None


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_killed_worker_deploys_converge_and_a_redeploy_writes_nothing(moto_server: MotoServer,
                                                                        tmp_path: Path) -> None:
    moto = moto_server.endpoint
    ensure_bucket(moto)
    project = in_process_stage(tmp_path, "fwref", moto)
    with AwsProxy(moto) as proxy:
        result = run_cli("--endpoint-url", proxy.endpoint, "--output", "json", "deploy", cwd=project, timeout=300)
        assert result.code == 0, result.output[-2000:]
        requests = proxy.requests()
        proxy.clear()
        again = run_cli("--endpoint-url", proxy.endpoint, "--output", "json", "deploy", cwd=project, timeout=300)
        assert again.code == 0, again.output[-2000:]
        assert [r.describe() for r in proxy.resource_writes()] == []  # the layer not republished, nothing else
    state = end_state(moto, "fwref")
    assert state["functions"] == ["-worker"] and state["worker_log_groups"] == [("-worker", 30)]
    assert (state["mappings"], state["layer_versions"], state["schedules"]) == (1, 1, ["hourly"])
    assert state["roles"] == ["-use1-exec", "-use1-task", "-use1-worker", "-use1-worker-invoker"]
    assert (state["worker_groups"], state["attached"], state["enis"]) == (1, [True], 2)
    REFERENCE["state"] = state
    writes = [(i, r.api_operation) for i, r in enumerate(requests, start=1) if r.resource_write]
    wanted = {"PublishLayerVersion", "CreateLogGroup", "PutRetentionPolicy", "CreateRole", "PutRolePolicy",
              "CreateFunction", "CreateEventSourceMapping", "CreateSchedule", "CreateSecurityGroup",
              "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"}
    assert wanted <= {op for _, op in writes}, writes
    # the worker's writes; the API's new task definition (QUEUE_WORKER = "lambda") is the fullstack sweep's
    ours = [n for n, op in writes if op in wanted | {"CreateScheduleGroup", "RevokeSecurityGroupEgress"}]
    cases = [(n, k % 2 == 0) for k, n in enumerate(ours)]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        failures = [f for f in pool.map(lambda c: _crash_case(moto, tmp_path, c[0], c[1]), cases) if f]
    assert failures == [], "\n".join(failures)
