"""The local side of a redeploy of a big site: what a redeploy of ``--files`` files with ``--changed`` of
them rewritten costs tscloud itself, with no AWS behind it.

    python3 bench/redeploy_scale.py [--files 100005] [--changed 3] [--max-kb 4]

A build of ``--files`` files (1 KB to ``--max-kb`` KB) is hashed once and its manifest made, as a first
deploy leaves them (the hash cache in ``.tscloud/cache``, the manifest the bucket is sealed with). Then
``--changed`` files are rewritten and a fresh process does what the upload step does before its first
PUT when the journal is current: walk the build, hash what the cache cannot vouch for, parse the sealed
manifest, plan the sync against it, and write the new manifest's JSON. Printed: that process's wall and
CPU time, its peak memory (``_common.PeakMemory``), how many files it read (the hash cache's misses), and the plan.

The requests are left out: against a sealed bucket they are the manifest's GET and the changed files'
PUTs, whatever the site's size (``bench/redeploy.py`` measures them against moto at 30 ms). Exits non-zero
if a target of issue 29 is missed: only the changed files read, peak memory under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ENV, REPO, PeakMemory, table

MEMORY_MB = 300

# Run in a process of its own, so its peak memory is this work's alone.
REDEPLOY = """
import json, sys, time
from pathlib import Path
from tscloud_py.build.hash_cache import HashCache
from tscloud_py.build.publish import walk
from tscloud_py.build.sync import hash_files, plan_sync, sealed_listing
from tscloud_py.presets.steps.upload import manifest_body
dist, cache_dir, manifest_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
started = time.monotonic()
cache = HashCache.of(cache_dir, dist)
local = hash_files(walk(dist).files, cache)
manifest = json.loads(manifest_path.read_bytes())
plan = plan_sync(local, sealed_listing(manifest, local), manifest)
body = manifest_body(plan.manifest)
print(json.dumps({"seconds": time.monotonic() - started, "files": len(local), "read": cache.misses,
                  "uploads": [f.key for f in plan.uploads], "deletes": len(plan.deletes),
                  "manifest_bytes": len(body)}))
"""

FIRST = """
import json, sys
from pathlib import Path
from tscloud_py.build.hash_cache import HashCache
from tscloud_py.build.publish import walk
from tscloud_py.build.sync import hash_files, plan_sync
dist, cache_dir, manifest_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
local = hash_files(walk(dist).files, HashCache.of(cache_dir, dist))
manifest_path.write_text(json.dumps(plan_sync(local, {}, None).manifest))
"""


def make_build(dist: Path, count: int, max_kb: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    (dist / "index.html").parent.mkdir(parents=True, exist_ok=True)
    (dist / "index.html").write_text("<!doctype html><title>bench</title>")
    for i in range(count - 1):
        folder = dist / ("assets", "img", "docs", "blog")[i % 4] / f"{(i // 4) % 100:02d}"
        if i < 400:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file-{i:06d}.txt").write_bytes(rng.randbytes(rng.randint(1024, max_kb * 1024)))


def run(script: str, *args: str) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds and peak MB of ``script`` in a fresh interpreter, and its stdout."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([sys.executable, "-c", script, *args], env=ENV, stdout=out, cwd=REPO)
        memory = PeakMemory(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        peak = memory.stop()
        out.seek(0)
        text = out.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the measured process failed:\n{text[-2000:]}")
    return (time.monotonic() - started, usage.ru_utime + usage.ru_stime,
            peak if peak is not None else usage.ru_maxrss / 1024, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100005, help="files in the build (default 100,005)")
    parser.add_argument("--changed", type=int, default=3, help="files rewritten before the redeploy (default 3)")
    parser.add_argument("--max-kb", type=int, default=4, help="largest file, KB (default 4)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tscloud-scale-"))
    try:
        dist, cache, manifest = work / "dist", work / ".tscloud" / "cache", work / "manifest.json"
        make_build(dist, args.files, args.max_kb)
        first_s, first_cpu, first_mb, _ = run(FIRST, str(dist), str(cache), str(manifest))
        time.sleep(1.1)  # what a build wrote in the cache's last second is hashed again, as git does
        files = sorted(p for p in dist.rglob("*.txt"))
        rng = random.Random(1)
        changed = [files[(i * len(files)) // args.changed] for i in range(args.changed)]
        for path in changed:
            path.write_bytes(rng.randbytes(rng.randint(1024, args.max_kb * 1024)))
        wall, cpu, peak, out = run(REDEPLOY, str(dist), str(cache), str(manifest))
        doc = json.loads(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    ok = doc["read"] == args.changed and peak < MEMORY_MB and len(doc["uploads"]) == args.changed
    print(f"{args.files} files of 1-{args.max_kb} KB, {args.changed} rewritten; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    print(table(["work", "wall", "CPU", "peak memory", "files read", "plan"], [
        ["first hash of the build, its manifest", f"{first_s:.2f} s", f"{first_cpu:.2f} s", f"{first_mb:.0f} MB",
         args.files, ""],
        ["redeploy's local side (process start to the new manifest)", f"{wall:.2f} s", f"{cpu:.2f} s",
         f"{peak:.0f} MB <= {MEMORY_MB}", f"{doc['read']} (== {args.changed})",
         f"upload {len(doc['uploads'])}, delete {doc['deletes']}, manifest {doc['manifest_bytes'] / 1e6:.1f} MB"],
    ]))
    print(f"issue 29 targets: {'all met' if ok else 'MISSED'}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
