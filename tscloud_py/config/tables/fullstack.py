"""fullstack-app tables: [api], [frontend], [database], [cache], [queue], [mail], [[schedules]], [network].

Every field carries ``help``; the cross-field rules are ``config/checks.py``'s
``check_fullstack``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tscloud_py.build.bun_version import BUN_VERSION
from tscloud_py.config.tables.common import DOMAIN_HELP, DOMAIN_PATTERN, ENV_NAME, meta

FARGATE_CPU = (256, 512, 1024, 2048, 4096, 8192, 16384)
# Fargate's valid memory (MiB) per CPU size.
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}


@dataclass
class BuildConfig:
    context: str = field(default=".", metadata=meta("the docker build context, relative to tscloud.toml"))
    dockerfile: str = field(default="Dockerfile", metadata=meta("the Dockerfile, relative to the context"))
    target: str | None = field(default=None, metadata=meta("a multi-stage build target"))
    args: dict[str, str] = field(default_factory=dict, metadata=meta(
        "build arguments (never secrets: they end up in the image history)", key_pattern=ENV_NAME))
    platform: str | None = field(default=None, metadata=meta(
        "build platform (default: from api.architecture)", choices=("linux/amd64", "linux/arm64")))
    pull: str = field(default="missing", metadata=meta(
        "when the build pulls base images: missing (only those the engine lacks), always, or never",
        choices=("missing", "always", "never")))
    network: str | None = field(default=None, metadata=meta(
        "the network RUN steps get (default: the engine's; `none` or `host` where the engine has no bridge)",
        choices=("default", "none", "host")))


@dataclass
class ApiConfig:
    image: str | None = field(default=None, metadata=meta(
        "a prebuilt image URI pinned by tag or digest (or use [api.build])"))
    build: BuildConfig | None = field(default=None, metadata=meta(
        "build the image with docker and push it to ECR (or use image)"))
    port: int = field(default=8080, metadata=meta("the container port", min=1, max=65535))
    domain: str | None = field(default=None, metadata=meta(
        "custom domain for the load balancer: an ACM certificate (validated through [dns]), an HTTPS "
        "listener with HTTP -> HTTPS redirect, and CloudFront reaches the API over HTTPS",
        pattern=DOMAIN_PATTERN, pattern_help=DOMAIN_HELP))
    alb_ingress: Literal["anywhere", "cloudfront"] = field(default="anywhere", metadata=meta(
        "who may reach the load balancer: anywhere, or only CloudFront's origin-facing managed prefix list "
        "(needs [frontend] or [site]; the list counts as about 55 rules of the security group's quota of 60)"))
    origin: Literal["vpc", "public"] | None = field(default=None, metadata=meta(
        "how CloudFront reaches the API ([frontend] or [site]): vpc, an internal load balancer in private subnets "
        "behind a CloudFront VPC origin; public, an internet-facing one that forwards only requests carrying the "
        "origin-verify header. Unset: vpc for a new stage, public for a stage whose internet-facing load "
        "balancer exists (set vpc to move it)"))
    egress: Literal["endpoints", "nat"] = field(default="endpoints", metadata=meta(
        "origin = vpc: how tasks in private subnets reach AWS: endpoints, VPC interface endpoints for ECR, "
        "logs, Secrets Manager (and SQS with [queue]) plus an S3 gateway endpoint, no internet (about $15/month "
        "each); nat, one NAT gateway, the internet too (about $33/month plus data)"))
    cpu: int = field(default=256, metadata=meta("Fargate CPU units", choices=FARGATE_CPU))
    memory: int = field(default=512, metadata=meta("Fargate memory in MiB (valid sizes depend on cpu)", min=512))
    architecture: Literal["x86_64", "arm64"] = field(default="x86_64", metadata=meta(
        "CPU architecture (arm64 is Graviton: about 20 % cheaper)"))
    desired_count: int = field(default=1, metadata=meta("tasks when the service is created", min=0, max=100))
    min_count: int = field(default=1, metadata=meta("autoscaling minimum", min=0, max=100))
    max_count: int = field(default=4, metadata=meta("autoscaling maximum", min=1, max=100))
    cpu_target: int = field(default=60, metadata=meta("autoscaling target: average CPU %", min=10, max=95))
    health_check: str = field(default="/health", metadata=meta(
        "HTTP path the load balancer and the container health check probe", pattern=r"/[!-~]*",
        pattern_help="expected a path starting with /"))
    health_check_command: list[str] = field(default_factory=list, metadata=meta(
        "container health check command (default: wget or curl of health_check on localhost)"))
    grace_period: int = field(default=60, metadata=meta(
        "seconds ECS ignores failing health checks after a task starts", min=0, max=7200))
    deregistration_delay: int = field(default=30, metadata=meta(
        "seconds the load balancer drains a stopping task", min=30, max=60))
    deployment: Literal["rolling", "recreate"] = field(default="rolling", metadata=meta(
        "rolling: 100 % healthy / 200 % max; recreate: stop old tasks first (0 % / 100 %)"))
    rollout_timeout: int = field(default=900, metadata=meta(
        "seconds to wait for the new tasks to be running and healthy", min=30, max=7200))
    command: list[str] = field(default_factory=list, metadata=meta("container command override"))
    log_retention_days: int = field(default=30, metadata=meta(
        "CloudWatch Logs retention", choices=(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                                               1096, 1827, 2192, 2557, 2922, 3288, 3653)))
    environment: dict[str, str] = field(default_factory=dict, metadata=meta(
        "plain environment variables (never secrets)", key_pattern=ENV_NAME))
    secrets: dict[str, str] = field(default_factory=dict, metadata=meta(
        "env var -> 'secret:NAME' (this stage's secret, see `tscloud secret set`), a Secrets Manager "
        "secret name or ARN, or an SSM parameter ('ssm:/name' or its ARN)",
        key_pattern=ENV_NAME))


@dataclass
class FrontendConfig:
    distribution_id: str = field(metadata=meta(
        "id of the existing CloudFront distribution", pattern=r"[A-Z0-9]{8,20}",
        pattern_help="expected a CloudFront distribution id like E2QWRUHAPOMQZL"))
    path: str = field(default="/api/*", metadata=meta(
        "path pattern routed to the API", pattern=r"/[!-~]*", pattern_help="expected a path pattern like /api/*"))


@dataclass
class DatabaseConfig:
    engine: Literal["postgres", "aurora-postgresql"] = field(default="postgres", metadata=meta(
        "postgres: one RDS instance; aurora-postgresql: Aurora Serverless v2"))
    version: str | None = field(default=None, metadata=meta("engine version (default: the AWS default)"))
    name: str = field(default="app", metadata=meta(
        "the database created at launch", pattern=r"[a-zA-Z][a-zA-Z0-9_]{0,62}",
        pattern_help="expected a letter then letters, digits or _"))
    username: str = field(default="app", metadata=meta(
        "master user name (its password lives only in Secrets Manager)", pattern=r"[a-zA-Z][a-zA-Z0-9_]{0,15}",
        pattern_help="expected 1-16 letters, digits or _"))
    instance_class: str = field(default="db.t4g.micro", metadata=meta(
        "postgres instance class", pattern=r"db\.[a-z0-9]+\.[a-z0-9]+", pattern_help="expected e.g. db.t4g.micro"))
    storage: int = field(default=20, metadata=meta("postgres storage in GiB", min=20, max=65536))
    min_capacity: float = field(default=0.5, metadata=meta("aurora: minimum ACUs", min=0.0, max=256.0))
    max_capacity: float = field(default=2.0, metadata=meta("aurora: maximum ACUs", min=1.0, max=256.0))
    backup_retention: int = field(default=7, metadata=meta("days of automated backups", min=1, max=35))
    deletion_protection: bool | None = field(default=None, metadata=meta(
        "refuse deletes (default: on for a stage named prod or production)"))
    retain: bool = field(default=False, metadata=meta(
        "keep the database (and the network it lives in) on destroy"))


@dataclass
class CacheConfig:
    engine: Literal["redis"] = field(default="redis", metadata=meta("redis (ElastiCache replication group)"))
    node_type: str = field(default="cache.t4g.micro", metadata=meta(
        "node type", pattern=r"cache\.[a-z0-9]+\.[a-z0-9]+", pattern_help="expected e.g. cache.t4g.micro"))
    replicas: int = field(default=0, metadata=meta("read replicas (1+ enables automatic failover)", min=0, max=5))
    retain: bool = field(default=False, metadata=meta(
        "keep the replication group, its auth token and the network it lives in on destroy"))


@dataclass
class QueueConfig:
    max_receive_count: int = field(default=5, metadata=meta("receives before a message goes to the DLQ", min=1,
                                                            max=1000))
    visibility_timeout: int = field(default=60, metadata=meta("seconds a received message stays hidden", min=0,
                                                              max=43200))
    retention_days: int = field(default=4, metadata=meta("days a message is kept", min=1, max=14))
    worker: Literal["in-process", "service", "lambda"] = field(default="in-process", metadata=meta(
        "in-process: the API consumes the queue; service: a separate Fargate worker service; lambda: a "
        "function fed by the queue (worker_dir, worker_handler, worker_runtime)"))
    worker_command: list[str] = field(default_factory=list, metadata=meta(
        "the worker service's command (required when worker = 'service')"))
    worker_min_count: int = field(default=0, metadata=meta("worker autoscaling minimum", min=0, max=100))
    worker_max_count: int = field(default=4, metadata=meta("worker autoscaling maximum", min=1, max=100))
    backlog_per_task: int = field(default=100, metadata=meta(
        "worker autoscaling target: visible messages per running task", min=1))
    worker_dir: str | None = field(default=None, metadata=meta(
        "worker = 'lambda': the function's code directory (zipped deterministically), relative to tscloud.toml"))
    worker_handler: str = field(default="index.fetch", metadata=meta(
        "worker = 'lambda': file.export of the handler (with bun, a fetch handler; SQS batches arrive as a POST "
        "to /_lambda/event)"))
    worker_runtime: str = field(default="bun", metadata=meta(
        "worker = 'lambda': bun (provided.al2023 with the Bun layer tscloud publishes) or a nodejsNN.x runtime",
        pattern=r"bun|nodejs\d+\.x", pattern_help="expected bun or a Node runtime like nodejs22.x"))
    worker_bun_version: str = field(default=BUN_VERSION, metadata=meta(
        "worker_runtime = 'bun': the Bun release from the npm registry (integrity-checked)",
        pattern=r"\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?", pattern_help="expected a release like 1.4.4"))
    worker_architecture: Literal["arm64", "x86_64"] = field(default="arm64", metadata=meta(
        "worker = 'lambda': the function's architecture"))
    worker_memory: int = field(default=512, metadata=meta("worker = 'lambda': memory in MB", min=128, max=10240))
    worker_timeout: int = field(default=30, metadata=meta(
        "worker = 'lambda': timeout in seconds (at most visibility_timeout)", min=1, max=900))
    worker_network: Literal["auto", "vpc", "none"] = field(default="auto", metadata=meta(
        "worker = 'lambda': vpc puts the function in the stage's private subnets with a security group the "
        "database and Redis admit (Lambda then reaches the internet and AWS only through the stage's NAT "
        "gateway or VPC endpoints); none keeps it outside any VPC (it cannot reach the database or Redis); "
        "auto is vpc when the app has [database] or [cache]"))
    batch_size: int = field(default=10, metadata=meta("worker = 'lambda': messages per invocation", min=1,
                                                      max=10000))
    batching_window: int = field(default=0, metadata=meta(
        "worker = 'lambda': seconds to gather a batch (at least 1 when batch_size > 10)", min=0, max=300))


@dataclass
class MailConfig:
    domain: str = field(metadata=meta("the SES sending domain", pattern=DOMAIN_PATTERN, pattern_help=DOMAIN_HELP))
    mail_from: str | None = field(default=None, metadata=meta(
        "custom MAIL FROM subdomain (default: mail.<domain>)", pattern=DOMAIN_PATTERN, pattern_help=DOMAIN_HELP))


@dataclass
class ScheduleConfig:
    name: str = field(metadata=meta(
        "schedule name", pattern=r"[a-z][a-z0-9-]{0,30}", pattern_help="expected a-z, 0-9 and '-'"))
    expression: str = field(metadata=meta(
        "EventBridge Scheduler expression: cron(0 3 * * ? *), rate(1 hour) or at(2030-01-01T00:00:00)",
        pattern=r"(cron|rate|at)\(.+\)", pattern_help="expected cron(...), rate(...) or at(...)"))
    command: list[str] = field(default_factory=list, metadata=meta(
        "target = 'task': the command override for the API's task"))
    target: Literal["task", "worker"] = field(default="task", metadata=meta(
        "task: run the API's task with command; worker: invoke the [queue] worker function (worker = 'lambda') "
        "with {\"schedule\": name}"))
    timezone: str = field(default="UTC", metadata=meta("IANA timezone of the expression, e.g. Europe/Berlin"))
    enabled: bool = field(default=True, metadata=meta("false pauses the schedule"))


@dataclass
class NetworkConfig:
    vpc: Literal["default", "new"] = field(default="default", metadata=meta(
        "default: the account's default VPC; new: a VPC with public and private subnets in two AZs"))
    cidr: str = field(default="10.0.0.0/16", metadata=meta(
        "new VPC: its CIDR (a /16)", pattern=r"\d{1,3}\.\d{1,3}\.0\.0/16", pattern_help="expected a /16 like 10.0.0.0/16"))
    nat_gateway: bool = field(default=False, metadata=meta(
        "new VPC: one NAT gateway so tasks run in private subnets (about $33/month plus data)"))
