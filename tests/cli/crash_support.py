"""The crash sweeps' one move: SIGKILL a `tscloud deploy` right after its N-th AWS request, re-run it at once
from the same working copy (no --force-unlock, no shortened lease: the killed run's flock died with it), then
deploy once more, which must write nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.cli.state_support import delete_journal, journal_text
from tests.conftest import REPO, CliResult, run_cli
from tests.fakes.aws_proxy import AwsProxy


@dataclass
class Killed:
    n: int
    killed: bool
    what: str  # the N-th request
    rerun: CliResult | None = None
    noop: CliResult | None = None
    noop_writes: tuple[str, ...] = ()
    error: str | None = None  # the kill or the re-run went wrong; the end state is for the caller to judge
    journal_left: bool = False  # the killed run left a journal in the state bucket (before any deletion)


def spread(total: int, points: int) -> list[int]:
    """``points`` kill points spread evenly over requests 1..total, the last among them. A deploy's last
    request gives the lock back: pass the count before it, as a kill after it leaves nothing to resume."""
    if total <= points:
        return list(range(1, total + 1))
    return sorted({round(total * (i + 1) / points) for i in range(points)})


def kill_then_rerun(moto: str, project: Path, n: int, *, app: str, keep_journal: bool = True,
                    args: tuple[str, ...] = ("deploy",), proxy: AwsProxy | None = None) -> Killed:
    """Kill ``tscloud ... <args>`` after its ``n``-th request, re-run it at once, then run it once more."""
    own = proxy is None
    proxy = proxy or AwsProxy(moto).__enter__()
    try:
        proxy.kill_after(n)
        proc = subprocess.Popen([sys.executable, "-m", "tscloud_py", "--endpoint-url", proxy.endpoint,
                                 "--output", "json", *args], cwd=project,
                                env={**os.environ, "CI": "1", "PYTHONPATH": str(REPO)},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proxy.set_pid(proc.pid)
        _out, err = proc.communicate(timeout=120)
        proxy.settle()
        what = proxy.requests()[-1].describe() if proxy.requests() else "?"
        if proc.returncode != -9:
            return Killed(n, False, what, error=f"not killed (exit {proc.returncode}): {err.decode()[-400:]}")
        journal_left = journal_text(moto, app) is not None
        if not keep_journal:
            delete_journal(moto, app)
        proxy.disarm()
        rerun = run_cli("--endpoint-url", proxy.endpoint, "--output", "json", *args, cwd=project)
        if rerun.code != 0 or "Traceback" in rerun.stderr:
            return Killed(n, True, what, rerun, error=f"re-run failed: {rerun.output[-1200:]}",
                          journal_left=journal_left)
        proxy.clear()
        noop = run_cli("--endpoint-url", proxy.endpoint, "--output", "json", *args, cwd=project)
        writes = tuple(r.describe() for r in proxy.resource_writes())
        if noop.code != 0 or writes:
            return Killed(n, True, what, rerun, noop, writes,
                          error=f"the run after the re-run is not a no-op (exit {noop.code}, resource writes "
                                f"{list(writes)}): {noop.output[-600:]}", journal_left=journal_left)
        return Killed(n, True, what, rerun, noop, writes, journal_left=journal_left)
    finally:
        if own:
            proxy.__exit__(None, None, None)
