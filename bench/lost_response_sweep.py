"""The lost-response sweep: every create call of fullstack-app loses its first answer (a 500, then a
dropped connection), and eight seeds lose 10 % of all write answers at random; each deploy must converge
in the same run with no duplicate, a no-op after, and nothing tagged after destroy.

CI runs the every-create sweep; this adds the random seeds:

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
                                      "tests/cli/test_lost_responses.py"], cwd=REPO, env=env))


if __name__ == "__main__":
    main()
