"""A front for the real registry (.ci/engines.sh's CNCF distribution) that forwards every request until told
to refuse pushes; then it answers the first write of a push (starting a blob upload, or a cross-repository
mount, POST /v2/<name>/blobs/uploads/) as distribution answers a denied push: 403 with its JSON error body
(code DENIED; the distribution spec's errors document), whose message and detail echo the Basic credentials
the request carried.

A fake only for the fault: no real registry can be made to quote a client's password back on demand. Every
other request, the credential check included, is the real registry's answer."""

from __future__ import annotations

import base64
import http.client
import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.fakes.http_base import HOP_BY_HOP, read_body, serve_loopback

_UPLOAD = re.compile(r"^/v2/.+/blobs/uploads/$")


class RefusingRegistry:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream  # host:port
        self.refusing = False
        self.refused: list[str] = []  # the error messages sent, for the test to know the echo happened
        self._server: ThreadingHTTPServer | None = None

    @property
    def host(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> RefusingRegistry:
        self._server = serve_loopback(self._serve)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        body = read_body(h)
        path = h.path.split("?", 1)[0]
        credentials = h.headers.get("Authorization", "")
        if self.refusing and h.command == "POST" and _UPLOAD.match(path) and credentials.startswith("Basic "):
            user, _, password = base64.b64decode(credentials[6:]).decode().partition(":")
            message = f"user {user} (password {password}) may not push to this repository"
            self.refused.append(message)
            status = 403
            out_headers = [("Content-Type", "application/json; charset=utf-8"),
                           ("Docker-Distribution-Api-Version", "registry/2.0")]
            out = json.dumps({"errors": [{"code": "DENIED", "message": message,
                                          "detail": {"authorization": credentials}}]}).encode()
        else:
            status, out_headers, out = self._forward(h, body)
        h.send_response(status)
        for key, value in out_headers:
            if key.lower() not in HOP_BY_HOP:
                h.send_header(key, value)
        length = next((v for k, v in out_headers if k.lower() == "content-length"), None)
        h.send_header("Content-Length", length if h.command == "HEAD" and length else str(len(out)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(out)

    def _forward(self, h: BaseHTTPRequestHandler, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        host, _, port = self.upstream.partition(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        try:
            # Host stays the front's: the registry writes upload Locations for the host it was asked at
            headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(h.command, h.path, body=body if body or h.command in ("PUT", "POST", "PATCH") else None,
                         headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

