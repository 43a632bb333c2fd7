"""examples/ssr-app through the local edge (issue 15, "Done means" 2): after `--local deploy --serve`, the page
renders in headless Chromium; its server route runs the deployed code under AWS's runtime client and streams in
more than one chunk; the x-forwarded-host CloudFront Function (now in the emulator) ran, so the app sees the
local host; the hashed assets come from their S3 behaviors."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.cli.edge_support import (
    Serving,
    deploy_and_serve,
    dump_dom,
    fetch,
    raw_chunks,
    require_ric,
    wait_for_log,
)
from tests.cli.site_support import boto
from tests.conftest import REPO
from tests.realapps import build as realapps

EXAMPLE = REPO / "examples" / "ssr-app"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    ric = require_ric()
    root = tmp_path_factory.mktemp("edge-ssr")
    shutil.copytree(EXAMPLE, root / "app", ignore=shutil.ignore_patterns(".tscloud"))
    with deploy_and_serve(root / "app", env={"TSCLOUD_AWS_LAMBDA_RIC": str(ric)}) as serving:
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
    assert missing.status == 403  # private bucket, no ListBucket: S3's 403, and ssr-app has no SPA fallback


def test_the_server_route_streams_and_sees_the_local_host(served: Serving) -> None:
    cf = boto(served.endpoint, "cloudfront")
    default = cf.get_distribution_config(Id=served.distribution_id)["DistributionConfig"]["DefaultCacheBehavior"]
    (association,) = default["FunctionAssociations"]["Items"]
    assert association["EventType"] == "viewer-request"
    name = association["FunctionARN"].rsplit("/", 1)[-1]
    assert b"x-forwarded-host" in cf.get_function(Name=name, Stage="LIVE")["FunctionCode"].read()

    head, frames = raw_chunks(served.url)
    assert head.startswith(b"HTTP/1.1 200"), head
    assert len(frames) > 1, frames  # the function's streamed parts reach the viewer as they are written
    html = b"".join(frames).decode()
    host = urlsplit(served.url).netloc
    assert f"<h1>Hello from {host}</h1>" in html  # the function's x-forwarded-host, not the Function URL's host

    page = fetch(served.url)
    assert page.headers["x-tscloud-behavior"].endswith("* (default)")
    assert page.headers["x-tscloud-origin"] == "server (lambda-url)"
    notes = page.values("x-tscloud-note")
    assert "viewer-request function ran" in notes and "function shop-dev-server ran under aws-lambda-ric" in notes
    assert fetch(served.url.rstrip("/") + "/api/health").body == b'{"ok":true}'


def test_chromium_renders_the_page(served: Serving, tmp_path: Path) -> None:
    dom = dump_dom(served.url, tmp_path / "profile")
    assert re.search(r"<h1>Hello from 127\.0\.0\.1:\d+</h1>", dom), dom[:2000]
    lines = wait_for_log(served, "/assets/main-8d41e0c7.js")
    for asset in ("/assets/main-5f2c1a9b.css", "/assets/main-8d41e0c7.js"):
        assert any(ln.startswith(f"GET {asset} 200 behavior=1 /assets/* origin=assets (s3)") for ln in lines), lines


def test_a_rest_api_origin_runs_the_same_server(tmp_path: Path) -> None:
    """`origin = "api-gateway"`: the edge requests the stage's REST API, whose Lambda proxy integration runs the
    function (payload 1.0), still streamed and still seeing the local host."""
    if not realapps.ric_installed():
        pytest.skip("aws-lambda-ric is not installed in tests/realapps/ric")
    shutil.copytree(EXAMPLE, tmp_path / "app", ignore=shutil.ignore_patterns(".tscloud"))
    toml = tmp_path / "app" / "tscloud.toml"
    toml.write_text(toml.read_text().replace('origin = "function-url"', 'origin = "api-gateway"'))
    with deploy_and_serve(tmp_path / "app", env={"TSCLOUD_AWS_LAMBDA_RIC": str(realapps.RIC)}) as served:
        head, frames = raw_chunks(served.url)
        assert head.startswith(b"HTTP/1.1 200"), head
        assert b"x-tscloud-origin: server (rest-api)" in head.lower()
        assert len(frames) > 1
        assert f"<h1>Hello from {urlsplit(served.url).netloc}</h1>" in b"".join(frames).decode()
        assert fetch(served.url.rstrip("/") + "/api/health").body == b'{"ok":true}'
