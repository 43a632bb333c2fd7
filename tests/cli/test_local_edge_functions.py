"""CloudFront Functions run for real at the local edge (issue 15): the x-forwarded-host function ssr-app
deploys reaches the origin with the local host, a viewer-request function can answer by itself, a
viewer-response function changes the response, a throwing one gives CloudFront's 503; a loopback origin's
streamed body reaches the viewer chunk by chunk.

The origin here is a plain HTTP server in the test (a stand-in for any loopback origin: a local ALB listener,
a dev server), because what is under test is the edge, not the app."""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.cli.edge_support import fetch
from tests.cli.site_support import boto
from tests.conftest import MotoServer
from tscloud_py.aws.session import ClientFactory
from tscloud_py.emulator.edge.server import EdgeFleet, open_fleet
from tscloud_py.operations.context import LOCAL_CREDENTIALS
from tscloud_py.presets.ssr_app.steps import FORWARDED_HOST_CODE

REDIRECT = b"""async function handler(event) {
  return { statusCode: 302, statusDescription: 'Found',
           headers: { location: { value: 'https://example.com' + event.request.uri } } };
}"""
STAMP = b"""function handler(event) {
  var response = event.response;
  response.headers['x-stamped'] = { value: event.context.eventType + ' ' + event.request.uri };
  return response;
}"""
THROWS = b"function handler(event) { throw new Error('boom from the function'); }"

release_second_chunk = threading.Event()


class Origin(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        if self.path == "/stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"6\r\nfirst.\r\n")
            self.wfile.flush()
            release_second_chunk.wait(60)  # sent only once the viewer has the first chunk
            self.wfile.write(b"7\r\nsecond.\r\n0\r\n\r\n")
            return
        body = json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def publish(cf: Any, code: bytes) -> str:
    name = f"edge-{uuid.uuid4().hex[:10]}"
    etag = cf.create_function(Name=name, FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"},
                              FunctionCode=code)["ETag"]
    return str(cf.publish_function(Name=name, IfMatch=etag)["FunctionSummary"]["FunctionMetadata"]["FunctionARN"])


def behavior(pattern: str | None, **events: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"TargetOriginId": "app", "ViewerProtocolPolicy": "allow-all",
                           "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
                           "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
                           "FunctionAssociations": {"Quantity": len(events), "Items": [
                               {"EventType": e.replace("_", "-"), "FunctionARN": a} for e, a in events.items()]}}
    if pattern:
        doc["PathPattern"] = pattern
    return doc


@pytest.fixture
def edge(moto_server: MotoServer) -> Iterator[tuple[EdgeFleet, str]]:
    origin = ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    cf = boto(moto_server.endpoint, "cloudfront")
    forwarded, redirect, stamp, throws = (publish(cf, c) for c in (FORWARDED_HOST_CODE, REDIRECT, STAMP, THROWS))
    items = [behavior("/go/*", viewer_request=redirect), behavior("/boom", viewer_request=throws)]
    dist = cf.create_distribution(DistributionConfig={
        "CallerReference": uuid.uuid4().hex, "Comment": "edge functions", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "app", "DomainName": "127.0.0.1", "CustomOriginConfig": {
            "HTTPPort": origin.server_address[1], "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}]},
        "DefaultCacheBehavior": behavior(None, viewer_request=forwarded, viewer_response=stamp),
        "CacheBehaviors": {"Quantity": len(items), "Items": items},
    })["Distribution"]
    fleet = open_fleet(ClientFactory(endpoint_url=moto_server.endpoint, credentials=LOCAL_CREDENTIALS))
    try:
        fleet.sync()
        yield fleet, dist["Id"]
    finally:
        release_second_chunk.set()
        fleet.close()
        origin.shutdown()
        origin.server_close()


def test_viewer_functions_run_for_real(edge: tuple[EdgeFleet, str]) -> None:
    fleet, dist_id = edge
    url = fleet.served[dist_id].url
    host = urlsplit(url).netloc
    seen = fetch(url + "page?x=1")
    assert seen.status == 200, seen.body
    echoed = json.loads(seen.body)
    assert echoed["path"] == "/page?x=1"
    assert echoed["headers"]["x-forwarded-host"] == host  # the app sees the local host
    assert seen.headers["x-stamped"] == "viewer-response /page"
    assert seen.headers["x-tscloud-origin"] == "app (loopback)"

    redirected = fetch(url + "go/somewhere")
    assert redirected.status == 302
    assert redirected.headers["location"] == "https://example.com/go/somewhere"
    assert redirected.headers["x-tscloud-origin"] == "viewer-request function"

    failed = fetch(url + "boom")
    assert failed.status == 503 and b"boom from the function" in failed.body


def test_a_streamed_origin_reaches_the_viewer_chunk_by_chunk(edge: tuple[EdgeFleet, str]) -> None:
    fleet, dist_id = edge
    release_second_chunk.clear()
    parts = urlsplit(fleet.served[dist_id].url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request("GET", "/stream")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Transfer-Encoding") == "chunked"
        first = resp.read1(1024)
        assert first == b"first."  # arrived while the origin is still holding the rest back
        release_second_chunk.set()
        assert resp.read() == b"second."
    finally:
        conn.close()
