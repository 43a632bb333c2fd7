"""The config schema: one dataclass per tscloud.toml table.

Field metadata drives validation and docs: ``help`` (one line), ``pattern`` +
``pattern_help``, ``choices``, ``min``/``max``, ``example`` (for ``init``).
Fields with ``internal`` metadata are set by the loader, never by the file.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tscloud_py.config.preset_registry import PresetName
from tscloud_py.config.tables.common import DOMAIN_HELP, DOMAIN_PATTERN, DnsProviderName, meta
from tscloud_py.config.tables.edge import AlertsConfig, WafConfig
from tscloud_py.config.tables.preview import PreviewConfig

if TYPE_CHECKING:
    from tscloud_py.config.tables.api_domain import ApiDomainConfig
    from tscloud_py.config.tables.fullstack import (
        ApiConfig,
        CacheConfig,
        DatabaseConfig,
        FrontendConfig,
        MailConfig,
        NetworkConfig,
        QueueConfig,
        ScheduleConfig,
    )
    from tscloud_py.config.tables.ssr import SsrConfig

# The tables of one preset, loaded when a config has them or a command names them (``config/fields.py``
# resolves a field's type when it is asked for): a static site's deploy does not build the fullstack-app's
# and ssr-app's dozen dataclasses.
_LAZY_TABLES = {
    **dict.fromkeys(("ApiConfig", "CacheConfig", "DatabaseConfig", "FrontendConfig", "MailConfig", "NetworkConfig",
                     "QueueConfig", "ScheduleConfig"), "tscloud_py.config.tables.fullstack"),
    "ApiDomainConfig": "tscloud_py.config.tables.api_domain",
    "SsrConfig": "tscloud_py.config.tables.ssr",
}


def __getattr__(name: str) -> Any:
    module = _LAZY_TABLES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


@dataclass
class DnsConfig:
    provider: DnsProviderName = field(
        default="route53", metadata=meta("who serves DNS for your domains; credentials come from env vars"))
    zone: str | None = field(default=None, metadata=meta(
        "zone name override (default: the registrable domain from the Public Suffix List)",
        pattern=DOMAIN_PATTERN, pattern_help=DOMAIN_HELP))
    zone_id: str | None = field(default=None, metadata=meta(
        "provider zone id (route53 hosted zone id or Cloudflare zone id)", pattern=r"(/hostedzone/)?[A-Za-z0-9]{1,64}",
        pattern_help="expected a zone id of letters and digits, like Z0123456789ABC or a 32-character Cloudflare id"))
    proxied: bool = field(default=False, metadata=meta("cloudflare only: proxy records through Cloudflare"))


@dataclass
class StateConfig:
    backend: Literal["s3", "local"] = field(default="s3", metadata=meta(
        "where the lock and journal live: s3 (a state bucket in the account, safe for teams and CI) or local "
        "(files under .tscloud/, one machine only); under --local the state bucket is inside the emulator"))
    bucket: str | None = field(default=None, metadata=meta(
        "an existing bucket of yours for the state (default: tscloud-state-<account>-<region>, made on first use)",
        pattern=r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", pattern_help="expected an S3 bucket name"))


@dataclass
class SiteConfig:
    dir: str = field(default="dist", metadata=meta("the built site, relative to tscloud.toml"))
    spa: bool = field(default=False, metadata=meta("serve /index.html (200) for 403/404: single-page apps"))
    domain: str | None = field(default=None, metadata=meta(
        "custom domain; a certificate is issued in us-east-1 and [dns] writes the records",
        pattern=DOMAIN_PATTERN, pattern_help=DOMAIN_HELP))
    index: str = field(default="index.html", metadata=meta("the default root object"))
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = field(
        default="PriceClass_100", metadata=meta("CloudFront price class"))
    retain: bool = field(default=False, metadata=meta("keep the bucket and its files on destroy"))
    include: list[str] = field(default_factory=list, metadata=meta(
        "publish these private files after all (dotfiles, keys are never uploaded otherwise), "
        "e.g. \".well-known/*\""))
    allow_outside: bool = field(default=False, metadata=meta(
        "allow dir to resolve outside the project directory (a warning is printed)"))

    def resolved_dir(self, base: Path) -> Path:
        return (base / self.dir).resolve()


@dataclass
class Config:
    app: str = field(metadata=meta(
        "the app name, used in every resource name", pattern=r"[a-z][a-z0-9-]{0,28}[a-z0-9]",
        pattern_help="expected 2-30 chars of a-z, 0-9 and '-', starting with a letter", example="shop"))
    preset: PresetName = field(metadata=meta("what to deploy", example="static-site"))
    region: str = field(default="us-east-1", metadata=meta(
        "AWS region", pattern=r"[a-z]{2}(-gov)?-[a-z]+-\d", pattern_help="expected an AWS region like us-east-1"))
    stage: str = field(default="dev", metadata=meta(
        "stage name (dev, staging, prod, ...)", pattern=r"[a-z][a-z0-9-]{0,14}",
        pattern_help="expected 1-15 chars of a-z, 0-9 and '-', starting with a letter"))
    site: SiteConfig | None = field(default=None, metadata=meta("the static site"))
    dns: DnsConfig = field(default_factory=DnsConfig, metadata=meta("DNS provider for custom domains"))
    state: StateConfig = field(default_factory=StateConfig, metadata=meta("where the lock and journal live"))
    # fullstack-app
    api: ApiConfig | None = field(default=None, metadata=meta("fullstack-app: the container API"))
    frontend: FrontendConfig | None = field(default=None, metadata=meta(
        "fullstack-app: an existing CloudFront distribution to attach the API to"))
    database: DatabaseConfig | None = field(default=None, metadata=meta("fullstack-app: Postgres"))
    cache: CacheConfig | None = field(default=None, metadata=meta("fullstack-app: Redis"))
    queue: QueueConfig | None = field(default=None, metadata=meta("fullstack-app: SQS queue and worker"))
    mail: MailConfig | None = field(default=None, metadata=meta("fullstack-app: SES domain identity"))
    schedules: list[ScheduleConfig] = field(default_factory=list, metadata=meta(
        "fullstack-app: EventBridge Scheduler jobs run as ECS tasks"))
    network: NetworkConfig | None = field(default=None, metadata=meta("fullstack-app: VPC choice"))
    # api-domain
    api_domain: ApiDomainConfig | None = field(default=None, metadata=meta(
        "api-domain: a custom domain for an existing API Gateway API or ALB"))
    # ssr-app
    ssr: SsrConfig | None = field(default=None, metadata=meta("ssr-app: a Nitro build on Lambda"))
    # static-site, fullstack-app, ssr-app
    waf: WafConfig | None = field(default=None, metadata=meta(
        "a WAF web ACL in front of the distribution (on by default for a production stage)"))
    alerts: AlertsConfig | None = field(default=None, metadata=meta(
        "CloudWatch alarms, an SNS topic and a dashboard; none without this table"))
    # static-site, ssr-app
    preview: PreviewConfig | None = field(default=None, metadata=meta(
        "preview stages sharing one distribution, routed by host (`tscloud preview`)"))

    path: str = field(default="tscloud.toml", metadata={"internal": True})
    base_dir: Path = field(default_factory=Path.cwd, metadata={"internal": True})

    @property
    def is_production(self) -> bool:
        return self.stage in ("prod", "production")

    @property
    def web_acl(self) -> WafConfig | None:
        """The [waf] settings in force: a production stage has one unless ``enabled = false``; another stage
        has one when it writes a [waf] table (``enabled`` unset or true)."""
        if self.waf is None:
            return WafConfig() if self.is_production else None
        return self.waf if self.waf.enabled is not False else None
