"""AWS requests made by a no-op redeploy of the bundled static-site example (and by `plan` after it).

    python3 bench/noop_requests.py

Counted on the wire by the counting proxy in front of a moto server, per operation; "mutating" is any
non-GET/HEAD REST call, or a JSON/query operation not named Get/List/Describe/Head; "resource writes"
are the mutating requests not aimed at the state bucket (its lock and journal requests are counted apart).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from _common import REPO, moto_server, run, site_config, table, tscloud_command

from tests.fakes.aws_proxy import AwsProxy


def main() -> int:
    server, moto = moto_server()
    work = Path(tempfile.mkdtemp(prefix="tscloud-bench-"))
    try:
        project = work / "site"
        shutil.copytree(REPO / "examples" / "static-site" / "dist", project / "dist")
        site_config(project, "noopbench")
        with AwsProxy(moto) as proxy:
            base = [*tscloud_command(), "--endpoint-url", proxy.endpoint, "--output", "json"]
            rows = []
            detail: dict[str, Counter[str]] = {}
            for label, args in (("first deploy", ["deploy"]), ("no-op redeploy", ["deploy"]),
                                ("plan after it", ["plan"])):
                proxy.clear()
                result = run([*base, *args], cwd=project)
                assert result.code == 0, result.stderr
                requests = proxy.requests()
                mutating = [r for r in requests if r.resource_write]
                state = [r for r in requests if r.state]
                statuses = ""
                if args == ["deploy"]:
                    statuses = ", ".join(sorted({s["status"] for s in json.loads(result.stdout)["steps"]}))
                rows.append([label, len(requests), len(mutating), len(state), len([r for r in state if r.mutating]),
                             f"{result.seconds:.2f}", statuses])
                detail[label] = Counter(r.describe() for r in requests)
        print(f"bundled example (5 files) against moto {moto}, through the counting proxy")
        print(table(["run", "requests", "resource writes", "state requests", "state writes", "seconds",
                     "step statuses"], rows))
        print()
        print("no-op redeploy, by operation:")
        print(table(["operation", "count"], [[op, n] for op, n in sorted(detail["no-op redeploy"].items())]))
        ok = rows[1][2] == 0
        print(f"no-op redeploy resource writes: {rows[1][2]} (must be 0; the lock and journal are counted apart): "
              f"{'ok' if ok else 'FAIL'}")
        return 0 if ok else 1
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
