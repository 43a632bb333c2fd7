"""A local Lambda Runtime API (version 2018-06-01) for one runtime process, recording every invocation.

Lambda's REPORT duration ends when the runtime asks for its next event, not when
the response ends; both are recorded here, with the streamed prelude, time to
first byte and the time of every body chunk, so a caller can see the gap between
them (the event-loop pin) and a response that never ends.

A streamed response (``Lambda-Runtime-Function-Response-Mode: streaming``) is
read chunk by chunk; with the content type
``application/vnd.awslambda.http-integration-response`` its first bytes are the
JSON prelude (status, headers, cookies), then eight NUL bytes, then the body.
"""

from __future__ import annotations

import base64
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler
from typing import Any

from tscloud_py.loopback import QuietHandler, serve

PREFIX = "/2018-06-01/runtime"
PRELUDE_TYPE = "application/vnd.awslambda.http-integration-response"
DELIMITER = b"\0" * 8
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:local"


@dataclass
class Chunk:
    at: float  # time.monotonic()
    data: bytes


@dataclass
class Invocation:
    """One invocation, filled in by the Runtime API's threads as the runtime client works."""

    request_id: str
    event: bytes
    deadline_ms: int
    queued_at: float = field(default_factory=time.monotonic)
    picked_at: float | None = None
    streaming: bool = False
    prelude: dict[str, Any] | None = None
    prelude_at: float | None = None
    chunks: list[Chunk] = field(default_factory=list)
    response_end_at: float | None = None
    result: bytes | None = None  # a buffered response's JSON
    error: dict[str, Any] | None = None
    ended_at: float | None = None
    timed_out: bool = False
    # the process's output mark written when the runtime asked for its next event after this one: the
    # output before it is this invocation's (``FunctionProcess.output_at``)
    output_mark: int | None = None
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)

    # Figures in milliseconds from when the event was handed to the runtime.
    def _ms(self, at: float | None) -> float | None:
        start = self.picked_at if self.picked_at is not None else self.queued_at
        return None if at is None else round((at - start) * 1000, 1)

    @property
    def first_byte_ms(self) -> float | None:
        return self._ms(self.chunks[0].at if self.chunks else self.response_end_at)

    @property
    def response_end_ms(self) -> float | None:
        return self._ms(self.response_end_at)

    @property
    def end_ms(self) -> float | None:
        return self._ms(self.ended_at)

    @property
    def gap_ms(self) -> float | None:
        """Invocation end minus response end: how long the runtime held on after answering."""
        if self.ended_at is None or self.response_end_at is None:
            return None
        return round((self.ended_at - self.response_end_at) * 1000, 1)

    @property
    def chunk_ms(self) -> list[float]:
        return [self._ms(c.at) or 0.0 for c in self.chunks]

    @property
    def body_bytes(self) -> bytes:
        if self.streaming:
            return b"".join(c.data for c in self.chunks)
        return self.result or b""

    @property
    def done(self) -> bool:
        return self.ended_at is not None

    def _update(self, **changes: Any) -> None:
        with self._cond:
            for key, value in changes.items():
                setattr(self, key, value)
            self._cond.notify_all()

    def _add_chunk(self, data: bytes) -> None:
        with self._cond:
            self.chunks.append(Chunk(time.monotonic(), data))
            self._cond.notify_all()

    def _wait(self, predicate: Any, timeout: float) -> bool:
        with self._cond:
            return bool(self._cond.wait_for(predicate, timeout))

    def wait_prelude(self, timeout: float) -> bool:
        """Until the status is known: a streamed prelude or first byte, a buffered result, or the end."""
        return self._wait(lambda: self.prelude_at is not None or bool(self.chunks)
                          or self.response_end_at is not None or self.ended_at is not None, timeout)

    def wait_response(self, timeout: float) -> bool:
        return self._wait(lambda: self.response_end_at is not None or self.ended_at is not None, timeout)

    def wait_done(self, timeout: float) -> bool:
        return self._wait(lambda: self.ended_at is not None, timeout)

    def body(self, timeout: float = 900.0) -> Iterator[bytes]:
        """A streamed body's chunks as they arrive (a buffered result at once), until the response ends."""
        sent = 0
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                self._cond.wait_for(partial(self._has_more, sent), max(0.0, deadline - time.monotonic()))
                fresh = [c.data for c in self.chunks[sent:]]
                sent += len(fresh)
                finished = (self.response_end_at is not None or self.ended_at is not None) and sent == len(self.chunks)
            yield from fresh
            if finished or time.monotonic() >= deadline:
                return

    def _has_more(self, sent: int) -> bool:
        return len(self.chunks) > sent or self.response_end_at is not None or self.ended_at is not None

    def summary(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "streaming": self.streaming, "prelude": self.prelude,
                "first_byte_ms": self.first_byte_ms, "chunk_ms": self.chunk_ms,
                "response_end_ms": self.response_end_ms, "end_ms": self.end_ms, "gap_ms": self.gap_ms,
                "timed_out": self.timed_out, "error": self.error}


class RuntimeApi:
    """The Runtime API one runtime process polls; ``invoke`` queues an event and returns its record."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._queue: queue.Queue[Invocation | None] = queue.Queue()
        self._by_id: dict[str, Invocation] = {}
        self._current: Invocation | None = None
        self._lock = threading.Lock()
        self.init_error: dict[str, Any] | None = None
        self.first_poll_at: float | None = None
        self._server = serve(_handler_for(self), name="lambda-runtime-api", host=host)
        self._poll = threading.Condition()
        # told of each poll for the next event, with the invocation the runtime has just finished (if any)
        self.on_poll: Callable[[Invocation | None], None] | None = None

    @property
    def address(self) -> str:
        return self._server.address

    def invoke(self, event: bytes | dict[str, Any], *, timeout_s: float) -> Invocation:
        raw = event if isinstance(event, bytes) else json.dumps(event).encode()
        inv = Invocation(str(uuid.uuid4()), raw, int((time.time() + timeout_s) * 1000))
        with self._lock:
            self._by_id[inv.request_id] = inv
        self._queue.put(inv)
        return inv

    def wait_first_poll(self, timeout: float) -> bool:
        with self._poll:
            return bool(self._poll.wait_for(lambda: self.first_poll_at is not None or self.init_error is not None,
                                            timeout))

    def end_current(self, *, timed_out: bool) -> None:
        """The runtime process is gone (killed at the timeout, or crashed): end what it was running."""
        with self._lock:
            inv, self._current = self._current, None
        if inv is not None and not inv.done:
            inv._update(ended_at=time.monotonic(), timed_out=inv.timed_out or timed_out)
        while True:
            try:
                queued = self._queue.get_nowait()
            except queue.Empty:
                break
            if queued is not None:
                self._queue.put(queued)
                break

    def close(self) -> None:
        self._queue.put(None)
        self._server.close()

    # Called from the request handler threads.
    def _next(self) -> Invocation | None:
        now = time.monotonic()
        with self._poll:
            if self.first_poll_at is None:
                self.first_poll_at = now
            self._poll.notify_all()
        with self._lock:
            previous, self._current = self._current, None
        if self.on_poll is not None:
            self.on_poll(previous)
        if previous is not None and not previous.done:
            previous._update(ended_at=now)
        inv = self._queue.get()
        if inv is None:
            self._queue.put(None)
            return None
        with self._lock:
            self._current = inv
        inv._update(picked_at=time.monotonic())
        return inv

    def _get(self, request_id: str) -> Invocation | None:
        with self._lock:
            return self._by_id.get(request_id)

    def _init_error(self, error: dict[str, Any]) -> None:
        with self._poll:
            self.init_error = error
            self._poll.notify_all()


def _handler_for(api: RuntimeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if self.path != f"{PREFIX}/invocation/next":
                self._reply(404, {"errorType": "NotFound"})
                return
            inv = api._next()
            if inv is None:
                self.close_connection = True
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(inv.event)))
            self.send_header("Lambda-Runtime-Aws-Request-Id", inv.request_id)
            self.send_header("Lambda-Runtime-Deadline-Ms", str(inv.deadline_ms))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN)
            self.send_header("Lambda-Runtime-Trace-Id", f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}")
            self.end_headers()
            self.wfile.write(inv.event)

        def do_POST(self) -> None:
            parts = self.path[len(PREFIX):].strip("/").split("/") if self.path.startswith(PREFIX) else []
            if parts == ["init", "error"]:
                api._init_error(_error_json(self._read_all(), self.headers))
                self._reply(202, {"status": "OK"})
                return
            if len(parts) != 3 or parts[0] != "invocation" or parts[2] not in ("response", "error"):
                self._read_all()
                self._reply(404, {"errorType": "NotFound"})
                return
            inv = api._get(parts[1])
            if inv is None:
                self._read_all()
                self._reply(400, {"errorType": "InvalidRequestID"})
                return
            if parts[2] == "error":
                body = self._read_all()
                inv._update(error=_error_json(body, self.headers), response_end_at=time.monotonic())
            elif self.headers.get("Lambda-Runtime-Function-Response-Mode", "").lower() == "streaming":
                self._read_stream(inv)
            else:
                body = self._read_all()
                inv._update(result=body, response_end_at=time.monotonic())
            self._reply(202, {"status": "OK"})

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _read_all(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return b"".join(data for data, _ in self._chunks())
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _chunks(self) -> Iterator[tuple[bytes, dict[str, str]]]:
            """Decoded chunks of a chunked body; the last item carries the trailers."""
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    trailers: dict[str, str] = {}
                    while True:
                        t = self.rfile.readline()
                        if not t or t in (b"\r\n", b"\n"):
                            break
                        name, _, value = t.decode("latin-1").partition(":")
                        trailers[name.strip().lower()] = value.strip()
                    yield b"", trailers
                    return
                data = self.rfile.read(size)
                self.rfile.readline()
                yield data, {}

        def _read_stream(self, inv: Invocation) -> None:
            framed = self.headers.get("Content-Type", "").split(";")[0].strip().lower() == PRELUDE_TYPE
            inv._update(streaming=True)
            head = b""
            for data, trailers in self._chunks():
                if trailers:
                    error_type = trailers.get("lambda-runtime-function-error-type")
                    if error_type:
                        inv._update(error=_trailer_error(error_type, trailers.get("lambda-runtime-function-error-body")))
                if not data:
                    continue
                if framed and inv.prelude_at is None:
                    head += data
                    split = head.find(DELIMITER)
                    if split < 0:
                        continue
                    try:
                        prelude = json.loads(head[:split] or b"{}")
                    except ValueError:
                        prelude = {"_unparsed": head[:split].decode("utf-8", "replace")}
                    inv._update(prelude=prelude if isinstance(prelude, dict) else {}, prelude_at=time.monotonic())
                    data = head[split + len(DELIMITER):]
                    if not data:
                        continue
                inv._add_chunk(data)
            inv._update(response_end_at=time.monotonic())

    return Handler



def _error_json(body: bytes, headers: Any) -> dict[str, Any]:
    try:
        error = json.loads(body or b"{}")
    except ValueError:
        error = {"errorMessage": body.decode("utf-8", "replace")}
    if not isinstance(error, dict):
        error = {"errorMessage": str(error)}
    error.setdefault("errorType", headers.get("Lambda-Runtime-Function-Error-Type") or "Unknown")
    return error


def _trailer_error(error_type: str, body_b64: str | None) -> dict[str, Any]:
    try:
        error = json.loads(base64.b64decode(body_b64 or "")) if body_b64 else {}
    except ValueError:
        error = {}
    if not isinstance(error, dict):
        error = {}
    error.setdefault("errorType", error_type)
    return error
