"""A strict CloudFront layer: an HTTP proxy in front of a moto server that enforces real ETag semantics.

moto accepts any ``If-Match`` and never changes a distribution's ETag. This
proxy forwards every request to moto unchanged, except that for CloudFront
distributions it keeps its own ETag per distribution:

- ``GET .../distribution/ID`` and ``.../distribution/ID/config`` answer with the
  proxy's current ETag;
- ``PUT .../distribution/ID/config`` and ``DELETE .../distribution/ID`` are
  refused with 412 ``PreconditionFailed`` unless ``If-Match`` equals it, and a
  successful PUT gets a brand-new ETag;
- ``race(dist_id, change)`` arms a one-shot "other writer": when our next PUT
  for that distribution arrives, the proxy first applies ``change`` to the live
  config itself (a real GET + PUT through moto, bumping the ETag), so our PUT
  carries a stale ETag and must be refused (armed N times: the next N PUTs).

Every request is logged (method, path, status) so tests can prove that a run
made no write. Use it in-process (point a ``ClientFactory`` at ``endpoint``)
or for the CLI (``--endpoint-url``).
"""

from __future__ import annotations

import http.client
import itertools
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

from tests.fakes.http_base import serve_loopback

_DIST = re.compile(r"^/2020-05-31/distribution/(?P<id>[A-Z0-9]+)(?P<config>/config)?$")
_CREATE = "/2020-05-31/distribution"
_CREATED_ID = re.compile(rb"<Distribution\b[^>]*>\s*<Id>([A-Z0-9]+)</Id>")
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}

ConfigChange = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    status: int

    @property
    def is_write(self) -> bool:
        return self.method in ("PUT", "POST", "DELETE")


def _error_body(code: str, message: str) -> bytes:
    return (f'<?xml version="1.0"?>\n<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
            f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>").encode()


class StrictCloudFrontProxy:
    def __init__(self, upstream: str) -> None:
        parsed = urlparse(upstream)
        self.upstream_host = parsed.hostname or "127.0.0.1"
        self.upstream_port = parsed.port or 80
        self.etags: dict[str, str] = {}
        self.log: list[Logged] = []
        self._races: dict[str, list[ConfigChange]] = {}
        self._lock = threading.RLock()
        self._counter = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> str:
        self._server = serve_loopback(self._serve)
        return self.endpoint

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- test controls ------------------------------------------------------------------
    def race(self, dist_id: str, change: ConfigChange) -> None:
        """Before our next PUT to ``dist_id``, another writer applies ``change``.

        Armed several times, each of the following PUTs meets one change.
        """
        with self._lock:
            self._races.setdefault(dist_id, []).append(change)

    def writes(self, dist_id: str | None = None) -> list[Logged]:
        with self._lock:
            return [e for e in self.log if e.is_write and (dist_id is None or f"/distribution/{dist_id}" in e.path)]

    def etag(self, dist_id: str) -> str:
        with self._lock:
            return self._etag_for(dist_id)

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    # -- internals ----------------------------------------------------------------------
    def _new_etag(self) -> str:
        return f"E{next(self._counter):04d}{uuid.uuid4().hex[:10].upper()}"

    def _etag_for(self, dist_id: str) -> str:
        if dist_id not in self.etags:
            self.etags[dist_id] = self._new_etag()
        return self.etags[dist_id]

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def _other_writer(self, dist_id: str, change: ConfigChange) -> None:
        """A concurrent writer, going straight to moto with boto3 (and bumping our ETag)."""
        import boto3

        client = boto3.client("cloudfront", region_name="us-east-1",
                              endpoint_url=f"http://{self.upstream_host}:{self.upstream_port}",
                              aws_access_key_id="other", aws_secret_access_key="other")
        got = client.get_distribution_config(Id=dist_id)
        client.update_distribution(Id=dist_id, IfMatch=got["ETag"], DistributionConfig=change(got["DistributionConfig"]))
        self.etags[dist_id] = self._new_etag()
        self.log.append(Logged("PUT", f"/2020-05-31/distribution/{dist_id}/config (other writer)", 200))

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        headers = {k: v for k, v in h.headers.items() if k.lower() not in _HOP}
        headers["Host"] = h.headers.get("Host", "")
        path_only = h.path.split("?", 1)[0]
        match = _DIST.match(path_only)
        with self._lock:
            status, out_headers, out_body = self._dispatch(h.command, h.path, path_only, match, headers, body)
            self.log.append(Logged(h.command, h.path, status))
        h.send_response(status)
        for k, v in out_headers:
            if k.lower() not in _HOP:
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(out_body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(out_body)

    def _dispatch(self, method: str, path: str, path_only: str, match: re.Match[str] | None,
                  headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        if match is None:
            status, out_headers, out_body = self._forward(method, path, headers, body)
            created = _CREATED_ID.search(out_body) if method == "POST" and path_only == _CREATE else None
            if status < 300 and created:
                # a new distribution: from now on the proxy owns its ETag
                dist_id = created.group(1).decode()
                self.etags[dist_id] = self._new_etag()
                out_headers = [(k, v) for k, v in out_headers if k.lower() != "etag"]
                out_headers.append(("ETag", self.etags[dist_id]))
            return status, out_headers, out_body
        dist_id = match.group("id")
        is_config = bool(match.group("config"))
        writes = (method == "PUT" and is_config) or (method == "DELETE" and not is_config)
        if writes:
            pending = self._races.get(dist_id)
            if pending:
                self._other_writer(dist_id, pending.pop(0))
            if_match = next((v for k, v in headers.items() if k.lower() == "if-match"), None)
            if if_match != self._etag_for(dist_id):
                return 412, [("Content-Type", "text/xml")], _error_body(
                    "PreconditionFailed",
                    "The precondition given in one or more of the request-header fields evaluated to false.")
        status, out_headers, out_body = self._forward(method, path, headers, body)
        if status >= 300:
            return status, out_headers, out_body
        if writes and method == "PUT":
            self.etags[dist_id] = self._new_etag()
        if writes and method == "DELETE":
            self.etags.pop(dist_id, None)
            return status, out_headers, out_body
        fixed = [(k, v) for k, v in out_headers if k.lower() != "etag"]
        fixed.append(("ETag", self._etag_for(dist_id)))
        return status, fixed, out_body


def sample_distribution_config(caller_reference: str) -> dict[str, Any]:
    """A static-site distribution: two origins, one cache behavior, custom error responses, an alias."""
    caching_optimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    return {
        "CallerReference": caller_reference,
        "Comment": f"tscloud test {caller_reference}",
        "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [f"{caller_reference}.example.com"]},
        "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 2, "Items": [
            {"Id": "site", "DomainName": "site-bucket.s3.us-east-1.amazonaws.com",
             "S3OriginConfig": {"OriginAccessIdentity": ""}},
            {"Id": "media", "DomainName": "media.example.com",
             "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
                                    "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]}}},
        ]},
        "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": caching_optimized},
        "CacheBehaviors": {"Quantity": 1, "Items": [
            {"PathPattern": "/media/*", "TargetOriginId": "media", "ViewerProtocolPolicy": "https-only",
             "CachePolicyId": caching_optimized},
        ]},
        "CustomErrorResponses": {"Quantity": 2, "Items": [
            {"ErrorCode": 403, "ResponsePagePath": "/index.html", "ResponseCode": "200", "ErrorCachingMinTTL": 10},
            {"ErrorCode": 404, "ResponsePagePath": "/index.html", "ResponseCode": "200", "ErrorCachingMinTTL": 10},
        ]},
    }
