"""From SIGKILL to the re-run's first resource write (issue 23, "Done means" 5), at 30 ms per request.

A static-site deploy of examples/static-site is killed right after its N-th request (the counting proxy
forwards it, then SIGKILLs the client), and re-run at once from the same directory, as a user would: no
--force-unlock, no shortened lease. The figure is the time from the kill to the arrival of the re-run's first
request that writes a resource (not the state bucket's lock or journal): process start, the state bucket's
reads, the takeover of the dead run's lock, and the steps' reads before that write. Measured at ``--points``
kill points spread over the deploy, each in its own app (median and worst).

    python3 bench/crash_resume.py [--ms 30] [--points 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ENV, REPO, moto_server, run, site_config, table, tscloud_command

from tests.cli.crash_support import spread
from tests.cli.state_support import ensure_bucket
from tests.fakes.aws_proxy import AwsProxy

TARGET_SECONDS = 2.0


def project(work: Path, app: str) -> Path:
    target = work / app
    shutil.copytree(REPO / "examples" / "static-site", target, ignore=shutil.ignore_patterns(".tscloud"))
    site_config(target, app)
    return target


def one(proxy: AwsProxy, work: Path, n: int) -> tuple[float, str, str, int]:
    """Seconds from the kill after request ``n`` to the re-run's first resource write; what was killed
    after, what that write was, and how many requests the re-run sent before it."""
    cwd = project(work, f"resume{n}")
    deploy = [*tscloud_command(), "--endpoint-url", proxy.endpoint, "--output", "json", "deploy"]
    proxy.clear()
    proxy.kill_after(n)
    proc = subprocess.Popen(deploy, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy.set_pid(proc.pid)
    proc.wait(timeout=300)
    assert proc.returncode == -9, f"n={n}: not killed (exit {proc.returncode})"
    killed = proxy.requests()[-1]
    proxy.disarm()
    proxy.clear()
    rerun = run(deploy, cwd=cwd)
    assert rerun.code == 0, rerun.stderr[-2000:]
    requests = proxy.requests()
    first = next((i for i, r in enumerate(requests) if r.resource_write), None)
    assert first is not None, f"n={n}: the re-run wrote nothing"
    return requests[first].started - killed.ended, killed.describe(), requests[first].describe(), first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ms", type=float, default=30.0, help="latency added to every request (default 30)")
    parser.add_argument("--points", type=int, default=5, help="kill points spread over the deploy (default 5)")
    args = parser.parse_args()
    server, endpoint = moto_server()
    try:
        ensure_bucket(endpoint)  # made once, so the reference counts what every later deploy sends
        with AwsProxy(endpoint) as proxy, tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            proxy.latency = args.ms / 1000  # the reference at the runs' latency: their requests come in its order
            reference = run([*tscloud_command(), "--endpoint-url", proxy.endpoint, "--output", "json", "deploy"],
                            cwd=project(work, "resumeref"))
            assert reference.code == 0, reference.stderr[-2000:]
            requests = proxy.requests()
            total = len(requests)
            # A kill after the last resource write leaves the re-run nothing to write: the points end before it,
            # with a request to spare (requests in flight together may be answered in either order).
            last_write = max(i for i, r in enumerate(requests, start=1) if r.resource_write)
            rows, seconds = [], []
            for n in spread(last_write - 2, args.points):
                took, after, write, before = one(proxy, work, n)
                seconds.append(took)
                rows.append([n, after, write, before, f"{before * args.ms / 1000:.2f}", f"{took:.2f}"])
    finally:
        server.stop()
    print(f"SIGKILL -> re-run's first resource write, static-site, {args.ms:.0f} ms per request "
          f"({total} requests in a clean deploy)")
    print(table(["killed after N", "request N", "first write of the re-run", "requests before it",
                 "their latency (s)", "seconds"], rows))
    worst = max(seconds)
    print(f"median {statistics.median(seconds):.2f} s, worst {worst:.2f} s (target < {TARGET_SECONDS:.0f} s)")
    return 0 if worst < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
