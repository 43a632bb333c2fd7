"""`tscloud iam policy` proved, not hoped (issue 27, "Done means" 1): each example's deploy, a no-op redeploy,
a change and destroy run through the counting proxy, and every request they send is allowed by the policy
`tscloud iam policy --for all` printed beforehand (the action, and for S3 the bucket or object ARN); the
policy holds no action none of those runs needed, but for those listed here with the path that needs them.
The destroy run's requests are also all allowed by `--for destroy`'s policy, and the plan's by `--for plan`'s.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.iam_support import refused, unused
from tests.cli.site_support import tscloud
from tests.conftest import REPO, MotoServer
from tests.fakes.aws_proxy import AwsProxy, Recorded, aws_like_distribution_summaries
from tests.fakes.strict_cloudfront import StrictCloudFrontProxy

# What a policy allows that these runs did not need, and the path that needs it.
FIRST_USE = "made by AWS on a service's first use in an account (the emulator's accounts have them)"
NOT_TAKEN = {
    # every preset
    "s3:CreateBucket": "the state bucket's first run in an account and region (the session's bucket exists)",
    "s3:PutBucketVersioning": "the state bucket's first run", "s3:PutLifecycleConfiguration": "the state bucket's first run",
    "s3:DeleteObjectVersion": "emptying a bucket that holds earlier versions (a site bucket keeps none)",
    "s3:AbortMultipartUpload": "a run after a killed upload left parts behind",
    "s3:ListBucketMultipartUploads": "a run after a killed upload",
    "s3:GetBucketPolicy": "a bucket policy changed outside tscloud",
    "s3:DeleteBucketPolicy": "destroy of a bucket kept on purpose (retain = true)",
    "cloudfront:DeleteOriginAccessControl": "destroy of an OAC a pre-region deployment made",
    "cloudfront:ListInvalidations": "a re-run after the invalidation's answer was lost",
    "cloudfront:GetInvalidation": "waiting for an invalidation (--wait)",
    "secretsmanager:PutSecretValue": "`tscloud secret set` on an existing secret",
    "secretsmanager:CreateSecret": "`tscloud secret set` on a new secret",
    "secretsmanager:TagResource": "`tscloud secret set` on a new secret",
    "secretsmanager:DeleteSecret": "`tscloud secret remove`", "secretsmanager:RestoreSecret": "`tscloud secret set` on a removed secret",
    "secretsmanager:UpdateSecret": "`tscloud secret set --kms-key`", "secretsmanager:GetSecretValue": "`tscloud secret get`",
    "secretsmanager:ListSecrets": "`tscloud secret list`", "secretsmanager:DescribeSecret": "`tscloud secret list`",
    "ecs:DescribeServices": "`tscloud secret set --roll`", "ecs:UpdateService": "`tscloud secret set --roll`",
    "ecs:DescribeTasks": "`tscloud secret set --roll`", "ecs:ListTasks": "`tscloud secret set --roll`",
    "ecs:ListClusters": "`tscloud secret set --roll`", "ecs:ListServices": "`tscloud secret set --roll`",
    "ecs:DescribeTaskDefinition": "`tscloud secret set --roll`",
    "elasticloadbalancing:DescribeTargetHealth": "`tscloud secret set --roll`",
    "s3:PutBucketOwnershipControls": "a bucket whose ownership is not BucketOwnerEnforced (made by hand or by an "
                                     "older tscloud)",
    # The analysis goes by method name: the steps' modules call Names.tags, and CloudFront.tags is named alike.
    "cloudfront:ListTagsForResource": "CloudFront.tags, named like the Names.tags the steps call",
}


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[AwsProxy]:
    """client -> counting proxy -> strict CloudFront ETag proxy -> moto."""
    aws_like_distribution_summaries()
    strict = StrictCloudFrontProxy(moto_server.endpoint)
    strict.start()
    counting = AwsProxy(strict.endpoint)
    counting.start()
    yield counting
    counting.stop()
    strict.stop()


def copy_example(name: str, root: Path, app: str) -> Path:
    project = root / name
    shutil.copytree(REPO / "examples" / name, project, ignore=shutil.ignore_patterns(".tscloud"))
    config = project / "tscloud.toml"
    text = config.read_text()
    first = next(line for line in text.splitlines() if line.startswith("app = "))
    config.write_text(text.replace(first, f'app = "{app}"', 1))
    return project


def policy(project: Path, endpoint: str, purpose: str) -> dict[str, Any]:
    printed = tscloud(project, endpoint, "--output", "json", "iam", "policy", "--for", purpose)
    assert printed.code == 0, printed.output
    doc: dict[str, Any] = printed.json()["policy"]
    return doc


def run(proxy: AwsProxy, project: Path, *args: str) -> list[Recorded]:
    with proxy.recording() as sent:
        result = tscloud(project, proxy.endpoint, *args, timeout=900)
        assert result.code == 0, result.output[-3000:]
    return sent


def prove(proxy: AwsProxy, project: Path, change: Any, not_taken: dict[str, str]) -> None:
    everything = policy(project, proxy.endpoint, "all")
    with_destroy = policy(project, proxy.endpoint, "destroy")
    reads = policy(project, proxy.endpoint, "plan")
    sent = run(proxy, project, "--yes", "deploy")
    sent += run(proxy, project, "--yes", "deploy")
    change(project)
    planned = run(proxy, project, "plan")
    sent += planned + run(proxy, project, "--yes", "deploy")
    destroyed = run(proxy, project, "--yes", "destroy")
    sent += destroyed
    assert refused(everything, sent) == []
    assert refused(with_destroy, destroyed) == []
    assert refused(reads, planned) == []
    assert sorted(unused(everything, sent) - set(not_taken)) == []


def test_static_site_policy_allows_all_it_sends_and_nothing_more(proxy: AwsProxy, tmp_path: Path) -> None:
    project = copy_example("static-site", tmp_path, "iamsite")

    def change(project: Path) -> None:
        (project / "dist" / "index.html").write_text("<!doctype html><title>changed</title>")

    prove(proxy, project, change, {**NOT_TAKEN})
