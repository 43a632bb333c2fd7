"""First deploy and no-change redeploy of examples/fullstack-build on a real Docker engine, against
`tscloud local serve` (whose ECR fronts a real registry), split into build, push and the rest; then the
bytes pushed after a one-line code change (the base layers are reused).

Needs a Docker engine (DOCKER_HOST, a context or the default socket) and Debian's docker-registry;
`source .ci/engines.sh && engines_install && engines_up` starts a private engine and makes a local
base image (TSCLOUD_TEST_BASE_IMAGE), which this script then uses instead of pulling busybox.

    python3 bench/image_deploy.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import ENV, REPO, tscloud_command


def image_split(project: Path) -> dict[str, Any]:
    """From the newest run record: seconds building, pushing, and bytes pushed by the image step."""
    record = json.loads(sorted((project / ".tscloud" / "deploys").glob("*.json"))[-1].read_text())
    events = [e for e in record["events"] if e["step_id"] == "image"]
    at = {e["what"].split(" ", 1)[0]: float(e["at"]) for e in events if e["kind"] == "message"}
    finished = next(float(e["at"]) for e in events if e["kind"] == "finished")
    pushed = next((e["what"] for e in events if e["what"].startswith("pushed ")), "")
    size = re.search(r"(\d+) bytes", pushed)
    build = at["pushing"] - at["building"] if "building" in at else 0.0
    push = finished - at["pushing"] if "pushing" in at else 0.0
    return {"build": build, "push": push, "bytes": int(size.group(1)) if size else 0, "built": "building" in at}


def deploy(project: Path, env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run([*tscloud_command(), "--local", "--output", "json", "deploy"], cwd=project, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"deploy failed:\n{done.stderr[-3000:]}")
    return seconds, image_split(project)


def one_run(base_image: str, network: str | None) -> dict[str, dict[str, Any]]:
    work = Path(tempfile.mkdtemp(prefix="tscloud-bench-image-"))
    project = work / "fullstack-build"
    shutil.copytree(REPO / "examples" / "fullstack-build", project)
    toml = project / "tscloud.toml"
    text = toml.read_text().replace('BASE = "busybox:1.36"', f'BASE = "{base_image}"')
    if network:
        text = text.replace('# network = "none"', f'network = "{network}"')
    toml.write_text(text)
    env = {**ENV, "TMPDIR": str(work)}
    serve = subprocess.Popen([*tscloud_command(), "local", "serve"], cwd=project, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert serve.stdout is not None
        serve.stdout.readline()
        out: dict[str, dict[str, Any]] = {}
        for name in ("first deploy", "no-change redeploy", "one-line change"):
            if name == "one-line change":
                page = project / "api" / "www" / "index.html"
                page.write_text(page.read_text() + "<p>one more line</p>\n")
            total, split = deploy(project, env)
            out[name] = {"total": total, **split, "rest": total - split["build"] - split["push"]}
        return out
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("docker-registry") is None:
        sys.exit("needs Debian's docker-registry (apt-get install docker-registry)")
    base = os.environ.get("TSCLOUD_TEST_BASE_IMAGE", "busybox:1.36")
    # an engine started by .ci/engines.sh has no bridge network
    network = "none" if os.environ.get("TSCLOUD_TEST_BASE_IMAGE") else None
    runs = [one_run(base, network) for _ in range(args.runs)]
    print(f"examples/fullstack-build on a real engine, median of {args.runs} runs (seconds; bytes pushed)")
    print(f"{'deploy':<20}{'total':>8}{'build':>8}{'push':>8}{'rest':>8}{'pushed bytes':>14}")
    for name in runs[0]:
        med = {k: statistics.median(r[name][k] for r in runs) for k in ("total", "build", "push", "rest", "bytes")}
        print(f"{name:<20}{med['total']:>8.2f}{med['build']:>8.2f}{med['push']:>8.2f}{med['rest']:>8.2f}"
              f"{int(med['bytes']):>14,}")
    rebuilt = [i for i, r in enumerate(runs) if r["no-change redeploy"]["built"] or r["no-change redeploy"]["bytes"]]
    heavier = [i for i, r in enumerate(runs) if r["one-line change"]["bytes"] >= r["first deploy"]["bytes"]]
    if rebuilt or heavier:
        sys.exit(f"target missed: runs {rebuilt} rebuilt on the no-change redeploy, runs {heavier} pushed as much "
                 f"on a one-line change as on the first deploy: {json.dumps(runs, indent=1)}")

if __name__ == "__main__":
    main()
