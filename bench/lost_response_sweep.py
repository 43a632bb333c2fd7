"""The lost-response sweep: every create call of every preset (fullstack-app, static-site, ssr-app with
either origin, api-domain) loses its first answer, once as a 500 and once as a dropped connection, and
eight fullstack-app seeds lose 10 % of all write answers at random; each deploy must converge in the same
run with no duplicate, a no-op after, and nothing tagged after destroy.

CI runs one loss mode per preset (and both for fullstack-app); this runs all of it:

    python bench/lost_response_sweep.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    env = {**os.environ, "TSCLOUD_LOST_FULL": "1"}
    raise SystemExit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:logging",
                                      "-n", "2", "tests/cli/test_lost_responses.py",
                                      "tests/cli/test_lost_responses_presets.py"], cwd=REPO, env=env))


if __name__ == "__main__":
    main()
