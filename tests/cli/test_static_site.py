"""static-site end to end: the real `tscloud` against a moto server, behind a counting proxy and the strict
CloudFront (ETag) layer. Issue 2, "Done means" 2: a second deploy is all `unchanged` and sends zero mutating
requests; `plan` then says `none` everywhere; only a changed file is uploaded and invalidated."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from tests.cli.site_support import (
    OUTPUT_KEYS,
    boto,
    buckets_for,
    deploy_json,
    distributions_for,
    invalidations,
    local_files,
    make_site,
    oacs_for,
    objects,
    tscloud,
)
from tests.cli.state_support import delete_journal
from tests.conftest import MotoServer
from tests.fakes.aws_proxy import (
    STATE_BUCKET_PATH,
    AwsProxy,
    Recorded,
)

IMMUTABLE = "public, max-age=31536000, immutable"
EXPECTED_HEADERS = {
    "index.html": ("text/html; charset=utf-8", "no-cache"),
    "robots.txt": ("text/plain; charset=utf-8", "no-cache"),
    "favicon.svg": ("image/svg+xml", "no-cache"),
    "assets/app-4d1e8b2c.js": ("text/javascript; charset=utf-8", IMMUTABLE),
    "assets/app-7f3c2a9b.css": ("text/css; charset=utf-8", IMMUTABLE),
}
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"


def parse_outputs(stdout: str) -> dict[str, str]:
    out = {}
    for line in stdout.splitlines():
        key, _, value = line.partition(" ")
        if key in OUTPUT_KEYS:
            out[key] = value.strip()
    return out


def mutating(requests: list[Recorded]) -> list[str]:
    """Resource writes: the state bucket's lock and journal requests are counted apart."""
    return [r.describe() for r in requests if r.resource_write]


def test_deploy_prints_outputs_then_noop_redeploy_sends_no_writes(
        proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    app = "site-noop"
    project = make_site(tmp_path, app)

    first = tscloud(project, proxy.endpoint, "deploy")
    assert first.code == 0, first.output
    outputs = parse_outputs(first.stdout)
    assert set(outputs) == set(OUTPUT_KEYS), first.stdout
    assert "Traceback" not in first.stderr
    assert buckets_for(moto_server.endpoint, app) == [outputs["bucket"]]
    (dist,) = distributions_for(moto_server.endpoint, app)
    assert outputs["distribution_id"] == dist["Id"]
    assert outputs["distribution_domain"] == dist["DomainName"]
    assert outputs["url"] == f"https://{dist['DomainName']}"

    with proxy.recording() as second_requests:
        second = deploy_json(project, proxy.endpoint)
    assert second["app"] == app and second["stage"] == "dev" and second["preset"] == "static-site"
    statuses = {s["id"]: s["status"] for s in second["steps"]}
    assert statuses == dict.fromkeys(
        ("bucket", "oac", "distribution", "bucket-policy", "upload", "invalidation"), "unchanged")
    assert second["outputs"] == outputs
    assert second_requests, "the proxy saw nothing: is the deploy going around it?"
    assert mutating(second_requests) == []
    # The lock and the journal are written (take, journal, release), and reported apart from the resources.
    state_writes = [r for r in second_requests if r.state and r.mutating]
    assert second["requests"]["resource"]["writes"] == 0
    assert second["requests"]["state"] == {"backend": "s3", "writes": len(state_writes),
                                           "total": len([r for r in second_requests if r.state])}
    assert 2 <= len(state_writes) <= 4, [r.describe() for r in state_writes]

    with proxy.recording() as plan_requests:
        plan = tscloud(project, proxy.endpoint, "--output", "json", "plan")
    assert plan.code == 0, plan.output
    assert {s["id"]: s["action"] for s in plan.json()["steps"]} == dict.fromkeys(statuses, "none")
    assert all(s["changes"] == [] for s in plan.json()["steps"])
    assert [r.describe() for r in plan_requests if r.mutating] == []  # no lock, no journal write: nothing

    text_plan = tscloud(project, proxy.endpoint, "plan")
    assert text_plan.code == 0
    assert "6 none; 0 destructive" in text_plan.stdout


def test_files_headers_policy_and_distribution(proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    app = "site-shape"
    project = make_site(tmp_path, app)
    doc = deploy_json(project, proxy.endpoint)
    bucket = doc["outputs"]["bucket"]
    assert bucket.startswith(f"{app}-dev-site-")

    objs = objects(moto_server.endpoint, bucket)
    files = local_files(project)
    assert set(objs) == {*files, "_tscloud/manifest.json"}
    for key, body in files.items():
        assert objs[key]["body"] == body, key
        assert (objs[key]["content_type"], objs[key]["cache_control"]) == EXPECTED_HEADERS[key], key

    s3 = boto(moto_server.endpoint, "s3")
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert tags == {"tscloud:app": app, "tscloud:stage": "dev", "tscloud:step": "bucket"}

    (dist,) = distributions_for(moto_server.endpoint, app)
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert set(statements) == {"AllowCloudFrontOAC", "DenyInsecureTransport"}
    allow = statements["AllowCloudFrontOAC"]
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == f"arn:aws:s3:::{bucket}/*"
    assert allow["Condition"] == {"StringEquals": {"AWS:SourceArn": dist["ARN"]}}
    deny = statements["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert sorted(deny["Resource"]) == sorted([f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"])
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    config = dist["config"]
    (origin,) = config["Origins"]["Items"]
    (oac,) = [o for o in boto(moto_server.endpoint, "cloudfront").list_origin_access_controls()
              ["OriginAccessControlList"]["Items"] if o["Name"] == f"{app}-dev-use1-site"]
    assert origin["DomainName"] == f"{bucket}.s3.us-east-1.amazonaws.com"
    assert origin["OriginAccessControlId"] == oac["Id"]
    assert oac["SigningBehavior"] == "always" and oac["SigningProtocol"] == "sigv4"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["Compress"] is True
    assert behavior["ResponseHeadersPolicyId"] == SECURITY_HEADERS
    assert config["HttpVersion"] == "http2and3"
    assert config["DefaultRootObject"] == "index.html"
    errors = {e["ErrorCode"]: e for e in config["CustomErrorResponses"]["Items"]}
    assert set(errors) == {403, 404}
    assert all(e["ResponsePagePath"] == "/index.html" and e["ResponseCode"] == "200" for e in errors.values())
    cf_tags = boto(moto_server.endpoint, "cloudfront").list_tags_for_resource(Resource=dist["ARN"])
    assert {t["Key"]: t["Value"] for t in cf_tags["Tags"]["Items"]} == {
        "tscloud:app": app, "tscloud:stage": "dev", "tscloud:step": "distribution"}


def _object_puts(requests: list[Recorded], bucket: str) -> list[str]:
    prefix = f"/{bucket}/"
    return sorted(r.path[len(prefix):] for r in requests if r.method == "PUT" and r.path.startswith(prefix))


def test_changed_file_uploads_and_invalidates_only_that_path(proxy: AwsProxy, moto_server: MotoServer,
                                                             tmp_path: Path) -> None:
    project = make_site(tmp_path, "site-change")
    first = deploy_json(project, proxy.endpoint)
    bucket, dist_id = first["outputs"]["bucket"], first["outputs"]["distribution_id"]
    assert invalidations(moto_server.endpoint, dist_id) == []  # a first build has nothing cached

    (project / "dist" / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    with proxy.recording() as requests:
        second = deploy_json(project, proxy.endpoint)
    statuses = {s["id"]: s["status"] for s in second["steps"]}
    assert statuses["upload"] == "updated" and statuses["invalidation"] in ("created", "updated")
    assert {statuses[s] for s in ("bucket", "oac", "distribution", "bucket-policy")} == {"unchanged"}
    assert _object_puts(requests, bucket) == ["_tscloud/manifest.json", "robots.txt"]
    writes = mutating(requests)
    assert sorted(writes) == sorted([f"s3:PUT /{bucket}/robots.txt", f"s3:PUT /{bucket}/_tscloud/manifest.json",
                                     f"cloudfront:POST /2020-05-31/distribution/{dist_id}/invalidation"]), writes
    assert invalidations(moto_server.endpoint, dist_id) == [["/robots.txt"]]
    got = objects(moto_server.endpoint, bucket)["robots.txt"]
    assert got["body"] == b"User-agent: *\nDisallow: /private/\n"
    # CloudFront finishes the invalidation on its own: the deploy did not wait for it, unless asked
    assert [r for r in requests if r.api_operation == "GetInvalidation"] == []
    (project / "dist" / "robots.txt").write_text("User-agent: *\n")
    with proxy.recording() as waited:
        deploy_json(project, proxy.endpoint, "--wait-invalidation")
    assert [r.api_operation for r in waited if r.api_operation.endswith("Invalidation")] == [
        "CreateInvalidation", "GetInvalidation"]
    assert invalidations(moto_server.endpoint, dist_id) == [["/robots.txt"], ["/robots.txt"]]

    # Re-running the same build neither uploads nor invalidates again.
    with proxy.recording() as again:
        third = deploy_json(project, proxy.endpoint)
    assert {s["status"] for s in third["steps"]} == {"unchanged"}
    assert mutating(again) == []
    assert len(invalidations(moto_server.endpoint, dist_id)) == 2


def test_new_build_keeps_previous_fingerprinted_assets_for_one_deploy(
        proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    project = make_site(tmp_path, "site-keep")
    dist = project / "dist"
    bucket = deploy_json(project, proxy.endpoint)["outputs"]["bucket"]

    def rebuild(old: str, new: str, js: str) -> None:
        (dist / "assets" / old).rename(dist / "assets" / new)
        (dist / "assets" / new).write_text(js)
        index = dist / "index.html"
        index.write_text(index.read_text().replace(old, new))

    rebuild("app-4d1e8b2c.js", "app-11aa22bb.js", "console.log('build 2')\n")
    with proxy.recording() as requests:
        second = deploy_json(project, proxy.endpoint)
    assert _object_puts(requests, bucket) == ["_tscloud/manifest.json", "assets/app-11aa22bb.js", "index.html"]
    assert not [r for r in requests if r.method == "POST" and "delete" in r.query]
    keys = set(objects(moto_server.endpoint, bucket))
    assert {"assets/app-4d1e8b2c.js", "assets/app-11aa22bb.js"} <= keys  # the open tab's asset still loads
    dist_id = second["outputs"]["distribution_id"]
    assert invalidations(moto_server.endpoint, dist_id) == [["/", "/index.html"]]

    rebuild("app-11aa22bb.js", "app-33cc44dd.js", "console.log('build 3')\n")
    deploy_json(project, proxy.endpoint)
    keys = set(objects(moto_server.endpoint, bucket))
    assert "assets/app-4d1e8b2c.js" not in keys  # kept exactly one more deploy, then removed
    assert {"assets/app-11aa22bb.js", "assets/app-33cc44dd.js"} <= keys



def test_a_page_waits_for_the_files_the_bucket_does_not_have_yet_and_no_others(
        proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    """A page sent beside a new file could be served first, and the viewer's 404 for that file would be
    cached by CloudFront; a file overwritten in place already answers, so the page goes out beside it."""
    project = make_site(tmp_path, "site-waves")
    dist = project / "dist"
    bucket = deploy_json(project, proxy.endpoint)["outputs"]["bucket"]
    (dist / "assets" / "chunk-5e6f7a8b.js").write_text("export const x = 1\n")
    (dist / "robots.txt").write_text("User-agent: *\nDisallow: /drafts/\n")
    (dist / "index.html").write_text((dist / "index.html").read_text() + "<!-- build 2 -->\n")

    def put(requests: list[Recorded], key: str) -> Recorded:
        return next(r for r in requests if r.method == "PUT" and r.path == f"/{bucket}/{key}")

    in_place = f"/{bucket}/robots.txt"
    # The file overwritten in place is held at the proxy: the page can only land meanwhile if it was sent
    # beside it, not after it.
    proxy.hold(lambda method, path: method == "PUT" and path == in_place)
    earlier = len(proxy.requests())
    with proxy.recording() as requests:
        run = threading.Thread(target=lambda: deploy_json(project, proxy.endpoint))
        run.start()
        try:
            assert proxy.holding.wait(120), "the in-place file was never sent"
            deadline = time.monotonic() + 60
            while not any(r.path == f"/{bucket}/index.html" for r in proxy.requests()[earlier:]):
                assert time.monotonic() < deadline, "the page waited for the file overwritten in place"
                time.sleep(0.02)
        finally:
            proxy.release()
            run.join(120)
    new_file, page = put(requests, "assets/chunk-5e6f7a8b.js"), put(requests, "index.html")
    assert new_file.ended <= page.started  # the new file's answer came before the page was sent
    assert page.ended <= put(requests, "robots.txt").ended
    assert objects(moto_server.endpoint, bucket)["robots.txt"]["body"] == b"User-agent: *\nDisallow: /drafts/\n"


def test_outputs_and_status_after_deploy(proxy: AwsProxy, tmp_path: Path) -> None:
    project = make_site(tmp_path, "site-outputs")
    deployed = deploy_json(project, proxy.endpoint)["outputs"]
    outputs = tscloud(project, proxy.endpoint, "--output", "json", "outputs")
    assert outputs.code == 0 and outputs.json() == deployed
    status = tscloud(project, proxy.endpoint, "--output", "json", "status")
    assert status.code == 0, status.output
    doc = status.json()
    assert {s["id"]: s["live"] for s in doc["steps"]} == dict.fromkeys(
        ("bucket", "oac", "distribution", "bucket-policy", "upload", "invalidation"), "in sync")
    assert doc["outputs"] == deployed and doc["last_run"]["ok"] is True


def test_only_and_from_select_what_is_applied(proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    project = make_site(tmp_path, "site-select")
    first = deploy_json(project, proxy.endpoint)
    dist_id = first["outputs"]["distribution_id"]
    (project / "dist" / "robots.txt").write_text("changed\n")

    only = deploy_json(project, proxy.endpoint, "--only", "upload")
    assert [(s["id"], s["status"]) for s in only["steps"]] == [("upload", "updated")]
    assert invalidations(moto_server.endpoint, dist_id) == []  # the invalidation step was not selected
    assert only["outputs"] == first["outputs"]

    rest = deploy_json(project, proxy.endpoint, "--from", "invalidation")
    assert [(s["id"], s["status"]) for s in rest["steps"]] == [("invalidation", "updated")]
    assert invalidations(moto_server.endpoint, dist_id) == [["/robots.txt"]]


def test_failed_step_exits_1_naming_step_code_and_hint_and_skips_only_dependents(
        proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    project = make_site(tmp_path, "site-fail")
    proxy.fail(lambda method, path, query: method == "PUT" and query == "policy" and not path.startswith(
        STATE_BUCKET_PATH), 403, "AccessDenied",
               "not allowed to put bucket policies")
    result = tscloud(project, proxy.endpoint, "deploy")
    assert result.code == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: step 'bucket-policy' failed: ")  # the step
    assert "AccessDenied" in errors[0] and "PutBucketPolicy" in errors[0]  # the AWS error code, the operation
    hints = [line for line in result.stderr.splitlines() if line.startswith("hint: ")]
    # the refused action, and where the policy the deploy role needs is
    assert hints == ["hint: these credentials may not s3:PutBucketPolicy; `tscloud iam policy` shows what the "
                     "deploy role needs (`--for preview`: the preview role)"], result.stderr

    as_json = tscloud(project, proxy.endpoint, "--output", "json", "deploy")
    assert as_json.code == 1
    statuses = {s["id"]: s["status"] for s in as_json.json()["steps"]}
    assert statuses["bucket-policy"] == "failed" and statuses["invalidation"] == "skipped"
    assert statuses["upload"] == "unchanged" and statuses["distribution"] == "unchanged"

    proxy.fail_none()
    fixed = deploy_json(project, proxy.endpoint)
    assert {s["id"]: s["status"] for s in fixed["steps"]}["bucket-policy"] == "created"


def test_aws_endpoint_url_env_is_honoured(proxy: AwsProxy, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    project = make_site(tmp_path, "site-envurl")
    with proxy.recording() as requests:
        result = run_cli("--output", "json", "deploy", cwd=project, env={"AWS_ENDPOINT_URL": proxy.endpoint})
    assert result.code == 0, result.output
    assert {s["status"] for s in result.json()["steps"]} >= {"created"}
    assert any(r.service == "s3" for r in requests) and any(r.service == "cloudfront" for r in requests)


def test_plan_before_first_deploy_sends_no_writes(proxy: AwsProxy, tmp_path: Path) -> None:
    project = make_site(tmp_path, "site-fresh")
    with proxy.recording() as requests:
        plan = tscloud(project, proxy.endpoint, "--output", "json", "plan")
    assert plan.code == 0, plan.output
    actions = {s["id"]: s["action"] for s in plan.json()["steps"]}
    assert actions["bucket"] == "create" and actions["distribution"] == "create" and actions["oac"] == "create"
    assert mutating(requests) == []


def test_drift_is_planned_and_repaired_leaving_foreign_origins_alone(
        proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    app = "site-drift"
    project = make_site(tmp_path, app)
    outputs = deploy_json(project, proxy.endpoint)["outputs"]
    bucket, dist_id = outputs["bucket"], outputs["distribution_id"]

    # Someone else, through the same strict ETag layer: opens the bucket, swaps the policy, edits the
    # distribution and adds their own origin and behavior to it.
    s3 = boto(proxy.endpoint, "s3")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "Other", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    cf = boto(proxy.endpoint, "cloudfront")
    got = cf.get_distribution_config(Id=dist_id)
    config = got["DistributionConfig"]
    config["DefaultCacheBehavior"]["Compress"] = False
    config["PriceClass"] = "PriceClass_All"
    config["Origins"]["Items"].append({
        "Id": "api", "DomainName": "api.example.com", "OriginPath": "",
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}})
    config["Origins"]["Quantity"] = 2
    config["CacheBehaviors"] = {"Quantity": 1, "Items": [{
        "PathPattern": "/api/*", "TargetOriginId": "api", "ViewerProtocolPolicy": "https-only",
        "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}]}
    cf.update_distribution(Id=dist_id, IfMatch=got["ETag"], DistributionConfig=config)

    plan = tscloud(project, proxy.endpoint, "--output", "json", "plan")
    assert plan.code == 0, plan.output
    steps = {s["id"]: s for s in plan.json()["steps"]}
    assert {k: v["action"] for k, v in steps.items()} == {
        "bucket": "update", "oac": "none", "distribution": "update", "bucket-policy": "update", "upload": "none",
        "invalidation": "none"}
    fields = {c["field"] for c in steps["distribution"]["changes"]}
    assert {"DefaultCacheBehavior.Compress", "PriceClass"} <= fields
    assert "public_access_block" in {c["field"] for c in steps["bucket"]["changes"]}

    repaired = deploy_json(project, proxy.endpoint)
    assert {s["id"]: s["status"] for s in repaired["steps"]} == {
        "bucket": "updated", "oac": "unchanged", "distribution": "updated", "bucket-policy": "updated",
        "upload": "unchanged", "invalidation": "unchanged"}
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]
    sids = {s["Sid"] for s in json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]}
    assert sids == {"AllowCloudFrontOAC", "DenyInsecureTransport"}
    live = cf.get_distribution_config(Id=dist_id)["DistributionConfig"]
    assert live["DefaultCacheBehavior"]["Compress"] is True and live["PriceClass"] == "PriceClass_100"
    assert [o["Id"] for o in live["Origins"]["Items"]] == ["s3-site", "api"]  # theirs kept, in place
    assert [b["PathPattern"] for b in live["CacheBehaviors"]["Items"]] == ["/api/*"]

    with proxy.recording() as requests:
        again = deploy_json(project, proxy.endpoint)
    assert {s["status"] for s in again["steps"]} == {"unchanged"}
    assert mutating(requests) == []


def test_file_names_with_spaces_and_non_ascii(proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    project = make_site(tmp_path, "site-names")
    names = {"docs/My Report.txt": "v1", "café/menü.html": "<p>v1</p>", "a+b (1).txt": "v1"}
    for name, text in names.items():
        (project / "dist" / name).parent.mkdir(parents=True, exist_ok=True)
        (project / "dist" / name).write_text(text)
    first = deploy_json(project, proxy.endpoint)
    bucket, dist_id = first["outputs"]["bucket"], first["outputs"]["distribution_id"]
    assert set(names) <= set(objects(moto_server.endpoint, bucket))

    with proxy.recording() as requests:
        deploy_json(project, proxy.endpoint)
    assert mutating(requests) == []  # the keys round-trip through the listing

    for name in names:
        (project / "dist" / name).write_text("v2")
    deploy_json(project, proxy.endpoint)
    assert invalidations(moto_server.endpoint, dist_id) == [
        ["/a+b%20(1).txt", "/caf%C3%A9/men%C3%BC.html", "/docs/My%20Report.txt"]]


def test_same_app_and_stage_in_two_regions_keep_separate_distributions(moto_server: MotoServer,
                                                                        tmp_path: Path) -> None:
    """CloudFront is global: the Comment and the OAC name carry the region, so each region has its own."""
    project = make_site(tmp_path, "site-tworeg")
    east = tscloud(project, moto_server.endpoint, "--region", "us-east-1", "--output", "json", "deploy")
    west = tscloud(project, moto_server.endpoint, "--region", "eu-west-1", "--output", "json", "deploy")
    assert east.code == 0 and west.code == 0, east.output + west.output
    assert east.json()["outputs"]["distribution_id"] != west.json()["outputs"]["distribution_id"]
    (east_dist,) = distributions_for(moto_server.endpoint, "site-tworeg", region="us-east-1")
    (west_dist,) = distributions_for(moto_server.endpoint, "site-tworeg", region="eu-west-1")
    assert east_dist["config"]["Origins"]["Items"][0]["DomainName"].endswith(".s3.us-east-1.amazonaws.com")
    assert west_dist["config"]["Origins"]["Items"][0]["DomainName"].endswith(".s3.eu-west-1.amazonaws.com")
    assert len(oacs_for(moto_server.endpoint, "site-tworeg", region="us-east-1")) == 1
    assert len(oacs_for(moto_server.endpoint, "site-tworeg", region="eu-west-1")) == 1
    again = tscloud(project, moto_server.endpoint, "--region", "us-east-1", "--output", "json", "deploy")
    assert {s["status"] for s in again.json()["steps"]} == {"unchanged"}


def _as_before_the_rename(endpoint: str, app: str) -> None:
    """Give a deployment the names tscloud used before they carried the region."""
    cf = boto(endpoint, "cloudfront")
    (dist,) = distributions_for(endpoint, app)
    config, etag = dist["config"], cf.get_distribution_config(Id=dist["Id"])["ETag"]
    cf.update_distribution(Id=dist["Id"], IfMatch=etag,
                           DistributionConfig={**config, "Comment": f"tscloud {app}-dev distribution"})
    (oac,) = oacs_for(endpoint, app)
    got = cf.get_origin_access_control(Id=oac["Id"])
    oac_config = got["OriginAccessControl"]["OriginAccessControlConfig"]
    cf.update_origin_access_control(Id=oac["Id"], IfMatch=got["ETag"],
                                    OriginAccessControlConfig={**oac_config, "Name": f"{app}-dev-site"})


@pytest.mark.parametrize("keep_journal", [True, False], ids=["journal", "no-journal"])
def test_a_deployment_from_before_the_rename_is_adopted_with_zero_writes(
        proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path, keep_journal: bool) -> None:
    app = f"site-legacy-{'j' if keep_journal else 'x'}"
    project = make_site(tmp_path, app)
    first = deploy_json(project, proxy.endpoint)
    _as_before_the_rename(moto_server.endpoint, app)
    assert distributions_for(moto_server.endpoint, app) == [] and oacs_for(moto_server.endpoint, app) == []
    if not keep_journal:
        delete_journal(moto_server.endpoint, app)
    with proxy.recording() as requests:
        second = deploy_json(project, proxy.endpoint)
    assert {s["status"] for s in second["steps"]} == {"unchanged"}
    assert second["outputs"] == first["outputs"]
    assert mutating(requests) == []
    # Still one of each, under the old names; the other region is free to make its own.
    assert len(distributions_for(moto_server.endpoint, app, comment=f"tscloud {app}-dev distribution")) == 1
    west = tscloud(project, moto_server.endpoint, "--region", "eu-west-1", "--output", "json", "deploy")
    assert west.code == 0, west.output
    assert west.json()["outputs"]["distribution_id"] != first["outputs"]["distribution_id"]
