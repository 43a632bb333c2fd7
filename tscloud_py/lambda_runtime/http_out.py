"""Writing a Lambda result as an HTTP response, shared by the emulator's Function URL and REST API servers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler

_HOP_BY_HOP = ("transfer-encoding", "content-length", "connection")


def send_chunked(handler: BaseHTTPRequestHandler, status: int, headers: Iterable[tuple[str, str]],
                 request_id: str, chunks: Iterable[bytes]) -> None:
    """One HTTP chunk per piece the function produced, flushed as it comes, so streaming stays streaming."""
    handler.send_response(status)
    for k, v in headers:
        if k.lower() not in _HOP_BY_HOP:
            handler.send_header(k, v)
    handler.send_header("x-amzn-RequestId", request_id)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    for chunk in chunks:
        if chunk and handler.command != "HEAD":
            handler.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            handler.wfile.flush()
    handler.wfile.write(b"0\r\n\r\n")


def send_error(handler: BaseHTTPRequestHandler, status: int, message: str, *, key: str) -> None:
    """An error body in the service's own shape: Function URLs say ``Message``, API Gateway ``message``."""
    data = json.dumps({key: message}).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
