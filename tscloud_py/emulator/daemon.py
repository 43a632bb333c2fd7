"""One emulator per user, kept alive: found, started in the background, stopped.

The process that holds the emulator (`tscloud local serve`, foreground or background) holds an exclusive
``flock`` on ``running.lock`` for its whole life and writes ``emulator.json`` once it answers. A command
that wants it takes ``start.lock`` first, so two commands starting one at the same moment end with one:
the second finds the first's. The OS drops both locks when a process dies, so a crash leaves nothing
that has to be cleaned up by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tscloud_py.emulator.guard import TOKEN_HEADER
from tscloud_py.emulator.home import (
    STATE,
    admin_token,
    emulator_home,
    is_user_emulator,
    read_json,
    write_json,
)
from tscloud_py.errors import EmulatorUnavailableError

START_TIMEOUT = 60.0
LOG = "emulator.log"
EDGE_LOG = "edge.log"


@dataclass(frozen=True)
class Running:
    endpoint: str
    pid: int
    started: float
    notice: str | None = None  # what became of an unreadable snapshot, said once by whoever started it
    started_now: bool = False


@contextlib.contextmanager
def _flock(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def hold_running_lock(home: Path) -> int | None:
    """The lock the emulator's process keeps for its life: a descriptor to keep open, None when taken."""
    fd = os.open(home / "running.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def announce(home: Path, endpoint: str, started: float, notice: str | None) -> None:
    write_json(home / STATE, {"endpoint": endpoint, "pid": os.getpid(), "started": started, "notice": notice})


def running(home: Path | None = None) -> Running | None:
    """The user's emulator, if its process lives and it answers."""
    home = home or emulator_home()
    with _flock(home / "running.lock", blocking=False) as free:
        if free:
            return None
    info = read_json(home / STATE)
    endpoint, pid = info.get("endpoint"), info.get("pid")
    if not isinstance(endpoint, str) or not isinstance(pid, int) or not _answers(endpoint, pid):
        return None
    return Running(endpoint, pid, float(info.get("started") or 0), info.get("notice"))


def _answers(endpoint: str, pid: int) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/_tscloud/health", timeout=5) as resp:
            return bool(json.loads(resp.read()).get("pid") == pid)
    except (OSError, ValueError):
        return False


def ensure_running(timeout: float = START_TIMEOUT) -> Running:
    """The user's emulator, started in the background (and waited for) when none runs."""
    home = emulator_home()
    with _flock(home / "start.lock"):
        found = running(home)
        if found is not None:
            return found
        proc = _spawn(home)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = running(home)
            if found is not None:
                return Running(found.endpoint, found.pid, found.started, found.notice, started_now=True)
            if proc.poll() is not None:  # it found another holder (a `local serve` starting), or failed
                with _flock(home / "running.lock", blocking=False) as free:
                    if free:
                        break
            time.sleep(0.1)
        tail = _tail(home / LOG, 5)
        raise EmulatorUnavailableError(
            f"--local: the emulator did not start in {timeout:.0f}s" + (f": {tail}" if tail else ""),
            f"see {home / LOG}")


def _spawn(home: Path) -> subprocess.Popen[bytes]:
    log: IO[bytes]
    with (home / LOG).open("ab") as log:
        os.chmod(home / LOG, 0o600)
        log.write(f"--- starting {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n".encode())
        log.flush()
        # its own session: a Ctrl-C in the terminal that started it does not reach it
        return subprocess.Popen([sys.executable, "-m", "tscloud_py", "local", "serve", "--background"],
                                cwd=home, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)


def holder(home: Path) -> int | None:
    """The pid of the process holding this home's emulator, answering or not (still starting, or too busy
    to answer): it wrote ``pid`` when it took the running lock."""
    with _flock(home / "running.lock", blocking=False) as free:
        if free:
            return None
    try:
        pid = int((home / "pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if b"serve" in cmdline and b"local" in cmdline else None


def stop(home: Path | None = None, timeout: float = 30.0) -> Running | None:
    """Stop the user's emulator (it saves its snapshot first); the one stopped, None if none ran."""
    home = home or emulator_home()
    found = running(home)
    if found is None:
        pid = holder(home)
        if pid is None:
            return None
        found = Running("", pid, 0.0)
    with contextlib.suppress(ProcessLookupError):
        os.kill(found.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(found.pid):
            return found
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(found.pid, signal.SIGKILL)
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for its parent has finished)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def admin(endpoint: str, route: str, home: Path | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """GET one of the emulator's admin routes with the user's token."""
    req = urllib.request.Request(f"{endpoint}/_tscloud/{route}", headers={TOKEN_HEADER: admin_token(home)})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        doc = json.loads(resp.read())
    return doc if isinstance(doc, dict) else {}


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return " | ".join(ln.strip() for ln in text.splitlines()[-lines:] if ln.strip())


@dataclass(frozen=True)
class LocalUrls:
    """What the user's emulator serves on loopback: each distribution's edge URL, each Function URL's."""

    distributions: dict[str, str]  # distribution id -> http://127.0.0.1:PORT/
    function_urls: dict[str, str]  # AWS Function URL -> its loopback address

    def function_url(self, aws_url: str) -> str | None:
        return self.function_urls.get(aws_url.rstrip("/") + "/") or self.function_urls.get(aws_url)


def local_urls(endpoint: str | None) -> LocalUrls | None:
    """The loopback URLs of the user's emulator at ``endpoint``; None when it is another endpoint."""
    if not is_user_emulator(endpoint):
        return None
    assert endpoint is not None
    try:
        doc = admin(endpoint, "edge")
    except (OSError, ValueError):
        return None
    dists = doc.get("distributions") or {}
    return LocalUrls({k: str(v.get("url")) for k, v in dists.items() if isinstance(v, dict)},
                     {str(k): str(v) for k, v in (doc.get("function_urls") or {}).items()})
