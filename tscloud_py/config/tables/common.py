"""Shared helpers for config tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

DnsProviderName = Literal["route53", "cloudflare", "porkbun", "godaddy"]

DOMAIN_PATTERN = r"(?=.{1,253}$)(\*\.)?([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9-]{2,63}\.?"
DOMAIN_HELP = "expected a domain name like www.example.com"
# an environment variable's (and a stage secret's) name
ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


def meta(help: str, **extra: Any) -> dict[str, Any]:
    """Field metadata: ``help`` plus validation keys (pattern, pattern_help, choices, min, max)."""
    return {"help": help, **extra}


# `secret:NAME`: the stage's own secret NAME, set with `tscloud secret set NAME`
STAGE_SECRET = "secret:"
# in a function's environment table, where a plain string is a plain value, these prefixes name a secret
SSM_PARAMETER = "ssm:"
SECRETS_MANAGER = "secretsmanager:"
SECRET_REF_HELP = ("'secret:NAME' (this stage's secret, see `tscloud secret set`), 'ssm:/parameter' (or its ARN) "
                   "or 'secretsmanager:NAME_OR_ARN' is read at init, never stored in the function's configuration")


def stage_secret(ref: str) -> str | None:
    """``secret:NAME`` -> NAME; None for any other reference."""
    return ref[len(STAGE_SECRET):] if ref.startswith(STAGE_SECRET) else None


def env_secret_refs(env: Mapping[str, str]) -> dict[str, str]:
    """The variables of a function's environment table whose value names a secret, not a plain value."""
    return {name: value for name, value in env.items()
            if value.startswith((STAGE_SECRET, SSM_PARAMETER, SECRETS_MANAGER))}
