"""Each preset's step graph as data: ``{step id: needs}`` for every option that adds, removes or rewires a
step, on and off (options that only change what a step sets, like spa or retain, leave the graph alone).

And needs are what the steps read: a step holds a ``Ref`` for every output it reads
(``engine.ref.referenced_steps``), so its needs must list exactly those steps, plus the few it must only
come after, each named below with the reason."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tscloud_py.aws.s3 import S3
from tscloud_py.aws.session import ClientFactory
from tscloud_py.config.load import config_from_dict
from tscloud_py.engine.ref import UnknownOutputError, referenced_steps
from tscloud_py.engine.step import Step
from tscloud_py.presets import load_preset
from tscloud_py.presets.naming import Names
from tscloud_py.presets.steps.site import BucketStep

REGION = "us-east-1"


def steps(tmp_path: Path, raw: dict[str, Any], region: str = REGION) -> list[Step]:
    """The preset's steps for ``raw`` (with app = "shop"), in a project holding what the presets read."""
    if not (tmp_path / "dist").exists():
        (tmp_path / "dist").mkdir()
        (tmp_path / "dist" / "index.html").write_text("<h1>shop</h1>")
        shutil.copytree(REPO / "examples" / "ssr-app" / ".output", tmp_path / ".output")
        shutil.copytree(REPO / "examples" / "ssr-app" / "worker", tmp_path / "worker")
    config = config_from_dict({"app": "shop", **raw}, "tscloud.toml", base_dir=tmp_path, region=region)
    return load_preset(config, ClientFactory(region=region)).steps()


def needs(graph: list[Step]) -> dict[str, list[str]]:
    return {s.id: sorted(s.needs) for s in graph}


ROUTE53 = {"provider": "route53"}
EMAIL = {"email": "ops@example.com"}
TOPIC = {"sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:pager"}


# -- static-site -----------------------------------------------------------------------------------
SITE_WITH_DOMAIN = {  # fullstack-app's [site] is the same graph
    "bucket": [],
    "oac": [],
    "certificate": [],
    "distribution": ["bucket", "certificate", "oac"],
    "bucket-policy": ["bucket", "distribution"],
    "upload": ["bucket"],
    "invalidation": ["bucket-policy", "distribution", "upload"],
    "dns": ["distribution"],
}


def test_static_site_needs(tmp_path: Path) -> None:
    plain = steps(tmp_path, {"preset": "static-site", "site": {"dir": "dist"}})
    assert needs(plain) == {
        "bucket": [],
        "oac": [],
        "distribution": ["bucket", "oac"],
        "bucket-policy": ["bucket", "distribution"],
        "upload": ["bucket"],
        "invalidation": ["bucket-policy", "distribution", "upload"],
    }
    domain = steps(tmp_path, {"preset": "static-site", "site": {"dir": "dist", "domain": "www.example.com"},
                              "dns": ROUTE53})
    assert needs(domain) == SITE_WITH_DOMAIN
    # [waf] (a production stage has it without the table): the distribution names the web ACL
    waf = steps(tmp_path, {"preset": "static-site", "stage": "prod", "site": {"dir": "dist"}})
    assert needs(waf) == {**needs(plain), "web-acl": [], "distribution": ["bucket", "oac", "web-acl"]}
    # [alerts]: a topic to mail, and alarms on the distribution
    alerts = steps(tmp_path, {"preset": "static-site", "site": {"dir": "dist"}, "alerts": EMAIL})
    assert needs(alerts) == {**needs(plain), "alerts-topic": [], "alarms": ["alerts-topic", "distribution"]}
    # an existing topic: no topic step
    topic = steps(tmp_path, {"preset": "static-site", "site": {"dir": "dist"}, "alerts": TOPIC})
    assert needs(topic) == {**needs(plain), "alarms": ["distribution"]}


# -- api-domain ------------------------------------------------------------------------------------
def test_api_domain_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rest = steps(tmp_path, {"preset": "api-domain", "api_domain": {"domain": "api.example.com", "api_id": "abc123"},
                            "dns": ROUTE53})
    assert needs(rest) == {
        "certificate": [],
        "domain": ["certificate"],
        "mapping": ["domain"],
        "dns": ["domain"],
    }
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token")  # read when the provider is made, never sent here
    alb = steps(tmp_path, {"preset": "api-domain", "api_domain": {"domain": "api.example.com", "load_balancer": "lb"},
                           "dns": {"provider": "cloudflare"}})
    assert needs(alb) == {
        "certificate": [],
        "listener": ["certificate"],
        "dns": ["listener"],
    }


# -- ssr-app ---------------------------------------------------------------------------------------
SSR_SHARED = {
    "bucket": [],
    "oac": [],
    "log-group": [],
    "role": ["log-group"],
    "function": ["bucket", "log-group", "role"],
    "edge-function": [],
    "bucket-policy": ["bucket", "distribution"],
    "upload": ["bucket"],
    "invalidation": ["bucket-policy", "distribution", "upload"],
}


def test_ssr_app_needs(tmp_path: Path) -> None:
    function_url = steps(tmp_path, {"preset": "ssr-app", "ssr": {}})
    assert needs(function_url) == {
        **SSR_SHARED,
        "server-oac": [],
        "function-url": ["function"],
        "distribution": ["bucket", "edge-function", "function-url", "oac", "server-oac"],
        "server-permission": ["distribution", "function"],
    }
    api = steps(tmp_path, {"preset": "ssr-app", "ssr": {"origin": "api-gateway"}})
    assert needs(api) == {
        **SSR_SHARED,
        "api": ["function"],
        "server-permission": ["api", "function"],
        "distribution": ["api", "bucket", "edge-function", "oac"],
    }
    waf = steps(tmp_path, {"preset": "ssr-app", "ssr": {}, "waf": {}})
    assert needs(waf) == {
        **needs(function_url),
        "web-acl": [],
        "distribution": ["bucket", "edge-function", "function-url", "oac", "server-oac", "web-acl"],
    }
    workers = steps(tmp_path, {"preset": "ssr-app", "ssr": {"workers": [{"name": "jobs", "dir": "worker"},
                                                                        {"name": "mail", "dir": "worker"}]}})
    assert needs(workers) == {
        **needs(function_url),
        "queue-jobs": [],
        "worker-logs-jobs": [],
        "worker-role-jobs": ["queue-jobs", "worker-logs-jobs"],
        "worker-jobs": ["worker-logs-jobs", "worker-role-jobs"],
        "worker-events-jobs": ["queue-jobs", "worker-jobs"],
        "queue-mail": [],
        "worker-logs-mail": [],
        "worker-role-mail": ["queue-mail", "worker-logs-mail"],
        "worker-mail": ["worker-logs-mail", "worker-role-mail"],
        "worker-events-mail": ["queue-mail", "worker-mail"],
    }
    # [alerts]: alarms on the server, the distribution and each worker's function and queue
    alerts = steps(tmp_path, SSR_ALERTS)
    jobs = {k: v for k, v in needs(workers).items() if not k.endswith("-mail")}
    assert needs(alerts) == {
        **jobs,
        "alerts-topic": [],
        "alarms": ["alerts-topic", "distribution", "function", "queue-jobs", "worker-jobs"],
    }


SSR_ALERTS: dict[str, Any] = {"preset": "ssr-app", "alerts": EMAIL, "ssr": {
    "workers": [{"name": "jobs", "dir": "worker"}]}}


# -- fullstack-app ---------------------------------------------------------------------------------
API = {"image": "ghcr.io/acme/api:1.2.3"}
FULLSTACK_EVERY_TABLE: dict[str, Any] = {
    "preset": "fullstack-app", "api": {**API, "domain": "api.example.com"},
    "site": {"dir": "dist", "domain": "www.example.com"}, "database": {}, "cache": {},
    "queue": {"worker": "service", "worker_command": ["node", "worker.js"]}, "mail": {"domain": "example.com"},
    "schedules": [{"name": "nightly", "expression": "rate(1 day)", "command": ["true"]}],
    "network": {"vpc": "new", "nat_gateway": True}, "dns": ROUTE53}
FULLSTACK_FRONTEND_WAF: dict[str, Any] = {
    "preset": "fullstack-app", "api": API, "frontend": {"distribution_id": "E2QWRUHAPOMQZL"},
    "waf": {"frontend": True}}
FULLSTACK_LAMBDA_WORKER: dict[str, Any] = {
    "preset": "fullstack-app", "api": API, "queue": {"worker": "lambda", "worker_dir": "worker"},
    "schedules": [{"name": "hourly", "expression": "rate(1 hour)", "target": "worker"}]}
FULLSTACK_CORE = {
    "network": [],
    "security-groups": ["network"],
    "image": [],
    "logs": [],
    "cluster": [],
}


def test_fullstack_app_needs(tmp_path: Path) -> None:
    plain = steps(tmp_path, {"preset": "fullstack-app", "api": API})
    assert needs(plain) == {
        **FULLSTACK_CORE,
        "load-balancer": ["network", "security-groups"],
        "roles": ["image", "logs"],
        "api-task-definition": ["image", "logs", "roles"],
        "service": ["api-task-definition", "cluster", "load-balancer", "network", "security-groups"],
        "autoscaling": ["cluster", "service"],
    }
    every = steps(tmp_path, FULLSTACK_EVERY_TABLE)
    assert needs(every) == {
        **FULLSTACK_CORE,
        "database": ["network", "security-groups"],
        "cache": ["network", "security-groups"],
        "queue": [],
        "mail": [],
        **SITE_WITH_DOMAIN,
        "origin-secret": [],
        "api-certificate": [],
        "api-dns": ["load-balancer"],
        "load-balancer": ["api-certificate", "network", "origin-secret", "security-groups"],
        "roles": ["cache", "database", "image", "logs", "mail", "queue"],
        "api-task-definition": ["cache", "database", "image", "logs", "queue", "roles"],
        "service": ["api-task-definition", "cluster", "endpoints", "load-balancer", "network", "security-groups"],
        "worker-task-definition": ["cache", "database", "image", "logs", "queue", "roles"],
        "worker-service": ["cluster", "endpoints", "network", "security-groups", "worker-task-definition"],
        "autoscaling": ["cluster", "queue", "service", "worker-service"],
        "schedules": ["api-task-definition", "cluster", "network", "roles", "security-groups"],
        "endpoints": ["network", "security-groups"],
        "vpc-origin": ["load-balancer"],
        "attach": ["api-dns", "distribution", "load-balancer", "origin-secret", "service", "vpc-origin"],
        "replaced-load-balancer": ["attach", "load-balancer", "service"],
    }
    every_alerts = steps(tmp_path, {**FULLSTACK_EVERY_TABLE, "alerts": EMAIL})
    assert needs(every_alerts) == {
        **needs(every),
        "alerts-topic": [],
        "alarms": ["alerts-topic", "cache", "database", "distribution", "load-balancer", "queue", "service",
                   "worker-service"],
    }
    # HTTPS on the ALB, attached to no distribution
    https = steps(tmp_path, {"preset": "fullstack-app", "api": {**API, "domain": "api.example.com"},
                             "dns": ROUTE53})
    assert needs(https) == {
        **FULLSTACK_CORE,
        "api-certificate": [],
        "api-dns": ["load-balancer"],
        "load-balancer": ["api-certificate", "network", "security-groups"],
        "roles": ["image", "logs"],
        "api-task-definition": ["image", "logs", "roles"],
        "service": ["api-task-definition", "cluster", "load-balancer", "network", "security-groups"],
        "autoscaling": ["cluster", "service"],
    }
    # an existing distribution instead of [site], and a queue drained in the API's own process
    frontend = steps(tmp_path, {"preset": "fullstack-app", "api": API, "queue": {},
                                "frontend": {"distribution_id": "E2QWRUHAPOMQZL"}})
    assert needs(frontend) == {
        **FULLSTACK_CORE,
        "queue": [],
        "origin-secret": [],
        "load-balancer": ["network", "origin-secret", "security-groups"],
        "roles": ["image", "logs", "queue"],
        "api-task-definition": ["image", "logs", "queue", "roles"],
        "endpoints": ["network", "security-groups"],
        "service": ["api-task-definition", "cluster", "endpoints", "load-balancer", "network", "security-groups"],
        "autoscaling": ["cluster", "service"],
        "vpc-origin": ["load-balancer"],
        "attach": ["load-balancer", "origin-secret", "service", "vpc-origin"],
        "replaced-load-balancer": ["attach", "load-balancer", "service"],
    }
    # [queue] worker = "lambda" on Bun: the layer, ssr-app's worker steps on the app's queue, and a schedule
    # invoking the worker through a role of its own
    lambda_worker = steps(tmp_path, FULLSTACK_LAMBDA_WORKER)
    assert needs(lambda_worker) == {
        **FULLSTACK_CORE,
        "queue": [],
        "load-balancer": ["network", "security-groups"],
        "roles": ["image", "logs", "queue"],
        "api-task-definition": ["image", "logs", "queue", "roles"],
        "service": ["api-task-definition", "cluster", "load-balancer", "network", "security-groups"],
        "worker-layer": [],
        "worker-logs": [],
        "worker-role": ["queue", "worker-logs"],
        "worker": ["worker-layer", "worker-logs", "worker-role"],
        "worker-events": ["queue", "worker"],
        "worker-invoker-role": ["worker"],
        "autoscaling": ["cluster", "service"],
        "schedules": ["api-task-definition", "cluster", "network", "roles", "security-groups", "worker",
                      "worker-invoker-role"],
    }
    # on node, no layer; no worker schedule, no invoker role
    node_worker = steps(tmp_path, {**FULLSTACK_LAMBDA_WORKER, "schedules": [],
                                   "queue": {**FULLSTACK_LAMBDA_WORKER["queue"], "worker_runtime": "nodejs22.x"}})
    assert needs(node_worker) == {
        **{k: v for k, v in needs(lambda_worker).items()
           if k not in ("worker-layer", "worker-invoker-role", "schedules")},
        "worker": ["worker-logs", "worker-role"],
    }
    # with a database, in the VPC (worker_network = "auto"): the function also reads the private subnets and
    # its security group, and comes after the endpoints it reads its secrets through at init
    vpc_worker = steps(tmp_path, {**FULLSTACK_LAMBDA_WORKER, "schedules": [], "database": {},
                                  "frontend": {"distribution_id": "E2QWRUHAPOMQZL"}})
    vpc_needs = needs(vpc_worker)
    assert vpc_needs["worker"] == ["endpoints", "network", "security-groups", "worker-layer", "worker-logs",
                                   "worker-role"]
    assert vpc_needs["worker-role"] == ["queue", "worker-logs"]
    outside = steps(tmp_path, {**FULLSTACK_LAMBDA_WORKER, "schedules": [], "database": {},
                               "frontend": {"distribution_id": "E2QWRUHAPOMQZL"},
                               "queue": {**FULLSTACK_LAMBDA_WORKER["queue"], "worker_network": "none"}})
    assert needs(outside)["worker"] == ["worker-layer", "worker-logs", "worker-role"]
    assert {k: v for k, v in needs(outside).items() if k != "worker"} == \
        {k: v for k, v in vpc_needs.items() if k != "worker"}
    # [waf] frontend = true: the stage's web ACL on the distribution it does not own
    frontend_waf = steps(tmp_path, {**FULLSTACK_FRONTEND_WAF, "queue": {}})
    assert needs(frontend_waf) == {**needs(frontend), "web-acl": [], "frontend-web-acl": ["web-acl"]}


# -- preview: the host (`preview setup`) and one stage (`preview deploy NAME`) -------------------
PREVIEW = {"preset": "static-site", "site": {"dir": "dist", "spa": True},
           "preview": {"domain": "preview.example.com"}, "dns": ROUTE53}
PREVIEW_HOST = {
    "bucket": [],
    "oac": [],
    "certificate": [],
    "routes": [],
    "router": ["routes"],
    "distribution": ["bucket", "certificate", "oac", "router"],
    "bucket-policy": ["bucket", "distribution"],
    "dns": ["distribution"],
}
PREVIEW_STAGE = {
    "host": [],
    "upload": ["host"],
    "route": ["host", "upload"],
    "invalidation": ["host", "route", "upload"],
}


# an ssr-app stage: its own server, routed once the host's distribution may call it
PREVIEW_SSR_STAGE = {
    "host": [],
    "log-group": [],
    "role": ["log-group"],
    "function": ["host", "log-group", "role"],
    "function-url": ["function"],
    "server-permission": ["function", "host"],
    "upload": ["host"],
    "route": ["function-url", "host", "server-permission", "upload"],
    "invalidation": ["host", "route", "upload"],
}


def preview_graphs(tmp_path: Path) -> list[list[Step]]:
    from tscloud_py.presets.preview.host import PreviewHost
    from tscloud_py.presets.preview.stage import PreviewStage

    steps(tmp_path, {"preset": "static-site", "site": {"dir": "dist"}})  # the project's files
    steps(tmp_path, {"preset": "ssr-app", "ssr": {}})
    aws = ClientFactory(region=REGION)
    graphs = []
    for raw in (PREVIEW, {**PREVIEW, "preset": "ssr-app", "ssr": {}, "site": None}):
        config = config_from_dict({"app": "shop", **{k: v for k, v in raw.items() if v is not None}}, "tscloud.toml",
                                  base_dir=tmp_path, region=REGION)
        graphs += [PreviewHost(config, aws).steps(), PreviewStage(config, aws, name="pr-7").steps()]
    return graphs


def test_preview_needs(tmp_path: Path) -> None:
    host, stage, ssr_host, ssr_stage = preview_graphs(tmp_path)
    assert needs(host) == PREVIEW_HOST
    assert needs(stage) == PREVIEW_STAGE
    assert needs(ssr_host) == PREVIEW_HOST  # the same host; its router and default behavior differ
    assert needs(ssr_stage) == PREVIEW_SSR_STAGE


# -- needs are what the steps read -----------------------------------------------------------------
# Needs a step has without reading the step's outputs: it must only come after it. Keyed by step id.
AFTER_ONLY: dict[str, dict[str, str]] = {
    "invalidation": {"bucket-policy": "CloudFront reads the bucket only once the policy lets it",
                     "route": "a preview stage's cached copies are dropped once its key names the new build"},
    "route": {"server-permission": "an ssr-app preview stage is routed only once the host may call its function"},
    "mapping": {"domain": "the mapping is made on the custom domain name, which must exist"},
    "function": {"log-group": "made first, or Lambda makes the log group itself, with no retention"},
    "function-url": {"function": "the URL is configured on the function, which must exist"},
    "server-permission": {"function": "the permission is added to the function's policy, which must exist"},
    "worker-jobs": {"worker-logs-jobs": "made first, or Lambda makes the log group itself, with no retention"},
    "worker-events-jobs": {"worker-jobs": "the queue is mapped to the function, which must exist"},
    "worker": {"worker-logs": "made first, or Lambda makes the log group itself, with no retention"},
    "worker-events": {"worker": "the queue is mapped to the function, which must exist"},
    "attach": {"api-dns": "CloudFront connects to the API's domain, which must point at the ALB first",
               "service": "the distribution moves to a load balancer once its targets serve"},
    "replaced-load-balancer": {"attach": "the replaced load balancer goes once no distribution sends to it"},
    "service": {"endpoints": "a task in a private subnet pulls its image through the VPC endpoints"},
    "worker-service": {"endpoints": "a task in a private subnet pulls its image through the VPC endpoints"},
}

EVERY_OPTION: list[dict[str, Any]] = [
    {"preset": "static-site", "site": {"dir": "dist", "domain": "www.example.com"}, "dns": ROUTE53},
    {"preset": "api-domain", "api_domain": {"domain": "api.example.com", "api_id": "abc123"}, "dns": ROUTE53},
    {"preset": "api-domain", "api_domain": {"domain": "api.example.com", "load_balancer": "lb"}, "dns": ROUTE53},
    {"preset": "ssr-app", "ssr": {"workers": [{"name": "jobs", "dir": "worker"}]}},
    {"preset": "ssr-app", "ssr": {"origin": "api-gateway", "workers": [{"name": "jobs", "dir": "worker"}]}},
    FULLSTACK_EVERY_TABLE,
    {"preset": "fullstack-app", "api": API, "queue": {}, "frontend": {"distribution_id": "E2QWRUHAPOMQZL"}},
    {"preset": "static-site", "site": {"dir": "dist"}, "waf": {}},
    {"preset": "ssr-app", "ssr": {}, "waf": {}},
    FULLSTACK_FRONTEND_WAF,
    FULLSTACK_LAMBDA_WORKER,
    {**FULLSTACK_LAMBDA_WORKER, "alerts": EMAIL},
    {**FULLSTACK_EVERY_TABLE, "alerts": EMAIL},
    SSR_ALERTS,
    {"preset": "static-site", "site": {"dir": "dist"}, "alerts": TOPIC},
]


def test_needs_are_the_steps_read_plus_the_justified_order(tmp_path: Path) -> None:
    after_only: set[tuple[str, str]] = set()
    graphs = [steps(tmp_path, raw) for raw in EVERY_OPTION] + preview_graphs(tmp_path)
    for graph in graphs:
        for step in graph:
            read = referenced_steps(step)
            assert read <= set(step.needs), f"{step.id} reads {sorted(read - set(step.needs))} without needing them"
            unread = set(step.needs) - read
            assert unread <= set(AFTER_ONLY.get(step.id, {})), f"{step.id} needs {sorted(unread)} it never reads"
            after_only |= {(step.id, need) for need in unread}
    # and every reason given is still needed by some graph
    assert after_only == {(step_id, need) for step_id, reasons in AFTER_ONLY.items() for need in reasons}


def test_a_reference_to_an_output_a_step_does_not_provide_fails_when_the_graph_is_built() -> None:
    bucket = BucketStep("bucket", S3(ClientFactory(region=REGION)), lambda: "b", Names("shop", "dev", REGION))
    assert str(bucket.output("bucket_domain")) == "bucket.bucket_domain"
    with pytest.raises(UnknownOutputError, match="step 'bucket' has no output 'domain'; it provides bucket, "
                                                 "bucket_arn, bucket_domain"):
        bucket.output("domain")
