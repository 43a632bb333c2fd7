"""ssr-app table: [ssr]."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tscloud_py.config.tables.common import SECRET_REF_HELP, meta

IAM_ACTION_PATTERN = r"[a-zA-Z0-9-]+:[A-Za-z0-9*]+"
ARN_PATTERN = r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:\S+"


@dataclass
class SsrPermission:
    actions: list[str] = field(metadata=meta(
        "IAM actions the server may call, e.g. bedrock:InvokeModel (never '*')",
        pattern=IAM_ACTION_PATTERN, pattern_help="expected service:Action, e.g. bedrock:InvokeModel"))
    resources: list[str] = field(metadata=meta(
        "ARNs the actions apply to (never '*')", pattern=ARN_PATTERN,
        pattern_help="expected an ARN like arn:aws:bedrock:us-east-1::foundation-model/anthropic.*"))


LAYER_ARN_PATTERN = r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+"
LAYER_ARN_HELP = "expected a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)"


@dataclass
class SsrWorker:
    name: str = field(metadata=meta(
        "worker name: the function and queue are {app}-{stage}-{name}, the DLQ {app}-{stage}-{name}-dlq",
        pattern=r"[a-z][a-z0-9-]{0,19}", pattern_help="expected 1-20 chars of a-z, 0-9 and '-'", example="jobs"))
    dir: str = field(metadata=meta("the worker's code directory (zipped deterministically), relative to tscloud.toml"))
    handler: str = field(default="index.handler", metadata=meta("file.export of the handler"))
    runtime: str | None = field(default=None, metadata=meta(
        "Lambda runtime; default: the server's. provided.al2023 with the Bun layer runs Bun",
        pattern=r"nodejs\d+\.x|provided\.al2023|provided\.al2",
        pattern_help="expected nodejsNN.x or provided.al2023"))
    memory: int = field(default=512, metadata=meta("memory in MB", min=128, max=10240))
    timeout: int = field(default=30, metadata=meta("timeout in seconds; the queue's visibility is 6x this",
                                                   min=1, max=900))
    architecture: Literal["arm64", "x86_64"] = field(default="arm64", metadata=meta("Lambda architecture"))
    layers: list[str] = field(default_factory=list, metadata=meta(
        "layer version ARNs (at most 5), e.g. the Bun runtime layer", max_items=5, pattern=LAYER_ARN_PATTERN,
        pattern_help=LAYER_ARN_HELP))
    environment: dict[str, str] = field(default_factory=dict, metadata=meta(
        "environment variables; a value " + SECRET_REF_HELP, key_pattern=r"[a-zA-Z][a-zA-Z0-9_]*"))
    batch_size: int = field(default=10, metadata=meta("messages per invocation", min=1, max=10000))
    batching_window: int = field(default=0, metadata=meta(
        "seconds to gather a batch (at least 1 when batch_size > 10)", min=0, max=300))
    max_receive_count: int = field(default=5, metadata=meta("receives before a message goes to the DLQ",
                                                            min=1, max=1000))
    permissions: list[SsrPermission] = field(default_factory=list, metadata=meta(
        "what the worker may do besides reading its queue and writing its logs"))


@dataclass
class SsrConfig:
    dir: str = field(default=".output", metadata=meta("the Nitro build output, relative to tscloud.toml"))
    streaming: bool | None = field(default=None, metadata=meta(
        "expect response streaming; default: decided by the build's nitro.json (a mismatch is an error)"))
    origin: Literal["function-url", "api-gateway"] = field(default="function-url", metadata=meta(
        "how CloudFront reaches the server: a Lambda Function URL (OAC) or a regional REST API"))
    runtime: str | None = field(default=None, metadata=meta(
        "Lambda runtime; default: the newest nodejs runtime botocore knows",
        pattern=r"nodejs\d+\.x", pattern_help="expected a Node runtime like nodejs22.x"))
    memory: int = field(default=2048, metadata=meta("Lambda memory in MB", min=128, max=10240))
    timeout: int = field(default=60, metadata=meta("Lambda timeout in seconds", min=1, max=900))
    architecture: Literal["arm64", "x86_64"] = field(default="arm64", metadata=meta("Lambda architecture"))
    environment: dict[str, str] = field(default_factory=dict, metadata=meta(
        "environment variables of the server function; a value " + SECRET_REF_HELP,
        key_pattern=r"[a-zA-Z][a-zA-Z0-9_]*"))
    layers: list[str] = field(default_factory=list, metadata=meta(
        "layer version ARNs attached to the server (at most 5)", max_items=5,
        pattern=LAYER_ARN_PATTERN, pattern_help=LAYER_ARN_HELP))
    log_retention_days: int = field(default=14, metadata=meta(
        "CloudWatch Logs retention of the server's log group", choices=[
            1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
            3288, 3653]))
    permissions: list[SsrPermission] = field(default_factory=list, metadata=meta(
        "what the server's role may do besides writing its logs"))
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = field(
        default="PriceClass_100", metadata=meta("CloudFront price class"))
    include: list[str] = field(default_factory=list, metadata=meta(
        "publish these private files of the build's public assets after all (dotfiles, keys are never "
        "uploaded otherwise), e.g. \".well-known/*\""))
    allow_outside: bool = field(default=False, metadata=meta(
        "allow dir and workers' dirs to resolve outside the project directory (a warning is printed)"))
    workers: list[SsrWorker] = field(default_factory=list, metadata=meta(
        "queue workers: a function fed by an SQS queue (with a DLQ) reporting partial batch failures"))


# names the ssr-app preset gives steps and resources of its own
RESERVED_WORKER_NAMES = ("server", "assets", "forwarded-host")
