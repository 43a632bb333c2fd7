"""Shared helpers for config tables."""

from __future__ import annotations

from typing import Any, Literal

DnsProviderName = Literal["route53", "cloudflare", "porkbun", "godaddy"]

DOMAIN_PATTERN = r"(?=.{1,253}$)(\*\.)?([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9-]{2,63}\.?"
DOMAIN_HELP = "expected a domain name like www.example.com"


def meta(help: str, **extra: Any) -> dict[str, Any]:
    """Field metadata: ``help`` plus validation keys (pattern, pattern_help, choices, min, max)."""
    return {"help": help, **extra}
