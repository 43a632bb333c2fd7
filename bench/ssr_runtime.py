"""Every real build under AWS's runtime client, route by route, and what `tscloud ssr doctor` costs on it.

For every app in tests/realapps (nitro 3.0.1-alpha.1, the nitro 3 beta, nitropack 2, TanStack Start),
streaming and buffered, with Nitro's built-in entry and with the entry `tscloud ssr eject-entry` writes:
cold start (init), then for each route the build itself declares (the doctor's route discovery) the warm
invocation duration (until the runtime asks for its next event, where REPORT ends) and invocation end minus
response end (the gap). A route whose response never ends shows "timeout" (the invocation ran to the
function timeout). pg's idle timeout is its default here (10 s), as in the field. Then the wall time of
`tscloud ssr doctor` itself on each streaming build (runtime client already installed), with its exit code.

    python3 bench/ssr_runtime.py [--apps nitro-alpha1,nitro-beta] [--timeout 15] [--runs 3]

Needs the fixture apps installed (.ci/run does it). Exits 1 if an ejected build leaves any route's
invocation more than 50 ms past its response (median over --runs), or if the doctor takes 10 s or more on
an ejected streaming build (7 routes, warm).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.realapps import build as realapps
from tests.realapps.pg_standin import PgStandIn
from tscloud_py.build.nitro import read_nitro_build
from tscloud_py.build.routes import discover
from tscloud_py.lambda_runtime import NodeFunction
from tscloud_py.lambda_runtime.events import function_url_event

ROOT = Path(__file__).resolve().parents[1]
TARGET_GAP_MS = 50.0
TARGET_DOCTOR_S = 10.0


def measure(build: Path, pg: PgStandIn, timeout: float, runs: int) -> tuple[float | None, list[tuple[str, str, str]]]:
    """(init ms, [(request, warm duration, gap)]) as display strings; medians over ``runs`` warm invocations."""
    requests = sorted(discover(read_nitro_build(build)).requests, key=lambda r: r.path != "/")
    cells: list[tuple[str, str, str]] = []
    with NodeFunction(build / "server", timeout_s=timeout, env={"DATABASE_URL": pg.url}, ric=realapps.RIC) as fn:
        fn.warm()
        init = fn.init_ms
        for request in requests:
            # One invocation first (the route's module loads, the pool connects), then the warm ones.
            fn.warm()
            fn.invoke(function_url_event(request.method, request.path))
            ends, gaps, timed_out = [], [], False
            for _ in range(runs):
                fn.warm()
                inv = fn.invoke(function_url_event(request.method, request.path))
                timed_out = timed_out or inv.timed_out
                if inv.end_ms is not None:
                    ends.append(inv.end_ms)
                if inv.gap_ms is not None:
                    gaps.append(inv.gap_ms)
            if timed_out:
                cells.append((request.label, f"timeout {timeout * 1000:,.0f}", "no response"))
            else:
                cells.append((request.label, f"{statistics.median(ends):,.0f}",
                              f"{statistics.median(gaps):,.0f}" if gaps else "-"))
    return init, cells


def doctor_wall(build: Path, pg: PgStandIn) -> tuple[float, int]:
    """Seconds `tscloud ssr doctor` takes on ``build`` (default timeout), and its exit code."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TSCLOUD_AWS_LAMBDA_RIC": str(realapps.RIC)}
    began = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "tscloud_py", "ssr", "doctor", str(build), "--env",
                          f"DATABASE_URL={pg.url}"], env=env, capture_output=True, text=True, timeout=600)
    return time.monotonic() - began, out.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--apps", default=",".join(realapps.APPS))
    parser.add_argument("--timeout", type=float, default=15.0, help="function timeout, seconds")
    parser.add_argument("--runs", type=int, default=3, help="warm invocations per route (median)")
    args = parser.parse_args()
    if not realapps.ric_installed():
        print("aws-lambda-ric is not installed in tests/realapps/ric (run .ci/run)", file=sys.stderr)
        return 2
    pg = PgStandIn()
    worst_ejected, slowest_doctor = 0.0, 0.0
    walls: list[str] = []
    try:
        for name in args.apps.split(","):
            for streaming in (True, False):
                for ejected in (False, True):
                    build = realapps.build(name, streaming=streaming, ejected=ejected)
                    init, cells = measure(build, pg, args.timeout, args.runs)
                    label = f"{name} {'stream' if streaming else 'buffered'} {'ejected' if ejected else 'built-in'}"
                    print(f"\n{label}: init {init or 0:,.0f} ms, {len(cells)} routes")
                    print(f"  {'request':<16} {'warm ms':>14} {'gap ms':>12}")
                    for request, end, gap in cells:
                        print(f"  {request:<16} {end:>14} {gap:>12}", flush=True)
                    if ejected:
                        for _, _, gap in cells:
                            worst_ejected = max(worst_ejected, float(gap.replace(",", "")) if gap[0].isdigit()
                                                else float("inf"))
                    if streaming:
                        wall, code = doctor_wall(build, pg)
                        walls.append(f"  {label:<34} {wall:>6.1f} s  exit {code}")
                        if ejected:
                            slowest_doctor = max(slowest_doctor, wall)
    finally:
        pg.close()
    print("\ntscloud ssr doctor, wall time (every route, default 15 s timeout, runtime client installed):")
    print("\n".join(walls))
    print(f"\nworst ejected gap: {worst_ejected:,.0f} ms (target <= {TARGET_GAP_MS:.0f} ms)")
    print(f"slowest doctor on an ejected 7-route build: {slowest_doctor:.1f} s (target < {TARGET_DOCTOR_S:.0f} s)")
    return 0 if worst_ejected <= TARGET_GAP_MS and slowest_doctor < TARGET_DOCTOR_S else 1


if __name__ == "__main__":
    sys.exit(main())
