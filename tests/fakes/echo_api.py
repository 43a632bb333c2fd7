"""A hostile provider API: every request is answered with an error whose body echoes the credentials.

A fake because no real DNS provider can be made to echo its caller's credentials on demand; real APIs
and proxies in front of them do echo request headers and bodies in error pages, and the question is
whether any piece of a credential then reaches a message. The echo is placed at ``offset`` characters
into the body, so a test can walk it across every point where a message might be cut.

``shape`` chooses the body: ``text`` (a plain-text error page), ``json`` (the credentials inside a
JSON ``message`` / ``errors`` field, as the provider's own error format would carry them).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class EchoApi:
    def __init__(self, *, status: int = 400, shape: str = "text", offset: int = 0) -> None:
        self.status = status
        self.shape = shape
        self.offset = offset
        self.requests = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                api.requests += 1
                echoed = f"Authorization: {self.headers.get('Authorization', '')} body: {raw}"
                text = "x" * api.offset + echoed
                if api.shape == "json":
                    doc: Any = {"code": "BAD", "message": text, "status": "ERROR",
                                "errors": [{"code": 1000, "message": text}]}
                    payload = json.dumps(doc).encode()
                    ctype = "application/json"
                else:
                    payload = text.encode()
                    ctype = "text/plain"
                self.send_response(api.status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @contextmanager
    def running(self) -> Iterator[EchoApi]:
        thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()
