"""The local edge's pure parts: CloudFront's behavior precedence, DefaultRootObject, custom error responses,
origin paths, managed response headers policies, and S3's verdict on an OAC request."""

from __future__ import annotations

from typing import Any

import pytest

from tscloud_py.emulator.edge.headers_policy import MANAGED, apply_policy
from tscloud_py.emulator.edge.routing import (
    apply_default_root_object,
    behaviors_of,
    custom_error_response,
    match_behavior,
    origin_key,
)
from tscloud_py.emulator.edge.s3_access import object_read, policy_allows

SECURITY = "67f7725c-6f97-4210-82d7-5512b31e9d03"
DIST_ARN = "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"


def config(*patterns: str) -> dict[str, Any]:
    return {
        "DefaultRootObject": "index.html",
        "DefaultCacheBehavior": {"TargetOriginId": "default", "ViewerProtocolPolicy": "redirect-to-https"},
        "CacheBehaviors": {"Quantity": len(patterns), "Items": [
            {"PathPattern": p, "TargetOriginId": f"o{i}"} for i, p in enumerate(patterns)]},
        "CustomErrorResponses": {"Quantity": 2, "Items": [
            {"ErrorCode": 403, "ResponsePagePath": "/index.html", "ResponseCode": "200"},
            {"ErrorCode": 500, "ResponseCode": ""}]},
    }


def served_by(cfg: dict[str, Any], path: str) -> str:
    return match_behavior(behaviors_of(cfg), path).pattern


# CloudFront evaluates behaviors in the listed order and takes the first match; `*` crosses `/`, `?` is one
# character, matching is case-sensitive and sees the path only.
OVERLAPPING = [
    ("/api/users", "/api/*"),
    ("/api/app.js", "/api/*"),     # first match wins over a pattern listed later
    ("/api", "/a*"),               # /api/* needs the slash after api
    ("/about", "/a*"),
    ("/a", "/a*"),
    ("/assets/app.js", "/a*"),
    ("/static/app.js", "*.js"),
    ("/app.js", "/a*"),            # /a* is listed before *.js
    ("/x.js", "*.js"),
    ("/deep/er/x.js", "*.js"),     # * crosses path segments
    ("/x.json", "*"),              # *.js must end the path
    ("/API/users", "*"),           # case-sensitive
    ("/b/a/x", "*"),
    ("/", "*"),
]


@pytest.mark.parametrize(("path", "pattern"), OVERLAPPING)
def test_overlapping_patterns_route_by_cloudfront_precedence(path: str, pattern: str) -> None:
    assert served_by(config("/api/*", "/a*", "*.js"), path) == pattern


def test_listed_order_not_specificity_decides() -> None:
    cfg = config("/a*", "/api/*", "*.js")
    assert served_by(cfg, "/api/users") == "/a*"
    assert served_by(cfg, "/api/app.js") == "/a*"
    assert served_by(config("?.js", "/*.js"), "/x.js") == "?.js"
    assert served_by(config("?.js"), "/xy.js") == "*"


def test_behaviors_keep_order_and_default_last() -> None:
    behaviors = behaviors_of(config("/api/*", "/a*"))
    assert [(b.position, b.pattern, b.default) for b in behaviors] == [
        (1, "/api/*", False), (2, "/a*", False), (3, "*", True)]
    assert behaviors[2].label() == "3 * (default)"
    assert behaviors[2].viewer_protocol_policy == "redirect-to-https"


def test_default_root_object_only_for_the_root() -> None:
    cfg = config()
    assert apply_default_root_object(cfg, "/") == "/index.html"
    assert apply_default_root_object(cfg, "/docs/") == "/docs/"
    assert apply_default_root_object({"DefaultRootObject": ""}, "/") == "/"


def test_custom_error_responses() -> None:
    cfg = config()
    found = custom_error_response(cfg, 403)
    assert found is not None and (found.page_path, found.response_code) == ("/index.html", 200)
    kept = custom_error_response(cfg, 500)
    assert kept is not None and (kept.page_path, kept.response_code) == (None, 500)
    assert custom_error_response(cfg, 404) is None
    assert custom_error_response(cfg, 200) is None


def test_origin_path_prefixes_the_key() -> None:
    assert origin_key("", "/index.html") == "index.html"
    assert origin_key("/v2", "/index.html") == "v2/index.html"
    assert origin_key("/v2/", "/a/b.js") == "v2/a/b.js"


def test_managed_security_headers_respect_override() -> None:
    headers = apply_policy(MANAGED[SECURITY], [("Content-Type", "text/html"), ("x-frame-options", "DENY"),
                                               ("X-Content-Type-Options", "sniff")])
    as_dict = {k.lower(): v for k, v in headers}
    assert as_dict["x-frame-options"] == "DENY"            # origin's value kept (override: no)
    assert as_dict["x-content-type-options"] == "nosniff"  # policy wins (override: yes)
    assert as_dict["strict-transport-security"] == "max-age=31536000"
    assert len([k for k, _ in headers if k.lower() == "x-frame-options"]) == 1


def site_policy(bucket: str, *, source: str = DIST_ARN, list_bucket: bool = False) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": {"StringEquals": {"AWS:SourceArn": source}}},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]
    if list_bucket:
        statements.append({"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                           "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
                           "Condition": {"StringEquals": {"AWS:SourceArn": source}}})
    return {"Version": "2012-10-17", "Statement": statements}


def test_oac_policy_lets_only_its_distribution_read() -> None:
    policy = site_policy("b")
    assert object_read(policy, "b", "index.html", DIST_ARN) == "allowed"
    assert object_read(policy, "b", "index.html", DIST_ARN.replace("EDFDVBD6EXAMPLE", "EOTHER")) == "denied"
    assert object_read(policy, "b", "index.html", None) == "denied"  # anonymous: no OAC on the origin
    assert object_read(None, "b", "index.html", DIST_ARN) == "denied"
    assert object_read(site_policy("b", list_bucket=True), "b", "x", DIST_ARN) == "allowed-with-list"


def test_explicit_deny_wins() -> None:
    policy = site_policy("b")
    policy["Statement"].append({"Effect": "Deny", "Principal": {"Service": "cloudfront.amazonaws.com"},
                                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/private/*"})
    assert policy_allows(policy, action="s3:GetObject", resource="arn:aws:s3:::b/public.html", source_arn=DIST_ARN)
    assert not policy_allows(policy, action="s3:GetObject", resource="arn:aws:s3:::b/private/x",
                             source_arn=DIST_ARN)
