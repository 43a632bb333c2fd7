"""A loopback AWS endpoint that is far away: moto behind the counting proxy in latency mode.

    python3 bench/latency_proxy.py [--ms 30] [--upstream URL]

Every request waits ``--ms`` before it is forwarded (a round trip to a distant AWS region), and is
counted. Without ``--upstream`` an in-process moto server is started behind it. Prints the endpoint for
``--endpoint-url`` (tscloud, the aws CLI); on Ctrl-C prints the requests it saw, per operation.
The benchmarks use ``far_endpoint`` from here, so they measure through the same proxy.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from _common import moto_server, table

from tests.fakes.aws_proxy import AwsProxy, Recorded


@contextmanager
def far_endpoint(upstream: str, latency: float) -> Iterator[AwsProxy]:
    """A counting proxy in front of ``upstream`` that adds ``latency`` seconds to every request."""
    proxy = AwsProxy(upstream, latency=latency)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def dependent_chain(requests: list[Recorded]) -> int:
    """The longest chain of requests each of which started only after the one before it was answered:
    the number of round trips these requests cost, however many there were."""
    ordered = sorted(requests, key=lambda r: r.started)
    depth: list[int] = []
    for i, r in enumerate(ordered):
        before = [depth[j] for j in range(i) if ordered[j].ended <= r.started]
        depth.append(1 + max(before, default=0))
    return max(depth, default=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ms", type=float, default=30.0, help="delay added to every request (default 30)")
    parser.add_argument("--upstream", help="forward to this endpoint instead of an in-process moto server")
    args = parser.parse_args()
    server: Any = None
    upstream = args.upstream
    if upstream is None:
        server, upstream = moto_server()
    try:
        with far_endpoint(upstream, args.ms / 1000) as proxy:
            print(f"endpoint: {proxy.endpoint}  (+{args.ms:g} ms per request, in front of {upstream})", flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                counts = proxy.counts()
                print(f"\n{sum(counts.values())} requests")
                print(table(["operation", "count"], [[op, n] for op, n in sorted(counts.items())]))
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
