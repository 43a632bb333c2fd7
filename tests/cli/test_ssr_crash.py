"""Crash safety for ssr-app (issue 23, "Done means" 1): SIGKILL `tscloud deploy` of examples/ssr-app right after
its N-th AWS request, at 12 points spread evenly over the deploy, re-run it at once (no --force-unlock, no
shortened lease; the journal kept at every other point, deleted at the rest), and require the end state of an
uninterrupted deploy (one function of each, one URL, one distribution, one of each bucket, queue and mapping,
nothing duplicated), then a deploy that writes nothing."""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.cli.crash_support import kill_then_rerun, spread
from tests.cli.site_support import boto
from tests.cli.state_support import ensure_bucket
from tests.conftest import MotoServer, run_cli
from tests.fakes.aws_proxy import AwsProxy, aws_like_distribution_summaries

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "ssr-app"
WORKERS = int(os.environ.get("TSCLOUD_CRASH_WORKERS", "2"))
POINTS = 12


def project_for(root: Path, app: str) -> Path:
    project = root / app
    shutil.copytree(EXAMPLE, project)
    toml = project / "tscloud.toml"
    toml.write_text(re.sub(r'(?m)^app = "shop"$', f'app = "{app}"', toml.read_text()))
    return project


def pages(client: Any, method: str, key: str, **kwargs: Any) -> list[Any]:
    return [item for page in client.get_paginator(method).paginate(**kwargs) for item in page.get(key, [])]


def end_state(endpoint: str, app: str) -> dict[str, Any]:
    p = f"{app}-dev-"
    lam = boto(endpoint, "lambda")
    functions = sorted(f["FunctionName"].removeprefix(p) for f in pages(lam, "list_functions", "Functions")
                       if f["FunctionName"].startswith(p))
    cf = boto(endpoint, "cloudfront")
    dists = [d for d in cf.list_distributions()["DistributionList"].get("Items", [])
             if app in d.get("Comment", "")]
    oacs = [o for o in cf.list_origin_access_controls()["OriginAccessControlList"].get("Items", [])
            if app in o["Name"]]
    iam = boto(endpoint, "iam")
    roles = sorted(r["RoleName"] for r in pages(iam, "list_roles", "Roles") if app in r["RoleName"])
    return {
        "functions": functions,
        "urls": sorted(f for f in functions if _has_url(lam, p + f)),
        "distributions": len(dists),
        "behaviors": sorted(b["PathPattern"] for d in dists
                            for b in cf.get_distribution_config(Id=d["Id"])["DistributionConfig"]
                            .get("CacheBehaviors", {}).get("Items", [])),
        "oacs": len(oacs),
        "buckets": sorted(re.sub(r"-[0-9a-f]{8}$", "", b["Name"].removeprefix(p))
                          for b in boto(endpoint, "s3").list_buckets()["Buckets"] if b["Name"].startswith(p)),
        "queues": sorted(u.rsplit("/", 1)[-1].removeprefix(p)
                         for u in boto(endpoint, "sqs").list_queues(QueueNamePrefix=p).get("QueueUrls", [])),
        "mappings": sum(len(lam.list_event_source_mappings(FunctionName=p + f)["EventSourceMappings"])
                        for f in functions),
        "roles": [re.sub(rf"^{re.escape(app)}-dev-?", "", r) for r in roles],
        "policies": sorted(len(iam.list_role_policies(RoleName=r)["PolicyNames"]) for r in roles),
    }


def _has_url(lam: Any, name: str) -> bool:
    try:
        lam.get_function_url_config(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        return False
    return True


def _case(moto: str, root: Path, n: int, keep_journal: bool, want: dict[str, Any]) -> str | None:
    app = f"ssrc{n}{'j' if keep_journal else 'x'}"
    project = project_for(root, app)
    run = kill_then_rerun(moto, project, n, app=app, keep_journal=keep_journal)
    where = f"n={n} ({run.what}, journal {'kept' if keep_journal else 'deleted'})"
    if run.error is not None:
        return f"{where}: {run.error}"
    state = end_state(moto, app)
    if state != want:
        return f"{where}: end state differs {({k: (state[k], want[k]) for k in state if state[k] != want[k]})}"
    return None


@pytest.mark.slow  # 12 kill points, three ssr-app deploys each
@pytest.mark.timeout(1800)
def test_killed_ssr_deploys_converge_without_duplicates(moto_server: MotoServer, tmp_path: Path) -> None:
    aws_like_distribution_summaries()
    moto = moto_server.endpoint
    ensure_bucket(moto)
    project = project_for(tmp_path, "ssrcref")
    with AwsProxy(moto) as proxy:
        result = run_cli("--endpoint-url", proxy.endpoint, "--output", "json", "deploy", cwd=project)
        assert result.code == 0, result.output
        requests = len(proxy.requests())
    want = end_state(moto, "ssrcref")
    assert want["functions"] == ["jobs", "server"] and want["urls"] == ["server"], want
    assert want["distributions"] == 1 and want["mappings"] == 1 and len(want["queues"]) == 2, want
    cases = [(n, k % 2 == 0) for k, n in enumerate(spread(requests - 1, POINTS))]
    assert len(cases) == POINTS
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        failures = [f for f in pool.map(lambda c: _case(moto, tmp_path, c[0], c[1], want), cases) if f]
    assert failures == [], "\n".join(failures)
