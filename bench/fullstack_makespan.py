"""fullstack-app deploy makespan under a latency model (issue 5, "Benchmark").

The emulator's waits are stretched to what AWS takes, scaled down 100x:
RDS available 6 min -> 3.6 s, ElastiCache available 8 min -> 4.8 s, ECS steady state 2 min -> 1.2 s,
CloudFront Deployed 4 min -> 2.4 s. The delay is injected where each wait starts (the one place a real
deploy spends that time), everything else runs against a moto server as usual.

Reported: the parallel makespan (Runner, 8 workers), the critical path of the step graph (longest
chain of measured step durations along `needs`), the same deploy one step at a time (max_workers=1),
both ratios, and the number of AWS requests.

    python bench/fullstack_makespan.py [--scale 100] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import tomllib

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
EXAMPLE = REPO / "examples" / "fullstack-app"

MODEL_MINUTES = {"rds": 6.0, "elasticache": 8.0, "ecs": 2.0, "cloudfront": 4.0}


def inject_latency(scale: float) -> None:
    from tscloud_py.aws.cloudfront.client import CloudFront
    from tscloud_py.aws.elasticache import ElastiCache
    from tscloud_py.aws.rds import Rds
    from tscloud_py.presets.fullstack_app.rollout import ServiceStep

    def delayed(cls: Any, name: str, key: str, only_create: bool = False) -> None:
        original = getattr(cls, name)
        seconds = MODEL_MINUTES[key] * 60 / scale

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not (only_create and kwargs.get("gone")):
                time.sleep(seconds)
            return original(*args, **kwargs)

        setattr(cls, name, wrapper)

    delayed(Rds, "wait_instance", "rds", only_create=True)
    delayed(ElastiCache, "wait", "elasticache", only_create=True)
    delayed(CloudFront, "wait_deployed", "cloudfront")
    delayed(ServiceStep, "wait", "ecs")


def run_deploy(endpoint: str, app: str, workers: int) -> dict[str, Any]:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.config.load import config_from_dict
    from tscloud_py.engine.runner import Runner
    from tscloud_py.engine.step import StepContext
    from tscloud_py.presets.fullstack_app.preset import FullstackApp

    raw = tomllib.loads((EXAMPLE / "tscloud.toml").read_text())
    raw["app"] = app
    config = config_from_dict(raw, "tscloud.toml", base_dir=EXAMPLE)
    factory = ClientFactory(region="us-east-1", endpoint_url=endpoint,
                            credentials={"aws_access_key_id": "bench", "aws_secret_access_key": "bench"})
    preset = FullstackApp(config, factory)
    steps = preset.steps()
    result = Runner(steps, StepContext(), None, max_workers=workers).deploy()
    failed = [(r.id, r.error.message if r.error else "") for r in result.failed]
    if failed:
        raise SystemExit(f"deploy of {app} failed: {failed}")
    durations = {r.id: r.seconds for r in result.results}
    return {"makespan": result.ended - result.started, "durations": durations,
            "needs": {s.id: list(s.needs) for s in steps}, "requests": factory.requests.total,
            "mutating": factory.requests.mutating}


def critical_path(durations: dict[str, float], needs: dict[str, list[str]]) -> tuple[float, list[str]]:
    finish: dict[str, tuple[float, list[str]]] = {}

    def visit(step: str) -> tuple[float, list[str]]:
        if step not in finish:
            before = max((visit(n) for n in needs[step]), default=(0.0, []), key=lambda x: x[0])
            finish[step] = (before[0] + durations[step], [*before[1], step])
        return finish[step]

    return max((visit(s) for s in needs), key=lambda x: x[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=100.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("MOTO_ECS_SERVICE_RUNNING", "1")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import logging

    from moto.server import ThreadedMotoServer

    from tscloud_py.emulator.fidelity import patch_moto_fidelity

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    patch_moto_fidelity()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    inject_latency(args.scale)
    try:
        parallel = run_deploy(endpoint, "benchpar", 8)
        serial = run_deploy(endpoint, "benchser", 1)
    finally:
        server.stop()
    cp_seconds, cp_steps = critical_path(parallel["durations"], parallel["needs"])
    report = {
        "latency_model_minutes": MODEL_MINUTES, "scale": args.scale,
        "parallel_makespan_s": round(parallel["makespan"], 2),
        "critical_path_s": round(cp_seconds, 2), "critical_path": cp_steps,
        "critical_path_step_s": {s: round(parallel["durations"][s], 2) for s in cp_steps},
        "modelled_wait_on_critical_path_s": round(
            max(MODEL_MINUTES["rds"], MODEL_MINUTES["elasticache"]) * 60 / args.scale
            + MODEL_MINUTES["ecs"] * 60 / args.scale, 2),
        "one_step_at_a_time_s": round(serial["makespan"], 2),
        "makespan_over_critical_path": round(parallel["makespan"] / cp_seconds, 3),
        "one_at_a_time_over_makespan": round(serial["makespan"] / parallel["makespan"], 2),
        "aws_requests": parallel["requests"], "aws_mutating_requests": parallel["mutating"],
        "steps": len(parallel["durations"]),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"latency model (minutes, scaled down {args.scale:g}x): {MODEL_MINUTES}")
    print(f"steps: {report['steps']}; AWS requests: {report['aws_requests']} ({report['aws_mutating_requests']} mutating)")
    print(f"parallel makespan:     {report['parallel_makespan_s']:.2f} s")
    print(f"critical path:         {report['critical_path_s']:.2f} s  "
          f"({' -> '.join(f'{s} {d:.2f}s' for s, d in report['critical_path_step_s'].items())})")
    print(f"one step at a time:    {report['one_step_at_a_time_s']:.2f} s")
    print(f"makespan / critical path:    {report['makespan_over_critical_path']:.3f}")
    print(f"one-at-a-time / makespan:    {report['one_at_a_time_over_makespan']:.2f}x")


if __name__ == "__main__":
    main()
