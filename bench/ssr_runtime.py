"""The seed's table, measured here: each real build under AWS's runtime client, before and after eject-entry.

For every app in tests/realapps (nitro 3.0.1-alpha.1, the nitro 3 beta, nitropack 2, TanStack Start),
streaming and buffered, with Nitro's built-in entry and with the entry `tscloud ssr eject-entry` writes:
cold start (init), then per route (/, /stream, /empty (204), /db (a pg Pool against a loopback stand-in))
the warm invocation duration (until the runtime asks for its next event, where REPORT ends) and
invocation end minus response end. A route whose response never ends shows "timeout" (the invocation ran
to the function timeout). pg's idle timeout is its default here (10 s), as in the field.

    python3 bench/ssr_runtime.py [--apps nitro-alpha1,nitro-beta] [--timeout 15] [--runs 3]

Needs the fixture apps installed (.ci/run does it). Prints a table; exits 1 if an ejected build leaves
any route's invocation more than 50 ms past its response (median over --runs).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.realapps import build as realapps
from tests.realapps.pg_standin import PgStandIn
from tscloud_py.lambda_runtime import NodeFunction
from tscloud_py.lambda_runtime.events import function_url_event

ROUTES = ("/", "/stream", "/empty", "/db")
TARGET_GAP_MS = 50.0


def measure(build: Path, pg: PgStandIn, timeout: float, runs: int) -> tuple[float | None, dict[str, tuple[str, str]]]:
    """(init ms, {route: (warm duration, gap)}) as display strings; medians over ``runs`` warm invocations."""
    env = {"DATABASE_URL": pg.url}
    cells: dict[str, tuple[str, str]] = {}
    with NodeFunction(build / "server", timeout_s=timeout, env=env, ric=realapps.RIC) as fn:
        fn.warm()
        init = fn.init_ms
        for route in ROUTES:
            # One invocation first (the route's module loads, the pool connects), then the warm ones.
            fn.invoke(function_url_event("GET", route))
            ends, gaps, timed_out = [], [], False
            for _ in range(runs):
                inv = fn.invoke(function_url_event("GET", route))
                timed_out = timed_out or inv.timed_out
                if inv.end_ms is not None:
                    ends.append(inv.end_ms)
                if inv.gap_ms is not None:
                    gaps.append(inv.gap_ms)
            if timed_out:
                cells[route] = (f"timeout {timeout * 1000:,.0f}", "no response")
            else:
                cells[route] = (f"{statistics.median(ends):,.0f}", f"{statistics.median(gaps):,.0f}" if gaps else "-")
    return init, cells


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", default=",".join(realapps.APPS))
    parser.add_argument("--timeout", type=float, default=15.0, help="function timeout, seconds")
    parser.add_argument("--runs", type=int, default=3, help="warm invocations per route (median)")
    args = parser.parse_args()
    if not realapps.ric_installed():
        print("aws-lambda-ric is not installed in tests/realapps/ric (run .ci/run)", file=sys.stderr)
        return 2
    pg = PgStandIn()
    worst_ejected = 0.0
    header = f"{'build':<42} {'init ms':>8}  " + "  ".join(f"{r + ' ms / gap':>22}" for r in ROUTES)
    print(header)
    print("-" * len(header))
    try:
        for name in args.apps.split(","):
            for streaming in (True, False):
                for ejected in (False, True):
                    build = realapps.build(name, streaming=streaming, ejected=ejected)
                    init, cells = measure(build, pg, args.timeout, args.runs)
                    label = f"{name} {'stream' if streaming else 'buffered'} {'ejected' if ejected else 'built-in'}"
                    row = "  ".join(f"{cells[r][0] + ' / ' + cells[r][1]:>22}" for r in ROUTES)
                    print(f"{label:<42} {init or 0:>8,.0f}  {row}", flush=True)
                    if ejected:
                        for _, gap in cells.values():
                            worst_ejected = max(worst_ejected, float(gap.replace(",", "")) if gap[0].isdigit()
                                                else float("inf"))
    finally:
        pg.close()
    print(f"\nworst ejected gap: {worst_ejected:,.0f} ms (target <= {TARGET_GAP_MS:.0f} ms)")
    return 0 if worst_ejected <= TARGET_GAP_MS else 1


if __name__ == "__main__":
    sys.exit(main())
