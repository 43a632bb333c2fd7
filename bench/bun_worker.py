"""The Bun worker's cold start and warm duration against node's, and the Bun layer's sizes.

One handler module (an SQS batch of 10 records, one of them reported failed) runs twice under the local
Lambda Runtime API (tscloud_py.lambda_runtime): on provided.al2023 through the Bun layer tscloud builds from
npm's Bun (its ``fetch`` export), and on node through AWS's runtime client (its ``handler`` export, the same
code). For each: Init Duration (process start until the runtime first asks for an event; Lambda's REPORT
figure) over --cold fresh environments, and the warm invocation's duration over --warm invocations in one
environment (medians, with min and max). Then the layer's zipped and unzipped size for both architectures
(npm's aarch64 and x64 builds, fetched and integrity-checked into tscloud's cache on first use).

    python3 bench/bun_worker.py [--cold 10] [--warm 50] [--bun-version 1.4.4]

Needs node and aws-lambda-ric (.ci/run installs it in tests/realapps/ric) for the node column.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.realapps import build as realapps
from tscloud_py.build.bun_layer import ARCHITECTURES, npm_layer
from tscloud_py.build.bun_npm import BUN_VERSION
from tscloud_py.emulator.lambda_.layers import HOST_ARCH, unzip
from tscloud_py.lambda_runtime import FunctionProcess, NodeFunction, ProvidedFunction

HANDLER = """
async function work(event) {
  const batchItemFailures = [];
  for (const record of event.Records) {
    const job = JSON.parse(record.body);
    if (job.kind === "reject") batchItemFailures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures };
}

// node (aws-lambda-ric): the event itself
export async function handler(event) {
  return work(event);
}

// Bun through tscloud's layer: the event POSTed to /_lambda/event
export async function fetch(request) {
  return Response.json(await work(await request.json()));
}
"""


def batch() -> bytes:
    records = [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "eventSource": "aws:sqs",
                "body": json.dumps({"kind": "reject" if i == 3 else "email", "id": i}),
                "attributes": {"ApproximateReceiveCount": "1"}} for i in range(10)]
    return json.dumps({"Records": records}).encode()


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.1f} ms  ({min(values):.1f}..{max(values):.1f})"


def measure(make: Callable[[], FunctionProcess], cold: int, warm: int) -> tuple[list[float], list[float]]:
    event, inits, durations = batch(), [], []
    for _ in range(cold):
        with make() as fn:
            inv = fn.invoke(event)
            assert json.loads(inv.body_bytes) == {"batchItemFailures": [{"itemIdentifier": "m3"}]}, inv.error
            if fn.init_ms is not None:
                inits.append(fn.init_ms)
    with make() as fn:
        fn.invoke(event)
        for _ in range(warm):
            inv = fn.invoke(event)
            if inv.end_ms is not None:
                durations.append(inv.end_ms)
    return inits, durations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", type=int, default=10)
    parser.add_argument("--warm", type=int, default=50)
    parser.add_argument("--bun-version", default=BUN_VERSION)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tscloud-bench-bun-") as tmp:
        code, opt = Path(tmp) / "code", Path(tmp) / "opt"
        code.mkdir()
        (code / "index.mjs").write_text(HANDLER)
        layer = npm_layer(args.bun_version, HOST_ARCH)
        unzip(layer.read(), opt)
        columns: dict[str, Callable[[], FunctionProcess]] = {
            f"bun {args.bun_version} (provided.al2023 + layer)":
                lambda: ProvidedFunction(code, "index.fetch", opt, memory_mb=512)}
        if realapps.RIC.is_dir():
            node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
            columns[f"node {node} (aws-lambda-ric)"] = lambda: NodeFunction(code, "index.handler", ric=realapps.RIC,
                                                                            memory_mb=512)
        else:
            print(f"node: skipped, no aws-lambda-ric at {realapps.RIC} (run .ci/run)")
        print(f"SQS batch of 10, one reported failed; {args.cold} cold starts, {args.warm} warm invocations, "
              f"{HOST_ARCH} host\n")
        print(f"{'runtime':44} {'Init Duration (median, min..max)':36} warm duration (median, min..max)")
        for name, make in columns.items():
            inits, durations = measure(make, args.cold, args.warm)
            print(f"{name:44} {spread(inits):36} {spread(durations)}")

    print(f"\nBun {args.bun_version} layer (bootstrap + bin/bun + runtime.mjs), Lambda's limit 250 MB unzipped:")
    for arch in ARCHITECTURES:
        built = npm_layer(args.bun_version, arch)
        print(f"  {arch:7} zipped {built.size / 1e6:6.1f} MB ({built.size / 2**20:5.1f} MiB)   "
              f"unzipped {built.unzipped_size / 1e6:6.1f} MB ({built.unzipped_size / 2**20:5.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
