"""What a config would run, as plain data: the inputs of the cost estimate.

Recorded in the journal's last run at every deploy, so `tscloud plan` can show what a config change
does to the monthly estimate. Only cost-relevant fields, only JSON types.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tscloud_py.config.schema import Config

INPUTS_VERSION = 1

# metrics each kind of watched resource puts into its alarms ([alerts]); the alarm catalogue
# (presets/steps/alarm_catalogue.py) is held to it by a test
ALARM_METRICS = {"alb": 3, "service": 2, "database": 3, "aurora": 2, "redis": 2, "queue": 2, "function": 2,
                 "distribution": 1}


def dir_bytes(path: Path) -> int:
    """Total size of the files under ``path`` (0 when it does not exist)."""
    total = 0
    try:
        entries = list(os.scandir(path))
    except OSError:
        return 0
    for entry in entries:  # scandir, not a path per file: a site can hold a hundred thousand
        try:
            if entry.is_dir(follow_symlinks=False):
                total += dir_bytes(Path(entry.path))
            elif entry.is_file():
                total += entry.stat().st_size
        except OSError:
            continue
    return total


def cost_inputs(config: Config) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "version": INPUTS_VERSION, "preset": config.preset, "region": config.region,
        "services": [], "alb": False, "task_public_ip": False, "database": None, "cache": None,
        "nat": False, "distribution": False, "site_bytes": 0, "s3_origin": False, "functions": [],
        "api_gateway": False,
    }
    if config.preset == "static-site" and config.site is not None:
        _site(inputs, config)
    elif config.preset == "fullstack-app":
        _fullstack(inputs, config)
    elif config.preset == "ssr-app" and config.ssr is not None:
        ssr = config.ssr
        inputs["distribution"] = True
        inputs["site_bytes"] = dir_bytes((config.base_dir / ssr.dir / "public").resolve())
        inputs["functions"].append({"role": "server", "memory": ssr.memory, "arch": ssr.architecture,
                                    "trigger": "requests"})
        for w in ssr.workers:
            inputs["functions"].append({"role": f"worker {w.name}", "memory": w.memory, "arch": w.architecture,
                                        "trigger": "queue", "batch_size": w.batch_size})
        inputs["api_gateway"] = ssr.origin == "api-gateway"
    _edge(inputs, config)
    return inputs


def _edge(inputs: dict[str, Any], config: Config) -> None:
    """[waf] where a distribution of ours (or [frontend]'s with waf.frontend) gets the web ACL; [alerts]."""
    waf = config.web_acl
    attached = inputs["distribution"] or (config.frontend is not None and config.waf is not None
                                          and config.waf.frontend)
    if waf is not None and attached:
        rules = 1 + len(waf.rate_limit_paths) + len(waf.managed_rules) + (1 if waf.block_countries else 0)
        inputs["waf"] = {"rules": rules}
    if config.alerts is None:
        return
    kinds = ["function"] * len(inputs["functions"])
    if config.preset == "ssr-app" and config.ssr is not None:
        kinds += ["queue"] * len(config.ssr.workers)
    if config.preset == "fullstack-app":
        kinds += ["alb"] + ["service"] * len(inputs["services"])
        db = config.database
        kinds += [] if db is None else ["aurora" if db.engine == "aurora-postgresql" else "database"]
        kinds += ["redis"] * (config.cache is not None) + ["queue"] * (config.queue is not None)
    kinds += ["distribution"] * bool(inputs["distribution"])
    inputs["alarms"] = {"metrics": sum(ALARM_METRICS[k] for k in kinds), "dashboards": 1}


def _site(inputs: dict[str, Any], config: Config) -> None:
    assert config.site is not None
    inputs["distribution"] = True
    inputs["s3_origin"] = True
    inputs["site_bytes"] = dir_bytes(config.site.resolved_dir(config.base_dir))


def _fullstack(inputs: dict[str, Any], config: Config) -> None:
    api = config.api
    if api is None:
        return
    inputs["services"].append({"role": "api", "cpu": api.cpu, "memory": api.memory, "arch": api.architecture,
                               "count": api.desired_count})
    queue = config.queue
    if queue is not None and queue.worker == "service":
        # The worker service runs the API's task size with the worker command; it scales on backlog
        # from worker_min_count.
        inputs["services"].append({"role": "worker", "cpu": api.cpu, "memory": api.memory,
                                   "arch": api.architecture, "count": queue.worker_min_count})
    inputs["alb"] = True
    net = config.network
    inputs["nat"] = bool(net is not None and net.vpc == "new" and net.nat_gateway)
    inputs["task_public_ip"] = not inputs["nat"]
    inputs["new_vpc"] = bool(net is not None and net.vpc == "new")
    db = config.database
    if db is not None:
        inputs["database"] = {"engine": db.engine, "instance_class": db.instance_class, "storage": db.storage,
                              "min_capacity": db.min_capacity, "max_capacity": db.max_capacity}
    cache = config.cache
    if cache is not None:
        inputs["cache"] = {"node_type": cache.node_type, "nodes": 1 + cache.replicas}
    if config.site is not None:
        _site(inputs, config)
