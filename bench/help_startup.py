"""`tscloud --help` cold start: the median of 10 fresh processes (target: under 200 ms).

    python3 bench/help_startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys

from _common import run, table, tscloud_command

TARGET_MS = 200.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    command = tscloud_command()
    run([*command, "--help"])  # warm the OS page cache once; every measured run is still a new process
    rows = []
    medians = {}
    for label, argv in (("python3 -c pass (floor)", [sys.executable, "-c", "pass"]),
                        ("tscloud --help", [*command, "--help"]),
                        ("tscloud --version", [*command, "--version"])):
        times = []
        for _ in range(args.runs):
            result = run(argv)
            assert result.code == 0, result.stderr
            times.append(result.seconds * 1000)
        medians[label] = statistics.median(times)
        rows.append([label, f"{statistics.median(times):.0f}", f"{min(times):.0f}", f"{max(times):.0f}"])
    print(f"command: {' '.join(command)} ({args.runs} runs each)")
    print(table(["what", "median ms", "min ms", "max ms"], rows))
    ok = medians["tscloud --help"] < TARGET_MS
    print(f"target: --help median < {TARGET_MS:.0f} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
