"""The local edge routes by CloudFront's documented precedence (issue 15, "Done means" 4): a real distribution in
the emulator with overlapping patterns (`/api/*`, `/a*`, `*.js`), each behavior on its own origin path, served
over loopback; every sample path reaches exactly the behavior and object CloudFront would pick. Also: a custom
origin that is not on this machine gets a clear 502, never traffic off loopback."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.edge_support import fetch
from tests.cli.site_support import boto
from tests.conftest import MotoServer
from tscloud_py.aws.session import ClientFactory
from tscloud_py.emulator.edge.pipeline import LogLine
from tscloud_py.emulator.edge.server import EdgeFleet, open_fleet
from tscloud_py.operations.context import LOCAL_CREDENTIALS

# (behavior pattern, origin id, origin path); the default behavior last.
BEHAVIORS = [("/api/*", "api", "/api-origin"), ("/a*", "a", "/a-origin"), ("*.js", "js", "/js-origin")]
DEFAULT = ("default", "/default-origin")

# path -> the behavior CloudFront evaluates first that matches
SAMPLES = {
    "/api/users": "/api/*",
    "/api/app.js": "/api/*",
    "/api": "/a*",
    "/about": "/a*",
    "/assets/x.js": "/a*",
    "/static/x.js": "*.js",
    "/x.js": "*.js",
    "/x.json": "*",
    "/API/users": "*",
    "/b/a/x.js": "*.js",
}


def s3_origin(origin_id: str, bucket: str, path: str) -> dict[str, Any]:
    return {"Id": origin_id, "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com", "OriginPath": path,
            "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": "E2QWRUHEXAMPLE"}


def behavior(origin_id: str, pattern: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"TargetOriginId": origin_id, "ViewerProtocolPolicy": "redirect-to-https",
                           "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}
    if pattern:
        doc["PathPattern"] = pattern
    return doc


@pytest.fixture
def fleet(moto_server: MotoServer) -> Iterator[tuple[EdgeFleet, str, list[LogLine]]]:
    bucket = f"edge-order-{uuid.uuid4().hex[:8]}"
    s3 = boto(moto_server.endpoint, "s3")
    s3.create_bucket(Bucket=bucket)
    for _pattern, origin_id, path in BEHAVIORS:
        for sample in SAMPLES:
            s3.put_object(Bucket=bucket, Key=path.strip("/") + sample, Body=f"{origin_id}:{sample}".encode())
    for sample in SAMPLES:
        s3.put_object(Bucket=bucket, Key=DEFAULT[1].strip("/") + sample, Body=f"default:{sample}".encode())
    origins = [s3_origin(o, bucket, p) for _pat, o, p in BEHAVIORS] + [s3_origin(DEFAULT[0], bucket, DEFAULT[1])]
    origins.append({"Id": "far", "DomainName": "api.example.com", "CustomOriginConfig": {
        "HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}})
    items = [behavior(o, pat) for pat, o, _p in BEHAVIORS] + [behavior("far", "/far/*")]
    cf = boto(moto_server.endpoint, "cloudfront")
    created = cf.create_distribution(DistributionConfig={
        "CallerReference": bucket, "Comment": bucket, "Enabled": True,
        "Origins": {"Quantity": len(origins), "Items": origins},
        "DefaultCacheBehavior": behavior(DEFAULT[0]),
        "CacheBehaviors": {"Quantity": len(items), "Items": items},
    })["Distribution"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": created["ARN"]}}}]}))
    log: list[LogLine] = []
    edges = open_fleet(ClientFactory(endpoint_url=moto_server.endpoint, credentials=LOCAL_CREDENTIALS),
                       log=log.append)
    try:
        edges.sync()
        yield edges, created["Id"], log
    finally:
        edges.close()
        cf_config = cf.get_distribution_config(Id=created["Id"])
        cf.delete_distribution(Id=created["Id"], IfMatch=cf_config["ETag"])


def test_overlapping_patterns_route_as_cloudfront_documents(fleet: tuple[EdgeFleet, str, list[LogLine]]) -> None:
    edges, dist_id, log = fleet
    url = edges.served[dist_id].url.rstrip("/")
    patterns = {pat: o for pat, o, _p in BEHAVIORS} | {"*": DEFAULT[0]}
    positions = {pat: i + 1 for i, (pat, _o, _p) in enumerate(BEHAVIORS)} | {"*": len(BEHAVIORS) + 2}
    for path, pattern in SAMPLES.items():
        got = fetch(url + path)
        assert got.status == 200, (path, got.body)
        assert got.body.decode() == f"{patterns[pattern]}:{path}", path  # through that behavior's origin path
        label = f"{positions[pattern]} {pattern}" + (" (default)" if pattern == "*" else "")
        assert got.headers["x-tscloud-behavior"] == label, path
    assert [line.path for line in log] == list(SAMPLES)


def test_host_header_routes_and_far_origins_get_a_clear_502(fleet: tuple[EdgeFleet, str, list[LogLine]]) -> None:
    edges, dist_id, _log = fleet
    served = edges.served[dist_id]
    assert edges.route(f"{served.domain.upper()}:443", "another") == dist_id  # any edge port, by Host
    assert edges.route("127.0.0.1:8080", "the-port-s-own") == "the-port-s-own"
    got = fetch(served.url + "far/thing")
    assert got.status == 502
    assert b"not on this machine" in got.body and b"sends no traffic off loopback" in got.body
    assert got.headers["x-tscloud-origin"] == "far (custom)"
