"""api-domain table: [api_domain].

Gives an existing API Gateway API (REST or HTTP, by id) or an existing ALB
(by name or ARN) a custom domain; [dns] decides who writes the records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tscloud_py.config.tables.common import DOMAIN_HELP, DOMAIN_PATTERN, meta


@dataclass
class ApiDomainConfig:
    domain: str = field(metadata=meta("the custom domain", pattern=DOMAIN_PATTERN, pattern_help=DOMAIN_HELP,
                                      example="api.example.com"))
    api_id: str | None = field(default=None, metadata=meta(
        "id of an existing API Gateway REST or HTTP API (or set load_balancer)",
        pattern=r"[a-z0-9]{6,12}", pattern_help="expected an API Gateway API id like a1b2c3d4e5",
        example="a1b2c3d4e5"))
    stage: str | None = field(default=None, metadata=meta(
        "API Gateway stage to map (default: the REST API's only stage; $default for HTTP APIs)"))
    base_path: str = field(default="", metadata=meta(
        "map the API under this path (empty: the whole domain)",
        pattern=r"([A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*)?", pattern_help="expected a path like v1 (no leading /)"))
    load_balancer: str | None = field(default=None, metadata=meta(
        "name or ARN of an existing application load balancer (or set api_id)"))
