"""destroy through the real CLI (issue 2, "Done means" 6): everything tagged for the app and stage goes, the
bucket is emptied first, CloudFront is disabled, then deleted once deployed, the OAC after it; a second
destroy is a no-op; without --yes on a non-terminal it exits 2 and touches nothing."""

from __future__ import annotations

from pathlib import Path

from tests.cli.site_support import (
    boto,
    buckets_for,
    deploy_json,
    distributions_for,
    make_site,
    oacs_for,
    tscloud,
)
from tests.conftest import MotoServer
from tests.fakes.aws_proxy import AwsProxy


def tagged_distributions(endpoint: str, app: str, stage: str = "dev") -> list[str]:
    cf = boto(endpoint, "cloudfront")
    found = []
    for item in cf.list_distributions()["DistributionList"].get("Items", []) or []:
        tags = {t["Key"]: t["Value"] for t in cf.list_tags_for_resource(Resource=item["ARN"])["Tags"]["Items"]}
        if tags.get("tscloud:app") == app and tags.get("tscloud:stage") == stage:
            found.append(item["Id"])
    return found


def tagged_buckets(endpoint: str, app: str, stage: str = "dev") -> list[str]:
    s3 = boto(endpoint, "s3")
    found = []
    for b in s3.list_buckets().get("Buckets", []):
        try:
            tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=b["Name"])["TagSet"]}
        except s3.exceptions.ClientError:
            continue
        if tags.get("tscloud:app") == app and tags.get("tscloud:stage") == stage:
            found.append(b["Name"])
    return found


def test_destroy_removes_everything_in_order_then_is_a_noop(proxy: AwsProxy, moto_server: MotoServer,
                                                            tmp_path: Path) -> None:
    app = "gone-site"
    project = make_site(tmp_path, app)
    other = make_site(tmp_path / "other", app, stage="qa")  # same app, another stage: must survive
    outputs = deploy_json(project, proxy.endpoint)["outputs"]
    deploy_json(other, proxy.endpoint)
    bucket, dist_id = outputs["bucket"], outputs["distribution_id"]
    (oac,) = oacs_for(moto_server.endpoint, app)
    assert tagged_buckets(moto_server.endpoint, app) == [bucket]
    assert tagged_distributions(moto_server.endpoint, app) == [dist_id]

    with proxy.recording() as requests:
        result = tscloud(project, proxy.endpoint, "--output", "json", "--yes", "destroy")
    assert result.code == 0, result.output
    statuses = {s["id"]: s["status"] for s in result.json()["steps"]}
    assert statuses == {"bucket": "deleted", "oac": "deleted", "distribution": "deleted", "bucket-policy": "deleted"}

    assert buckets_for(moto_server.endpoint, app) == []
    assert distributions_for(moto_server.endpoint, app) == []
    assert oacs_for(moto_server.endpoint, app) == []
    assert tagged_buckets(moto_server.endpoint, app) == []
    assert tagged_distributions(moto_server.endpoint, app) == []
    # The other stage is untouched.
    assert len(buckets_for(moto_server.endpoint, app, "qa")) == 1
    assert len(distributions_for(moto_server.endpoint, app, "qa")) == 1

    ops = [f"{r.method} {r.path}" + (f"?{r.query}" if r.query else "") for r in requests]

    def first(prefix: str) -> int:
        return next(i for i, op in enumerate(ops) if op.startswith(prefix))

    dist_path = f"/2020-05-31/distribution/{dist_id}"
    disable, delete_dist = first(f"PUT {dist_path}/config"), first(f"DELETE {dist_path}")
    # Disabled, then polled until Deployed, then deleted (with the ETag of the disabled config).
    assert disable < delete_dist
    assert any(op == f"GET {dist_path}" for op in ops[disable:delete_dist])
    assert first(f"DELETE /2020-05-31/origin-access-control/{oac['Id']}") > delete_dist  # no longer in use
    # The bucket: emptied before it is deleted.
    assert first(f"POST /{bucket}?delete") < ops.index(f"DELETE /{bucket}")

    outputs_after = tscloud(project, proxy.endpoint, "outputs")
    assert outputs_after.code == 2 and "has no recorded deploy" in outputs_after.stderr

    with proxy.recording() as again:
        second = tscloud(project, proxy.endpoint, "destroy", "--yes")  # --yes after the command works too
    assert second.code == 0, second.output
    assert "nothing to destroy for gone-site-dev" in second.stderr
    assert [r.describe() for r in again if r.resource_write] == []


def test_destroy_without_yes_off_a_terminal_exits_2_and_deletes_nothing(
        proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    app = "kept-site"
    project = make_site(tmp_path, app)
    deploy_json(project, proxy.endpoint)
    with proxy.recording() as requests:
        result = tscloud(project, proxy.endpoint, "destroy")
    assert result.code == 2
    assert "`tscloud destroy --yes`" in result.stderr and "Traceback" not in result.stderr
    assert [r for r in requests if r.mutating] == []
    assert len(buckets_for(moto_server.endpoint, app)) == 1
    assert len(distributions_for(moto_server.endpoint, app)) == 1


def test_destroy_of_a_never_deployed_app(proxy: AwsProxy, tmp_path: Path) -> None:
    project = make_site(tmp_path, "never-site")
    with proxy.recording() as requests:
        result = tscloud(project, proxy.endpoint, "--yes", "destroy")
    assert result.code == 0, result.output
    assert "nothing to destroy" in result.stderr
    assert [r for r in requests if r.resource_write] == []
