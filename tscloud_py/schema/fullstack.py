"""fullstack-app tables: [api], [frontend], [database], [cache], [queue], [mail], [[schedules]], [network].

Owned by the fullstack-app work (issue 5): extend these dataclasses; keep metadata help on every field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tscloud_py.schema.common import meta


@dataclass
class ApiConfig:
    image: str | None = field(default=None, metadata=meta("a prebuilt image URI (or use build)"))
    port: int = field(default=8080, metadata=meta("the container port", min=1, max=65535))


@dataclass
class FrontendConfig:
    distribution_id: str = field(metadata=meta("id of the existing CloudFront distribution"))
    path: str = field(default="/api/*", metadata=meta("path pattern routed to the API"))


@dataclass
class DatabaseConfig:
    engine: str = field(default="postgres", metadata=meta("postgres | aurora-postgresql"))


@dataclass
class CacheConfig:
    engine: str = field(default="redis", metadata=meta("redis"))


@dataclass
class QueueConfig:
    max_receive_count: int = field(default=5, metadata=meta("receives before a message goes to the DLQ", min=1))


@dataclass
class MailConfig:
    domain: str = field(metadata=meta("the SES sending domain"))


@dataclass
class ScheduleConfig:
    name: str = field(metadata=meta("schedule name"))
    expression: str = field(metadata=meta("EventBridge Scheduler expression, e.g. cron(0 3 * * ? *)"))


@dataclass
class NetworkConfig:
    vpc: str = field(default="default", metadata=meta("default | new"))
