"""Shared bench plumbing: a moto server on loopback, the counting proxy, running tscloud as users do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ENV = {**os.environ, "CI": "1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
       "AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(REPO)}
# An installed tscloud runs from compiled bytecode; without it every run compiles its modules again.
for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "PYTHONDONTWRITEBYTECODE"):
    ENV.pop(var, None)


def installed(name: str) -> str | None:
    """The program ``name`` as pip installed it for this Python, else as found on PATH.

    This Python's own scripts directory comes first: a version manager's shim on PATH (pyenv's) is a shell
    script that starts its own resolver, about 60 ms on every run, and may pick another Python."""
    script = Path(sysconfig.get_path("scripts")) / name
    if script.is_file() and os.access(script, os.X_OK):
        return str(script)
    return shutil.which(name)


class PeakMemory:
    """A child's own peak resident memory: its ``VmHWM``, read from ``/proc`` every 2 ms while it runs.

    Not ``wait4``'s ``ru_maxrss``: Linux starts a child's maxrss, at its exec, from the high-water mark of
    the address space it replaces, which is the spawning process's own (``vfork``). A bench whose proxies
    hold a first deploy's request bodies would report its own peak for every child it runs after that."""

    def __init__(self, pid: int) -> None:
        self._path = f"/proc/{pid}/status"
        self._peak_kb = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="peak-memory", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while True:
            try:
                with open(self._path, "rb") as status:
                    for line in status:
                        if line.startswith(b"VmHWM:"):
                            self._peak_kb = max(self._peak_kb, int(line.split()[1]))
                            break
            except (OSError, ValueError):
                pass
            if self._done.wait(0.002):
                return

    def stop(self) -> float | None:
        """The peak in MB, once the child has been waited for; None where ``/proc`` could not tell."""
        self._done.set()
        self._thread.join()
        return self._peak_kb / 1024 if self._peak_kb else None


def tscloud_command() -> list[str]:
    """The installed console script if there is one (what a user runs), else the module."""
    script = installed("tscloud")
    return [script] if script else [sys.executable, "-m", "tscloud_py"]


@dataclass
class Run:
    code: int
    seconds: float
    stdout: str
    stderr: str


def run(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env or ENV, capture_output=True, text=True)
    return Run(proc.returncode, time.perf_counter() - started, proc.stdout, proc.stderr)


def moto_server() -> tuple[Any, str]:
    import logging

    from moto.server import ThreadedMotoServer

    from tests.fakes.aws_proxy import aws_like_distribution_summaries
    from tscloud_py.emulator.fidelity import patch_moto_fidelity

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    patch_moto_fidelity()
    _backend_lookup_once()
    aws_like_distribution_summaries()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def _backend_lookup_once() -> None:
    """moto's server finds the service a request is for by listing its own package directory, one stat
    per service, on every request; the list cannot change while it runs. That was a fifth of moto's CPU
    per S3 PUT, which every client measured against it pays alike: taken out, what a bench times is
    more the client's and less moto's turn for the CPU."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def site_config(project: Path, app: str) -> None:
    (project / "tscloud.toml").write_text(
        f'app = "{app}"\npreset = "static-site"\nregion = "us-east-1"\nstage = "bench"\n\n[site]\ndir = "dist"\n')
