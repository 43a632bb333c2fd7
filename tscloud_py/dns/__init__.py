"""DNS providers behind one interface: route53, cloudflare, porkbun, godaddy.

Credentials come only from environment variables:

- cloudflare: ``CLOUDFLARE_API_TOKEN``, or ``CLOUDFLARE_EMAIL`` and ``CLOUDFLARE_API_KEY`` (Global API Key)
- porkbun: ``PORKBUN_API_KEY`` and ``PORKBUN_SECRET_API_KEY``
- godaddy: ``GODADDY_API_KEY`` and ``GODADDY_API_SECRET``, or ``GODADDY_TOKEN``; ``GODADDY_ENVIRONMENT``
  (production or ote) says which environment the keys are for
- route53: the AWS credentials of the run

``TSCLOUD_CLOUDFLARE_API_URL``, ``TSCLOUD_PORKBUN_API_URL`` and
``TSCLOUD_GODADDY_API_URL`` override the providers' base URLs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.config.schema import DnsConfig
    from tscloud_py.dns.base import (
        CLOUDFRONT_ZONE_ID,
        DnsAuthError,
        DnsError,
        Provider,
        Record,
        Zone,
    )

__all__ = ["CLOUDFRONT_ZONE_ID", "DnsAuthError", "DnsError", "Provider", "Record", "Zone", "get_provider",
           "provider_by_name"]

PROVIDER_NAMES = ("route53", "cloudflare", "porkbun", "godaddy")
URL_VARIABLES = ("TSCLOUD_CLOUDFLARE_API_URL", "TSCLOUD_PORKBUN_API_URL", "TSCLOUD_GODADDY_API_URL")


def __getattr__(name: str) -> Any:
    # The interface's types, imported when first used: every command checks URL_VARIABLES, few touch DNS.
    if name in __all__:
        from tscloud_py.dns import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def provider_by_name(name: str, factory: ClientFactory, *, zone: str | None = None, zone_id: str | None = None,
                     proxied: bool = False) -> Provider:
    """A provider by its [dns] provider name; credentials from the environment."""
    if name == "route53":
        from tscloud_py.dns.route53 import Route53Provider

        return Route53Provider(factory, zone=zone, zone_id=zone_id)
    if name == "cloudflare":
        from tscloud_py.dns.cloudflare import CloudflareProvider

        return CloudflareProvider(zone=zone, zone_id=zone_id, proxied=proxied)
    if name == "porkbun":
        from tscloud_py.dns.porkbun import PorkbunProvider

        return PorkbunProvider(zone=zone)
    if name == "godaddy":
        from tscloud_py.dns.godaddy import GoDaddyProvider

        return GoDaddyProvider(zone=zone)
    from tscloud_py.errors import UsageError

    raise UsageError(f"--provider: unknown DNS provider '{name}'", f"expected one of {', '.join(PROVIDER_NAMES)}")


def get_provider(dns_config: DnsConfig, factory: ClientFactory) -> Provider:
    """The provider [dns] in tscloud.toml asks for."""
    return provider_by_name(dns_config.provider, factory, zone=dns_config.zone, zone_id=dns_config.zone_id,
                            proxied=dns_config.proxied)
