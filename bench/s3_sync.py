"""2,000 files of 1-20 KB, tscloud's sync against `aws s3 sync` (pip awscli), to one moto server in one run.

    python3 bench/s3_sync.py [--files 2000]

Both tools go through the counting proxy, so object PUTs are counted on the wire, not taken from either
tool's own report. Three rounds:
  1. initial upload of every file (wall time, ours / aws);
  2. a rebuild: identical bytes, every mtime moved forward: files each tool re-uploads (we must upload none);
  3. one changed file.
tscloud's number is a whole `tscloud deploy` (plan of every step, sync, manifest, invalidation), against
a site that was first deployed with only its index.html, so the bucket and the distribution already exist,
just as `aws s3 sync` gets an existing bucket.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import ENV, installed, moto_server, run, site_config, table, tscloud_command

from tests.fakes.aws_proxy import AwsProxy


def make_build(dist: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    (dist / "index.html").write_text("<!doctype html><title>bench</title>")
    for i in range(count - 1):
        folder = ("assets", "img", "docs", "blog")[i % 4]
        name = f"{folder}/file-{i:05d}" + (".js" if folder == "assets" else ".txt")
        path = dist / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randint(1024, 20 * 1024)))


def touch_all(dist: Path, when: float) -> None:
    for path in dist.rglob("*"):
        if path.is_file():
            os.utime(path, (when, when))


def puts(proxy: AwsProxy, bucket: str) -> int:
    prefix = f"/{bucket}/"
    return sum(1 for r in proxy.requests() if r.method == "PUT" and r.path.startswith(prefix)
               and not r.path.startswith(prefix + "_tscloud/"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    aws_cli = installed("aws")
    if not aws_cli:
        print("the aws CLI is not installed: pip install awscli", file=sys.stderr)
        return 2
    server, moto = moto_server()
    work = Path(tempfile.mkdtemp(prefix="tscloud-bench-"))
    ours_proxy, aws_proxy = AwsProxy(moto), AwsProxy(moto)
    ours_proxy.start()
    aws_proxy.start()
    try:
        # -- set-up: tscloud's site exists with only index.html; aws gets an empty bucket ------------------
        project = work / "site"
        (project / "dist").mkdir(parents=True)
        site_config(project, "syncbench")
        (project / "dist" / "index.html").write_text("<!doctype html><title>bench</title>")
        deploy = [*tscloud_command(), "--endpoint-url", ours_proxy.endpoint, "--output", "json", "deploy"]
        first = run(deploy, cwd=project)
        assert first.code == 0, first.stderr
        import json

        our_bucket = json.loads(first.stdout)["outputs"]["bucket"]
        aws_bucket = "aws-cli-sync-bench"
        aws_env = {**ENV}
        aws = [aws_cli, "--endpoint-url", aws_proxy.endpoint, "--region", "us-east-1"]
        made = run([*aws, "s3", "mb", f"s3://{aws_bucket}"], env=aws_env)
        assert made.code == 0, made.stderr

        # Both tools read the same build directory.
        dist = project / "dist"
        make_build(dist, args.files)
        total_bytes = sum(p.stat().st_size for p in dist.rglob("*") if p.is_file())
        sync = [*aws, "s3", "sync", str(dist), f"s3://{aws_bucket}", "--only-show-errors"]
        rows = []

        def round_(label: str) -> None:
            ours_proxy.clear()
            aws_proxy.clear()
            ours = run(deploy, cwd=project)
            assert ours.code == 0, ours.stderr
            theirs = run(sync, env=aws_env)
            assert theirs.code == 0, theirs.stderr
            rows.append([label, f"{ours.seconds:.2f}", f"{theirs.seconds:.2f}", f"{ours.seconds / theirs.seconds:.2f}",
                         puts(ours_proxy, our_bucket), puts(aws_proxy, aws_bucket),
                         len(ours_proxy.requests()), len(aws_proxy.requests())])

        round_(f"1. initial upload ({args.files} files, {total_bytes / 1e6:.1f} MB)")
        # A rebuild: same bytes, every mtime newer than the upload (S3's LastModified has 1 s resolution),
        # yet not in the future, so once re-uploaded a file is older than its object again.
        time.sleep(2.1)
        touch_all(dist, int(time.time()) - 1)
        round_("2. rebuild, identical content, new mtimes")
        time.sleep(2.1)
        changed = next(p for p in sorted(dist.rglob("*.txt")))
        changed.write_bytes(changed.read_bytes()[::-1] + b"!")
        round_("3. one changed file")

        print(f"moto server {moto} (in-process), both tools through a counting proxy; awscli: {aws_cli}")
        print(table(["round", "ours s", "aws s", "ours/aws", "our PUTs", "aws PUTs", "our reqs", "aws reqs"], rows))
        ok = rows[1][4] == 0
        print(f"rebuild with identical content: tscloud uploaded {rows[1][4]} files (must be 0): "
              f"{'ok' if ok else 'FAIL'}")
        return 0 if ok else 1
    finally:
        ours_proxy.stop()
        aws_proxy.stop()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
