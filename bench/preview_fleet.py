"""What a new preview stage costs, and that it costs the same at stage 500, every request at 30 ms.

A preview host for examples/static-site is made once (`tscloud preview setup`, no latency). Then, through
the counting proxy adding ``--ms`` to every request: `tscloud preview deploy pr-1` (a new stage on an empty
store) and, after 498 more stages' keys are written to the store (as their deploys would leave them: one
key of the same shape each, their files elsewhere in the bucket do not enter a stage's requests), `tscloud
preview deploy pr-500`. For each: the process's wall time, its AWS requests (resource requests, and the
state bucket's lock and journal requests apart), and the build's file count. Last, the 500-stage store's
size against the KeyValueStore's 5 MB limit, and how many stages of this size it would hold.

    python3 bench/preview_fleet.py [--ms 30] [--stages 500] [--json]

Targets: resource requests <= files + 10 and under 3 s for the example's new stage; stage 500 makes no
more requests than stage 1 (which may also ask the account, the first run with these keys).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "0")

from _common import ENV, REPO, moto_server, run, table, tscloud_command

from tests.fakes.aws_proxy import AwsProxy

DOMAIN = "preview.example.com"
EXAMPLE = REPO / "examples" / "static-site"


def project(work: Path) -> Path:
    target = work / "site"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".tscloud"))
    toml = target / "tscloud.toml"
    toml.write_text(toml.read_text().replace('app = "hello-site"', 'app = "bench-fleet"')
                    + f'\n[preview]\ndomain = "{DOMAIN}"\nspa = true\n')
    return target


def deploy(proxy: AwsProxy, cwd: Path, name: str, ms: float) -> dict[str, Any]:
    proxy.clear()
    proxy.latency = ms / 1000
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    result = run([*tscloud_command(), "--endpoint-url", proxy.endpoint, "--output", "json", "preview", "deploy",
                  name], cwd=cwd)
    ended = time.monotonic()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    proxy.latency = 0.0
    if result.code != 0:
        sys.exit(f"preview deploy {name} failed:\n{result.stderr[-3000:]}")
    requests = proxy.requests()
    resource_requests = [r for r in requests if not r.state]
    first, last = min(r.started for r in requests), max(r.ended for r in requests)
    return {"stage": name, "seconds": round(result.seconds, 2),
            # where the time went: the process starting (imports) until its first request, the requests,
            # and after the last answer (run record, timeline page, exit); and the CPU the process used
            "start_to_first_request": round(first - began, 2), "requests_span": round(last - first, 2),
            "after_last_answer": round(ended - last, 2),
            "cpu_seconds": round(after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, 2),
            **counts(resource_requests, len(requests))}


def counts(resource_requests: list[Any], total: int) -> dict[str, Any]:
    resource = resource_requests
    return {"resource_requests": len(resource),
            "resource_writes": len([r for r in resource if r.mutating]),
            "state_requests": total - len(resource),
            "operations": dict(sorted({op: sum(1 for r in resource if r.api_operation == op)
                                       for op in {r.api_operation for r in resource}}.items()))}


def fill(endpoint: str, count: int) -> None:
    """``count`` stages' keys, as `preview deploy` writes them, 50 to an UpdateKeys call."""
    from tscloud_py.aws.cloudfront.kvs import KeyValueStores
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.operations.context import LOCAL_CREDENTIALS
    from tscloud_py.presets.preview.common import stage_host, stage_prefix
    from tscloud_py.presets.preview.router import route_value

    factory = ClientFactory(endpoint_url=endpoint, credentials=LOCAL_CREDENTIALS)
    kvs = KeyValueStores(factory)
    store = kvs.find("bench-fleet-preview-use1-routes")
    assert store is not None
    data = factory.client("cloudfront-keyvaluestore")
    names = [f"pr-{n}" for n in range(2, 2 + count)]
    for i in range(0, len(names), 50):
        puts = [{"Key": stage_host(n, DOMAIN), "Value": route_value(stage_prefix(n), "0" * 64, int(time.time()))}
                for n in names[i:i + 50]]
        etag = kvs.describe(store.arn).etag
        data.update_keys(KvsARN=store.arn, IfMatch=etag, Puts=puts)


def store_size(endpoint: str) -> tuple[int, int]:
    from tscloud_py.aws.cloudfront.kvs import KeyValueStores
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.operations.context import LOCAL_CREDENTIALS

    kvs = KeyValueStores(ClientFactory(endpoint_url=endpoint, credentials=LOCAL_CREDENTIALS))
    store = kvs.find("bench-fleet-preview-use1-routes")
    assert store is not None
    data = kvs.describe(store.arn)
    return data.items, data.size


def main() -> int:
    from tscloud_py.aws.cloudfront.kvs import MAX_STORE_BYTES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ms", type=float, default=30.0, help="ms added to every request")
    parser.add_argument("--stages", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    server, endpoint = moto_server()
    work = Path(tempfile.mkdtemp(prefix="tscloud-bench-preview-"))
    try:
        import boto3

        boto3.client("route53", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                     aws_secret_access_key="bench").create_hosted_zone(Name="example.com", CallerReference="bench")
        site = project(work)
        files = sum(1 for p in (site / "dist").rglob("*") if p.is_file())
        setup = run([*tscloud_command(), "--endpoint-url", endpoint, "preview", "setup"], cwd=site, env=ENV)
        if setup.code != 0:
            sys.exit(f"preview setup failed:\n{setup.stderr[-3000:]}")
        with AwsProxy(endpoint) as proxy:
            first = deploy(proxy, site, "pr-1", args.ms)
            fill(endpoint, args.stages - 2)
            last = deploy(proxy, site, f"pr-{args.stages}", args.ms)
        items, size = store_size(endpoint)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    per_stage = size / max(items, 1)
    report = {"ms": args.ms, "files": files, "new_stage": first, "stage_n": last,
              "store": {"stages": items, "bytes": size, "limit": MAX_STORE_BYTES,
                        "share": round(size / MAX_STORE_BYTES, 4), "bytes_per_stage": round(per_stage, 1),
                        "stages_at_limit": int(MAX_STORE_BYTES // per_stage)}}
    misses = []
    for row in (first, last):
        if row["resource_requests"] > files + 10:
            misses.append(f"{row['stage']}: {row['resource_requests']} requests > files + 10 = {files + 10}")
        if row["seconds"] >= 3.0:
            misses.append(f"{row['stage']}: {row['seconds']} s >= 3 s")
    # No more than stage 1 (which may also ask the account: the first run against an endpoint with new keys)
    if last["resource_requests"] > first["resource_requests"]:
        misses.append(f"stage {args.stages} made {last['resource_requests']} requests, stage 1 "
                      f"{first['resource_requests']}")
    if args.json:
        print(json.dumps({**report, "misses": misses}, indent=2))
    else:
        print(f"preview deploy of examples/static-site ({files} files) at {args.ms:.0f} ms per request")
        print(table(["stage", "seconds", "start->1st request", "requests", "after last", "cpu s",
                     "resource requests", "resource writes", "state requests"],
                    [[r["stage"], r["seconds"], r["start_to_first_request"], r["requests_span"],
                      r["after_last_answer"], r["cpu_seconds"], r["resource_requests"], r["resource_writes"],
                      r["state_requests"]] for r in (first, last)]))
        print(f"requests by operation ({first['stage']}): {first['operations']}")
        store = report["store"]
        print(f"store at {items} stages: {size} bytes of {MAX_STORE_BYTES} ({100 * store['share']:.2f}%), "
              f"{store['bytes_per_stage']} bytes a stage: room for about {store['stages_at_limit']} stages")
        for miss in misses:
            print(f"MISSED: {miss}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
