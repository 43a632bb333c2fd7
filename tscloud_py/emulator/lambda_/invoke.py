"""The emulator's Lambda execution: ``nodejs*`` and ``provided.*`` functions really run.

moto runs function code only in Docker (and only buffered, without Function
URLs). Here a function's zip is unpacked once per code hash and kept warm between
invocations like an execution environment (tscloud_py.lambda_runtime): a node
function runs with ``node`` and AWS's ``aws-lambda-ric``, a custom-runtime one
(the Bun layer's) runs its layers' ``bootstrap``, the layers unpacked as Lambda
unpacks them in ``/opt`` (``layers.py``). It serves:

- ``Invoke`` (patched into moto's LambdaFunction by tscloud_py.emulator.fidelity.lambda_);
- each Function URL, on its own loopback port, streamed when its InvokeMode is
  RESPONSE_STREAM and buffered otherwise (AuthType is not checked locally);
- the local edge's Function URL origins (tscloud_py.emulator.edge.lambda_origin), streaming too;
- SQS event source mappings (``sqs_events.py``).

All of them share one warm environment per function (``ENVIRONMENTS``).

Every invocation writes START/END/REPORT lines, with the function's own output,
to the function's CloudWatch log group, as Lambda does. Other runtimes (python,
java) keep moto's Docker execution: without a Docker engine and the
lambci images their Invoke fails.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tscloud_py.emulator.lambda_.functions import LocalFunction, describe
from tscloud_py.emulator.lambda_.layers import unpack_layers, unzip
from tscloud_py.emulator.served import ServedOnLoopback
from tscloud_py.lambda_runtime import (
    FunctionProcess,
    Invocation,
    NodeFunction,
    ProvidedFunction,
    RuntimeClientMissingError,
    find_ric,
)
from tscloud_py.lambda_runtime.events import function_url_event, http_result, response_head
from tscloud_py.lambda_runtime.http_out import send_chunked, send_error
from tscloud_py.loopback import QuietHandler

WAIT_S = 900.0  # Lambda's longest timeout


RUNS_HERE = ("nodejs", "provided")


def runs_here(fn: Any) -> bool:
    """Whether the emulator runs this moto function itself (a nodejs or provided runtime, zip package)."""
    return str(getattr(fn, "run_time", "") or "").startswith(RUNS_HERE) and bool(getattr(fn, "code_bytes", b""))


def _process(fn: LocalFunction, code_dir: Path, env: dict[str, str]) -> FunctionProcess:
    common: dict[str, Any] = {"timeout_s": float(fn.timeout_s), "name": fn.name, "memory_mb": fn.memory_mb,
                              "region": fn.region, "env": env}
    if fn.runtime.startswith("provided"):
        opt = code_dir.with_name(f"{code_dir.name}-opt")
        unpack_layers(fn.name, fn.layers, opt)
        return ProvidedFunction(code_dir, fn.handler, opt, **common)
    return NodeFunction(code_dir, fn.handler, ric=find_ric(code_dir, Path.cwd()), **common)


class Environments:
    """Warm execution environments, one per function (name and region), replaced when code or config change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._envs: dict[tuple[str, str], tuple[str, FunctionProcess, Path]] = {}
        # the emulator's own endpoint: a function's AWS calls (an SDK's, tscloud's secret resolver's) reach
        # the emulator's services through AWS_ENDPOINT_URL, as in Lambda they reach the region's
        self.endpoint: str | None = None

    def get(self, fn: LocalFunction) -> FunctionProcess:
        version = hashlib.sha256(json.dumps(
            [fn.code_sha256, hashlib.sha256(fn.zip_bytes).hexdigest(), fn.handler, fn.timeout_s, fn.memory_mb,
             fn.environment, fn.runtime, fn.layers], sort_keys=True).encode()).hexdigest()
        key = (fn.name, fn.region)
        with self._lock:
            current = self._envs.get(key)
            if current is not None and current[0] == version:
                return current[1]
            if current is not None:
                current[1].close()
                _remove(current[2])
            code_dir = Path(tempfile.mkdtemp(prefix=f"tscloud-lambda-{fn.name}-"))
            unzip(fn.zip_bytes, code_dir)
            try:
                process = _process(fn, code_dir,
                                   {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                                    **({"AWS_ENDPOINT_URL": self.endpoint} if self.endpoint else {}), **fn.environment})
            except RuntimeClientMissingError:
                _remove(code_dir)
                raise
            self._envs[key] = (version, process, code_dir)
            return process

    def close(self) -> None:
        with self._lock:
            envs, self._envs = list(self._envs.values()), {}
        for _, process, code_dir in envs:
            process.close()
            _remove(code_dir)


def _remove(code_dir: Path) -> None:
    """A function's code and, for a provided runtime, the layers unpacked beside it."""
    shutil.rmtree(code_dir, ignore_errors=True)
    shutil.rmtree(code_dir.with_name(f"{code_dir.name}-opt"), ignore_errors=True)


ENVIRONMENTS = Environments()


class InvocationLogs:
    """Which of an environment's output lines are whose invocation, none lost.

    The runtime process's output is read by a thread of its own, so a line the handler printed just before
    answering may be read well after the answer. When the runtime asks for its next event, the process
    marks its output (``FunctionProcess.output_at``): what comes before the mark is the finished
    invocation's. An environment runs one invocation at a time, so each one's log is written in turn, from
    where the previous one's ended to its own mark; what the process prints between invocations (a timer
    firing after the answer) opens the next one's, as a thawed Lambda environment's does.
    """

    # A runtime asks for its next event as soon as it has answered; one that does not within ASK_S was
    # killed (a timeout) or crashed, and its log is what was read by then. READ_S bounds the reader's lag.
    ASK_S, READ_S = 1.0, 5.0

    def __init__(self, process: FunctionProcess) -> None:
        self.process = process
        self.cursor = process.log_lines
        self._previous = threading.Event()
        self._previous.set()
        self._lock = threading.Lock()
        self.ordering = threading.Lock()  # held while an invocation is queued: its turn is its queue place

    def begin(self) -> tuple[threading.Event, threading.Event]:
        """At an invocation's start: (the event its predecessor's log sets, the one its own log sets)."""
        with self._lock:
            mine, before = threading.Event(), self._previous
            self._previous = mine
            return before, mine

    def take(self, inv: Invocation) -> list[str]:
        """The finished invocation's lines: from the previous one's end to its own output mark."""
        inv._wait(lambda: inv.output_mark is not None, self.ASK_S)
        end = self.process.output_at(inv.output_mark, self.READ_S)
        with self._lock:
            lines = self.process.logged_since(self.cursor)[:max(0, end - self.cursor)]
            self.cursor = max(self.cursor, end)
            return lines


_LOGS: weakref.WeakKeyDictionary[FunctionProcess, InvocationLogs] = weakref.WeakKeyDictionary()
_LOGS_LOCK = threading.Lock()


def _logs_of(process: FunctionProcess) -> InvocationLogs:
    with _LOGS_LOCK:
        found = _LOGS.get(process)
        if found is None:
            found = _LOGS[process] = InvocationLogs(process)
        return found


def start(fn: Any, event: bytes | dict[str, Any]) -> tuple[FunctionProcess, Invocation]:
    """Start one invocation of moto function ``fn``; its log lines are written when it ends."""
    node_fn = ENVIRONMENTS.get(describe(fn))
    cold = node_fn.cold_starts
    logs = _logs_of(node_fn)
    with logs.ordering:
        turn = logs.begin()
        inv = node_fn.start(event)
    threading.Thread(target=_log_when_done, args=(fn, node_fn, inv, cold, logs, turn), daemon=True,
                     name=f"lambda-log-{fn.function_name}").start()
    return node_fn, inv


def invoke(fn: Any, event: bytes | dict[str, Any]) -> tuple[str, bool, str]:
    """moto's ``_invoke_lambda`` contract: (result JSON, errored, log tail)."""
    node_fn, inv = start(fn, event)
    inv.wait_done(WAIT_S)
    if inv.error is not None:
        error = {"errorType": inv.error.get("errorType"), "errorMessage": inv.error.get("errorMessage")}
        return json.dumps(error), True, "\n".join(list(node_fn.logs)[-20:])
    body = inv.body_bytes.decode("utf-8", "replace") if inv.streaming else (inv.result or b"null").decode()
    return body, False, "\n".join(list(node_fn.logs)[-20:])


def report_line(inv: Invocation, memory_mb: int, init_ms: float | None) -> str:
    duration = inv.end_ms or 0.0
    line = (f"REPORT RequestId: {inv.request_id}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {int(duration) + 1} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: 0 MB")
    if init_ms is not None:
        line += f"\tInit Duration: {init_ms:.2f} ms"
    if inv.timed_out:
        line += "\tStatus: timeout"
    return line


def _log_when_done(fn: Any, node_fn: FunctionProcess, inv: Invocation, cold_before: int, logs_of: InvocationLogs,
                   turn: tuple[threading.Event, threading.Event]) -> None:
    previous, mine = turn
    inv.wait_done(WAIT_S + 30)
    previous.wait(WAIT_S + 60)  # the invocation before this one has written its log
    try:
        logs = logs_of.take(inv)
    except Exception:
        mine.set()
        return
    mine.set()
    try:
        init = node_fn.init_ms if node_fn.cold_starts > cold_before else None
        lines = [f"START RequestId: {inv.request_id} Version: $LATEST", *logs,
                 f"END RequestId: {inv.request_id}", report_line(inv, node_fn.memory_mb, init)]
        fn.logs_backend.ensure_log_group(fn.logs_group_name)
        fn.save_logs("\n".join(lines))
    except Exception:  # a log write must never take the emulator down
        return


# Function URLs on loopback ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ServedUrl:
    function_name: str
    region: str
    aws_url: str
    local_url: str


# A loopback HTTP server for every Function URL the emulator holds, keyed by function ARN.
FUNCTION_URLS: ServedOnLoopback[ServedUrl] = ServedOnLoopback("function-url")


def serve_url(fn: Any, url_config: Any) -> None:
    name, region = str(fn.function_name), str(fn.region)
    aws_url = str(url_config.url).rstrip("/") + "/"
    FUNCTION_URLS.add(str(fn.function_arn), _url_handler(name, region),
                      lambda local_url: ServedUrl(name, region, aws_url, local_url))


def stop_url(fn: Any) -> None:
    FUNCTION_URLS.remove(str(fn.function_arn))


def _find_function(served: ServedUrl) -> Any:
    from moto.awslambda.models import lambda_backends

    for account in lambda_backends.values():
        for region, backend in account.items():
            if region != served.region:
                continue
            try:
                return backend.get_function(served.function_name)
            except Exception:  # moto raises its own not-found types
                continue
    return None


def invoke_mode(fn: Any) -> str:
    config = getattr(getattr(fn, "url_config", None), "config", None) or {}
    return str(config.get("InvokeMode") or "BUFFERED")


def stream_response(fn: Any, event: dict[str, Any]) -> tuple[int, list[tuple[str, str]], Iterator[bytes], str]:
    """Invoke for an HTTP request: (status, headers, body chunks as they come, request id)."""
    _, inv = start(fn, event)
    streaming = invoke_mode(fn) == "RESPONSE_STREAM"
    if streaming:
        inv.wait_prelude(WAIT_S)
        status, headers = response_head(inv)
        if status == 502 and not inv.chunks:
            return status, headers, iter([b'{"Message":"Internal Server Error"}']), inv.request_id
        return status, headers, inv.body(WAIT_S), inv.request_id
    inv.wait_response(WAIT_S)
    result = http_result(inv)
    return result.status, result.headers, iter([result.body]), inv.request_id


def _url_handler(name: str, region: str) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            served = next((s for s in FUNCTION_URLS.served() if s.function_name == name and s.region == region), None)
            fn = _find_function(served) if served is not None else None
            if fn is None or not runs_here(fn):
                self._plain(502 if fn is not None else 404, "this function URL's function is gone or cannot "
                            "run locally (only nodejs and provided runtimes run in the emulator)")
                return
            domain = urlsplit(served.aws_url).netloc if served else "localhost"
            split = urlsplit(self.path)
            headers = [(k, v) for k, v in self.headers.items() if k.lower() != "host"] + [("host", domain)]
            event = function_url_event(self.command, split.path or "/", query=split.query, headers=headers,
                                       body=body, domain=domain, source_ip=self.client_address[0])
            try:
                status, out, chunks, request_id = stream_response(fn, event)
            except RuntimeClientMissingError as exc:
                self._plain(502, exc.message)
                return
            send_chunked(self, status, out, request_id, chunks)

        def _plain(self, status: int, message: str) -> None:
            send_error(self, status, message, key="Message")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    return Handler

