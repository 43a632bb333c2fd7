"""The origins the local edge can reach: S3 through OAC, loopback HTTP servers, and an error page for the rest.

Every origin answers with an :class:`EdgeResponse` whose body is a stream of
chunks, so a streamed origin reaches the browser as it is produced.
"""

from __future__ import annotations

import html
import http.client
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

from tscloud_py.aws.s3 import S3
from tscloud_py.emulator.edge.routing import items_of, origin_key
from tscloud_py.emulator.edge.s3_access import object_read
from tscloud_py.errors import AwsError

_S3_DOMAIN = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]*?)\.s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com$")
_LAMBDA_URL = re.compile(r"^(?P<url_id>[a-z0-9]+)\.lambda-url\.(?P<region>[a-z0-9-]+)\.on\.aws$")
_REST_API = re.compile(r"^(?P<api_id>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")
_ALB = re.compile(r"^(?:internal-)?[A-Za-z0-9-]+\.(?P<region>[a-z0-9-]+)\.elb\.amazonaws\.com$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")

# Headers that describe one hop, never forwarded (RFC 9110 7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}


@dataclass
class EdgeRequest:
    method: str
    uri: str  # the path, as the viewer sent it
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    client_ip: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass
class EdgeResponse:
    status: int
    headers: list[tuple[str, str]]
    body: Iterable[bytes]
    origin: str = ""
    reason: str = ""
    notes: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class Distribution:
    id: str
    arn: str
    domain: str
    config: Mapping[str, Any]


class OriginBackend(Protocol):
    """Serves one kind of origin the edge cannot reach by itself (a Lambda Function URL, an ALB)."""

    def fetch(self, dist: Distribution, origin: Mapping[str, Any], req: EdgeRequest) -> EdgeResponse: ...

    def close(self) -> None: ...


def origin_kind(origin: Mapping[str, Any]) -> str:
    domain = str(origin.get("DomainName", ""))
    if origin.get("S3OriginConfig") is not None or _S3_DOMAIN.match(domain):
        return "s3"
    if origin.get("VpcOriginConfig"):  # only a load balancer can be a VPC origin here
        return "alb"
    if _LAMBDA_URL.match(domain):
        return "lambda-url"
    if _REST_API.match(domain):
        return "rest-api"
    if _ALB.match(domain):
        return "alb"
    if domain in _LOOPBACK or domain.startswith("127."):
        return "loopback"
    return "custom"


def error_page(status: int, title: str, detail: str, origin: str = "") -> EdgeResponse:
    """An error in CloudFront's own words ("The request could not be satisfied"), with why, for a person."""
    body = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{status} {html.escape(title)}</title></head>"
            f"<body><h1>{status} ERROR</h1><h2>The request could not be satisfied.</h2>"
            f"<p>{html.escape(title)}</p><p>{html.escape(detail)}</p><hr><address>tscloud local edge</address>"
            "</body></html>").encode()
    return EdgeResponse(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
                        [body], origin=origin, notes=[detail])


def s3_error(status: int, code: str, message: str, origin: str) -> EdgeResponse:
    body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>"
            f"<Message>{html.escape(message)}</Message></Error>").encode()
    return EdgeResponse(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))], [body],
                        origin=origin, notes=[f"S3 {code}"])


class Origins:
    def __init__(self, s3: S3, backends: Mapping[str, OriginBackend] | None = None) -> None:
        self.s3 = s3
        self.backends = dict(backends or {})

    def close(self) -> None:
        for backend in self.backends.values():
            backend.close()

    def fetch(self, dist: Distribution, origin: Mapping[str, Any], req: EdgeRequest) -> EdgeResponse:
        kind = origin_kind(origin)
        label = f"{origin.get('Id')} ({kind})"
        if kind == "s3":
            response = self._s3(dist, origin, req, label)
        elif kind == "loopback":
            response = self._proxy(origin, req, label)
        elif kind in self.backends:
            response = self.backends[kind].fetch(dist, origin, req)
        else:
            response = error_page(502, "Bad gateway", _unreachable(kind, str(origin.get("DomainName"))), label)
        response.origin = response.origin or label
        return response

    def _s3(self, dist: Distribution, origin: Mapping[str, Any], req: EdgeRequest, label: str) -> EdgeResponse:
        domain = str(origin.get("DomainName", ""))
        match = _S3_DOMAIN.match(domain)
        if match is None:
            return error_page(502, "Bad gateway", f"origin {origin.get('Id')}: {domain} is not an S3 bucket domain",
                              label)
        if req.method not in ("GET", "HEAD"):
            return s3_error(403, "AccessDenied", "the local edge reads S3 origins only (GET, HEAD)", label)
        bucket = match.group("bucket")
        key = unquote(origin_key(str(origin.get("OriginPath") or ""), req.uri))
        # With OAC, CloudFront signs as cloudfront.amazonaws.com for this distribution; without, it is anonymous.
        source_arn = dist.arn if origin.get("OriginAccessControlId") else None
        try:
            verdict = object_read(self.s3.get_policy(bucket), bucket, key, source_arn)
        except AwsError as exc:
            if exc.code == "NoSuchBucket":
                return s3_error(404, "NoSuchBucket", f"the bucket {bucket} does not exist", label)
            raise
        if verdict == "denied":
            who = f"distribution {dist.id} (OAC)" if source_arn else "an anonymous request (no OAC)"
            return s3_error(403, "AccessDenied", f"the bucket policy of {bucket} does not let {who} read {key}",
                            label)
        read = self.s3.read_object(bucket, key, head=req.method == "HEAD") if key else None
        if read is None:
            if verdict == "allowed-with-list":
                return s3_error(404, "NoSuchKey", f"{key} is not in {bucket}", label)
            return s3_error(403, "AccessDenied", f"{key or '/'} is not in {bucket}, and without s3:ListBucket "
                            "S3 answers 403, not 404", label)
        return EdgeResponse(200, list(read.headers.items()), read.body or [], origin=label)

    def _proxy(self, origin: Mapping[str, Any], req: EdgeRequest, label: str) -> EdgeResponse:
        """A loopback HTTP origin (a local ALB listener, a dev server): request forwarded, answer streamed."""
        custom = origin.get("CustomOriginConfig") or {}
        port = int(custom.get("HTTPPort") or 80)
        path = "/" + str(origin.get("OriginPath") or "").strip("/")
        path = (path.rstrip("/") + req.uri) + (f"?{req.query}" if req.query else "")
        headers = [(k, v) for k, v in req.headers if k.lower() not in HOP_BY_HOP]
        headers += [(str(h.get("HeaderName")), str(h.get("HeaderValue"))) for h in items_of(origin.get("CustomHeaders"))]
        return forward(str(origin.get("DomainName")), port, req.method, path, headers, req.body, label)


def forward(host: str, port: int, method: str, path: str, headers: list[tuple[str, str]], body: bytes,
            label: str, timeout: float = 30.0) -> EdgeResponse:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        for name, value in headers:
            if name.lower() not in ("host", "content-length"):
                conn.putheader(name, value)
        if body or method in ("POST", "PUT", "PATCH"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
    except OSError as exc:
        conn.close()
        return error_page(502, "Bad gateway", f"origin {label} at {host}:{port} did not answer: {exc}", label)
    out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
    return EdgeResponse(resp.status, out, _stream(resp, conn), origin=label, reason=resp.reason)


def _stream(resp: http.client.HTTPResponse, conn: http.client.HTTPConnection) -> Iterator[bytes]:
    try:
        while True:
            chunk = resp.read1(64 * 1024)
            if not chunk:
                return
            yield chunk
    finally:
        conn.close()


def _unreachable(kind: str, domain: str) -> str:
    if kind in ("lambda-url", "rest-api", "alb"):
        return f"the origin {domain} ({kind}) is not run by the local edge"
    return f"the origin {domain} is not on this machine, and the local edge sends no traffic off loopback"
