"""A counting AWS proxy: a threaded loopback HTTP proxy in front of a moto server.

Every request is forwarded unchanged to ``upstream`` (a moto server, or another
proxy such as ``StrictCloudFrontProxy`` to stack their behaviours) and recorded:
method, path, query, ``X-Amz-Target``, the service from the SigV4 credential
scope, and the query-protocol ``Action``. ``Recorded.mutating`` classifies it:

- JSON protocol (``X-Amz-Target: Service.Operation``) and query protocol
  (``Action=Operation``): mutating unless the operation starts with
  Get/List/Describe/Head;
- REST protocols (S3, CloudFront, Route53, Lambda, ...): mutating unless the
  method is GET or HEAD.

Latency mode (``AwsProxy(upstream, latency=0.03)``): every request waits that long before it is
forwarded, as a round trip to a far-away AWS endpoint would; requests in flight at once wait at once,
so what a client pays is its chain of dependent requests, not their count.

``Recorded.state`` marks requests to a tscloud state bucket (lock and journal);
``Recorded.resource_write`` is mutating and not state.

Crash mode (``kill_after(n, pid)``): the n-th request is forwarded to upstream,
then the client process is SIGKILLed before the response is returned; later
requests are dropped without being forwarded. That is "the process died right
after AWS acted on its n-th request".

Lost-response mode (``lose(predicate, mode)``): a request for which ``predicate(recorded)`` is true is
forwarded, so AWS acts on it, and then its answer is replaced by a 500 (``mode="500"``) or the
connection is closed without one (``mode="drop"``). That is "the create took effect, the client never
heard": what a client that retries blindly turns into a duplicate.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.http_base import HOP_BY_HOP, read_body, serve_loopback

READ_PREFIXES = ("Get", "List", "Describe", "Head")
STATE_BUCKET_PATH = "/tscloud-state-"  # path-style, as boto3 addresses S3 on a loopback endpoint
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/(?P<service>[^/]+)/aws4_request")


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: str
    target: str  # X-Amz-Target (JSON protocol), else ""
    action: str  # Action (query protocol), else ""
    service: str  # from the SigV4 credential scope, else ""
    status: int  # upstream status; 0 when the request was not answered (crash mode)
    started: float = 0.0  # time.monotonic() when the request arrived
    ended: float = 0.0  # ... and when upstream's answer was in
    body: bytes = field(default=b"", repr=False)

    @property
    def operation(self) -> str:
        """The API operation for JSON/query protocols; "" for REST calls."""
        if self.target:
            return self.target.rsplit(".", 1)[-1]
        return self.action

    @property
    def api_operation(self) -> str:
        """The API operation, also for REST calls (resolved from botocore's models: CreateFunction)."""
        if self.operation:
            return self.operation
        from tscloud_py.emulator.rest_operations import rest_operation

        return rest_operation(self.service, self.method, self.path, self.query)

    @property
    def mutating(self) -> bool:
        if self.operation:
            return not self.operation.startswith(READ_PREFIXES)
        return self.method not in ("GET", "HEAD")

    @property
    def seconds(self) -> float:
        """From the request's arrival to upstream's answer, latency included."""
        return self.ended - self.started

    @property
    def state(self) -> bool:
        """A request to a tscloud state bucket (the lock and journal), not to a deployed resource."""
        return self.service == "s3" and self.path.startswith(STATE_BUCKET_PATH)

    @property
    def resource_write(self) -> bool:
        """Mutating, and aimed at a deployed resource: what "a no-op redeploy writes nothing" counts."""
        return self.mutating and not self.state

    def describe(self) -> str:
        op = self.operation or f"{self.method} {self.path}" + (f"?{self.query}" if self.query else "")
        return f"{self.service or '?'}:{op}"


def classify(method: str, path_and_query: str, headers: dict[str, str], body: bytes) -> tuple[str, str, str, str, str]:
    """(path, query, target, action, service) of one request."""
    parsed = urlparse(path_and_query)
    lower = {k.lower(): v for k, v in headers.items()}
    target = lower.get("x-amz-target", "")
    action = ""
    if not target:
        params = parse_qs(parsed.query)
        if "Action" in params:
            action = params["Action"][0]
        elif "x-www-form-urlencoded" in lower.get("content-type", "") and body:
            form = parse_qs(body.decode("utf-8", "replace"))
            action = form.get("Action", [""])[0]
    scope = _SCOPE.search(lower.get("authorization", ""))
    service = scope.group("service") if scope else ""
    return parsed.path, parsed.query, target, action, service


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client SIGKILLed mid-request resets its connections: expected here, not worth a traceback.
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class AwsProxy:
    def __init__(self, upstream: str, *, latency: float = 0.0) -> None:
        parsed = urlparse(upstream)
        self.latency = latency
        self.upstream_host = parsed.hostname or "127.0.0.1"
        self.upstream_port = parsed.port or 80
        self.log: list[Recorded] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)
        self._seen = 0
        self._kill_at: int | None = None
        self._pid: int | None = None
        self._pid_set = threading.Event()
        self.killed = threading.Event()
        self._hold: Callable[[str, str], bool] | None = None
        self._fail: tuple[Callable[[str, str, str], bool], int, bytes] | None = None
        self._released = threading.Event()
        self.holding = threading.Event()
        self._lose: tuple[Callable[[Recorded], bool], str] | None = None
        self._echo: tuple[str, int, str, Callable[[dict[str, str], bytes], str]] | None = None
        self.lost: list[Recorded] = []
        self._server: ThreadingHTTPServer | None = None
        self._upstream = threading.local()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> str:
        self._server = serve_loopback(self._serve, server_class=_QuietServer)
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

    def __enter__(self) -> AwsProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls ------------------------------------------------------------------
    def kill_after(self, n: int, pid: int | None = None) -> None:
        """SIGKILL ``pid`` right after forwarding the n-th request from now (pid may be set later)."""
        with self._lock:
            self._seen = 0
            self._kill_at = n
        if pid is not None:
            self.set_pid(pid)

    def hold(self, matches: Callable[[str, str], bool]) -> None:
        """Keep every request for which ``matches(method, path)`` waiting until ``release()``."""
        self._released.clear()
        self.holding.clear()
        self._hold = matches

    def fail(self, matches: Callable[[str, str, str], bool], status: int, code: str, message: str) -> None:
        """Answer every request for which ``matches(method, path, query)`` with an S3/CloudFront-style
        XML error instead of forwarding it (``fail_none()`` stops)."""
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                f"<RequestId>tscloud-test</RequestId></Error>").encode()
        self._fail = (matches, status, body)

    def fail_none(self) -> None:
        self._fail = None
        self._echo = None

    def echo_error(self, operation: str, status: int, code: str,
                   message: Callable[[dict[str, str], bytes], str]) -> None:
        """Answer every ``operation`` request (REST ones too) with an error in its protocol whose message
        is ``message(headers, body)``: an AWS error that echoes what the request carried, a password or
        a credential among it (``fail_none()`` stops)."""
        self._echo = (operation, status, code, message)

    def lose(self, predicate: Callable[[Recorded], bool] | None, mode: str = "500") -> None:
        """Forward each request ``predicate`` picks, then lose its answer (``None`` stops)."""
        assert mode in ("500", "drop")
        self._lose = (predicate, mode) if predicate is not None else None

    def release(self) -> None:
        self._hold = None
        self._released.set()

    def disarm(self) -> None:
        """Back to a plain counting proxy (after a kill, for the run that must converge)."""
        with self._lock:
            self._kill_at = None
            self._seen = 0

    def settle(self, timeout: float = 30) -> None:
        """Wait until no request is being served: after a kill, a request the client sent before the n-th may
        still be on its way to upstream, and what upstream holds is only final once it has arrived."""
        with self._idle:
            assert self._idle.wait_for(lambda: self._in_flight == 0, timeout), "requests still in flight"

    def set_pid(self, pid: int) -> None:
        self._pid = pid
        self._pid_set.set()

    def clear(self) -> None:
        with self._lock:
            self.log.clear()

    @contextmanager
    def recording(self) -> Iterator[list[Recorded]]:
        """The requests made inside the block."""
        with self._lock:
            start = len(self.log)
        got: list[Recorded] = []
        try:
            yield got
        finally:
            with self._lock:
                got.extend(self.log[start:])

    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self.log)

    def mutating(self) -> list[Recorded]:
        return [r for r in self.requests() if r.mutating]

    def resource_writes(self) -> list[Recorded]:
        return [r for r in self.requests() if r.resource_write]

    def counts(self) -> Counter[str]:
        return Counter(r.describe() for r in self.requests())

    # -- internals ------------------------------------------------------------------------
    def _forward(self, method: str, path: str, headers: dict[str, str],
                 body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        # One kept-alive upstream connection per client connection (each is served by its own
        # thread): a new connection per request would cost upstream a connection and a thread each.
        conn: http.client.HTTPConnection | None = getattr(self._upstream, "conn", None)
        for _attempt in (1, 2):
            reused = conn is not None
            if conn is None:
                conn = self._upstream.conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port,
                                                                       timeout=120)
            try:
                conn.request(method, path, body=body if body or method in ("PUT", "POST") else None,
                             headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    conn.close()
                    self._upstream.conn = None
                return resp.status, resp.getheaders(), data
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                conn = self._upstream.conn = None
                if not reused:
                    raise
                # upstream closed the idle connection we kept: send once more on a new one
        raise AssertionError("unreachable")

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._in_flight += 1
        try:
            self._serve_one(h)
        finally:
            with self._lock:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._idle.notify_all()

    def _serve_one(self, h: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        body = read_body(h)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP}
        path, query, target, action, service = classify(h.command, h.path, headers, body)
        with self._lock:
            self._seen += 1
            number = self._seen
            kill_at = self._kill_at
        hold = self._hold
        if hold is not None and hold(h.command, path):
            self.holding.set()
            self._released.wait(120)
        if kill_at is not None and number > kill_at:
            # The client is being killed: nothing after the n-th request reaches AWS.
            h.close_connection = True
            return
        if self.latency:
            time.sleep(self.latency)
        fail = self._fail
        echo = self._echo
        probe = Recorded(h.command, path, query, target, action, service, 0)
        if echo is not None and echo[0] == probe.api_operation:
            status = echo[1]
            out_headers, out_body = _error(probe, echo[2], echo[3](headers, body))
        elif fail is not None and fail[0](h.command, path, query):
            status, out_headers, out_body = fail[1], [("Content-Type", "application/xml")], fail[2]
        else:
            status, out_headers, out_body = self._forward(h.command, h.path, headers, body)
        recorded = Recorded(h.command, path, query, target, action, service, status, started, time.monotonic(),
                            body)
        with self._lock:
            self.log.append(recorded)
        lose = self._lose
        if lose is not None and lose[0](recorded):
            with self._lock:
                self.lost.append(recorded)
            if lose[1] == "drop":
                h.close_connection = True
                return
            status, out_headers, out_body = 500, *_internal_error(recorded)
        if kill_at is not None and number == kill_at:
            self._pid_set.wait(30)
            if self._pid is not None:
                with suppress(ProcessLookupError):
                    os.kill(self._pid, signal.SIGKILL)
            self.killed.set()
            h.close_connection = True
            return
        h.send_response(status)
        for k, v in out_headers:
            if k.lower() not in HOP_BY_HOP:
                h.send_header(k, v)
        upstream_length = next((v for k, v in out_headers if k.lower() == "content-length"), None)
        # A HEAD answer has no body but keeps the length of the body a GET would have.
        length = upstream_length if h.command == "HEAD" and upstream_length else str(len(out_body))
        h.send_header("Content-Length", length)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(out_body)


def _internal_error(r: Recorded) -> tuple[list[tuple[str, str]], bytes]:
    """A 500 in the protocol of the request, as AWS sends one (InternalError / InternalFailure)."""
    message = "We encountered an internal error. Please try again."
    return _error(r, "InternalFailure" if r.target or (r.action and r.service != "ec2") else "InternalError",
                  message)


def _error(r: Recorded, code: str, message: str) -> tuple[list[tuple[str, str]], bytes]:
    """An error body in the protocol of the request."""
    from xml.sax.saxutils import escape

    text = escape(message)
    if r.target:
        return ([("Content-Type", "application/x-amz-json-1.1")], json.dumps({"__type": code, "message": message}).encode())
    if r.action and r.service == "ec2":
        return ([("Content-Type", "text/xml")],
                f"<Response><Errors><Error><Code>{code}</Code><Message>{text}</Message></Error></Errors>"
                f"<RequestID>tscloud-test</RequestID></Response>".encode())
    if r.action or r.service == "route53":
        return ([("Content-Type", "text/xml")],
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{text}"
                f"</Message></Error><RequestId>tscloud-test</RequestId></ErrorResponse>".encode())
    return ([("Content-Type", "application/xml")],
            f"<Error><Code>{code}</Code><Message>{text}</Message><RequestId>tscloud-test</RequestId>"
            f"</Error>".encode())


def aws_like_distribution_summaries() -> None:
    """AWS puts each distribution's Comment (and the rest of its config) in its ListDistributions summary;
    moto 5.2.1 leaves them out, and tscloud_py.emulator.fidelity fills them (moto 5.2.5 does it itself).

    Without them a reader falls back to one GetDistributionConfig per distribution, so the number of
    requests a deploy makes would depend on how many other apps share the moto server. The tests that
    count requests call this to say so; the session fixture has already applied it.
    """
    from tscloud_py.emulator.fidelity import patch_moto_fidelity

    patch_moto_fidelity()
