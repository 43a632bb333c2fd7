"""What the S3 state backend adds to a no-op redeploy, against the local backend, under 30 ms per request.

For the static-site and fullstack-app examples: deploy once, then time no-op redeploys (the median of
``--runs``) through the counting proxy, which adds ``--latency`` ms before forwarding each request to an
in-process moto server. Reported per example and backend: requests (all of them, and the state bucket's
lock and journal requests apart), resource writes (must be 0), the time spent in the state requests (they
run one after another, before and after the steps, so it is wall-clock time the backend adds), and the
whole run's seconds; then what S3 adds.

    python3 bench/state_backend_cost.py [--runs 3] [--latency 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("MOTO_ECS_SERVICE_RUNNING", "1")
os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "0")

from _common import ENV, REPO, moto_server, run, table, tscloud_command

from tests.fakes.aws_proxy import AwsProxy

EXAMPLES = {"static-site": REPO / "examples" / "static-site", "fullstack-app": REPO / "examples" / "fullstack-app"}


def project(work: Path, example: str, backend: str) -> Path:
    target = work / f"{example}-{backend}"
    shutil.copytree(EXAMPLES[example], target, ignore=shutil.ignore_patterns(".tscloud"))
    toml = target / "tscloud.toml"
    text = toml.read_text()
    app = f"bench{'s' if example == 'static-site' else 'f'}{backend}"
    text = "\n".join(f'app = "{app}"' if line.startswith("app = ") else line for line in text.splitlines())
    toml.write_text(text + f'\n\n[state]\nbackend = "{backend}"\n')
    return target


def measure(proxy: AwsProxy, cwd: Path, runs: int, latency: float) -> dict[str, Any]:
    base = [*tscloud_command(), "--endpoint-url", proxy.endpoint, "--output", "json", "deploy"]
    env = {**ENV, "MOTO_ECS_SERVICE_RUNNING": "1"}
    proxy.latency = 0.0
    first = run(base, cwd=cwd, env=env)
    assert first.code == 0, first.stderr[-2000:]
    seconds, rows = [], []
    proxy.latency = latency
    for _ in range(runs):
        proxy.clear()
        result = run(base, cwd=cwd, env=env)
        assert result.code == 0, result.stderr[-2000:]
        assert {s["status"] for s in json.loads(result.stdout)["steps"]} == {"unchanged"}, result.stdout
        requests = proxy.requests()
        rows.append({"requests": len(requests), "state": len([r for r in requests if r.state]),
                     "state_writes": len([r for r in requests if r.state and r.mutating]),
                     "resource_writes": len([r for r in requests if r.resource_write]),
                     # The lock and journal requests run one after another, before and after the steps:
                     # their time is wall-clock time the backend adds.
                     "state_ms": 1000 * sum(r.seconds for r in requests if r.state)})
        seconds.append(result.seconds)
    proxy.latency = 0.0
    return {**rows[-1], "state_ms": statistics.median(r["state_ms"] for r in rows),
            "seconds": statistics.median(seconds)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=float, default=30.0, help="ms added to every request")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    server, moto = moto_server()
    work = Path(tempfile.mkdtemp(prefix="tscloud-bench-state-"))
    report: dict[str, dict[str, Any]] = {}
    try:
        with AwsProxy(moto) as proxy:
            for example in EXAMPLES:
                for backend in ("local", "s3"):
                    report[f"{example}/{backend}"] = measure(proxy, project(work, example, backend), args.runs,
                                                             args.latency / 1000)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    ok = all(r["resource_writes"] == 0 for r in report.values())
    if args.json:
        print(json.dumps(report, indent=2))
        return 0 if ok else 1
    print(f"no-op redeploy, {args.latency:.0f} ms per request, median of {args.runs} (moto in-process)")
    print(table(["example/backend", "requests", "state requests", "state writes", "resource writes",
                 "state ms", "seconds"],
                [[k, r["requests"], r["state"], r["state_writes"], r["resource_writes"], f"{r['state_ms']:.0f}",
                  f"{r['seconds']:.2f}"] for k, r in report.items()]))
    for example in EXAMPLES:
        local, s3 = report[f"{example}/local"], report[f"{example}/s3"]
        print(f"{example}: the S3 backend adds {s3['requests'] - local['requests']} requests, "
              f"{s3['state_ms']:.0f} ms spent in them (serial); whole-run median difference "
              f"{(s3['seconds'] - local['seconds']) * 1000:+.0f} ms (noisy on a shared machine)")
    print(f"resource writes on every no-op redeploy: 0 (must be): {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
