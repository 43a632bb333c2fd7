"""Helpers for the local-edge tests: a `--local deploy --serve --log` run held open, HTTP and headless Chromium."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
SERVED = re.compile(r"^distribution (\S+) (\S+?)(?:, .*)? -> (http://127\.0\.0\.1:\d+/)$")


@dataclass
class Serving:
    proc: subprocess.Popen[str]
    url: str
    distribution_id: str
    domain: str
    endpoint: str
    lines: list[str] = field(default_factory=list)  # stdout so far: outputs, edge lines, request log

    def log_lines(self) -> list[str]:
        return [ln for ln in self.lines if re.match(r"^(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) ", ln)]


@contextmanager
def deploy_and_serve(project: Path, *extra: str, timeout: float = 240,
                     env: dict[str, str] | None = None) -> Iterator[Serving]:
    """`tscloud --local deploy --serve --log` in ``project``, until its first distribution is served."""
    stderr_path = project / "serve.stderr"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "tscloud_py", "--local", "deploy", "--serve", "--log", *extra],
                                cwd=project, env={**os.environ, "CI": "1", "PYTHONPATH": str(REPO), **(env or {})},
                                stdout=subprocess.PIPE, stderr=stderr, text=True)
    lines: list[str] = []
    found: queue.Queue[re.Match[str] | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            lines.append(line)
            match = SERVED.match(line)
            if match:
                found.put(match)
        found.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        try:
            match = found.get(timeout=timeout)
        except queue.Empty:
            match = None
        if match is None:
            pytest.fail("deploy --serve never printed a local URL:\n" + "\n".join(lines) + stderr_path.read_text())
        endpoint = re.search(r"local emulator: (http://127\.0\.0\.1:\d+)", stderr_path.read_text())
        assert endpoint, stderr_path.read_text()
        yield Serving(proc, match.group(3), match.group(1), match.group(2), endpoint.group(1), lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    err = stderr_path.read_text()
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]  # lower-cased names; a repeated header keeps its last value
    body: bytes
    raw_headers: list[tuple[str, str]] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.raw_headers if k.lower() == name.lower()]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is the answer under test, and it may point off this machine


_OPENER = urllib.request.build_opener(_NoRedirects)


def fetch(url: str, *, method: str = "GET", headers: dict[str, str] | None = None) -> Fetched:
    """One request to the edge; redirects are returned, never followed."""
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with _OPENER.open(req, timeout=60) as resp:
            return Fetched(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read(),
                           list(resp.headers.items()))
    except urllib.error.HTTPError as exc:
        return Fetched(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read(), list(exc.headers.items()))


def raw_chunks(url: str) -> tuple[bytes, list[bytes]]:
    """GET ``url`` on a bare socket: the response head and the body's chunked-encoding frames as sent."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
                     .encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower(), head
    frames = []
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        frames.append(rest[:size])
        rest = rest[size + 2:]
    return head, frames


def wait_for_log(serving: Serving, needle: str, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(needle in ln for ln in serving.log_lines()):
            break
        time.sleep(0.2)
    return serving.log_lines()


def chromium_args(profile: Path) -> list[str]:
    if not CHROMIUM.exists():
        pytest.skip("headless Chromium is not installed (/usr/bin/chromium; `apt-get install -y chromium`, "
                    "as .ci/run does)")
    return [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
            "--window-size=800,600", f"--user-data-dir={profile}"]


def dump_dom(url: str, profile: Path) -> str:
    proc = subprocess.run([*chromium_args(profile), "--virtual-time-budget=5000", "--dump-dom", url],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def screenshot(url: str, profile: Path, out: Path) -> Path:
    proc = subprocess.run([*chromium_args(profile), "--virtual-time-budget=5000", f"--screenshot={out}", url],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and out.exists(), proc.stderr[-2000:]
    return out


def image_difference(a: Path, b: Path) -> float:
    """How much of the page's ink moved or changed: visibly different pixels (after a blur that forgives
    anti-aliasing and sub-pixel font shifts) over the larger of the two images' inked areas. 0 is identical,
    around 1 is a different page."""
    from PIL import Image, ImageChops, ImageFilter

    first = Image.open(a).convert("L")
    second = Image.open(b).convert("L")
    if first.size != second.size:
        return 1.0
    blur = ImageFilter.GaussianBlur(2)
    changed = sum(ImageChops.difference(first.filter(blur), second.filter(blur)).histogram()[48:])
    ink = max(sum(img.histogram()[:208]) for img in (first, second))
    return changed / max(ink, 1)


def require_ric() -> Path:
    """aws-lambda-ric as tests/realapps/ric installs it: the local edge runs Lambda functions under it. Missing
    skips the test, except on CI (where .ci/run installs it)."""
    from tests.realapps import build as realapps

    if not realapps.ric_installed():
        message = "aws-lambda-ric is not installed in tests/realapps/ric (run .ci/run, or npm ci there)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI=true: .ci/run installs it)")
        pytest.skip(message)
    return realapps.RIC
