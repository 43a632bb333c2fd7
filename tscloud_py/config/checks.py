"""Every preset's cross-field rules: what the field types and metadata cannot say, in one place.

``CHECKS`` lists them per preset (a test holds it to the preset registry, so none is skipped); the loader
runs them after the types are checked, so each rule may rely on its fields being well-typed. Each error
names the key and exits 2. Rules that need the disk (a build directory) or AWS are the presets' own
``validate`` and ``preflight``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tscloud_py.config import limits
from tscloud_py.config.schema import Config
from tscloud_py.config.tables.common import (
    ENV_NAME,
    SECRET_REF_HELP,
    SECRETS_MANAGER,
    SSM_PARAMETER,
    env_secret_refs,
    stage_secret,
)
from tscloud_py.config.tables.edge import RATE_LIMIT_MAX, RATE_LIMIT_MIN
from tscloud_py.errors import ConfigError

Check = Callable[[Config, str], None]

# the {app}-{stage} prefix must leave room in every AWS name built from it
MAX_PREFIX = 40
# DNS providers that can put an alias (or a flattened CNAME) at a zone's apex
APEX_CAPABLE = ("route53", "cloudflare", "porkbun")


def check_config(config: Config, shown: str) -> None:
    """Every rule for the config's preset, in order; the first broken one raises."""
    for check in (check_names, *CHECKS[config.preset]):
        check(config, shown)


def check_names(config: Config, shown: str) -> None:
    if len(f"{config.app}-{config.stage}") > MAX_PREFIX:
        raise ConfigError(shown, "app", f"app and stage together must be at most {MAX_PREFIX} characters")


def check_api_domain(config: Config, shown: str) -> None:
    """[api_domain]: exactly one target; stage and base path for API Gateway only; an apex domain only
    with a DNS provider that can serve one."""
    table = config.api_domain
    if table is None:
        return
    if bool(table.api_id) == bool(table.load_balancer):
        raise ConfigError(shown, "api_domain.api_id", "set exactly one of api_id (API Gateway) or load_balancer (ALB)")
    if table.load_balancer and (table.stage or table.base_path):
        raise ConfigError(shown, "api_domain.stage" if table.stage else "api_domain.base_path",
                          "stage and base_path apply to API Gateway only, not to a load balancer")
    from tscloud_py.dns.names import is_apex

    dns = config.dns
    if dns.provider not in APEX_CAPABLE and is_apex(table.domain, dns.zone):
        raise ConfigError(shown, "api_domain.domain",
                          f"{table.domain} is a zone apex, and {dns.provider} cannot serve a CNAME there",
                          f"use api.{table.domain} or www.{table.domain}, or move the zone to "
                          "Route53 (dns.provider = \"route53\")")


def _check_lambda_worker(config: Config, shown: str) -> None:
    """[queue] worker = "lambda": its code, a timeout the queue's visibility covers (Lambda refuses the
    mapping otherwise), and a batching window when batches pass 10."""
    queue = config.queue
    assert queue is not None
    if not queue.worker_dir:
        raise ConfigError(shown, "queue.worker_dir", "required when worker = 'lambda'")
    if queue.worker_timeout > queue.visibility_timeout:
        raise ConfigError(shown, "queue.worker_timeout", f"must be at most visibility_timeout "
                          f"({queue.visibility_timeout}), or a message in flight is received again")
    if queue.batch_size > 10 and queue.batching_window < 1:
        raise ConfigError(shown, "queue.batching_window", "at least 1 when batch_size > 10 (Lambda's rule)")
    if "." not in queue.worker_handler.strip("."):
        raise ConfigError(shown, "queue.worker_handler", f"expected file.export, got {queue.worker_handler!r}")


def check_fullstack(config: Config, shown: str) -> None:
    """[api] (exactly one of image or build, Fargate's cpu/memory pairs, counts in order, no variable both
    plain and secret), [network], [queue], [database], [[schedules]], and how the API is reached."""
    api = config.api
    if api is None:
        return
    # a fullstack-app's table: loaded for one
    from tscloud_py.config.tables.fullstack import FARGATE_MEMORY

    if (api.image is None) == (api.build is None):
        raise ConfigError(shown, "api", "set exactly one of image or [api.build]")
    if api.image is not None:
        limits.image_reference(shown, "api.image", api.image)
    if api.memory not in FARGATE_MEMORY[api.cpu]:
        sizes = FARGATE_MEMORY[api.cpu]
        raise ConfigError(shown, "api.memory", f"with cpu = {api.cpu}, expected {sizes[0]}..{sizes[-1]} "
                          f"in steps of {sizes[1] - sizes[0] if len(sizes) > 1 else 0}, got {api.memory}")
    if api.min_count > api.max_count:
        raise ConfigError(shown, "api.min_count", f"must be at most max_count ({api.max_count})")
    if not api.min_count <= api.desired_count <= api.max_count:
        raise ConfigError(shown, "api.desired_count", f"expected between min_count ({api.min_count}) "
                          f"and max_count ({api.max_count}), got {api.desired_count}")
    clash = set(api.environment) & set(api.secrets)
    if clash:
        raise ConfigError(shown, f"api.secrets.{sorted(clash)[0]}", "also set in api.environment; pick one")
    for name, ref in api.secrets.items():
        own = stage_secret(ref)
        if own is not None and not re.fullmatch(ENV_NAME, own):
            raise ConfigError(shown, f"api.secrets.{name}", "expected secret:NAME with NAME like STRIPE_KEY "
                              "(letters, digits, _)")
        if not ref or (ref.startswith("ssm:") and not ref[4:].startswith("/")):
            raise ConfigError(shown, f"api.secrets.{name}", "expected secret:NAME, a secret name/ARN or "
                              "ssm:/parameter/name")
    limits.task_environment(shown, "api.environment", api.environment, api.secrets)
    network = config.network
    if network is not None:
        limits.vpc_cidr(shown, "network.cidr", network.cidr)
    queue = config.queue
    if queue is not None:
        if queue.worker == "service" and not queue.worker_command:
            raise ConfigError(shown, "queue.worker_command", "required when worker = 'service'")
        if queue.worker_min_count > queue.worker_max_count:
            raise ConfigError(shown, "queue.worker_min_count", "must be at most worker_max_count")
        if queue.worker == "lambda":
            _check_lambda_worker(config, shown)
    db = config.database
    if db is not None and db.min_capacity > db.max_capacity:
        raise ConfigError(shown, "database.min_capacity", "must be at most max_capacity")
    if db is not None and db.version is not None:
        limits.engine_version(shown, "database.version", db.engine, db.version)
    schedules = config.schedules
    names = [s.name for s in schedules]
    for i, s in enumerate(schedules):
        if s.name in names[:i]:
            raise ConfigError(shown, f"schedules[{i}].name", f"duplicate schedule name {s.name!r}")
        limits.schedule_expression(shown, f"schedules[{i}].expression", s.expression)
        limits.timezone(shown, f"schedules[{i}].timezone", s.timezone)
        if s.target == "task" and not s.command:
            raise ConfigError(shown, f"schedules[{i}].command", "required when target = 'task'")
        if s.target == "worker" and s.command:
            raise ConfigError(shown, f"schedules[{i}].command", "a worker target is invoked with "
                              "{\"schedule\": name}; remove command, or use target = 'task'")
        if s.target == "worker" and (queue is None or queue.worker != "lambda"):
            raise ConfigError(shown, f"schedules[{i}].target", "'worker' needs [queue] worker = \"lambda\"")
    attached = config.frontend is not None or config.site is not None
    if api.origin == "vpc" and not attached:
        raise ConfigError(shown, "api.origin", "'vpc' needs [frontend] or [site] (a VPC origin is CloudFront's; "
                          "without a distribution the API needs origin = \"public\")")
    if api.alb_ingress == "cloudfront" and not attached:
        raise ConfigError(shown, "api.alb_ingress", "'cloudfront' needs [frontend] or [site] (the API is only "
                          "reachable through CloudFront then)")
    if config.frontend is not None and config.site is not None:
        raise ConfigError(shown, "frontend", "use [frontend] (an existing distribution) or [site] (a new one), "
                          "not both")


def check_ssr(config: Config, shown: str) -> None:
    """[ssr]: worker names are unique and not the preset's own; environments fit Lambda's rules."""
    ssr = config.ssr
    if ssr is None:
        return
    # an ssr-app's table: loaded for one
    from tscloud_py.config.tables.ssr import RESERVED_WORKER_NAMES

    function_environment(shown, "ssr.environment", ssr.environment, ssr.runtime)
    seen: set[str] = set()
    for i, worker in enumerate(ssr.workers):
        if worker.name in seen or worker.name in RESERVED_WORKER_NAMES:
            raise ConfigError(shown, f"ssr.workers[{i}].name", f"{worker.name!r} is taken; pick another name")
        seen.add(worker.name)
        function_environment(shown, f"ssr.workers[{i}].environment", worker.environment, worker.runtime)


# What a function's environment gains when it reads secrets: each reference's ARN (about this long) under
# TSCLOUD_SECRETS, the versions' marker and the resolver's NODE_OPTIONS.
_ARN_BYTES = 110
_RESOLVER_ENV_BYTES = 120


def function_environment(shown: str, key: str, env: dict[str, str], runtime: str | None) -> None:
    """A Lambda function's environment table: Lambda's reserved names and size, tscloud's own names, and
    each secret reference well formed (read at init by tscloud's Node resolver, so a Node runtime only)."""
    refs = env_secret_refs(env)
    for name in env:
        if name.startswith("TSCLOUD_SECRETS"):
            raise ConfigError(shown, f"{key}.{name}", "is reserved by tscloud (where the function's secrets are "
                              "read from); rename it")
    for name, ref in refs.items():
        own, rest = stage_secret(ref), ref.split(":", 1)[1]
        if own is not None and not re.fullmatch(ENV_NAME, own):
            raise ConfigError(shown, f"{key}.{name}", "expected secret:NAME with NAME like STRIPE_KEY (letters, "
                              "digits, _)")
        if ref.startswith(SSM_PARAMETER) and not (rest.startswith("/") or re.fullmatch(
                r"arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/\S+", rest)):
            raise ConfigError(shown, f"{key}.{name}", f"expected ssm:/parameter/name or ssm:ARN; {SECRET_REF_HELP}")
        if ref.startswith(SECRETS_MANAGER) and not rest:
            raise ConfigError(shown, f"{key}.{name}", f"expected secretsmanager:NAME_OR_ARN; {SECRET_REF_HELP}")
    if refs and runtime is not None and not runtime.startswith("nodejs"):
        raise ConfigError(shown, f"{key}.{next(iter(refs))}", f"a secret is read at init by tscloud's Node.js "
                          f"resolver; runtime {runtime} is not Node.js", "use a nodejs runtime, or read the "
                          "secret in the function's own code")
    plain = {k: v for k, v in env.items() if k not in refs}
    added = {"TSCLOUD_SECRETS": "x" * (_ARN_BYTES * len(refs)), "_": "x" * _RESOLVER_ENV_BYTES} if refs else {}
    limits.lambda_environment(shown, key, plain, added=added)


def check_edge(config: Config, shown: str) -> None:
    """[waf]: each path's limit within AWS's bounds and tighter than the general one; ``frontend`` only with
    [frontend]. [alerts]: exactly one of email or sns_topic_arn."""
    waf = config.waf
    if waf is not None:
        for path, limit in waf.rate_limit_paths.items():
            key = f"waf.rate_limit_paths.{path}"
            if not RATE_LIMIT_MIN <= limit <= RATE_LIMIT_MAX:
                raise ConfigError(shown, key, f"expected {RATE_LIMIT_MIN}..{RATE_LIMIT_MAX} requests per 5 minutes, "
                                  f"got {limit}")
            if limit >= waf.rate_limit_per_5min:
                raise ConfigError(shown, key, f"expected a limit below rate_limit_per_5min "
                                  f"({waf.rate_limit_per_5min}), got {limit}")
        if waf.frontend and config.frontend is None:
            raise ConfigError(shown, "waf.frontend", "only with [frontend] (an existing distribution to attach to)")
        if len(set(waf.block_countries)) != len(waf.block_countries):
            raise ConfigError(shown, "waf.block_countries", "a country is listed twice")
    alerts = config.alerts
    if alerts is not None and (alerts.email is None) == (alerts.sns_topic_arn is None):
        raise ConfigError(shown, "alerts.email", "set exactly one of email or sns_topic_arn")


def check_preview(config: Config, shown: str) -> None:
    """[preview]: the preview host is a name of its own, under which each stage gets one label; it is not
    the site's own domain (its certificate and record would be taken over)."""
    table = config.preview
    if table is None:
        return
    domain = table.domain.lower().rstrip(".")
    if domain.startswith("*."):
        raise ConfigError(shown, "preview.domain", "give the preview host without the wildcard (preview.example.com); "
                          "stages are served at NAME.preview.example.com")
    site_domain = (config.site.domain or "").lower().rstrip(".") if config.site else ""
    if site_domain and (site_domain == domain or site_domain.endswith("." + domain)):
        raise ConfigError(shown, "preview.domain", f"{table.domain} holds the site's own domain {site_domain} "
                          "(site.domain); use a name of its own such as preview.example.com")


CHECKS: dict[str, tuple[Check, ...]] = {
    "static-site": (check_edge, check_preview),
    "fullstack-app": (check_fullstack, check_edge),
    "api-domain": (check_api_domain,),
    "ssr-app": (check_ssr, check_edge, check_preview),
}
