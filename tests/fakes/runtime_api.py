"""A fake Lambda Runtime API on loopback, enforcing the parts of the contract a runtime loop relies on.

- ``GET /2018-06-01/runtime/invocation/next`` hands out one queued event at a time with the
  ``Lambda-Runtime-*`` headers, and blocks while the queue is empty (like the real API);
- ``POST .../invocation/{id}/response`` and ``.../{id}/error`` are accepted once, only for the
  invocation in flight (else 400 ``InvalidRequestID``, as the real API answers), with 202;
- ``POST /2018-06-01/runtime/init/error`` is accepted once, before any invocation;
- a response body over 6 MB is refused with 413.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
MAX_RESPONSE = 6 * 1024 * 1024


@dataclass
class Outcome:
    request_id: str
    kind: str  # "response" | "error"
    body: Any
    headers: dict[str, str]


@dataclass
class FakeRuntimeApi:
    events: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)
    outcomes: list[Outcome] = field(default_factory=list)
    init_errors: list[tuple[dict[str, str], Any]] = field(default_factory=list)
    in_flight: str | None = None
    handed_out: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def add_event(self, event: Any) -> str:
        request_id = str(uuid.uuid4())
        self.events.put((request_id, event))
        return request_id

    @property
    def address(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> FakeRuntimeApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _reply(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(doc).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    return None  # the runtime was killed while it waited for /next

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    self._reply(404, {"errorType": "NotFound"})
                    return
                while True:
                    try:
                        request_id, event = api.events.get(timeout=0.5)
                        break
                    except queue.Empty:
                        if getattr(api.server, "closing", False):
                            return
                with api.lock:
                    api.in_flight = request_id
                    api.handed_out += 1
                self._reply(200, event, {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30_000),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:fn",
                    "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                })

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if length > MAX_RESPONSE:
                    self._reply(413, {"errorType": "RequestEntityTooLarge"})
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                body = json.loads(raw) if raw else None
                if self.path == f"{PREFIX}/init/error":
                    with api.lock:
                        if api.handed_out or api.init_errors:
                            self._reply(403, {"errorType": "InvalidStateTransition"})
                            return
                        api.init_errors.append((headers, body))
                    self._reply(202, {"status": "OK"})
                    return
                parts = self.path.removeprefix(f"{PREFIX}/invocation/").split("/")
                if not self.path.startswith(f"{PREFIX}/invocation/") or len(parts) != 2 or \
                        parts[1] not in ("response", "error"):
                    self._reply(404, {"errorType": "NotFound"})
                    return
                with api.lock:
                    if parts[0] != api.in_flight:
                        self._reply(400, {"errorType": "InvalidRequestID", "errorMessage": parts[0]})
                        return
                    api.in_flight = None
                    api.outcomes.append(Outcome(parts[0], parts[1], body, headers))
                self._reply(202, {"status": "OK"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Outcome]:
        deadline = time.monotonic() + timeout
        while len(self.outcomes) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.outcomes)

    def stop(self) -> None:
        if self.server is not None:
            self.server.closing = True  # type: ignore[attr-defined]
            self.server.shutdown()
            self.server.server_close()
