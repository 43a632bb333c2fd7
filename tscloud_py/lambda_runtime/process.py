"""One Lambda execution environment on this machine: a runtime process polling a local Runtime API.

The process lives like a Lambda execution environment: started (init) on the
first invocation, reused while warm, killed when an invocation outlives the
timeout (the next one starts cold again), and restarted after it crashes.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from tscloud_py.lambda_runtime.api import Invocation, RuntimeApi

_P = TypeVar("_P", bound="FunctionProcess")
INIT_TIMEOUT_S = 10.0  # Lambda's init phase limit for on-demand functions
# An output mark, written into the runtime's own stdout pipe when it asks for its next event (it waits for
# the answer, so everything it printed before is in the pipe ahead of the mark): the log reader finds the
# mark after exactly those lines, however far behind it runs.
MARK = "\x00tscloud-mark-"


class _OutputPipe:
    """The write end of the runtime's stdout, kept to write marks into; closed once the process has exited,
    so the reader then sees the end of the output."""

    def __init__(self, fd: int) -> None:
        self.fd: int | None = fd
        self._lock = threading.Lock()

    def mark(self, number: int) -> bool:
        with self._lock:
            if self.fd is None:
                return False
            os.write(self.fd, f"{MARK}{number}\x00\n".encode())
            return True

    def close(self) -> None:
        with self._lock:
            fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)


class FunctionProcess:
    """One function's execution environment; ``start`` an invocation, read it as it streams.

    A runtime says how its process starts (``command``) and what it adds to Lambda's environment
    variables (``runtime_env``); the rest (init, warm reuse, timeouts, crashes, logs) is Lambda's and
    the same for every runtime.
    """

    def __init__(self, code_dir: Path, handler: str, *, timeout_s: float = 15.0,
                 env: Mapping[str, str] | None = None, name: str = "local", memory_mb: int = 1024,
                 region: str = "us-east-1") -> None:
        self.code_dir = code_dir.resolve()
        self.handler = handler
        self.timeout_s = timeout_s
        self.env = dict(env or {})
        self.name = name
        self.memory_mb = memory_mb
        self.region = region
        self.logs: deque[str] = deque(maxlen=2000)
        self.log_lines = 0  # lines ever logged: ``logs`` keeps only the last ones
        self._log_lock = threading.Lock()
        self._output = threading.Condition(self._log_lock)  # a mark read, or the output ended
        self._marks: dict[int, int] = {}  # output mark -> lines logged before it
        self._mark_numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._api: RuntimeApi | None = None
        self.spawned_at: float | None = None
        self.cold_starts = 0

    def __enter__(self: _P) -> _P:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def init_ms(self) -> float | None:
        """The last cold start: process start until the runtime first asked for an event."""
        api = self._api
        if api is None or api.first_poll_at is None or self.spawned_at is None:
            return None
        return round((api.first_poll_at - self.spawned_at) * 1000, 1)

    def output_at(self, mark: int | None, timeout: float) -> int:
        """How many lines were logged before output mark ``mark``, once the reader has reached it (or
        ``timeout`` passed: then all read so far). ``None`` (the process was stopped or died without asking
        for another event): all read so far."""
        with self._output:
            if mark is not None:
                self._output.wait_for(lambda: mark in self._marks, timeout)
            return self._marks.pop(mark, self.log_lines) if mark is not None else self.log_lines

    def _mark_after(self, finished: Invocation | None, pipe: _OutputPipe) -> None:
        """The runtime whose output ``pipe`` carries asks for its next event: mark its output there, the end
        of ``finished``'s."""
        number = next(self._mark_numbers)
        if finished is not None and pipe.mark(number):
            finished._update(output_mark=number)

    def logged_since(self, count: int) -> list[str]:
        """The lines logged after the first ``count`` (as many as ``logs`` still holds)."""
        with self._log_lock:
            total, lines = self.log_lines, list(self.logs)
        return lines[len(lines) - min(len(lines), total - count):] if total > count else []

    @property
    def init_error(self) -> dict[str, Any] | None:
        return self._api.init_error if self._api is not None else None

    def warm(self) -> dict[str, Any] | None:
        """Start the environment now (init) and wait for it; the init error, if any."""
        api = self._ensure()
        api.wait_first_poll(INIT_TIMEOUT_S + 5)
        return api.init_error

    def start(self, event: bytes | dict[str, Any]) -> Invocation:
        """Queue one invocation and return its live record at once."""
        api = self._ensure()
        inv = api.invoke(event, timeout_s=self.timeout_s)
        threading.Thread(target=self._watch, args=(api, inv), name=f"lambda-watch-{self.name}", daemon=True).start()
        return inv

    def invoke(self, event: bytes | dict[str, Any]) -> Invocation:
        inv = self.start(event)
        inv.wait_done(INIT_TIMEOUT_S + self.timeout_s + 10)
        return inv

    def close(self) -> None:
        with self._lock:
            proc, api, self._proc, self._api = self._proc, self._api, None, None
        if proc is not None:
            _kill(proc)
        if api is not None:
            api.end_current(timed_out=False)
            api.close()

    def command(self) -> list[str]:
        """The runtime process's argv."""
        raise NotImplementedError

    def runtime_env(self) -> dict[str, str]:
        """What this runtime adds to the environment (reserved: the function's own variables do not override it)."""
        return {}

    def _ensure(self) -> RuntimeApi:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None and self._api is not None:
                return self._api
            if self._api is not None:
                self._api.close()
            api = RuntimeApi()
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8", "TZ": ":UTC",
                "HOME": os.environ.get("HOME", "/tmp"),
                **self.env,
                **self.runtime_env(),
                "AWS_LAMBDA_RUNTIME_API": api.address, "LAMBDA_TASK_ROOT": str(self.code_dir),
                "_HANDLER": self.handler,
                "AWS_LAMBDA_FUNCTION_NAME": self.name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb), "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": "local",
            }
            self.spawned_at = time.monotonic()
            read_fd, write_fd = os.pipe()
            try:
                proc = subprocess.Popen(self.command(), cwd=self.code_dir, env=env, stdin=subprocess.DEVNULL,
                                        stdout=write_fd, stderr=write_fd, start_new_session=True)
            except BaseException:
                os.close(read_fd)
                os.close(write_fd)
                raise
            pipe = _OutputPipe(write_fd)
            self._proc, self._api = proc, api
            api.on_poll = functools.partial(self._mark_after, pipe=pipe)
            self.cold_starts += 1
            threading.Thread(target=self._pump, args=(proc, api, os.fdopen(read_fd, "rb")),
                             name=f"lambda-log-{self.name}", daemon=True).start()
            threading.Thread(target=_close_when_exited, args=(proc, pipe), name=f"lambda-exit-{self.name}",
                             daemon=True).start()
            return api

    def _pump(self, proc: subprocess.Popen[bytes], api: RuntimeApi, output: Any) -> None:
        """Keep the process's output and note its marks; when it exits, end what it was running (Lambda
        restarts it next time)."""
        with output:
            for raw in output:
                line, marked, rest = raw.decode("utf-8", "replace").rstrip("\n").partition(MARK)
                with self._output:
                    if line or not marked:  # a mark may follow a line the runtime left unfinished
                        self.logs.append(line)
                        self.log_lines += 1
                    if marked:
                        self._marks[int(rest.strip("\x00") or 0)] = self.log_lines
                        self._output.notify_all()
        code = proc.wait()
        with self._lock:
            if self._proc is proc:
                self._proc = None
        error = api.init_error or {"errorType": "Runtime.ExitError",
                                   "errorMessage": f"RequestId: the runtime exited with code {code}"}
        current = api._current
        api.end_current(timed_out=False)
        if current is not None and current.error is None:
            current._update(error=error)
        # An invocation queued but never picked up fails the same way.
        self._fail_unpicked(api, error)

    @staticmethod
    def _fail_unpicked(api: RuntimeApi, error: dict[str, Any]) -> None:
        for inv in list(api._by_id.values()):
            if inv.picked_at is None and not inv.done:
                inv._update(error=error, ended_at=time.monotonic())

    def _watch(self, api: RuntimeApi, inv: Invocation) -> None:
        """Lambda's timeout: an invocation still running after ``timeout_s`` is stopped with the environment."""
        inv._wait(lambda: inv.picked_at is not None or inv.done, INIT_TIMEOUT_S + 5)
        if inv.done:
            return
        if inv.picked_at is None:
            self._restart(api)
            inv._update(error={"errorType": "Runtime.InitTimeout",
                               "errorMessage": f"init did not finish within {INIT_TIMEOUT_S:.0f} s"},
                        ended_at=time.monotonic(), timed_out=True)
            return
        remaining = self.timeout_s - (time.monotonic() - inv.picked_at)
        if inv.wait_done(max(0.0, remaining)):
            return
        if inv.error is None:
            inv._update(error={"errorType": "Sandbox.Timedout",
                               "errorMessage": f"Task timed out after {self.timeout_s:.2f} seconds"})
        inv._update(timed_out=True)
        with self._lock:
            proc = self._proc if self._api is api else None
            if proc is not None:
                self._proc = None
        if proc is not None:
            _kill(proc)
        api.end_current(timed_out=True)
        if not inv.done:
            inv._update(ended_at=time.monotonic())

    def _restart(self, api: RuntimeApi) -> None:
        with self._lock:
            proc = self._proc if self._api is api else None
            self._proc = None
        if proc is not None:
            _kill(proc)


def _close_when_exited(proc: subprocess.Popen[bytes], pipe: _OutputPipe) -> None:
    proc.wait()
    pipe.close()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
