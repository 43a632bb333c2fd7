"""A Function URL origin the local edge cannot run says why in a 502, before any runtime starts."""

from __future__ import annotations

from tscloud_py.emulator.edge.lambda_origin import FunctionUrlOrigin
from tscloud_py.emulator.edge.origins import Distribution, EdgeRequest
from tscloud_py.emulator.lambda_.functions import LocalFunction

DIST = Distribution("E1", "arn:aws:cloudfront::123456789012:distribution/E1", "d1.cloudfront.net", {})
ORIGIN = {"Id": "server", "DomainName": "abc123.lambda-url.us-east-1.on.aws"}
REQ = EdgeRequest("GET", "/", "", [("Host", "127.0.0.1:8080")], b"", "127.0.0.1")


def test_unknown_url_is_a_502_naming_it() -> None:
    got = FunctionUrlOrigin(lookup=lambda host: None).fetch(DIST, ORIGIN, REQ)
    assert got.status == 502 and got.origin == "server (lambda-url)"
    assert "no function in this emulator has the URL abc123.lambda-url.us-east-1.on.aws" in got.notes[0]


def test_a_non_node_runtime_is_a_502_naming_it() -> None:
    fn = LocalFunction(name="api", region="us-east-1", runtime="python3.12", handler="app.handler", timeout_s=3,
                       memory_mb=128, code_sha256="x", zip_bytes=b"")
    got = FunctionUrlOrigin(lookup=lambda host: fn).fetch(DIST, ORIGIN, REQ)
    assert got.status == 502 and "runs python3.12; the local edge runs nodejs functions only" in got.notes[0]
