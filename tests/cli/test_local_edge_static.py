"""The local edge serves examples/static-site as CloudFront would (issue 15, "Done means" 1): after
`--local deploy --serve`, headless Chromium renders the printed URL with its hashed CSS and JS, an unknown path
gets the SPA fallback, a screenshot matches the reference within a tolerant diff, and the bucket policy decides
(OAC: a policy that does not name this distribution gives S3's 403)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.edge_support import (
    Serving,
    deploy_and_serve,
    dump_dom,
    fetch,
    image_difference,
    screenshot,
    wait_for_log,
)
from tests.cli.site_support import boto
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "static-site"
REFERENCE = REPO / "tests" / "fixtures" / "edge" / "static-site.png"
CSS, JS = "/assets/app-7f3c2a9b.css", "/assets/app-4d1e8b2c.js"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    root = tmp_path_factory.mktemp("edge-static")
    shutil.copytree(EXAMPLE, root / "site", ignore=shutil.ignore_patterns(".tscloud"))
    with deploy_and_serve(root / "site") as serving:
        yield serving


def test_printed_url_serves_the_site_with_cloudfront_headers(served: Serving) -> None:
    assert any(ln.startswith("distribution_domain") and served.domain in ln for ln in served.lines)
    root = fetch(served.url)
    assert root.status == 200 and b"<title>Hello from tscloud</title>" in root.body  # DefaultRootObject
    assert root.headers["x-tscloud-behavior"] == "1 * (default)"
    assert root.headers["x-tscloud-origin"] == "s3-site (s3)"
    assert root.headers["x-cache"].startswith("Miss from cloudfront")
    assert root.headers["x-frame-options"] == "SAMEORIGIN"  # the managed SecurityHeadersPolicy
    assert root.headers["strict-transport-security"] == "max-age=31536000"
    assert "redirect-to-https" in root.headers["x-tscloud-viewer-protocol"]
    css = fetch(served.url.rstrip("/") + CSS)
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]
    head = fetch(served.url.rstrip("/") + "/robots.txt", method="HEAD")
    assert head.status == 200 and head.body == b"" and int(head.headers["content-length"]) > 0

    # spa = true: S3 answers 403 for a missing key (no ListBucket), the custom error response serves /index.html.
    fallback = fetch(served.url.rstrip("/") + "/some/client/route?tab=2")
    assert fallback.status == 200 and fallback.body == root.body
    assert "custom error response: origin 403 -> /index.html as 200" in fallback.values("x-tscloud-note")
    refused = fetch(served.url, method="POST")
    assert refused.status == 403  # the behavior allows GET and HEAD only

    lines = wait_for_log(served, "/some/client/route")
    assert any(ln.startswith("GET /some/client/route?tab=2 200 behavior=1 * (default) origin=s3-site (s3) ")
               for ln in lines), lines


def test_chromium_renders_the_page_assets_and_spa_fallback(served: Serving, tmp_path: Path) -> None:
    dom = dump_dom(served.url, tmp_path / "profile")
    assert "<h1>Hello from tscloud</h1>" in dom
    assert "You are at / (served by the SPA fallback" in dom  # the hashed JS ran
    deep = dump_dom(served.url.rstrip("/") + "/pricing/plans", tmp_path / "profile")
    assert "You are at /pricing/plans (served by the SPA fallback" in deep

    shot = screenshot(served.url, tmp_path / "profile", tmp_path / "static-site.png")
    if os.environ.get("TSCLOUD_UPDATE_REFERENCE") == "1":
        shutil.copy(shot, REFERENCE)
    difference = image_difference(shot, REFERENCE)
    # An unstyled page (its CSS not loaded) scores above 2; a re-render on this machine scores 0.
    assert difference < 0.25, f"the page differs from {REFERENCE} by {difference:.2f} (kept {shot})"

    lines = wait_for_log(served, JS)
    for asset in (CSS, JS):
        assert any(ln.startswith(f"GET {asset} 200 ") for ln in lines), lines  # the browser loaded it


def test_a_bucket_policy_without_this_distribution_gives_403(served: Serving) -> None:
    s3 = boto(served.endpoint, "s3")
    bucket = next(ln.split()[1] for ln in served.lines if ln.startswith("bucket "))
    original = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    policy = json.loads(original)
    for statement in policy["Statement"]:
        if statement["Effect"] == "Allow":
            statement["Condition"] = {"StringEquals": {
                "AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/EOTHERDISTRIBUTION"}}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    try:
        denied = fetch(served.url.rstrip("/") + "/robots.txt")
        assert denied.status == 403
        # the SPA fallback cannot help: its page is denied as well
        assert b"the error page /index.html itself answered 403" in denied.body
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=original)
    assert fetch(served.url.rstrip("/") + "/robots.txt").status == 200


def test_serve_flags_need_local(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    shutil.copytree(EXAMPLE, tmp_path / "site", ignore=shutil.ignore_patterns(".tscloud"))
    no_local = run_cli("deploy", "--serve", cwd=tmp_path / "site")
    assert no_local.code == 2 and "--serve: needs --local" in no_local.stderr
    no_serve = run_cli("--local", "deploy", "--log", cwd=tmp_path / "site")
    assert no_serve.code == 2 and "--log: needs --serve" in no_serve.stderr
