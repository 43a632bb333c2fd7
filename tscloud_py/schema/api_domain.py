"""api-domain table: [api_domain]. Owned by the DNS work (issue 4)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tscloud_py.schema.common import DOMAIN_HELP, DOMAIN_PATTERN, meta


@dataclass
class ApiDomainConfig:
    domain: str = field(metadata=meta("the custom domain", pattern=DOMAIN_PATTERN, pattern_help=DOMAIN_HELP))
