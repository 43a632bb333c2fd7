"""A threaded local HTTP server base for provider fakes (127.0.0.1, port 0).

Each fake implements ``handle``; the base adds a request log and a switch that
makes the next N requests fail (429 with Retry-After by default).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tscloud_py.loopback import QuietHandler

# Headers that describe one connection, not the request: a proxy does not pass them on.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"})


def read_body(h: BaseHTTPRequestHandler) -> bytes:
    """The request's body, whether sent with a Content-Length or chunked."""
    if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(h.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunks.append(h.rfile.read(size))
            h.rfile.readline()
        return b"".join(chunks)
    length = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(length) if length else b""


def serve_loopback(serve: Callable[[BaseHTTPRequestHandler], None], *,
                   server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer) -> ThreadingHTTPServer:
    """An HTTP/1.1 server on 127.0.0.1 (a free port), serving on a daemon thread, that hands every request,
    whatever its method, to ``serve``; stop it with ``shutdown()`` and ``server_close()``."""

    # the product's loopback handler: HTTP/1.1, no request log, and Nagle off (a response's headers and body
    # are two writes; with Nagle on, the client's delayed ACK held every body on a kept-alive connection
    # back ~40 ms, which no AWS endpoint does)
    class Handler(QuietHandler):
        def _handle(self) -> None:
            serve(self)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

    server = server_class(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeServer(ABC):
    """Subclasses implement ``handle(req) -> Reply`` and ``rate_limited() -> Reply``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.log: list[Req] = []
        self._failures: list[tuple[str | None, Reply]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                req = Req(self.command, urllib.parse.unquote(parsed.path),
                          dict(urllib.parse.parse_qsl(parsed.query)),
                          {k.lower(): v for k, v in self.headers.items()}, body)
                reply = fake.dispatch(req)
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                if payload:
                    self.send_header("Content-Type", "application/json")
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @contextmanager
    def running(self) -> Iterator[FakeServer]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def fail_next(self, count: int, *, status: int = 429, retry_after: str | None = "0",
                  method: str | None = None) -> None:
        """Make the next ``count`` requests (of ``method``, if given) fail with ``status``."""
        with self.lock:
            for _ in range(count):
                reply = self.rate_limited() if status == 429 else Reply(status, {"error": "internal"})
                reply.status = status
                if retry_after is not None:
                    reply.headers["Retry-After"] = retry_after
                self._failures.append((method, reply))

    def dispatch(self, req: Req) -> Reply:
        with self.lock:
            self.log.append(req)
            for i, (method, reply) in enumerate(self._failures):
                if method is None or method == req.method:
                    del self._failures[i]
                    return reply
            return self.handle(req)

    @abstractmethod
    def handle(self, req: Req) -> Reply:
        """Answer one request, enforcing the provider's contract."""

    def rate_limited(self) -> Reply:
        return Reply(429, {"error": "rate limited"})
