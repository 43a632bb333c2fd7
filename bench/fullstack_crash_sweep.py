"""The full fullstack-app crash sweep: SIGKILL `tscloud deploy` after every one of its AWS requests
(journal kept for even N, deleted for odd N), re-run, and compare with an uninterrupted deploy.

CI runs a sample (the first call of each resource-creating operation); this runs all of them:

    python bench/fullstack_crash_sweep.py [--workers 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "TSCLOUD_FULLSTACK_CRASH_ALL": "1", "TSCLOUD_CRASH_WORKERS": str(args.workers)}
    test = "tests/cli/test_fullstack_crash.py::test_killed_deploys_converge_without_duplicates"
    raise SystemExit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:logging", "--timeout",
                                      "7200", test], cwd=REPO, env=env))


if __name__ == "__main__":
    main()
