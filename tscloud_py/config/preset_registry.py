"""The presets, listed once: each one's name, the class that builds its steps, the config tables it
requires and allows, and what `tscloud init` writes for it.

The config's ``preset`` key, ``--preset`` (init, plan, deploy), the JSON Schema, `tscloud init` and
the preset loader all read this list. It imports nothing heavy: the CLI reads it for ``--help``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

PresetName = Literal["static-site", "fullstack-app", "api-domain", "ssr-app"]


@dataclass(frozen=True)
class PresetTables:
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()


@dataclass(frozen=True)
class PresetInfo:
    loader: str  # "module:Class", imported only when the preset runs
    tables: PresetTables
    init_tables: tuple[str, ...]  # the tables `init` writes uncommented (the others commented out)
    init_values: dict[str, Any] = field(default_factory=dict)  # table.key -> value: a config that plans cleanly


PRESETS: dict[str, PresetInfo] = {
    "static-site": PresetInfo(
        "tscloud_py.presets.static_site:StaticSite", PresetTables(required=("site",), optional=("waf", "alerts", "preview")), ("site",),
        {"site.dir": "dist", "site.spa": False}),
    "fullstack-app": PresetInfo(
        "tscloud_py.presets.fullstack_app.preset:FullstackApp",
        PresetTables(required=("api",), optional=("site", "frontend", "database", "cache", "queue", "mail",
                                                  "schedules", "network", "waf", "alerts")),
        ("api", "database", "cache"),
        {"api.image": "public.ecr.aws/docker/library/nginx:1.27-alpine", "api.port": 80, "api.cpu": 256,
         "api.memory": 512, "api.desired_count": 1, "api.min_count": 1, "api.max_count": 3, "api.health_check": "/",
         "database.engine": "postgres", "database.instance_class": "db.t4g.micro", "database.storage": 20,
         "cache.node_type": "cache.t4g.micro"}),
    "api-domain": PresetInfo(
        "tscloud_py.presets.api_domain.preset:ApiDomain", PresetTables(required=("api_domain",)), ("api_domain", "dns"),
        {"api_domain.domain": "api.example.com", "api_domain.api_id": "a1b2c3d4e5", "dns.provider": "route53"}),
    "ssr-app": PresetInfo(
        "tscloud_py.presets.ssr_app.preset:SsrApp", PresetTables(required=("ssr",), optional=("waf", "alerts", "preview")), ("ssr",),
        {"ssr.dir": ".output", "ssr.memory": 1024, "ssr.timeout": 30, "ssr.architecture": "arm64"}),
}

PRESET_NAMES: tuple[PresetName, ...] = get_args(PresetName)
if tuple(PRESETS) != PRESET_NAMES:
    raise RuntimeError("PRESETS and PresetName list different presets")
