"""Reading a request from, and writing a response to, an http.server handler: shared by the edge's
listeners (the distributions' and the ALB listeners')."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tscloud_py.emulator.edge.origins import EdgeRequest, EdgeResponse

MAX_BODY = 10 * 1024 * 1024


def read_request(handler: BaseHTTPRequestHandler) -> EdgeRequest | None:
    """The request a handler received, or None after answering 413 for an oversized body."""
    parts = urlsplit(handler.path)
    length = int(handler.headers.get("Content-Length") or 0)
    if length > MAX_BODY:
        handler.send_error(413, "request body too large for the local edge")
        return None
    body = handler.rfile.read(length) if length else b""
    return EdgeRequest(handler.command, parts.path or "/", parts.query, list(handler.headers.items()), body,
                       handler.client_address[0])


def write_response(handler: BaseHTTPRequestHandler, response: EdgeResponse) -> None:
    """Send ``response``: sized bodies as they are, others chunked, one chunk per piece the origin produced."""
    handler.send_response(response.status, response.reason or None)
    headers = [(k, v) for k, v in response.headers if k.lower() not in ("transfer-encoding", "connection")]
    sized = any(k.lower() == "content-length" for k, _ in headers)
    for name, value in headers:
        handler.send_header(name, value)
    if not sized and handler.command != "HEAD":
        handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    if handler.command == "HEAD":
        for _ in response.body:
            pass
        return
    for chunk in response.body:
        if not chunk:
            continue
        handler.wfile.write(chunk if sized else b"%x\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.flush()
    if not sized:
        handler.wfile.write(b"0\r\n\r\n")
