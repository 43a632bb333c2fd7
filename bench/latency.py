"""Speed where AWS is far away: every figure measured through the latency proxy, next to its floor.

    python3 bench/latency.py [--ms 30] [--files 1005] [--runs 3]

Every request, from tscloud and from `aws s3 sync` alike, goes through ``bench/latency_proxy.py`` in
front of one moto server (a process of its own), first adding nothing, then ``--ms`` per request.

- no-op `plan` and no-op `deploy` of the bundled fullstack-app example (deployed first): the median of
  ``--runs`` runs at 0 ms and at ``--ms``. "share of the serial latency cost paid" is
  (time at ms - time at 0) / (requests x ms): 1.0 is one request after another. Floor: the longest
  chain of dependent reads x ms, that is the step graph's critical path where each step weighs the
  round trips its own reads take (measured with that step read alone), plus the run's requests made
  outside any step (the account id), taken as one after another.
- upload of ``--files`` files of 1-20 KB: a whole `tscloud deploy` of a static site (whose bucket and
  distribution exist) against `aws s3 sync` of the same directory into an existing bucket, in the same
  run, at ``--ms``. Floor: PUTs / concurrency x ms. Next to each, the CPU seconds it cost the tool,
  moto and the proxies: where they add up to more than the cores can give in the time, the figure
  measures the CPU, not the wire.

"chain on the wire": of the run's requests at ``--ms``, the longest chain each of which was sent only
after the one before it was answered (as the proxy saw them), and that over the requests: the share of
the serial latency cost as the wire shows it, which CPU contention on a busy machine hardly moves,
while it can swamp the difference of two wall times.

"writes" are resource writes; the lock and journal writes every deploy makes to its state bucket are
shown apart ("+N state").

Exits non-zero if a target is missed: no-op plan and deploy each pay at most 0.15 of the serial latency
cost with zero resource writes (issue 29), and every file of the upload is sent once. The upload's time
against `aws s3 sync` is printed, not judged: on a machine of two cores both runs wait on the CPU that
moto, the proxies and the tool share, not on the wire, so the ratio is one of CPU, not of latency
(bench/README.md); `bench/redeploy.py` measures the upload against the bare syncs instead.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib
from _common import ENV, REPO, Run, installed, run, site_config, table, tscloud_command
from latency_proxy import dependent_chain, far_endpoint

from tests.fakes.aws_proxy import AwsProxy

AWS_CLI_CONCURRENCY = 10  # `aws s3 sync`'s default max_concurrent_requests
PLAN_SHARE_TARGET = 0.15


@dataclass
class Moto:
    endpoint: str
    pid: int

    def cpu_seconds(self) -> float:
        """The CPU time the moto process has used so far (user + system)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuUse:
    client: float  # the tool's own process
    moto: float
    proxy: float  # this process: the proxies' threads

    @property
    def total(self) -> float:
        return self.client + self.moto + self.proxy

    @property
    def machine_seconds(self) -> float:
        """The least wall time that CPU takes on this machine's cores."""
        return self.total / (os.cpu_count() or 1)

    def __str__(self) -> str:
        return (f"CPU {self.client:.1f} s client, {self.moto:.1f} s moto, {self.proxy:.1f} s proxy "
                f"(>= {self.machine_seconds:.2f} s on {os.cpu_count()} cores)")


def with_cpu(moto: Moto, args: list[str], cwd: Path | None = None,
             env: dict[str, str] | None = None) -> tuple[Run, CpuUse]:
    """``run(args)`` and the CPU time it cost each party: on a machine of few cores a run that waits
    for the CPU rather than for the wire is told apart by this."""
    def own() -> tuple[float, float]:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime

    (me0, kids0), moto0 = own(), moto.cpu_seconds()
    result = run(args, cwd=cwd, env=env)
    (me1, kids1), moto1 = own(), moto.cpu_seconds()
    return result, CpuUse(kids1 - kids0, moto1 - moto0, me1 - me0)


@contextmanager
def moto_process() -> Iterator[Moto]:
    """A moto server in a process of its own: the proxy, tscloud and moto then do not share one
    interpreter lock, so what is measured is the clients, not moto's turn for the CPU."""
    script = ("import sys, threading; sys.path.insert(0, sys.argv[1]); import _common; "
              "server, endpoint = _common.moto_server(); print(endpoint, flush=True); threading.Event().wait()")
    env = {**os.environ, "MOTO_ECS_SERVICE_RUNNING": "1", "MOTO_ACM_VALIDATION_WAIT": "0",
           "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", script, str(Path(__file__).parent)], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        endpoint = proc.stdout.readline().strip()
        if not endpoint.startswith("http"):
            raise SystemExit("the moto server did not start")
        yield Moto(endpoint, proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


def timed(proxy: AwsProxy, args: list[str], cwd: Path, runs: int) -> tuple[float, int, int, int, int]:
    """Median seconds of ``runs`` runs; the requests of the last one (all, resource writes, state
    writes: the lock and journal, which every deploy makes) and the longest chain of them that waited
    one for another on the wire (the median over the runs)."""
    seconds, chains = [], []
    requests = writes = state = 0
    for _ in range(runs):
        proxy.clear()
        result = run(args, cwd=cwd)
        assert result.code == 0, result.stderr[-3000:]
        seconds.append(result.seconds)
        seen = proxy.requests()
        chains.append(dependent_chain(seen))
        requests = len(seen)
        writes = sum(1 for r in seen if r.resource_write)
        state = sum(1 for r in seen if r.mutating and r.state)
    return statistics.median(seconds), requests, writes, state, int(statistics.median(chains))


def read_chain(proxy: AwsProxy, project: Path, latency: float) -> tuple[int, list[str], int]:
    """The fullstack graph's longest chain of dependent reads: (round trips, steps on it, requests).

    Each step is read alone, with every output it needs already known, so the requests seen are its
    own; the round trips they took (however many ran at once) weigh the step on the graph."""
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.config.load import config_from_dict
    from tscloud_py.engine.graph import topo_order
    from tscloud_py.engine.plan import Planner
    from tscloud_py.engine.step import StepContext
    from tscloud_py.presets import PresetOptions, load_preset

    config = config_from_dict(tomllib.loads((project / "tscloud.toml").read_text()), "tscloud.toml",
                              base_dir=project)
    factory = ClientFactory(region=config.region, endpoint_url=proxy.endpoint,
                            credentials={"aws_access_key_id": "bench", "aws_secret_access_key": "bench"})
    steps = topo_order(load_preset(config, factory, PresetOptions()).steps())
    planner = Planner(steps, StepContext())
    proxy.latency = 0.0
    planner.plan()  # every output known, every client built
    proxy.latency = latency
    weight: dict[str, int] = {}
    total = 0
    for step in steps:
        factory.reads.clear()  # a step read alone pays for its own reads
        proxy.clear()
        planner.plan_step(step)
        weight[step.id] = dependent_chain(proxy.requests())
        total += len(proxy.requests())
    proxy.latency = 0.0
    finish: dict[str, tuple[int, list[str]]] = {}
    for step in steps:
        before = max((finish[n] for n in step.needs), default=(0, []), key=lambda f: f[0])
        finish[step.id] = (before[0] + weight[step.id], [*before[1], step.id])
    rounds, path = max(finish.values(), key=lambda f: f[0])
    return rounds, path, total


def make_build(dist: Path, count: int, seed: int = 11) -> int:
    rng = random.Random(seed)
    (dist / "index.html").write_text("<!doctype html><title>bench</title>")
    total = 0
    for i in range(count - 1):
        folder = ("assets", "img", "docs", "blog")[i % 4]
        path = dist / folder / (f"file-{i:05d}" + (".js" if folder == "assets" else ".txt"))
        path.parent.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(rng.randint(1024, 20 * 1024))
        path.write_bytes(data)
        total += len(data)
    return total


def object_puts(proxy: AwsProxy, bucket: str) -> int:
    prefix = f"/{bucket}/"
    return sum(1 for r in proxy.requests() if r.method == "PUT" and r.path.startswith(prefix)
               and not r.path.startswith(prefix + "_tscloud/"))


def upload_round(moto: Moto, work: Path, files: int, latency: float) -> dict[str, Any]:
    aws_cli = installed("aws")
    if not aws_cli:
        raise SystemExit("the aws CLI is not installed: pip install awscli")
    project = work / "site"
    (project / "dist").mkdir(parents=True)
    site_config(project, "latencybench")
    # a different page from make_build's, so the measured deploy has every one of its files to send
    (project / "dist" / "index.html").write_text("<!doctype html><title>bench, before</title>")
    with far_endpoint(moto.endpoint, 0.0) as ours, far_endpoint(moto.endpoint, 0.0) as theirs:
        deploy = [*tscloud_command(), "--endpoint-url", ours.endpoint, "--output", "json", "deploy"]
        first = run(deploy, cwd=project)
        assert first.code == 0, first.stderr[-3000:]
        our_bucket = json.loads(first.stdout)["outputs"]["bucket"]
        aws = [aws_cli, "--endpoint-url", theirs.endpoint, "--region", "us-east-1"]
        their_bucket = "aws-cli-latency-bench"
        made = run([*aws, "s3", "mb", f"s3://{their_bucket}"], env=ENV)
        assert made.code == 0, made.stderr
        size = make_build(project / "dist", files)
        ours.latency = theirs.latency = latency
        ours.clear()
        mine, our_cpu = with_cpu(moto, deploy, cwd=project)
        assert mine.code == 0, mine.stderr[-3000:]
        sync, their_cpu = with_cpu(moto, [*aws, "s3", "sync", str(project / "dist"), f"s3://{their_bucket}",
                                          "--only-show-errors"], env=ENV)
        assert sync.code == 0, sync.stderr[-3000:]
        return {"ours_s": mine.seconds, "aws_s": sync.seconds, "our_puts": object_puts(ours, our_bucket),
                "aws_puts": object_puts(theirs, their_bucket), "our_requests": len(ours.requests()),
                "aws_requests": len(theirs.requests()), "bytes": size, "our_cpu": our_cpu,
                "aws_cpu": their_cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ms", type=float, default=30.0, help="latency added to every request (default 30)")
    parser.add_argument("--files", type=int, default=1005, help="files in the upload (default 1005)")
    parser.add_argument("--runs", type=int, default=3, help="runs per no-op figure; the median counts")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document")
    args = parser.parse_args()
    latency = args.ms / 1000
    work = Path(tempfile.mkdtemp(prefix="tscloud-bench-"))
    stack = ExitStack()
    moto = stack.enter_context(moto_process())
    rows: list[list[Any]] = []
    report: dict[str, Any] = {"ms": args.ms}
    ok = True
    try:
        project = work / "fullstack"
        shutil.copytree(REPO / "examples" / "fullstack-app", project)
        with far_endpoint(moto.endpoint, 0.0) as proxy:
            base = [*tscloud_command(), "--endpoint-url", proxy.endpoint, "--output", "json"]
            first = run([*base, "deploy"], cwd=project)
            assert first.code == 0, first.stderr[-3000:]
            rounds, path, step_requests = read_chain(proxy, project, latency)
            for command in ("plan", "deploy"):
                proxy.latency = 0.0
                at0, _, _, _, _ = timed(proxy, [*base, command], project, args.runs)
                proxy.latency = latency
                atl, requests, mutating, state, wire = timed(proxy, [*base, command], project, args.runs)
                outside = max(requests - step_requests, 0)
                floor = (rounds + outside) * latency
                share = (atl - at0) / (requests * latency)
                target = share <= PLAN_SHARE_TARGET and mutating == 0
                ok &= target
                rows.append([f"no-op `tscloud {command}`, fullstack-app", requests, f"{mutating} (+{state} state)",
                             f"{at0:.2f} s",
                             f"{atl:.2f} s", f"{floor:.2f} s", f"{share:.2f}",
                             f"{wire} ({wire / requests:.2f})",
                             f"<= {PLAN_SHARE_TARGET}, 0 writes: {'ok' if target else 'MISSED'}", ""])
                report[command] = {"requests": requests, "resource_writes": mutating, "state_writes": state,
                                   "at_0_s": round(at0, 3),
                                   "at_ms_s": round(atl, 3), "floor_s": round(floor, 3), "share": round(share, 3),
                                   "chain_on_the_wire": wire}
        report["read_chain"] = {"round_trips": rounds, "steps": path, "requests_outside_steps": outside}
        up = upload_round(moto, work, args.files, latency)
        from tscloud_py.presets.steps.upload import DEFAULT_UPLOAD_CONCURRENCY

        ratio = up["ours_s"] / up["aws_s"]
        target = up["our_puts"] == args.files
        ok &= target
        mb = up["bytes"] / 1e6
        rows.append([f"upload of {args.files} files ({mb:.1f} MB): `tscloud deploy`", up["our_requests"], "",
                     "", f"{up['ours_s']:.2f} s",
                     f"{up['our_puts'] / DEFAULT_UPLOAD_CONCURRENCY * latency:.2f} s", "", "",
                     f"ratio {ratio:.2f}; every file once: {'ok' if target else 'MISSED'} ({up['our_puts']} PUTs)",
                     str(up["our_cpu"])])
        rows.append(["  same files: `aws s3 sync`", up["aws_requests"], "", "", f"{up['aws_s']:.2f} s",
                     f"{up['aws_puts'] / AWS_CLI_CONCURRENCY * latency:.2f} s", "", "", "", str(up["aws_cpu"])])
        report["upload"] = {**{k: v for k, v in up.items() if not k.endswith("_cpu")}, "ratio": round(ratio, 3),
                            "concurrency": DEFAULT_UPLOAD_CONCURRENCY,
                            "cpu_s": {who: {"client": round(up[f"{who}_cpu"].client, 2),
                                            "moto": round(up[f"{who}_cpu"].moto, 2),
                                            "proxy": round(up[f"{who}_cpu"].proxy, 2)} for who in ("our", "aws")}}
    finally:
        stack.close()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"every request through bench/latency_proxy.py (+0 ms, then +{args.ms:g} ms) to one moto server; "
              f"median of {args.runs} runs per no-op figure")
        print(table(["measure", "requests", "writes", "at 0 ms", f"at {args.ms:g} ms", "floor",
                     "share of serial latency paid", "chain on the wire (share)", "target", "CPU"], rows))
        print(f"longest chain of dependent reads: {rounds} round trips ({' -> '.join(path)})"
              f" + {outside} requests outside the steps")
        ours, theirs = up["our_cpu"], up["aws_cpu"]
        print(f"upload CPU: tscloud {ours.client / max(up['our_puts'], 1) * 1000:.2f} ms of client CPU per PUT (the whole run over its PUTs), "
              f"aws s3 sync {theirs.client / max(up['aws_puts'], 1) * 1000:.2f} ms; with moto and the proxy the "
              f"runs cost the machine {ours.total:.1f} s and {theirs.total:.1f} s of CPU (ratio "
              f"{ours.total / theirs.total:.2f}): where both runs wait on the CPU, not the wire, their time "
              "ratio is that ratio")
    print(f"targets: {'all met' if ok else 'MISSED'}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
