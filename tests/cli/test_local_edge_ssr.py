"""examples/ssr-app through the local edge (issue 15, "Done means" 2, the parts that do not need a Lambda
runtime): the emulator now has CloudFront Functions, so the deploy attaches the x-forwarded-host function and
the edge runs it on every server request; the hashed assets, images and root files come from their S3
behaviors; the server origin, which needs the Lambda runtime, answers with a 502 page that says why."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.cli.edge_support import Serving, deploy_and_serve, fetch
from tests.cli.site_support import boto
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "ssr-app"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    root = tmp_path_factory.mktemp("edge-ssr")
    shutil.copytree(EXAMPLE, root / "app", ignore=shutil.ignore_patterns(".tscloud"))
    with deploy_and_serve(root / "app") as serving:
        yield serving


def test_assets_come_from_their_s3_behaviors(served: Serving) -> None:
    base = served.url.rstrip("/")
    for path, pattern, kind in (("/assets/main-8d41e0c7.js", "/assets/*", "javascript"),
                                ("/assets/main-5f2c1a9b.css", "/assets/*", "text/css"),
                                ("/images/logo.svg", "/images/*", "svg"),
                                ("/robots.txt", "/robots.txt", "text/plain")):
        got = fetch(base + path)
        assert got.status == 200, (path, got.body[:300])
        assert got.headers["x-tscloud-behavior"].endswith(pattern), path
        assert got.headers["x-tscloud-origin"] == "assets (s3)"
        assert kind in got.headers["content-type"], path
    missing = fetch(base + "/assets/gone-0000.js")
    assert missing.status == 403  # private bucket, no ListBucket: S3's 403, no SPA fallback in ssr-app


def test_the_forwarded_host_function_is_attached_and_runs(served: Serving) -> None:
    cf = boto(served.endpoint, "cloudfront")
    default = cf.get_distribution_config(Id=served.distribution_id)["DistributionConfig"]["DefaultCacheBehavior"]
    (association,) = default["FunctionAssociations"]["Items"]
    assert association["EventType"] == "viewer-request"
    name = association["FunctionARN"].rsplit("/", 1)[-1]
    assert b"x-forwarded-host" in cf.get_function(Name=name, Stage="LIVE")["FunctionCode"].read()

    page = fetch(served.url)
    assert page.headers["x-tscloud-behavior"].endswith("* (default)")
    assert page.headers["x-tscloud-origin"] == "server (lambda-url)"
    assert "viewer-request function ran" in page.values("x-tscloud-note"), page.raw_headers
